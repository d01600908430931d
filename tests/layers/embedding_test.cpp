// Embedding: weight gradients (ids get none), lookups, mask_zero, shapes,
// names, counts, bad ids.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <limits>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

namespace {
// (2, 4) ids with repeats, so gradient rows accumulate.
Tensor ids() { return Tensor({2, 4}, {1, 3, 3, 0, 4, 1, 1, 2}); }
}  // namespace

TEST(Embedding, GradientsOfWeights) {
  layers::Embedding e(5, 3);
  expect_gradients_match(e, {ids()}, {});
  // 3-D ids (any rank works).
  layers::Embedding e3(6, 2);
  expect_gradients_match(e3, {Tensor({2, 2, 2}, {5, 0, 1, 5, 2, 2, 3, 4})}, {});
}

TEST(Embedding, IdsGetNoGradientAndRowsAccumulate) {
  layers::Embedding e(5, 3);
  auto cache = e.make_cache();
  CallArgs train;
  train.training = true;
  e.forward({ids()}, train, cache.get());
  e.zero_grad();
  const auto g = e.backward({Tensor::ones({2, 4, 3})}, *cache);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_TRUE(g[0].empty());
  const Tensor& dw = seqnet::testing::param_at(e, "embeddings").grad;
  const float count[5] = {1, 3, 1, 2, 1};  // occurrences of each id
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(dw.at(i, k), count[i]);
}

TEST(Embedding, LookupValues) {
  layers::Embedding e(5, 3);
  const Tensor y = e.forward(ids());
  ASSERT_EQ(y.shape(), (Shape{2, 4, 3}));
  const Tensor& w = seqnet::testing::param_at(e, "embeddings").value;
  const Tensor i = ids();
  for (int64_t n = 0; n < 8; ++n)
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(y[n * 3 + k], w.at(static_cast<int64_t>(i[n]), k));
  // Keras "uniform": [-0.05, 0.05].
  for (float v : w) EXPECT_LE(std::abs(v), 0.05f);
}

TEST(Embedding, MaskZero) {
  layers::Embedding e(5, 3, {.mask_zero = true});
  const Tensor m = e.compute_mask({ids()}, {});
  expect_near(m, Tensor({2, 4}, {1, 1, 1, 0, 1, 1, 1, 1}), 0, "mask");
  layers::Embedding plain(5, 3);
  EXPECT_TRUE(plain.compute_mask({ids()}, {}).empty());
}

TEST(Embedding, MaskZeroFeedsAnLSTMLikeUnpadded) {
  // Embedding(mask_zero) -> LSTM: the padded sequence gives the same final
  // state as the unpadded one.
  layers::Embedding e(6, 3, {.mask_zero = true});
  layers::LSTM l(4);
  const Tensor padded({1, 5}, {2, 5, 1, 0, 0});
  const Tensor unpadded({1, 3}, {2, 5, 1});
  CallArgs args;
  args.mask = e.compute_mask({padded}, {});
  const Tensor a = l.forward({e.forward(padded)}, args)[0];
  const Tensor b = l.forward(e.forward(unpadded));
  expect_near(a, b, 1e-6, "final output");
}

TEST(Embedding, ShapesNamesCounts) {
  clear_session();
  layers::Embedding e(10000, 32);
  EXPECT_EQ(e.name(), "embedding");
  EXPECT_EQ(e.compute_output_shapes({{None, None}}), (std::vector<Shape>{{None, None, 32}}));
  EXPECT_EQ(e.count_params(), 320000);
  EXPECT_EQ(seqnet::testing::param_shapes(e),
            (std::vector<std::pair<std::string, Shape>>{{"embeddings", {10000, 32}}}));
  layers::Embedding fixed(10, 4, {.input_length = 7});
  EXPECT_EQ(fixed.name(), "embedding_1");
  EXPECT_EQ(fixed.compute_output_shapes({{None, 7}}), (std::vector<Shape>{{None, 7, 4}}));
  EXPECT_EQ(fixed.compute_output_shapes({{None, None}}), (std::vector<Shape>{{None, None, 4}}));
}

TEST(Embedding, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::Embedding(0, 3), ValueError, "Embedding \"embedding\"", "input_dim", "got 0");
  EXPECT_THROW_MSG(layers::Embedding(3, -1), ValueError, "Embedding \"embedding_1\"", "output_dim", "-1");
  EXPECT_THROW_MSG(layers::Embedding(3, 2, EmbeddingOptions{.embeddings_initializer = "unifrom"}), ValueError,
                   "embeddings_initializer", "'unifrom'");
  clear_session();
  layers::Embedding e(10, 2);
  EXPECT_THROW_MSG(e.forward(Tensor({1, 3}, {1, 10, 2})), ValueError, "Embedding \"embedding\"", "10", "[0, 10)");
  EXPECT_THROW_MSG(e.forward(Tensor({1, 3}, {1, -1, 2})), ValueError, "Embedding \"embedding\"", "-1", "[0, 10)");
  EXPECT_THROW_MSG(e.forward(Tensor({1, 3}, {1, 2.5f, 2})), ValueError, "Embedding \"embedding\"", "2.5",
                   "integer");
  EXPECT_THROW_MSG(e.forward(Tensor({1, 1}, {std::numeric_limits<float>::quiet_NaN()})), ValueError, "nan");
  EXPECT_THROW_MSG(e.forward(Tensor({1, 1}, {1e30f})), ValueError, "Embedding \"embedding\"");
  layers::Embedding fixed(10, 2, {.input_length = 3});
  EXPECT_THROW_MSG(fixed.forward(Tensor({1, 4})), ShapeError, "Embedding \"embedding_1\"", "(batch, 3)", "(1, 4)");
  auto cache = e.make_cache();
  EXPECT_THROW_MSG(e.backward({Tensor({1, 3, 2})}, *cache), Error, "Embedding", "training = true");
}
