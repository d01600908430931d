// The training loop (src/train/fit.cpp): fit / evaluate / predict and the
// *_on_batch calls, validation, several inputs and outputs with loss
// weights, regularization penalties, stateful models (and Keras's fixed
// batch size rule), fit(x, y, epochs, batch_size, ...), verbosity,
// determinism, and the errors bad input raises.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

using seqnet::testing::expect_error;

void expect_same_weights(const std::vector<Tensor>& a, const std::vector<Tensor>& b, float tol, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_LE(max_abs_diff(a[i], b[i]), tol) << what << " weight " << i;
}

// Steps [t0, t1) of a (B, T, F) tensor.
Tensor time_range(const Tensor& x, int64_t t0, int64_t t1) {
  const int64_t B = x.dim(0), F = x.dim(2);
  Tensor out({B, t1 - t0, F});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t f = 0; f < F; ++f) out.at(b, t - t0, f) = x.at(b, t, f);
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// x (N, 3) -> y (N, 1), a small regression model.
struct Regression {
  SymbolicTensor x = Input({3});
  LayerRef hidden = Dense(4, {.activation = "tanh"});
  LayerRef head = Dense(1);
  Model model{{x}, {head(hidden(x))}};
};

}  // namespace

// ---------------------------------------------------------------- fit / validation

TEST(Fit, ValidationSplitTakesTheLastSamples) {
  set_seed(1);
  Tensor x = random_tensor({10, 3}, 1), y = random_tensor({10, 1}, 2);
  Regression a, b;
  b.model.set_weights(a.model.get_weights());
  a.model.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  b.model.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  // 30% of 10 samples: the last 3 are held out (before any shuffling).
  History ha = a.model.fit(x, y, {.epochs = 3, .batch_size = 4, .validation_split = 0.3, .shuffle = false, .verbose = 0});
  b.model.fit(x.rows(0, 7), y.rows(0, 7), {.epochs = 3, .batch_size = 4, .shuffle = false, .verbose = 0});
  expect_same_weights(a.model.get_weights(), b.model.get_weights(), 0.0f, "train on the first 7");
  const Logs v = a.model.evaluate(x.rows(7, 10), y.rows(7, 10));
  EXPECT_NEAR(ha["val_loss"].back(), v.at("loss"), 1e-7);
  EXPECT_EQ(ha.keys(), (std::vector<std::string>{"loss", "val_loss"}));
}

TEST(Fit, ValidationDataOverridesTheSplit) {
  set_seed(2);
  Regression r;
  r.model.compile({.optimizer = "sgd", .loss = "mse", .metrics = {"mae"}});
  Tensor x = random_tensor({8, 3}, 3), y = random_tensor({8, 1}, 4);
  Tensor vx = random_tensor({5, 3}, 5), vy = random_tensor({5, 1}, 6);
  auto sizes = std::make_shared<std::vector<int>>();
  auto cb = LambdaCallback({.on_batch_begin = [sizes](int, Logs& l) { sizes->push_back(static_cast<int>(l.at("size"))); }});
  History h = r.model.fit(x, y, {.epochs = 2, .batch_size = 8, .validation_split = 0.5,
                                 .validation_data = {.x = vx, .y = vy}, .verbose = 0, .callbacks = {cb}});
  EXPECT_EQ(*sizes, (std::vector<int>{8, 8}));  // all 8 samples trained on
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"loss", "mae", "val_loss", "val_mae"}));
  const Logs v = r.model.evaluate(vx, vy);
  EXPECT_NEAR(h["val_loss"].back(), v.at("loss"), 1e-7);
  EXPECT_NEAR(h["val_mae"].back(), v.at("mae"), 1e-7);
}

TEST(Fit, EpochLossIsTheSampleWeightedMeanOfTheBatches) {
  set_seed(3);
  Tensor x = random_tensor({10, 3}, 7), y = random_tensor({10, 1}, 8);
  Regression a, b;
  b.model.set_weights(a.model.get_weights());
  a.model.compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse"});
  b.model.compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse"});
  std::vector<double> running;
  auto cb = LambdaCallback({.on_batch_end = [&](int, Logs& l) { running.push_back(l.at("loss")); }});
  History h = a.model.fit(x, y, {.epochs = 1, .batch_size = 4, .shuffle = false, .verbose = 0, .callbacks = {cb}});
  // The same batches replayed with train_on_batch: 4 + 4 + 2 samples.
  const double l0 = b.model.train_on_batch(x.rows(0, 4), y.rows(0, 4)).at("loss");
  const double l1 = b.model.train_on_batch(x.rows(4, 8), y.rows(4, 8)).at("loss");
  const double l2 = b.model.train_on_batch(x.rows(8, 10), y.rows(8, 10)).at("loss");
  ASSERT_EQ(running.size(), 3u);
  EXPECT_NEAR(running[0], l0, 1e-7);
  EXPECT_NEAR(running[1], (l0 + l1) / 2, 1e-7);
  EXPECT_NEAR(running[2], (4 * l0 + 4 * l1 + 2 * l2) / 10, 1e-7);
  EXPECT_NEAR(h["loss"][0], (4 * l0 + 4 * l1 + 2 * l2) / 10, 1e-7);
  expect_same_weights(a.model.get_weights(), b.model.get_weights(), 0.0f, "fit vs train_on_batch");
}

TEST(Fit, TrainOnBatchMatchesOneEpochOfOneBatch) {
  set_seed(4);
  Tensor x = random_tensor({6, 3}, 9), y = random_tensor({6, 1}, 10);
  Regression a, b;
  b.model.set_weights(a.model.get_weights());
  a.model.compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "mse", .metrics = {"mae"}});
  b.model.compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "mse", .metrics = {"mae"}});
  // The loss train_on_batch reports is that of the weights before the update.
  const Logs before = a.model.test_on_batch(x, y);
  const Logs trained = a.model.train_on_batch(x, y);
  EXPECT_NEAR(trained.at("loss"), before.at("loss"), 1e-7);
  EXPECT_NEAR(trained.at("mae"), before.at("mae"), 1e-7);
  History h = b.model.fit(x, y, {.epochs = 1, .batch_size = 6, .shuffle = false, .verbose = 0});
  EXPECT_NEAR(h["loss"][0], trained.at("loss"), 1e-7);
  expect_same_weights(a.model.get_weights(), b.model.get_weights(), 0.0f, "train_on_batch vs fit");
  // test_on_batch changes nothing.
  const auto w = a.model.get_weights();
  a.model.test_on_batch(x, y);
  expect_same_weights(a.model.get_weights(), w, 0.0f, "test_on_batch");
  EXPECT_EQ(a.model.optimizer().iterations(), 1);
}

TEST(Fit, ZeroEpochsTrainsNothing) {
  Regression r;
  r.model.compile({.optimizer = "sgd", .loss = "mse"});
  const auto w = r.model.get_weights();
  History h = r.model.fit(random_tensor({4, 3}, 1), random_tensor({4, 1}, 2), {.epochs = 0, .verbose = 0});
  EXPECT_TRUE(h.epoch().empty());
  expect_same_weights(r.model.get_weights(), w, 0.0f, "epochs = 0");
}

// ---------------------------------------------------------------- evaluate / predict

TEST(Predict, BatchesAreConcatenatedIncludingAPartialLastBatch) {
  set_seed(5);
  auto x = Input({4, 2});
  auto y = TimeDistributed(Dense(3))(LSTM(5, {.return_sequences = true})(x));
  Model model({x}, {y});
  Tensor data = random_tensor({10, 4, 2}, 11);
  Tensor all = model.predict(data, {.batch_size = 32});
  Tensor by3 = model.predict(data, {.batch_size = 3});  // 3 + 3 + 3 + 1
  Tensor by1 = model.predict(data, {.batch_size = 1});
  Tensor direct = model.predict_on_batch(data);
  EXPECT_EQ(all.shape(), (Shape{10, 4, 3}));
  EXPECT_EQ(by3.shape(), all.shape());
  EXPECT_LE(max_abs_diff(by3, all), 1e-6f);
  EXPECT_LE(max_abs_diff(by1, all), 1e-6f);
  EXPECT_LE(max_abs_diff(direct, all), 1e-6f);
  // Each row is the prediction of that sample alone.
  Tensor row7 = model.predict(data.rows(7, 8));
  for (int64_t i = 0; i < row7.size(); ++i) EXPECT_NEAR(all[7 * 12 + i], row7[i], 1e-6f);
  // No samples: an empty result of the right shape.
  Tensor none = model.predict(Tensor({0, 4, 2}));
  EXPECT_EQ(none.shape(), (Shape{0, 4, 3}));
}

TEST(Evaluate, BatchingDoesNotChangeTheMeans) {
  set_seed(6);
  Regression r;
  r.model.compile({.optimizer = "sgd", .loss = "mse", .metrics = {"mae"}});
  Tensor x = random_tensor({10, 3}, 12), y = random_tensor({10, 1}, 13);
  const Logs a = r.model.evaluate(x, y, {.batch_size = 10});
  const Logs b = r.model.evaluate(x, y, {.batch_size = 3});
  EXPECT_NEAR(a.at("loss"), b.at("loss"), 1e-7);
  EXPECT_NEAR(a.at("mae"), b.at("mae"), 1e-7);
  // The loss is the mse of predict() by hand.
  Tensor p = r.model.predict(x);
  double mse = 0, mae = 0;
  for (int64_t i = 0; i < 10; ++i) {
    mse += (p[i] - y[i]) * (p[i] - y[i]);
    mae += std::abs(p[i] - y[i]);
  }
  EXPECT_NEAR(a.at("loss"), mse / 10, 1e-6);
  EXPECT_NEAR(a.at("mae"), mae / 10, 1e-6);
}

TEST(Evaluate, MaskedStepsOfASequenceOutputDoNotCount) {
  // Masking(0) -> LSTM(return_sequences) -> TimeDistributed(Dense softmax):
  // the loss and the accuracy are means over the real (unmasked) steps only.
  set_seed(16);
  auto x = Input({4, 2});
  auto y = TimeDistributed(Dense(3, {.activation = "softmax"}))(
      LSTM(5, {.return_sequences = true})(Masking(0.0f)(x)));
  Model model({x}, {y});
  model.compile({.optimizer = "sgd", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  Tensor xs = random_tensor({3, 4, 2}, 61, 0.1f, 1.0f);
  // Sample 0: steps 2, 3 are padding; sample 2: step 3 is padding.
  for (int64_t f = 0; f < 2; ++f) xs.at(0, 2, f) = xs.at(0, 3, f) = xs.at(2, 3, f) = 0.0f;
  const bool real[3][4] = {{true, true, false, false}, {true, true, true, true}, {true, true, true, false}};
  Tensor ys({3, 4, 3});
  for (int64_t i = 0; i < 12; ++i) ys[i * 3 + i % 3] = 1.0f;
  Tensor p = model.predict(xs);
  double loss = 0, right = 0, n = 0;
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t t = 0; t < 4; ++t) {
      if (!real[b][t]) continue;
      int64_t best = 0, want = 0;
      for (int64_t k = 0; k < 3; ++k) {
        const float pk = p[(b * 4 + t) * 3 + k];
        if (pk > p[(b * 4 + t) * 3 + best]) best = k;
        if (ys[(b * 4 + t) * 3 + k] == 1.0f) want = k;
      }
      loss -= std::log(static_cast<double>(p[(b * 4 + t) * 3 + want]));
      right += best == want;
      n += 1;
    }
  }
  const Logs l = model.evaluate(xs, ys);
  EXPECT_NEAR(l.at("loss"), loss / n, 1e-5);
  EXPECT_NEAR(l.at("accuracy"), right / n, 1e-12);
  // Changing the targets of padding steps changes nothing.
  Tensor ys2 = ys.clone();
  for (int64_t k = 0; k < 3; ++k) ys2[(0 * 4 + 3) * 3 + k] = k == 2 ? 1.0f : 0.0f;
  EXPECT_DOUBLE_EQ(model.evaluate(xs, ys2).at("loss"), l.at("loss"));
}

// ---------------------------------------------------------------- several inputs and outputs

namespace {

// Two inputs, a shared trunk, two heads "a" (2 values) and "b" (1 value).
struct TwoHeads {
  SymbolicTensor x1 = Input({3});
  SymbolicTensor x2 = Input({2});
  LayerRef trunk = Dense(4, {.activation = "tanh", .name = "trunk"});
  LayerRef head_a = Dense(2, {.name = "a"});
  LayerRef head_b = Dense(1, {.name = "b"});
  SymbolicTensor h = trunk(Concatenate()({x1, x2}));
  Model model{{x1, x2}, {head_a(h), head_b(h)}};
  Tensor in1 = random_tensor({6, 3}, 21), in2 = random_tensor({6, 2}, 22);
  Tensor ya = random_tensor({6, 2}, 23), yb = random_tensor({6, 1}, 24);
};

}  // namespace

TEST(MultiOutput, TotalLossIsTheWeightedSumOfOutputLosses) {
  set_seed(7);
  TwoHeads m;
  m.model.compile({.optimizer = "sgd", .loss = {"mse", "mae"}, .loss_weights = {0.3f, 2.0f}, .metrics = {"mae"}});
  const Logs l = m.model.evaluate({m.in1, m.in2}, {m.ya, m.yb});
  std::vector<std::string> keys;
  for (const auto& kv : l.items()) keys.push_back(kv.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_mae", "b_mae"}));
  EXPECT_NEAR(l.at("loss"), 0.3 * l.at("a_loss") + 2.0 * l.at("b_loss"), 1e-7);
  // The per-output losses by hand from predict().
  Tensors p = m.model.predict({m.in1, m.in2});
  ASSERT_EQ(p.size(), 2u);
  double mse_a = 0, mae_b = 0;
  for (int64_t i = 0; i < 12; ++i) mse_a += (p[0][i] - m.ya[i]) * (p[0][i] - m.ya[i]);
  for (int64_t i = 0; i < 6; ++i) mae_b += std::abs(p[1][i] - m.yb[i]);
  EXPECT_NEAR(l.at("a_loss"), mse_a / 12, 1e-6);
  EXPECT_NEAR(l.at("b_loss"), mae_b / 6, 1e-6);
  EXPECT_NEAR(l.at("b_mae"), mae_b / 6, 1e-6);
  // fit logs the same keys, with val_ versions.
  History h = m.model.fit({m.in1, m.in2}, {m.ya, m.yb}, {.epochs = 1, .validation_split = 0.5, .verbose = 0});
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_mae", "b_mae", "val_loss", "val_a_loss",
                                                "val_b_loss", "val_a_mae", "val_b_mae"}));
  EXPECT_NEAR(h["val_loss"][0], 0.3 * h["val_a_loss"][0] + 2.0 * h["val_b_loss"][0], 1e-7);
}

TEST(MultiOutput, ZeroWeightLeavesThatHeadUnchanged) {
  set_seed(8);
  TwoHeads m;
  m.model.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = {"mse", "mse"}, .loss_weights = {0.0f, 1.0f}});
  const auto a0 = m.head_a.get_weights(), b0 = m.head_b.get_weights(), t0 = m.trunk.get_weights();
  m.model.train_on_batch({m.in1, m.in2}, {m.ya, m.yb});
  expect_same_weights(m.head_a.get_weights(), a0, 0.0f, "head a (weight 0)");
  EXPECT_GT(max_abs_diff(m.head_b.get_weights()[0], b0[0]), 0.0f);
  EXPECT_GT(max_abs_diff(m.trunk.get_weights()[0], t0[0]), 0.0f);
}

TEST(MultiOutput, GradientScalesWithTheLossWeight) {
  // One SGD step with weights {w, 0}: the change of head a is proportional to w.
  std::vector<std::vector<Tensor>> deltas;
  for (float w : {1.0f, 2.5f}) {
    set_seed(9);
    TwoHeads m;
    m.model.compile({.optimizer = SGD({.learning_rate = 0.01f}), .loss = {"mse", "mse"}, .loss_weights = {w, 0.0f}});
    const auto a0 = m.head_a.get_weights();
    const Logs l = m.model.train_on_batch({m.in1, m.in2}, {m.ya, m.yb});
    EXPECT_NEAR(l.at("loss"), w * l.at("a_loss"), 1e-7);
    auto a1 = m.head_a.get_weights();
    for (size_t i = 0; i < a1.size(); ++i)
      for (int64_t k = 0; k < a1[i].size(); ++k) a1[i][k] -= a0[i][k];
    deltas.push_back(a1);
  }
  for (size_t i = 0; i < deltas[0].size(); ++i) {
    for (int64_t k = 0; k < deltas[0][i].size(); ++k) {
      EXPECT_NEAR(deltas[1][i][k], 2.5f * deltas[0][i][k], 1e-6f + 1e-3f * std::abs(deltas[1][i][k]));
    }
  }
}

TEST(MultiOutput, OnBatchCallsTakeListsOfArrays) {
  set_seed(10);
  TwoHeads m;
  m.model.compile({.optimizer = "adam", .loss = "mse"});  // one loss for both outputs
  Tensors p = m.model.predict_on_batch({m.in1, m.in2});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].shape(), (Shape{6, 2}));
  EXPECT_EQ(p[1].shape(), (Shape{6, 1}));
  const Logs l = m.model.test_on_batch({m.in1, m.in2}, {m.ya, m.yb});
  EXPECT_NEAR(l.at("loss"), l.at("a_loss") + l.at("b_loss"), 1e-7);
  EXPECT_NO_THROW(m.model.train_on_batch({m.in1, m.in2}, {m.ya, m.yb}));
}

// ---------------------------------------------------------------- regularization

TEST(Regularization, PenaltyIsInTheLossAndItsGradientIsApplied) {
  auto make = [](bool regularized) {
    auto x = Input({3});
    DenseOptions o;
    if (regularized) {
      o.kernel_regularizer = regularizers::l2(0.1f);
      o.bias_regularizer = regularizers::l1(0.5f);
    }
    auto y = Dense(2, o)(x);
    return std::make_unique<Model>(std::vector<SymbolicTensor>{x}, std::vector<SymbolicTensor>{y});
  };
  auto reg = make(true), plain = make(false);
  Tensor kernel({3, 2}, {0.5f, -1, 2, 0.25f, -0.5f, 1});
  Tensor bias({2}, {0.2f, -0.4f});
  reg->set_weights({kernel, bias});
  plain->set_weights({kernel, bias});
  reg->compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  plain->compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  Tensor x = random_tensor({4, 3}, 31), y = random_tensor({4, 2}, 32);

  // penalty = 0.1 * sum k^2 + 0.5 * sum |b| = 0.1 * 6.5625 + 0.5 * 0.6
  const double penalty = 0.1 * (0.25 + 1 + 4 + 0.0625 + 0.25 + 1) + 0.5 * (0.2 + 0.4);
  const double data_loss = plain->evaluate(x, y).at("loss");
  EXPECT_NEAR(reg->evaluate(x, y).at("loss"), data_loss + penalty, 1e-6);
  EXPECT_NEAR(reg->test_on_batch(x, y).at("loss"), data_loss + penalty, 1e-6);

  // One SGD step: w -= lr (g_data + 2 * 0.1 * w) for the kernel, lr (g_data + 0.5 sign(b)) for the bias.
  const Logs tl = reg->train_on_batch(x, y);
  EXPECT_NEAR(tl.at("loss"), data_loss + penalty, 1e-6);
  plain->train_on_batch(x, y);
  const auto wr = reg->get_weights(), wp = plain->get_weights();
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(wr[0][i], wp[0][i] - 0.1f * 0.2f * kernel[i], 1e-6f) << "kernel " << i;
  EXPECT_NEAR(wr[1][0], wp[1][0] - 0.1f * 0.5f, 1e-6f);
  EXPECT_NEAR(wr[1][1], wp[1][1] + 0.1f * 0.5f, 1e-6f);
}

// ---------------------------------------------------------------- stateful models

TEST(Stateful, ConsecutiveBatchesContinueTheSequence) {
  // A stateful LSTM fed a sequence in two halves predicts what a
  // non-stateful one predicts over the whole sequence (same weights).
  set_seed(12);
  const int64_t B = 2, T = 6, F = 3, H = 4;
  auto xs = Input({T / 2, F}, {.batch_size = B});
  auto lstm_s = LSTM(H, {.return_sequences = true, .stateful = true});
  auto dense_s = TimeDistributed(Dense(2));
  Model stateful({xs}, {dense_s(lstm_s(xs))});
  EXPECT_TRUE(stateful.stateful());

  auto xf = Input({T, F});
  auto lstm_f = LSTM(H, {.return_sequences = true});
  auto dense_f = TimeDistributed(Dense(2));
  Model full({xf}, {dense_f(lstm_f(xf))});
  EXPECT_FALSE(full.stateful());
  full.set_weights(stateful.get_weights());

  Tensor seq = random_tensor({B, T, F}, 41);
  Tensor want = full.predict(seq);
  // As in Keras, a stateful model needs a batch_size that divides the samples.
  const PredictOptions po{.batch_size = static_cast<int>(B)};
  Tensor first = stateful.predict(time_range(seq, 0, 3), po);
  Tensor second = stateful.predict(time_range(seq, 3, 6), po);
  EXPECT_LE(max_abs_diff(first, time_range(want, 0, 3)), 1e-5f);
  EXPECT_LE(max_abs_diff(second, time_range(want, 3, 6)), 1e-5f);

  // reset_states(): the second half now starts from zeros, like a fresh sequence.
  stateful.reset_states();
  Tensor again = stateful.predict(time_range(seq, 3, 6), po);
  Tensor alone;
  {
    auto x3 = Input({3, F});
    auto l3 = LSTM(H, {.return_sequences = true});
    auto d3 = TimeDistributed(Dense(2));
    Model short_model({x3}, {d3(l3(x3))});
    short_model.set_weights(stateful.get_weights());
    alone = short_model.predict(time_range(seq, 3, 6));
  }
  EXPECT_LE(max_abs_diff(again, alone), 1e-5f);
  EXPECT_GT(max_abs_diff(again, second), 1e-4f);
}

TEST(Stateful, BatchesOfSamplesCarryStatePerRow) {
  // Keras semantics: row i of batch k+1 continues row i of batch k.
  set_seed(13);
  const int64_t B = 2, F = 2, H = 3;
  auto xs = Input({1, F}, {.batch_size = B});
  auto lstm = LSTM(H, {.stateful = true});
  Model stateful({xs}, {lstm(xs)});
  auto xf = Input({3, F});
  auto lf = LSTM(H);
  Model full({xf}, {lf(xf)});
  full.set_weights(stateful.get_weights());
  // Three batches of two rows, each a single step: samples (b0, b1) at t = 0, 1, 2.
  Tensor seq = random_tensor({B, 3, F}, 42);
  Tensor stacked({3 * B, 1, F});
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t f = 0; f < F; ++f) stacked.at(t * B + b, 0, f) = seq.at(b, t, f);
  Tensor out = stateful.predict(stacked, {.batch_size = static_cast<int>(B)});
  Tensor want = full.predict(seq);
  EXPECT_LE(max_abs_diff(out.rows(2 * B, 3 * B), want), 1e-5f);
}

TEST(Stateful, FitNeedsNoShuffleAndAFixedBatch) {
  set_seed(14);
  auto xs = Input({4, 2}, {.batch_size = 4});
  Model model({xs}, {Dense(1)(LSTM(3, {.stateful = true})(xs))}, "stateful_model");
  model.compile({.optimizer = "adam", .loss = "mse"});
  Tensor x = random_tensor({8, 4, 2}, 43), y = random_tensor({8, 1}, 44);
  expect_error<ValueError>([&] { model.fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = 0}); },
                           {"stateful_model", "stateful", "shuffle = false"});
  expect_error<ValueError>(
      [&] { model.fit(x, y, {.epochs = 1, .batch_size = 3, .shuffle = false, .verbose = 0}); },
      {"stateful_model", "batch_size 3", "8 samples"});
  // A sample count the fixed input batch size does not divide.
  expect_error<ValueError>([&] { model.predict(random_tensor({6, 4, 2}, 45), {.batch_size = 4}); },
                           {"fixed batch size of 4", "6 samples"});
  expect_error<ValueError>([&] { model.evaluate(random_tensor({6, 4, 2}, 45), random_tensor({6, 1}, 46)); },
                           {"fixed batch size of 4", "6 samples"});
  // Valid: shuffle off, reset between epochs.
  int resets = 0;
  auto reset = LambdaCallback({.on_epoch_begin = [&](int, Logs&) {
    model.reset_states();
    ++resets;
  }});
  History h = model.fit(x, y, {.epochs = 3, .batch_size = 4, .shuffle = false, .verbose = 0, .callbacks = {reset}});
  EXPECT_EQ(h["loss"].size(), 3u);
  EXPECT_EQ(resets, 3);
}

TEST(Stateful, AFixedBatchSizeIsTheOnlyBatchSize) {
  // Keras's rule: a stateful model built with Input(batch_size = 4) runs
  // batches of 4 in fit, evaluate, predict and the *_on_batch calls (other
  // sizes silently gave other results), and needs a sample count 4 divides.
  set_seed(17);
  auto xs = Input({4, 2}, {.batch_size = 4});
  Model model({xs}, {Dense(1)(LSTM(3, {.stateful = true})(xs))}, "fixed_batch");
  model.compile({.optimizer = "adam", .loss = "mse"});
  const Tensor x = random_tensor({8, 4, 2}, 47), y = random_tensor({8, 1}, 48);
  expect_error<ValueError>([&] { model.fit(x, y, {.epochs = 1, .batch_size = 8, .shuffle = false, .verbose = 0}); },
                           {"fixed_batch", "fit", "fixed batch size of 4", "batch_size 8 for 8 samples"});
  expect_error<ValueError>([&] { model.evaluate(x, y, {.batch_size = 8}); },
                           {"evaluate", "fixed batch size of 4", "batch_size 8"});
  expect_error<ValueError>([&] { model.evaluate(x, y); }, {"evaluate", "fixed batch size of 4", "batch_size 32"});
  expect_error<ValueError>([&] { model.predict(x, {.batch_size = 2}); },
                           {"predict", "input 0 ('input_", "fixed batch size of 4", "batch_size 2"});
  expect_error<ValueError>([&] { model.train_on_batch(x, y); },
                           {"train_on_batch", "fixed batch size of 4", "a batch of 8 samples"});
  expect_error<ValueError>([&] { model.test_on_batch(x, y); }, {"test_on_batch", "a batch of 8 samples"});
  expect_error<ValueError>([&] { model.predict_on_batch(x); }, {"predict_on_batch", "a batch of 8 samples"});
  // Validation data too (its sample count must be divisible as well).
  expect_error<ValueError>(
      [&] {
        model.fit(x, y, {.epochs = 1, .batch_size = 4, .validation_data = {.x = x.rows(0, 6), .y = y.rows(0, 6)},
                         .shuffle = false, .verbose = 0});
      },
      {"validation_data", "fixed batch size of 4", "6 samples"});
  // A sample count the fixed size does not divide.
  expect_error<ValueError>(
      [&] { model.fit(x.rows(0, 6), y.rows(0, 6), {.epochs = 1, .batch_size = 4, .shuffle = false, .verbose = 0}); },
      {"fixed batch size of 4", "6 samples"});
  // The fixed size works everywhere.
  EXPECT_NO_THROW(model.fit(x, y, {.epochs = 1, .batch_size = 4, .shuffle = false, .verbose = 0}));
  EXPECT_NO_THROW(model.evaluate(x, y, {.batch_size = 4}));
  EXPECT_EQ(model.predict(x, {.batch_size = 4})[0].shape(), (Shape{8, 1}));
  EXPECT_NO_THROW(model.train_on_batch(x.rows(0, 4), y.rows(0, 4)));
  // Without a fixed batch size a stateful model takes any size that divides
  // the samples; a model that is not stateful is not bound by its Input's.
  auto free_in = Input({4, 2});
  Model free({free_in}, {Dense(1)(LSTM(3, {.stateful = true})(free_in))});
  free.compile({.optimizer = "adam", .loss = "mse"});
  EXPECT_NO_THROW(free.fit(x, y, {.epochs = 1, .batch_size = 8, .shuffle = false, .verbose = 0}));
  free.reset_states();  // its states were for batches of 8
  EXPECT_NO_THROW(free.predict(x, {.batch_size = 2}));
  auto plain_in = Input({4, 2}, {.batch_size = 4});
  Model plain({plain_in}, {Dense(1)(LSTM(3)(plain_in))});
  EXPECT_NO_THROW(plain.predict(x, {.batch_size = 8}));
}

// ---------------------------------------------------------------- Keras-order calls

TEST(Fit, EpochsAndBatchSizeAsArguments) {
  set_seed(18);
  Tensor x = random_tensor({10, 3}, 61), y = random_tensor({10, 1}, 62);
  Regression a, b;
  b.model.set_weights(a.model.get_weights());
  a.model.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  b.model.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  // Keras's `epochs=3, batch_size=4, shuffle=False, verbose=0`.
  History ha = a.model.fit(x, y, 3, 4, {.shuffle = false, .verbose = 0});
  History hb = b.model.fit(x, y, {.epochs = 3, .batch_size = 4, .shuffle = false, .verbose = 0});
  EXPECT_EQ(ha.epoch(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(ha["loss"], hb["loss"]);
  expect_same_weights(a.model.get_weights(), b.model.get_weights(), 0.0f, "fit(x, y, 3, 4) vs options");
  EXPECT_EQ(a.model.optimizer().iterations(), 9);  // 3 epochs of 3 batches of at most 4
  // With the other options after them.
  History hv = a.model.fit(x, y, 2, 5, {.validation_split = 0.2, .verbose = 0});
  EXPECT_EQ(hv.keys(), (std::vector<std::string>{"loss", "val_loss"}));
  EXPECT_EQ(hv.epoch().size(), 2u);
  // The options may repeat the same values, not others.
  EXPECT_NO_THROW(a.model.fit(x, y, 2, 8, {.epochs = 2, .batch_size = 8, .verbose = 0}));
  expect_error<ValueError>([&] { a.model.fit(x, y, 3, 4, {.epochs = 5, .verbose = 0}); },
                           {"epochs = 3", "epochs 5", "give each once"});
  expect_error<ValueError>([&] { a.model.fit(x, y, 3, 4, {.batch_size = 8, .verbose = 0}); },
                           {"batch_size = 4", "batch_size 8"});
  // The checks of fit apply.
  expect_error<ValueError>([&] { a.model.fit(x, y, 1, 0, {.verbose = 0}); },
                           {"batch_size must be a positive integer", "got 0"});
  expect_error<ValueError>([&] { a.model.fit(x, y, -1, 4, {.verbose = 0}); }, {"epochs must be >= 0", "-1"});
}

// ---------------------------------------------------------------- verbosity

TEST(Verbose, ZeroPrintsNothingTwoPrintsOneLinePerEpoch) {
  set_seed(15);
  Regression r;
  r.model.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor x = random_tensor({10, 3}, 51), y = random_tensor({10, 1}, 52);

  ::testing::internal::CaptureStdout();
  r.model.fit(x, y, {.epochs = 2, .batch_size = 4, .validation_split = 0.2, .verbose = 0});
  r.model.evaluate(x, y);
  r.model.predict(x);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");

  ::testing::internal::CaptureStdout();
  History h = r.model.fit(x, y, {.epochs = 3, .batch_size = 4, .validation_split = 0.2, .verbose = 2});
  const auto lines = split_lines(::testing::internal::GetCapturedStdout());
  // "Epoch i/3" and one summary line per epoch, nothing else.
  ASSERT_EQ(lines.size(), 6u);
  const std::regex summary(R"(^2/2 - \d+s - loss: \S+ - val_loss: \S+ - \d+(us|ms|s)/epoch - \d+(us|ms|s)/step$)");
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(lines[2 * e], "Epoch " + std::to_string(e + 1) + "/3");
    EXPECT_TRUE(std::regex_match(lines[2 * e + 1], summary)) << lines[2 * e + 1];
    Logs l;
    l.set("loss", h["loss"][e]);
    l.set("val_loss", h["val_loss"][e]);
    EXPECT_NE(lines[2 * e + 1].find(l.format()), std::string::npos) << lines[2 * e + 1];
  }
}

// ---------------------------------------------------------------- determinism

namespace {

struct TrainRun {
  std::vector<Tensor> weights;
  std::vector<double> losses;
};

TrainRun train_with_seed(uint64_t seed) {
  set_seed(seed);
  auto x = Input({5, 3});
  auto h = LSTM(8, {.dropout = 0.2f, .recurrent_dropout = 0.2f, .return_sequences = true})(x);
  h = Dropout(0.3f)(h);
  auto y = TimeDistributed(Dense(2, {.activation = "softmax"}))(h);
  Model model({x}, {y});
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  Generator g(99);  // the data do not depend on the seed
  Tensor xs({24, 5, 3}), ys({24, 5, 2});
  for (auto& v : xs) v = g.uniform(-1, 1);
  for (int64_t i = 0; i < 24 * 5; ++i) ys[i * 2 + static_cast<int64_t>(g.below(2))] = 1.0f;
  History hist = model.fit(xs, ys, {.epochs = 3, .batch_size = 5, .validation_split = 0.25, .shuffle = true, .verbose = 0});
  TrainRun r;
  r.weights = model.get_weights();
  for (const auto& k : hist.keys())
    for (double v : hist[k]) r.losses.push_back(v);
  return r;
}

}  // namespace

TEST(Determinism, SameSeedSameBitsDifferentSeedDifferentResult) {
  const TrainRun a = train_with_seed(123), b = train_with_seed(123), c = train_with_seed(124);
  expect_same_weights(a.weights, b.weights, 0.0f, "same seed");
  EXPECT_EQ(a.losses, b.losses);
  float diff = 0;
  for (size_t i = 0; i < a.weights.size(); ++i) diff = std::max(diff, max_abs_diff(a.weights[i], c.weights[i]));
  EXPECT_GT(diff, 1e-4f);
  EXPECT_NE(a.losses, c.losses);
}

// ---------------------------------------------------------------- bad input

TEST(BadInput, DataThatDoesNotMatchTheModel) {
  clear_session();
  auto x = Input({5, 3});
  auto y = Dense(2)(LSTM(4)(x));
  Model model({x}, {y}, "m");
  model.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor xs = random_tensor({10, 5, 3}, 1), ys = random_tensor({10, 2}, 2);
  // Input arrays.
  expect_error<ShapeError>([&] { model.fit(random_tensor({10, 4, 3}, 1), ys, {.verbose = 0}); },
                           {"Model \"m\"", "fit", "input 0 ('input_1')", "(None, 5, 3)", "(10, 4, 3)"});
  expect_error<ShapeError>([&] { model.fit(random_tensor({10, 15}, 1), ys, {.verbose = 0}); },
                           {"(None, 5, 3)", "(10, 15)"});
  expect_error<ValueError>([&] { model.fit({xs, xs}, ys, {.verbose = 0}); },
                           {"expected 1 input array", "got 2"});
  expect_error<ValueError>([&] { model.fit(Tensor(), ys, {.verbose = 0}); }, {"empty array", "input_1"});
  // Targets.
  expect_error<ShapeError>([&] { model.fit(xs, random_tensor({10, 3}, 2), {.verbose = 0}); },
                           {"target 0", "output 'dense'", "(None, 2)", "(10, 3)"});
  expect_error<ShapeError>([&] { model.fit(xs, random_tensor({9, 2}, 2), {.verbose = 0}); },
                           {"target 0 has 9 samples", "inputs have 10"});
  expect_error<ValueError>([&] { model.fit(xs, {ys, ys}, {.verbose = 0}); },
                           {"expected 1 target array", "got 2"});
  expect_error<ShapeError>([&] { model.evaluate(xs, random_tensor({10, 5, 2}, 2)); },
                           {"evaluate", "(None, 2)", "(10, 5, 2)"});
  expect_error<ShapeError>([&] { model.train_on_batch(xs, random_tensor({10, 1}, 2)); },
                           {"train_on_batch", "(None, 2)", "(10, 1)"});
  expect_error<ShapeError>([&] { model.test_on_batch(random_tensor({10, 5, 4}, 1), ys); },
                           {"test_on_batch", "(None, 5, 3)", "(10, 5, 4)"});
  expect_error<ShapeError>([&] { model.predict_on_batch(random_tensor({10, 5, 4}, 1)); },
                           {"predict_on_batch", "(None, 5, 3)", "(10, 5, 4)"});
  // Validation data are checked too.
  expect_error<ShapeError>(
      [&] {
        model.fit(xs, ys, {.validation_data = {.x = random_tensor({4, 5, 2}, 3), .y = random_tensor({4, 2}, 4)},
                           .verbose = 0});
      },
      {"validation_data", "(None, 5, 3)", "(4, 5, 2)"});
  // Sparse targets: class ids.
  auto xc = Input({3});
  Model clf({xc}, {Dense(4, {.activation = "softmax"})(xc)}, "clf");
  clf.compile({.optimizer = "sgd", .loss = "sparse_categorical_crossentropy"});
  expect_error<ShapeError>([&] { clf.fit(random_tensor({6, 3}, 5), random_tensor({6, 4}, 6), {.verbose = 0}); },
                           {"clf", "(None,) (class ids)", "(6, 4)"});
  EXPECT_NO_THROW(clf.fit(random_tensor({6, 3}, 5), Tensor({6}, {0, 1, 2, 3, 0, 1}), {.verbose = 0}));
  EXPECT_NO_THROW(clf.fit(random_tensor({6, 3}, 5), Tensor({6, 1}, {0, 1, 2, 3, 0, 1}), {.verbose = 0}));
}

TEST(BadInput, CallsBeforeCompile) {
  auto x = Input({3});
  Model model({x}, {Dense(1)(x)}, "raw");
  Tensor xs = random_tensor({4, 3}, 1), ys = random_tensor({4, 1}, 2);
  EXPECT_FALSE(model.compiled());
  expect_error<ValueError>([&] { model.fit(xs, ys, {.verbose = 0}); }, {"raw", "compile() before fit()"});
  expect_error<ValueError>([&] { model.evaluate(xs, ys); }, {"raw", "compile() before evaluate()"});
  expect_error<ValueError>([&] { model.train_on_batch(xs, ys); }, {"raw", "compile() before train_on_batch()"});
  expect_error<ValueError>([&] { model.test_on_batch(xs, ys); }, {"raw", "compile() before test_on_batch()"});
  expect_error<ValueError>([&] { (void)model.optimizer(); }, {"raw", "not compiled"});
  // predict needs no compile.
  Tensor p = model.predict(xs);
  EXPECT_EQ(p.shape(), (Shape{4, 1}));
}

TEST(BadInput, CompileOptions) {
  TwoHeads m;
  expect_error<ValueError>([&] { m.model.compile({.loss = {"mse", "mse", "mse"}}); }, {"3 losses for 2 outputs"});
  expect_error<ValueError>([&] { m.model.compile({.loss = {"mse", "mse"}, .loss_weights = {1.0f}}); },
                           {"1 loss_weights for 2 outputs"});
  expect_error<ValueError>([&] { m.model.compile({.loss = "mse", .loss_weights = {1.0f, -1.0f}}); },
                           {"loss_weights", ">= 0", "-1"});
  expect_error<ValueError>([&] { m.model.compile({}); }, {"needs a loss"});
  expect_error<ValueError>([&] { m.model.compile({.loss = "mean_squared_logarithmic_error"}); },
                           {"unknown loss 'mean_squared_logarithmic_error'"});
  expect_error<ValueError>([&] { m.model.compile({.loss = "mse", .metrics = {"f1"}}); }, {"unknown metric 'f1'"});
  expect_error<ValueError>([&] { m.model.compile({.optimizer = "adamax", .loss = "mse"}); },
                           {"unknown optimizer 'adamax'"});
  EXPECT_FALSE(m.model.compiled());
}

TEST(BadInput, FitOptions) {
  Regression r;
  r.model.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor xs = random_tensor({10, 3}, 1), ys = random_tensor({10, 1}, 2);
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.batch_size = 0, .verbose = 0}); },
                           {"batch_size must be a positive integer", "got 0"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.batch_size = -4, .verbose = 0}); }, {"batch_size", "-4"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.epochs = -1, .verbose = 0}); }, {"epochs must be >= 0", "-1"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.validation_split = 1.0, .verbose = 0}); },
                           {"validation_split must be in [0, 1)", "got 1"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.validation_split = -0.1, .verbose = 0}); },
                           {"validation_split", "-0.1"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.validation_split = std::nan(""), .verbose = 0}); },
                           {"validation_split", "nan"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.validation_split = 0.95, .verbose = 0}); },
                           {"validation_split 0.95", "10 samples", "no training"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.verbose = 3}); }, {"verbose must be 0, 1 or 2", "3"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.verbose = 0, .initial_epoch = -1}); }, {"initial_epoch", "-1"});
  expect_error<ValueError>([&] { r.model.fit(xs, ys, {.verbose = 0, .callbacks = {nullptr}}); }, {"callback is null"});
  expect_error<ValueError>([&] { r.model.evaluate(xs, ys, {.batch_size = 0}); }, {"evaluate", "batch_size", "0"});
  expect_error<ValueError>([&] { r.model.predict(xs, {.batch_size = -1}); }, {"predict", "batch_size", "-1"});
}
