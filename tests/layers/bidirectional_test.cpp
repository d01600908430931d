// Bidirectional: gradients for every merge mode, return_state, initial
// states, masks and a separate backward layer; outputs against the two
// directions run alone; Keras weight names, counts, shapes; errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::copy_params;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;
using seqnet::testing::run;

namespace {

Tensor reverse_time(const Tensor& x) {
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor y(x.shape());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < F; ++f) y.at(b, T - 1 - t, f) = x.at(b, t, f);
  return y;
}

Tensor holey_mask() { return Tensor({2, 4}, {1, 0, 1, 1, 1, 1, 0, 0}); }

CallArgs with_mask(const Tensor& m) {
  CallArgs a;
  a.mask = m;
  return a;
}

std::shared_ptr<layers::Bidirectional> bi(const std::shared_ptr<layers::Recurrent>& l, const std::string& mode = "concat",
                                          std::shared_ptr<layers::Recurrent> backward = nullptr) {
  return std::make_shared<layers::Bidirectional>(l, BidirectionalOptions{.merge_mode = mode, .backward_layer = backward});
}

std::shared_ptr<layers::LSTM> lstm(int64_t units, const LSTMOptions& o = {}) {
  return std::make_shared<layers::LSTM>(units, o);
}

// Merge of (fw, bw) outputs as Keras computes them.
Tensor merge(const std::string& mode, const Tensor& f, const Tensor& b) {
  if (mode == "concat") {
    Shape s = f.shape();
    const int64_t H = s.back();
    s.back() = 2 * H;
    Tensor y(s);
    const int64_t rows = f.size() / H;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < H; ++j) {
        y[r * 2 * H + j] = f[r * H + j];
        y[r * 2 * H + H + j] = b[r * H + j];
      }
    return y;
  }
  Tensor y(f.shape());
  for (int64_t i = 0; i < f.size(); ++i) {
    y[i] = mode == "sum" ? f[i] + b[i] : mode == "mul" ? f[i] * b[i] : 0.5f * (f[i] + b[i]);
  }
  return y;
}

}  // namespace

// ---------------------------------------------------------------------------
// Gradients

class MergeModes : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Bidirectional, MergeModes, ::testing::Values("concat", "sum", "mul", "ave", "none"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST_P(MergeModes, GradientsLSTMSequences) {
  auto b = bi(lstm(3, {.return_sequences = true}), GetParam());
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 1)}, {});
}

TEST_P(MergeModes, GradientsGRULastOutputWithStates) {
  auto b = bi(std::make_shared<layers::GRU>(3, GRUOptions{.return_state = true}), GetParam());
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 2)}, {});
}

TEST_P(MergeModes, GradientsSimpleRNNMaskedWithInitialStates) {
  auto b = bi(std::make_shared<layers::SimpleRNN>(3, SimpleRNNOptions{.return_sequences = true, .return_state = true}),
              GetParam());
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 3), random_tensor({2, 3}, 4), random_tensor({2, 3}, 5)},
                         with_mask(holey_mask()));
}

TEST_P(MergeModes, OutputsEqualTheTwoDirectionsAlone) {
  const std::string mode = GetParam();
  auto b = bi(lstm(3, {.return_sequences = true, .return_state = true}), mode);
  const Tensor x = random_tensor({2, 5, 2}, 6);
  const Tensor h1 = random_tensor({2, 3}, 7), c1 = random_tensor({2, 3}, 8);
  const Tensor h2 = random_tensor({2, 3}, 9), c2 = random_tensor({2, 3}, 10);
  const auto out = run(*b, {x, h1, c1, h2, c2});
  ASSERT_EQ(static_cast<int>(out.size()), b->num_outputs());
  auto f = lstm(3, {.return_sequences = true, .return_state = true});
  auto g = lstm(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  f->compute_output_shapes({x.shape()});
  g->compute_output_shapes({x.shape()});
  copy_params(*b, *f, b->forward_layer().name() + "/");
  copy_params(*b, *g, b->backward_layer().name() + "/");
  const auto of = run(*f, {x, h1, c1});
  const auto ob = run(*g, {x, h2, c2});
  const Tensor yb = reverse_time(ob[0]);  // back to input order
  size_t k = 0;
  if (mode == "none") {
    expect_near(out[k++], of[0], 1e-6, "forward output");
    expect_near(out[k++], yb, 1e-6, "backward output");
  } else {
    expect_near(out[k++], merge(mode, of[0], yb), 1e-6, "merged output");
  }
  expect_near(out[k++], of[1], 1e-6, "h_fw");
  expect_near(out[k++], of[2], 1e-6, "c_fw");
  expect_near(out[k++], ob[1], 1e-6, "h_bw");
  expect_near(out[k++], ob[2], 1e-6, "c_bw");
}

TEST(Bidirectional, GradientsLSTMReturnStateInitialStatesAndMask) {
  auto b = bi(lstm(3, {.return_sequences = true, .return_state = true}));
  expect_gradients_match(*b,
                         {random_tensor({2, 4, 2}, 11), random_tensor({2, 3}, 12), random_tensor({2, 3}, 13),
                          random_tensor({2, 3}, 14), random_tensor({2, 3}, 15)},
                         with_mask(holey_mask()));
}

TEST(Bidirectional, GradientsIntoStatesOnly) {
  auto b = bi(lstm(3, {.return_sequences = true, .return_state = true}), "sum");
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 16)}, {}, {.outputs = {2, 3}});  // c_fw, h_bw
  auto n = bi(lstm(3, {.return_state = true}), "none");
  expect_gradients_match(*n, {random_tensor({2, 4, 2}, 17)}, {}, {.outputs = {1, 5}});  // out_bw, c_bw
}

TEST(Bidirectional, GradientsLastOutputMasked) {
  auto b = bi(std::make_shared<layers::GRU>(3, GRUOptions{.reset_after = false}), "concat");
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 18)}, with_mask(holey_mask()));
}

TEST(Bidirectional, GradientsDropout) {
  auto b = bi(lstm(3, {.dropout = 0.3f, .recurrent_dropout = 0.3f, .return_sequences = true}), "ave");
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 19)}, {});
}

TEST(Bidirectional, GradientsSeparateBackwardLayer) {
  auto f = lstm(3, {.return_sequences = true});
  auto g = lstm(3, {.activation = "softsign", .use_bias = false, .return_sequences = true, .go_backwards = true});
  auto b = bi(f, "concat", g);
  expect_gradients_match(*b, {random_tensor({2, 4, 2}, 20)}, with_mask(holey_mask()));
  EXPECT_EQ(b->backward_layer().config().activation, "softsign");
  EXPECT_EQ(b->backward_layer().bias(), nullptr);
  EXPECT_TRUE(b->backward_layer().config().go_backwards);
  EXPECT_FALSE(b->forward_layer().config().go_backwards);
}

TEST(Bidirectional, WrappedGoBackwardsLayer) {
  // A wrapped layer with go_backwards: the "forward" direction runs backwards
  // and the copy runs forwards (Keras flips go_backwards for the copy).
  auto b = bi(lstm(3, {.return_sequences = true, .go_backwards = true}), "concat");
  b->compute_output_shapes({{None, None, 2}});
  EXPECT_TRUE(b->forward_layer().config().go_backwards);
  EXPECT_FALSE(b->backward_layer().config().go_backwards);
  expect_gradients_match(*b, {random_tensor({2, 3, 2}, 21)}, {});
}

// ---------------------------------------------------------------------------
// Semantics

TEST(Bidirectional, MaskedBatchMatchesUnpaddedSequences) {
  auto b = bi(lstm(3, {.return_sequences = true, .return_state = true}));
  seqnet::testing::expect_mask_matches_unpadded(*b, random_tensor({3, 5, 2}, 22), {5, 3, 1});
  auto last = bi(std::make_shared<layers::GRU>(3), "sum");
  seqnet::testing::expect_mask_matches_unpadded(*last, random_tensor({3, 5, 2}, 23), {2, 5, 4});
}

TEST(Bidirectional, MaskedStepsOutputZerosWhenReturningSequences) {
  auto b = bi(lstm(3, {.return_sequences = true}));
  const Tensor y = b->forward({random_tensor({2, 4, 2}, 24)}, with_mask(holey_mask()))[0];
  for (int64_t j = 0; j < 6; ++j) {
    EXPECT_EQ(y.at(0, 1, j), 0.0f);
    EXPECT_EQ(y.at(1, 2, j), 0.0f);
    EXPECT_EQ(y.at(1, 3, j), 0.0f);
    EXPECT_NE(y.at(0, 0, j), 0.0f);
  }
  const Tensor m = holey_mask();
  expect_near(b->compute_mask({}, {m}), m, 0, "output mask");
  auto last = bi(lstm(3));
  EXPECT_TRUE(last->compute_mask({}, {m}).empty());
}

TEST(Bidirectional, WeightNamesCountsAndShapes) {
  clear_session();
  auto b = bi(lstm(16, {.return_sequences = true}));
  EXPECT_EQ(b->name(), "bidirectional");
  EXPECT_EQ(b->class_name(), "Bidirectional");
  const auto s = b->compute_output_shapes({{None, None, 10}});
  EXPECT_EQ(s, (std::vector<Shape>{{None, None, 32}}));
  const auto ps = seqnet::testing::param_shapes(*b);
  const std::vector<std::pair<std::string, Shape>> want = {
      {"forward_lstm/kernel", {10, 64}},  {"forward_lstm/recurrent_kernel", {16, 64}},
      {"forward_lstm/bias", {64}},        {"backward_lstm/kernel", {10, 64}},
      {"backward_lstm/recurrent_kernel", {16, 64}}, {"backward_lstm/bias", {64}}};
  EXPECT_EQ(ps, want);
  EXPECT_EQ(b->count_params(), 2 * 1728);
  // The two directions start from different weights.
  EXPECT_GT(max_abs_diff(b->forward_layer().kernel().value, b->backward_layer().kernel().value), 1e-3);

  auto r = bi(std::make_shared<layers::SimpleRNN>(32));
  r->compute_output_shapes({{None, None, 32}});
  EXPECT_EQ(r->count_params(), 4160);
  EXPECT_EQ(r->name(), "bidirectional_1");
  EXPECT_EQ(seqnet::testing::param_shapes(*r)[3].first, "backward_simple_rnn/kernel");

  auto g = bi(std::make_shared<layers::GRU>(8, GRUOptions{.return_state = true}), "none");
  const auto gs = g->compute_output_shapes({{4, None, 3}});
  EXPECT_EQ(gs, (std::vector<Shape>{{4, 8}, {4, 8}, {4, 8}, {4, 8}}));
  EXPECT_EQ(g->num_outputs(), 4);
  auto ls = bi(lstm(5, {.return_sequences = true, .return_state = true}), "sum");
  EXPECT_EQ(ls->compute_output_shapes({{None, 7, 3}}),
            (std::vector<Shape>{{None, 7, 5}, {None, 5}, {None, 5}, {None, 5}, {None, 5}}));
  EXPECT_EQ(ls->num_outputs(), 5);
}

TEST(Bidirectional, Errors) {
  clear_session();
  EXPECT_THROW_MSG(bi(lstm(2), "product"), ValueError, "Bidirectional \"bidirectional\"", "merge_mode",
                   "'product'");
  EXPECT_THROW_MSG(bi(nullptr), ValueError, "Bidirectional", "null");
  EXPECT_THROW_MSG(bi(lstm(2), "concat", lstm(3, {.go_backwards = true})), ValueError, "Bidirectional",
                   "backward_layer", "2 units", "3 units");
  EXPECT_THROW_MSG(bi(lstm(2), "concat", std::make_shared<layers::GRU>(2, GRUOptions{.go_backwards = true})),
                   ValueError, "Bidirectional", "LSTM", "GRU");
  EXPECT_THROW_MSG(bi(lstm(2), "concat", lstm(2)), ValueError, "Bidirectional", "go_backwards");
  EXPECT_THROW_MSG(bi(lstm(2), "concat", lstm(2, {.return_sequences = true, .go_backwards = true})), ValueError,
                   "return_sequences");

  clear_session();
  auto b = bi(lstm(4));
  const Tensor x({2, 3, 5});
  EXPECT_THROW_MSG(b->forward({x, Tensor({2, 4}), Tensor({2, 4})}), ValueError, "Bidirectional \"bidirectional\"",
                   "4 initial states", "got 3 tensors");
  run(*b, {x});
  EXPECT_THROW_MSG(run(*b, {Tensor({2, 3, 6})}), ShapeError, "forward_lstm", "(batch, time, 5)", "(2, 3, 6)");
  EXPECT_THROW_MSG(run(*b, {Tensor({2, 3})}), ShapeError, "forward_lstm", "(2, 3)");
  EXPECT_THROW_MSG(run(*b, {x, Tensor({2, 4}), Tensor({2, 4}), Tensor({2, 4}), Tensor({2, 5})}), ShapeError,
                   "backward_lstm", "initial state 1", "(2, 5)");
  EXPECT_THROW_MSG(b->forward({x}, with_mask(Tensor({2, 4}))), ShapeError, "Bidirectional", "mask", "(2, 4)");
  auto cache = b->make_cache();
  EXPECT_THROW_MSG(b->backward({Tensor({2, 8})}, *cache), Error, "Bidirectional \"bidirectional\"",
                   "training = true");
  CallArgs train;
  train.training = true;
  b->forward({x}, train, cache.get());
  EXPECT_THROW_MSG(b->backward({Tensor({2, 4})}, *cache), ShapeError, "Bidirectional", "(2, 8)", "(2, 4)");
}

TEST(Bidirectional, StatefulResetStates) {
  auto b = bi(lstm(3, {.stateful = true}));
  const Tensor x = random_tensor({2, 3, 2}, 30);
  const Tensor y1 = b->forward(x);
  const Tensor y2 = b->forward(x);
  EXPECT_GT(max_abs_diff(y1, y2), 1e-4);  // state kept
  b->reset_states();
  expect_near(b->forward(x), y1, 0, "after reset_states()");
}
