// Metrics (src/train/metrics.cpp): accuracy resolved from the loss as
// Keras does, mse / mae, running means over updates, masks and errors;
// and the metric names a compiled model logs.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

using seqnet::testing::expect_error;

double once(Metric& m, const Tensor& t, const Tensor& p, const Tensor& mask = Tensor()) {
  m.reset();
  m.update(t, p, mask);
  return m.result();
}

// y_true [1, 0, 1] against [0.9, 0.6, 0.2]: argmax agrees (index 0), but
// thresholded at 0.5 only the first element is right.
const Tensor kTrue({1, 3}, {1, 0, 1});
const Tensor kPred({1, 3}, {0.9f, 0.6f, 0.2f});

}  // namespace

TEST(Metrics, AccuracyResolvesFromTheLoss) {
  auto categorical = make_metric("accuracy", "categorical_crossentropy");
  auto binary = make_metric("accuracy", "binary_crossentropy");
  auto sparse = make_metric("acc", "sparse_categorical_crossentropy");
  auto other = make_metric("acc", "mean_squared_error");
  EXPECT_EQ(categorical->name(), "accuracy");
  EXPECT_EQ(sparse->name(), "acc");
  EXPECT_FALSE(categorical->sparse());
  EXPECT_FALSE(binary->sparse());
  EXPECT_TRUE(sparse->sparse());
  EXPECT_DOUBLE_EQ(once(*categorical, kTrue, kPred), 1.0);
  EXPECT_DOUBLE_EQ(once(*binary, kTrue, kPred), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(once(*other, kTrue, kPred), 1.0);  // categorical for other losses
  // Sparse: class ids against argmax.
  Tensor p({3, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.2f, 0.6f});
  EXPECT_DOUBLE_EQ(once(*sparse, Tensor({3}, {1, 0, 0}), p), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(once(*sparse, Tensor({3, 1}, {1, 0, 2}), p), 1.0);
}

TEST(Metrics, ExplicitAccuracies) {
  EXPECT_DOUBLE_EQ(once(*make_metric("categorical_accuracy", "mse"), kTrue, kPred), 1.0);
  EXPECT_DOUBLE_EQ(once(*make_metric("binary_accuracy", "mse"), kTrue, kPred), 1.0 / 3.0);
  auto s = make_metric("sparse_categorical_accuracy", "categorical_crossentropy");
  EXPECT_TRUE(s->sparse());
  EXPECT_DOUBLE_EQ(once(*s, Tensor({1}, {0}), kPred), 1.0);
  // Sequences: one value per (sample, step).
  Tensor t({1, 2, 2}, {1, 0, 1, 0});
  Tensor p({1, 2, 2}, {0.8f, 0.2f, 0.3f, 0.7f});
  EXPECT_DOUBLE_EQ(once(*make_metric("accuracy", "categorical_crossentropy"), t, p), 0.5);
}

TEST(Metrics, MseAndMae) {
  Tensor t({2, 2}, {1, 2, 3, 4});
  Tensor p({2, 2}, {1.5f, 2, 1, 4});
  EXPECT_DOUBLE_EQ(once(*make_metric("mse", "mse"), t, p), (0.125 + 2.0) / 2);
  EXPECT_DOUBLE_EQ(once(*make_metric("mean_squared_error", "mse"), t, p), (0.125 + 2.0) / 2);
  EXPECT_DOUBLE_EQ(once(*make_metric("mae", "mse"), t, p), (0.25 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(once(*make_metric("mean_absolute_error", "mse"), t, p), (0.25 + 1.0) / 2);
}

TEST(Metrics, RunningMeanOverUpdatesAndReset) {
  auto acc = make_metric("accuracy", "categorical_crossentropy");
  EXPECT_EQ(acc->result(), 0.0);
  // Batch 1: two rows, one right; batch 2: one row, right -> 2 / 3 (per row, not per batch).
  acc->update(Tensor({2, 2}, {1, 0, 1, 0}), Tensor({2, 2}, {0.9f, 0.1f, 0.2f, 0.8f}), Tensor());
  EXPECT_DOUBLE_EQ(acc->result(), 0.5);
  acc->update(Tensor({1, 2}, {0, 1}), Tensor({1, 2}, {0.1f, 0.9f}), Tensor());
  EXPECT_DOUBLE_EQ(acc->result(), 2.0 / 3.0);
  acc->reset();
  EXPECT_EQ(acc->result(), 0.0);
}

TEST(Metrics, MaskedStepsAreExcluded) {
  auto acc = make_metric("accuracy", "categorical_crossentropy");
  auto mse = make_metric("mse", "mse");
  // Steps: right, wrong, wrong (masked).
  Tensor t({1, 3, 2}, {1, 0, 1, 0, 1, 0});
  Tensor p({1, 3, 2}, {0.9f, 0.1f, 0.2f, 0.8f, 0.3f, 0.7f});
  Tensor mask({1, 3}, {1, 1, 0});
  EXPECT_DOUBLE_EQ(once(*acc, t, p), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(once(*acc, t, p, mask), 0.5);
  EXPECT_DOUBLE_EQ(once(*acc, t, p, Tensor({1, 3}, {1, 0, 0})), 1.0);
  // mse per step: 0.01, 0.64, 0.49 (masked).
  EXPECT_NEAR(once(*mse, t, p, mask), (0.01 + 0.64) / 2, 1e-7);
}

TEST(Metrics, Errors) {
  expect_error<ValueError>([] { make_metric("precision", "mse"); },
                           {"unknown metric 'precision'", "'accuracy'", "'mae'"});
  auto acc = make_metric("accuracy", "categorical_crossentropy");
  expect_error<ShapeError>([&] { acc->update(Tensor({2, 3}), Tensor({2, 4}), Tensor()); }, {"accuracy", "(2, 3)", "(2, 4)"});
  expect_error<ShapeError>([&] { acc->update(Tensor({1, 3, 2}), Tensor({1, 3, 2}), Tensor({1, 2})); },
                           {"mask", "(1, 2)", "(1, 3, 2)"});
}

TEST(Metrics, CompiledModelLogsMetricNames) {
  // Single output: "loss" and the names as written.
  auto x = Input({3});
  auto y = Dense(2, {.activation = "softmax"})(x);
  Model model({x}, {y});
  model.compile({.optimizer = "sgd", .loss = "categorical_crossentropy", .metrics = {"acc", "mse"}});
  Tensor xs({2, 3}, {1, 0, 0, 0, 1, 0});
  Tensor ys({2, 2}, {1, 0, 0, 1});
  Logs l = model.evaluate(xs, ys);
  std::vector<std::string> keys;
  for (const auto& kv : l.items()) keys.push_back(kv.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"loss", "acc", "mse"}));
  // The accuracy agrees with a by-hand argmax over the predictions.
  Tensor p = model.predict(xs);
  double right = 0;
  for (int64_t i = 0; i < 2; ++i) right += (p.at(i, 0) > p.at(i, 1)) == (ys.at(i, 0) > ys.at(i, 1));
  EXPECT_DOUBLE_EQ(l.at("acc"), right / 2);
  // Sparse loss: sparse accuracy on class ids.
  model.compile({.optimizer = "sgd", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  Logs ls = model.evaluate(xs, Tensor({2}, {0, 1}));
  EXPECT_DOUBLE_EQ(ls.at("accuracy"), right / 2);
}
