// Dropout: gradients in training (mask fixed by the seed), identity in
// inference, rate statistics and scaling, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

TEST(Dropout, GradientsInTraining) {
  layers::Dropout d(0.5f);
  expect_gradients_match(d, {random_tensor({3, 4, 5}, 1)}, {});
  layers::Dropout d2(0.2f);
  expect_gradients_match(d2, {random_tensor({4, 6}, 2)}, {});
}

TEST(Dropout, InferenceIsIdentity) {
  layers::Dropout d(0.5f);
  const Tensor x = random_tensor({3, 4, 5}, 3);
  const Tensor y = d.forward(x, false);
  expect_near(y, x, 0, "inference");
  EXPECT_FALSE(y.shares_storage(x)) << "outputs are fresh tensors";
  // The inference backward (training forward needed) is an error...
  auto cache = d.make_cache();
  d.forward({x}, {}, cache.get());
  EXPECT_THROW_MSG(d.backward({x}, *cache), Error, "Dropout", "training = true");
  // ...and rate 0 in training is the identity with identity gradient.
  layers::Dropout none(0.0f);
  CallArgs train;
  train.training = true;
  auto c0 = none.make_cache();
  expect_near(none.forward({x}, train, c0.get())[0], x, 0, "rate 0");
  expect_near(none.backward({x}, *c0)[0], x, 0, "rate 0 gradient");
}

TEST(Dropout, TrainingMaskStatisticsAndScaling) {
  const float rate = 0.3f;
  layers::Dropout d(rate);
  const Tensor x = Tensor::ones({100, 100});
  set_seed(11);
  const Tensor y = d.forward(x, true);
  int64_t zeros = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      EXPECT_NEAR(v, 1.0f / (1.0f - rate), 1e-6);
    }
  }
  EXPECT_NEAR(static_cast<double>(zeros) / x.size(), rate, 0.02);
  // The expected value is preserved.
  EXPECT_NEAR(sum(y) / x.size(), 1.0, 0.03);
  // Same seed, same mask; other seed, other mask.
  set_seed(11);
  expect_near(d.forward(x, true), y, 0, "same seed");
  set_seed(12);
  EXPECT_GT(max_abs_diff(d.forward(x, true), y), 1.0f);
  // The gradient uses the forward's mask.
  auto cache = d.make_cache();
  CallArgs train;
  train.training = true;
  set_seed(11);
  const Tensor yt = d.forward({x}, train, cache.get())[0];
  const Tensor g = d.backward({Tensor::ones(x.shape())}, *cache)[0];
  expect_near(g, yt, 0, "gradient = mask");
}

TEST(Dropout, NamesShapesMask) {
  clear_session();
  layers::Dropout d(0.1f);
  EXPECT_EQ(d.name(), "dropout");
  EXPECT_FLOAT_EQ(d.rate(), 0.1f);
  EXPECT_EQ(d.compute_output_shapes({{None, None, 7}}), (std::vector<Shape>{{None, None, 7}}));
  EXPECT_TRUE(d.params().empty());
  const Tensor m({1, 2}, {1, 0});
  expect_near(d.compute_mask({}, {m}), m, 0, "mask passes through");
}

TEST(Dropout, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::Dropout(1.0f), ValueError, "Dropout \"dropout\"", "rate", "[0, 1)", "got 1");
  EXPECT_THROW_MSG(layers::Dropout(-0.2f), ValueError, "Dropout \"dropout_1\"", "-0.2");
  EXPECT_THROW_MSG(layers::Dropout(std::nanf("")), ValueError, "Dropout", "nan");
  layers::Dropout d(0.5f);
  EXPECT_THROW_MSG(seqnet::testing::run(d, {Tensor({2, 2}), Tensor({2, 2})}), ValueError, "Dropout", "1 input",
                   "got 2");
  d.forward(Tensor({2, 2}));  // built: later calls are still validated
  EXPECT_THROW_MSG(seqnet::testing::run(d, {Tensor({2, 2}), Tensor({2, 2})}), ValueError, "Dropout \"dropout_3\"",
                   "1 input", "got 2");
}
