// Builds and trains a small LSTM with seqnet's layers directly: remember the
// first of 6 one-hot tokens (10 classes) and name it after the last step.
// The layers are driven by hand here (forward, loss, backward, Adam) to show
// what a model's fit() does underneath.

#include <seqnet/seqnet.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

using namespace seqnet;

namespace {

constexpr int64_t kSteps = 6, kClasses = 10, kBatch = 32;

// x (B, T, C) one-hot random tokens; y (B, C) one-hot of each first token.
void make_batch(Generator& g, Tensor& x, Tensor& y) {
  x = Tensor({kBatch, kSteps, kClasses});
  y = Tensor({kBatch, kClasses});
  for (int64_t b = 0; b < kBatch; ++b) {
    for (int64_t t = 0; t < kSteps; ++t) {
      const auto k = static_cast<int64_t>(g.below(kClasses));
      x.at(b, t, k) = 1.0f;
      if (t == 0) y.at(b, k) = 1.0f;
    }
  }
}

struct HandAdam {
  float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
  int t = 0;
  std::vector<Tensor> m, v;
  void step(const std::vector<Param*>& params) {
    if (m.empty())
      for (Param* p : params) {
        m.emplace_back(p->value.shape());
        v.emplace_back(p->value.shape());
      }
    ++t;
    const float c1 = 1.0f - std::pow(b1, static_cast<float>(t)), c2 = 1.0f - std::pow(b2, static_cast<float>(t));
    for (size_t k = 0; k < params.size(); ++k) {
      Tensor& w = params[k]->value;
      const Tensor& g = params[k]->grad;
      for (int64_t i = 0; i < w.size(); ++i) {
        m[k][i] = b1 * m[k][i] + (1 - b1) * g[i];
        v[k][i] = b2 * v[k][i] + (1 - b2) * g[i] * g[i];
        w[i] -= lr * (m[k][i] / c1) / (std::sqrt(v[k][i] / c2) + eps);
      }
    }
  }
};

}  // namespace

int main() {
  set_seed(42);
  layers::LSTM lstm(32);
  layers::Dense dense(kClasses, {.activation = "softmax"});
  auto lstm_cache = lstm.make_cache();
  auto dense_cache = dense.make_cache();
  Generator data(7);
  HandAdam adam;
  const auto start = std::chrono::steady_clock::now();
  std::printf("LSTM(32) -> Dense(%lld, softmax): remember the first of %lld tokens\n",
              static_cast<long long>(kClasses), static_cast<long long>(kSteps));
  for (int step = 1; step <= 400; ++step) {
    Tensor x, y;
    make_batch(data, x, y);
    Tensor h = lstm.forward({x}, {.training = true}, lstm_cache.get())[0];
    Tensor p = dense.forward({h}, {.training = true}, dense_cache.get())[0];
    // Categorical cross-entropy on probabilities and its gradient.
    double loss = 0;
    int correct = 0;
    Tensor dp(p.shape());
    for (int64_t b = 0; b < kBatch; ++b) {
      int64_t best = 0, label = 0;
      for (int64_t k = 0; k < kClasses; ++k) {
        if (p.at(b, k) > p.at(b, best)) best = k;
        if (y.at(b, k) == 1.0f) label = k;
      }
      correct += best == label;
      const float q = std::max(p.at(b, label), 1e-7f);
      loss -= std::log(q);
      dp.at(b, label) = -1.0f / (q * kBatch);
    }
    lstm.zero_grad();
    dense.zero_grad();
    Tensor dh = dense.backward({dp}, *dense_cache)[0];
    lstm.backward({dh}, *lstm_cache);
    std::vector<Param*> params = lstm.params();
    for (Param* q : dense.params()) params.push_back(q);
    adam.step(params);
    if (step % 50 == 0) {
      std::printf("step %3d  loss %.4f  batch accuracy %5.1f%%\n", step, loss / kBatch, 100.0 * correct / kBatch);
    }
  }
  // Held-out check.
  int correct = 0, total = 0;
  for (int r = 0; r < 10; ++r) {
    Tensor x, y;
    make_batch(data, x, y);
    Tensor p = dense.forward(lstm.forward(x));
    for (int64_t b = 0; b < kBatch; ++b, ++total) {
      int64_t best = 0;
      for (int64_t k = 0; k < kClasses; ++k)
        if (p.at(b, k) > p.at(b, best)) best = k;
      correct += y.at(b, best) == 1.0f;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("held-out accuracy %.1f%% on %d sequences, %.2f s\n", 100.0 * correct / total, total, secs);
  return correct * 10 >= total * 9 ? 0 : 1;
}
