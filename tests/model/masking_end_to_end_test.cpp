// Masks end to end in models: Embedding(mask_zero) and Masking masks flow
// through recurrent layers, Bidirectional, TimeDistributed, merge layers and
// the attention layers into the loss. A padded batch must give, at the real
// steps, the outputs of each sequence run alone without padding, the loss
// as the mean over the real steps, and the gradients as the matching
// weighted sum of the per-sequence gradients (read from one SGD step with
// learning rate 1: w_before - w_after).

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

// One sample: its unpadded inputs (batch 1), target, and where its output
// steps sit in the padded output.
struct Sample {
  std::vector<Tensor> x;
  Tensor y;
  std::vector<int64_t> out_steps;  // padded time index of each unpadded output step
};

std::vector<Tensor> gradient_by_sgd_step(Model& m, const std::vector<Tensor>& w0, const Tensors& x, const Tensor& y,
                                         double* loss) {
  m.set_weights(w0);
  *loss = m.train_on_batch(x, y).at("loss");
  std::vector<Tensor> g = m.get_weights();
  for (size_t i = 0; i < g.size(); ++i)
    for (int64_t k = 0; k < g[i].size(); ++k) g[i][k] = w0[i][k] - g[i][k];
  m.set_weights(w0);
  return g;
}

// Sequence outputs (N, T, C) when `sequence_output`, else (N, C).
void expect_padded_equals_unpadded(Model& m, const Tensors& x, const Tensor& y, const std::vector<Sample>& samples,
                                   bool sequence_output, double tol = 2e-5) {
  const std::vector<Tensor> w0 = m.get_weights();
  // Forward.
  const Tensor out = m.predict(x);
  int64_t real_steps = 0;
  for (size_t n = 0; n < samples.size(); ++n) {
    const Tensor alone = m.predict(Tensors(samples[n].x));
    if (sequence_output) {
      const int64_t C = out.dim(2);
      ASSERT_EQ(alone.dim(1), static_cast<int64_t>(samples[n].out_steps.size()));
      for (size_t k = 0; k < samples[n].out_steps.size(); ++k) {
        const int64_t t = samples[n].out_steps[k];
        for (int64_t c = 0; c < C; ++c) {
          EXPECT_NEAR(out.at(static_cast<int64_t>(n), t, c), alone.at(0, static_cast<int64_t>(k), c), tol)
              << "sample " << n << " step " << k;
        }
      }
      real_steps += static_cast<int64_t>(samples[n].out_steps.size());
    } else {
      for (int64_t c = 0; c < out.dim(1); ++c) {
        EXPECT_NEAR(out.at(static_cast<int64_t>(n), c), alone[c], tol) << "sample " << n;
      }
    }
  }
  // Loss and gradients.
  double batch_loss = 0;
  const auto g = gradient_by_sgd_step(m, w0, x, y, &batch_loss);
  std::vector<Tensor> want;
  for (const auto& t : g) want.push_back(Tensor(t.shape()));
  double want_loss = 0;
  for (size_t n = 0; n < samples.size(); ++n) {
    double l = 0;
    const auto gn = gradient_by_sgd_step(m, w0, Tensors(samples[n].x), samples[n].y, &l);
    const double w = sequence_output ? static_cast<double>(samples[n].out_steps.size()) / real_steps
                                     : 1.0 / static_cast<double>(samples.size());
    want_loss += w * l;
    for (size_t i = 0; i < gn.size(); ++i)
      for (int64_t k = 0; k < gn[i].size(); ++k) want[i][k] += static_cast<float>(w * gn[i][k]);
  }
  EXPECT_NEAR(batch_loss, want_loss, 1e-5);
  const auto params = m.params();
  for (size_t i = 0; i < g.size(); ++i) {
    seqnet::testing::expect_near(g[i], want[i], 2e-5, "gradient of " + params[i]->name);
  }
}

// Id sequences of the given lengths with values in [1, V), padded with 0.
Tensor padded_ids(const std::vector<std::vector<int64_t>>& seqs, int64_t T, bool pre) {
  Tensor x({static_cast<int64_t>(seqs.size()), T});
  for (size_t n = 0; n < seqs.size(); ++n) {
    const auto L = static_cast<int64_t>(seqs[n].size());
    for (int64_t k = 0; k < L; ++k) x.at(static_cast<int64_t>(n), (pre ? T - L : 0) + k) = static_cast<float>(seqs[n][k]);
  }
  return x;
}

Tensor ids_row(const std::vector<int64_t>& s) {
  Tensor x({1, static_cast<int64_t>(s.size())});
  for (size_t k = 0; k < s.size(); ++k) x[static_cast<int64_t>(k)] = static_cast<float>(s[k]);
  return x;
}

std::vector<std::vector<int64_t>> random_sequences(const std::vector<int64_t>& lengths, int64_t V, uint64_t seed) {
  Generator g(seed);
  std::vector<std::vector<int64_t>> out;
  for (int64_t L : lengths) {
    std::vector<int64_t> s;
    for (int64_t k = 0; k < L; ++k) s.push_back(1 + static_cast<int64_t>(g.below(static_cast<uint64_t>(V - 1))));
    out.push_back(s);
  }
  return out;
}

std::vector<int64_t> steps_of(int64_t L, int64_t T, bool pre) {
  std::vector<int64_t> s;
  for (int64_t k = 0; k < L; ++k) s.push_back((pre ? T - L : 0) + k);
  return s;
}

}  // namespace

TEST(MaskingEndToEnd, EmbeddingLSTMBidirectionalTimeDistributed) {
  const int64_t V = 7, T = 6;
  const std::vector<int64_t> lengths{6, 3, 1, 4};
  for (bool pre : {false, true}) {
    SCOPED_TRACE(pre ? "pre-padding" : "post-padding");
    clear_session();
    set_seed(1);
    auto in = Input({None});
    auto e = Embedding(V, 4, {.mask_zero = true})(in);
    auto l = LSTM(5, {.return_sequences = true})(e);
    auto b = Bidirectional(GRU(3, {.return_sequences = true}))(l);
    auto out = TimeDistributed(Dense(V, {.activation = "softmax"}))(b);
    Model m({in}, {out});
    m.compile({.optimizer = SGD({.learning_rate = 1.0f}), .loss = "sparse_categorical_crossentropy"});
    const auto seqs = random_sequences(lengths, V, 2);
    const auto tgts = random_sequences(lengths, V, 3);
    std::vector<Sample> samples;
    for (size_t n = 0; n < seqs.size(); ++n)
      samples.push_back({{ids_row(seqs[n])}, ids_row(tgts[n]), steps_of(lengths[n], T, pre)});
    expect_padded_equals_unpadded(m, padded_ids(seqs, T, pre), padded_ids(tgts, T, pre), samples, true);
  }
}

TEST(MaskingEndToEnd, MaskingMergeLayersAndSimpleRNN) {
  // One-hot rows with all-zero padding -> Masking(0) -> two recurrent
  // branches merged by Add and Concatenate -> TimeDistributed(Dense), mse.
  const int64_t F = 4, T = 5;
  const std::vector<int64_t> lengths{2, 5, 3};
  clear_session();
  set_seed(4);
  auto in = Input({None, F});
  auto masked = Masking(0.0f)(in);
  auto a = SimpleRNN(3, {.return_sequences = true})(masked);
  auto b = LSTM(3, {.return_sequences = true})(masked);
  auto c = GRU(3, {.return_sequences = true, .go_backwards = false})(masked);
  auto merged = Concatenate()({Add()({a, b}), c});
  auto out = TimeDistributed(Dense(2))(merged);
  Model m({in}, {out});
  m.compile({.optimizer = SGD({.learning_rate = 1.0f}), .loss = "mse"});
  const auto seqs = random_sequences(lengths, F + 1, 5);
  Tensor x({3, T, F}), y = random_tensor({3, T, 2}, 6);
  std::vector<Sample> samples;
  for (size_t n = 0; n < seqs.size(); ++n) {
    const auto L = lengths[n];
    Tensor xs({1, L, F}), ys({1, L, 2});
    for (int64_t k = 0; k < L; ++k) {
      x.at(static_cast<int64_t>(n), k, seqs[n][k] - 1) = 1.0f;
      xs.at(0, k, seqs[n][k] - 1) = 1.0f;
      for (int64_t j = 0; j < 2; ++j) ys.at(0, k, j) = y.at(static_cast<int64_t>(n), k, j);
    }
    samples.push_back({{xs}, ys, steps_of(L, T, false)});
  }
  expect_padded_equals_unpadded(m, x, y, samples, true);
}

TEST(MaskingEndToEnd, LastStateClassifier) {
  const int64_t V = 6, T = 7;
  const std::vector<int64_t> lengths{7, 2, 5};
  for (bool pre : {false, true}) {
    clear_session();
    set_seed(7);
    auto in = Input({None});
    auto h = GRU(4)(Embedding(V, 3, {.mask_zero = true})(in));
    Model m({in}, {Dense(3, {.activation = "softmax"})(h)});
    m.compile({.optimizer = SGD({.learning_rate = 1.0f}), .loss = "categorical_crossentropy"});
    const auto seqs = random_sequences(lengths, V, 8);
    Tensor y({3, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0});
    std::vector<Sample> samples;
    for (size_t n = 0; n < seqs.size(); ++n) samples.push_back({{ids_row(seqs[n])}, y.rows(n, n + 1).clone(), {}});
    expect_padded_equals_unpadded(m, padded_ids(seqs, T, pre), y, samples, false);
  }
}

TEST(MaskingEndToEnd, EncoderDecoderWithAttention) {
  // Padded source steps get zero attention weight (Attention and
  // LuongAttention), padded target steps drop out of the loss.
  const int64_t V = 8, Ts = 6, Tt = 5;
  const std::vector<int64_t> src_len{6, 2, 4}, tgt_len{3, 5, 1};
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind == 0 ? "Attention" : kind == 1 ? "AdditiveAttention" : "LuongAttention");
    clear_session();
    set_seed(9);
    auto src = Input({None});
    auto tgt = Input({None});
    auto enc = LSTM(4, {.return_sequences = true, .return_state = true})(Embedding(V, 3, {.mask_zero = true})(src));
    auto dec = LSTM(4, {.return_sequences = true})(Embedding(V, 3, {.mask_zero = true})(tgt),
                                                   {.initial_state = {enc[1], enc[2]}});
    SymbolicTensor feat;
    if (kind == 0) feat = Concatenate()({Attention({.use_scale = true})({dec, enc[0]}), dec});
    if (kind == 1) feat = Concatenate()({AdditiveAttention()({dec, enc[0]}), dec});
    if (kind == 2) feat = LuongAttention(4, {.score = "concat"})({dec, enc[0]})[0];
    auto out = TimeDistributed(Dense(V, {.activation = "softmax"}))(feat);
    Model m({src, tgt}, {out});
    m.compile({.optimizer = SGD({.learning_rate = 1.0f}), .loss = "sparse_categorical_crossentropy"});
    const auto s = random_sequences(src_len, V, 10), t = random_sequences(tgt_len, V, 11),
               y = random_sequences(tgt_len, V, 12);
    std::vector<Sample> samples;
    for (size_t n = 0; n < s.size(); ++n)
      samples.push_back({{ids_row(s[n]), ids_row(t[n])}, ids_row(y[n]), steps_of(tgt_len[n], Tt, false)});
    expect_padded_equals_unpadded(m, Tensors{padded_ids(s, Ts, false), padded_ids(t, Tt, false)},
                                  padded_ids(y, Tt, false), samples, true);
  }
}

TEST(MaskingEndToEnd, MetricsCountRealStepsOnly) {
  clear_session();
  set_seed(13);
  auto in = Input({None});
  auto out = TimeDistributed(Dense(3, {.activation = "softmax"}))(
      LSTM(4, {.return_sequences = true})(Embedding(5, 3, {.mask_zero = true})(in)));
  Model m({in}, {out});
  m.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  Tensor x({2, 4}, {1, 2, 0, 0, 3, 4, 1, 0});
  const Tensor p = m.predict(x);
  // Targets equal to the predictions at real steps, wrong at padding.
  Tensor y({2, 4});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 4; ++t) {
      int64_t best = 0;
      for (int64_t c = 1; c < 3; ++c)
        if (p.at(n, t, c) > p.at(n, t, best)) best = c;
      y.at(n, t) = x.at(n, t) != 0 ? static_cast<float>(best) : static_cast<float>((best + 1) % 3);
    }
  EXPECT_DOUBLE_EQ(m.evaluate(x, y).at("accuracy"), 1.0);
}
