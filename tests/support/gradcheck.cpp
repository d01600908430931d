#include "support/gradcheck.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <seqnet/random.hpp>

#include <algorithm>
#include <cmath>

namespace seqnet::testing {

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  Generator g(seed);
  Tensor t(shape);
  for (float& v : t) v = g.uniform(lo, hi);
  return t;
}

namespace {

struct Evaluator {
  Layer& layer;
  const CallArgs& args;
  std::vector<Tensor> projections;
  std::vector<int> outputs;
  uint64_t seed;

  double loss(const std::vector<Tensor>& inputs) {
    set_seed(seed);
    auto cache = layer.make_cache();
    std::vector<Tensor> out = layer.forward(inputs, args, cache.get());
    double l = 0;
    for (int k : outputs) {
      const Tensor& o = out[k];
      const Tensor& p = projections[k];
      for (int64_t i = 0; i < o.size(); ++i) l += static_cast<double>(o[i]) * p[i];
    }
    return l;
  }
};

bool close(double a, double n, const GradCheckOptions& o, double& ratio) {
  const double tol = o.atol + o.rtol * std::abs(n);
  ratio = std::abs(a - n) / tol;
  return std::abs(a - n) <= tol;
}

}  // namespace

double expect_gradients_match(Layer& layer, const std::vector<Tensor>& inputs_in, const CallArgs& args,
                              const GradCheckOptions& options) {
  // Work on copies so the caller's tensors are untouched.
  std::vector<Tensor> inputs;
  for (const auto& t : inputs_in) inputs.push_back(t.clone());

  // Analytic pass.
  set_seed(options.seed);
  auto cache = layer.make_cache();
  CallArgs train_args = args;
  train_args.training = true;
  std::vector<Tensor> out = layer.forward(inputs, train_args, cache.get());
  std::vector<int> outputs = options.outputs;
  if (outputs.empty())
    for (int k = 0; k < static_cast<int>(out.size()); ++k) outputs.push_back(k);
  std::vector<Tensor> proj(out.size());
  std::vector<Tensor> dout(out.size());
  for (int k : outputs) {
    proj[k] = random_tensor(out[k].shape(), 777 + k);
    dout[k] = proj[k];
  }
  layer.zero_grad();
  std::vector<Tensor> din = layer.backward(dout, *cache);
  EXPECT_EQ(din.size(), inputs.size()) << layer.describe() << ": backward must return one gradient per input";

  Evaluator ev{layer, train_args, proj, outputs, options.seed};
  double worst = 0;
  int failures = 0;
  auto check = [&](const std::string& what, float* x, int64_t n, const float* analytic) {
    for (int64_t i = 0; i < n; ++i) {
      const float saved = x[i];
      x[i] = saved + static_cast<float>(options.eps);
      const double lp = ev.loss(inputs);
      x[i] = saved - static_cast<float>(options.eps);
      const double lm = ev.loss(inputs);
      x[i] = saved;
      const double h = (static_cast<double>(saved + static_cast<float>(options.eps)) -
                        static_cast<double>(saved - static_cast<float>(options.eps)));
      const double numeric = (lp - lm) / h;
      double ratio = 0;
      if (!close(analytic[i], numeric, options, ratio) && failures < 20) {
        ++failures;
        ADD_FAILURE() << layer.describe() << ": gradient of " << what << "[" << i << "]: analytic " << analytic[i]
                      << " vs numeric " << numeric;
      }
      worst = std::max(worst, ratio);
    }
  };

  std::vector<int> which = options.inputs;
  if (which.empty())
    for (int k = 0; k < static_cast<int>(inputs.size()); ++k)
      if (k < static_cast<int>(din.size()) && !din[k].empty()) which.push_back(k);
  for (int k : which) {
    EXPECT_FALSE(din.at(k).empty()) << "input " << k << " has no gradient";
    if (din.at(k).empty()) continue;
    EXPECT_EQ(din[k].shape(), inputs[k].shape());
    check(fmt::format("input {}", k), inputs[k].data(), inputs[k].size(), din[k].data());
  }
  if (options.check_weights) {
    std::vector<std::pair<std::string, Param*>> ps;
    layer.visit_params([&](const std::string& path, Param& p) { ps.emplace_back(path, &p); });
    // Copy analytic grads first: later forwards do not touch them, but be explicit.
    for (auto& [path, p] : ps) {
      const Tensor g = p->grad.clone();
      check(path, p->value.data(), p->value.size(), g.data());
    }
  }
  return worst;
}

}  // namespace seqnet::testing
