// Masking: output mask, zeroed steps, gradients, use with an LSTM, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

namespace {
// (2, 3, 2) with step (0, 1) and (1, 2) all equal to -1.
Tensor padded() {
  return Tensor({2, 3, 2}, {0.5f, -1, -1, -1, 0.3f, 0.2f, 0.1f, 0.9f, -1, 0.4f, -1, -1});
}
}  // namespace

TEST(Masking, MaskAndOutput) {
  layers::Masking m(-1.0f);
  const Tensor x = padded();
  expect_near(m.compute_mask({x}, {}), Tensor({2, 3}, {1, 0, 1, 1, 1, 0}), 0, "mask");
  const Tensor y = m.forward(x);
  expect_near(y, Tensor({2, 3, 2}, {0.5f, -1, 0, 0, 0.3f, 0.2f, 0.1f, 0.9f, -1, 0.4f, 0, 0}), 0, "masked steps zeroed");
}

TEST(Masking, Gradients) {
  // No step of this input is masked (perturbing a masked element would
  // unmask it: the layer is not differentiable there).
  layers::Masking m(0.0f);
  expect_gradients_match(m, {random_tensor({2, 3, 2}, 1, 0.1f, 1.0f)}, {});
  // Masked steps get a zero gradient.
  layers::Masking p(-1.0f);
  auto cache = p.make_cache();
  CallArgs train;
  train.training = true;
  p.forward({padded()}, train, cache.get());
  const Tensor g = p.backward({Tensor::ones({2, 3, 2})}, *cache)[0];
  expect_near(g, Tensor({2, 3, 2}, {1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0}), 0, "gradient");
}

TEST(Masking, FeedsARecurrentLayer) {
  // Masking(0) on a zero-padded batch: the LSTM's final output equals the
  // one on the unpadded sequence.
  layers::Masking m;
  layers::LSTM l(3);
  Tensor x = random_tensor({1, 5, 2}, 2);
  for (int64_t t = 3; t < 5; ++t)
    for (int64_t f = 0; f < 2; ++f) x.at(0, t, f) = 0.0f;
  Tensor u({1, 3, 2});
  std::copy_n(x.data(), 6, u.data());
  CallArgs args;
  args.mask = m.compute_mask({x}, {});
  const Tensor a = l.forward({m.forward(x)}, args)[0];
  expect_near(a, l.forward(u), 1e-6, "final output");
}

TEST(Masking, NamesAndErrors) {
  clear_session();
  layers::Masking m(0.5f);
  EXPECT_EQ(m.name(), "masking");
  EXPECT_FLOAT_EQ(m.mask_value(), 0.5f);
  EXPECT_EQ(m.compute_output_shapes({{None, None, 3}}), (std::vector<Shape>{{None, None, 3}}));
  EXPECT_THROW_MSG(layers::Masking(std::nanf("")), ValueError, "Masking \"masking_1\"", "mask_value");
  EXPECT_THROW_MSG(m.forward(Tensor({2, 3})), ShapeError, "Masking \"masking\"", "(batch, time, features)",
                   "(2, 3)");
  layers::Masking built;
  built.forward(Tensor({1, 2, 3}));
  EXPECT_THROW_MSG(built.forward(Tensor({2, 3})), ShapeError, "Masking \"masking_2\"", "(2, 3)");
}
