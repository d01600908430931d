// Parity of seqnet's attention layers (Attention, AdditiveAttention,
// LuongAttention, AttentionDecoder) with float64 PyTorch references.
//
// Every case of tests/fixtures/attention/*.json (written by
// tests/fixtures/attention/generate.py, which documents the format and the
// reference mathematics) is one test, named after the case:
//   Attention/AttentionParity.MatchesTorch/dot_masks_scores
// The test builds the layer with the case's options, copies the weights in
// (every weight of the layer must be in the fixture and vice versa), runs
// forward with the case's masks, once in inference mode and once in
// training mode, and compares every output; then backward with the stored
// projections as output gradients (L = sum_k sum(out_k * proj_k)) and
// compares the gradients of every input and every weight.
//
// Tolerance: tensor-relative error max|got - want| / max|want| <= 1e-5 for
// every tensor, as tests/layers/parity_test.cpp. The data are O(1) and the
// layers' sums are short (at most a few dozen terms; the decoder's
// recurrence runs at most 5 steps), so float32 rounding (2^-24 ~ 6e-8 per
// operation) accumulates to about 1e-7 .. 1e-6 here. The worst case, about
// 5e-6, is the decoder's reset-gate weight gradient with return_probabilities:
// that tensor is ~1e-4 of the others (the gates reach the attention weights
// only through later states), so its float32 sums cancel. A larger error is a
// bug, not noise (do not loosen the bound to make a case pass). Outputs the
// reference has exactly zero (masked weights, masked query rows) must be
// exactly zero in seqnet too.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace {

using namespace seqnet;
using nlohmann::json;
using seqnet::testing::case_tensor;

constexpr double kRtol = 1e-5;

using AttentionCase = seqnet::testing::FixtureCase;

std::shared_ptr<Layer> make_layer(const json& cfg) {
  const std::string cls = cfg.at("layer");
  if (cls == "Attention") {
    AttentionOptions o;
    o.use_scale = cfg.at("use_scale");
    o.score_mode = cfg.at("score_mode");
    o.return_attention_scores = cfg.at("return_attention_scores");
    o.use_causal_mask = cfg.at("use_causal_mask");
    return std::make_shared<layers::Attention>(o);
  }
  if (cls == "AdditiveAttention") {
    AdditiveAttentionOptions o;
    o.use_scale = cfg.at("use_scale");
    o.return_attention_scores = cfg.at("return_attention_scores");
    o.use_causal_mask = cfg.at("use_causal_mask");
    return std::make_shared<layers::AdditiveAttention>(o);
  }
  if (cls == "LuongAttention") {
    LuongAttentionOptions o;
    o.score = cfg.at("score");
    return std::make_shared<layers::LuongAttention>(cfg.at("units").get<int64_t>(), o);
  }
  if (cls == "AttentionDecoder") {
    AttentionDecoderOptions o;
    o.activation = cfg.at("activation");
    o.return_probabilities = cfg.at("return_probabilities");
    return std::make_shared<layers::AttentionDecoder>(cfg.at("units").get<int64_t>(),
                                                      cfg.at("output_dim").get<int64_t>(), o);
  }
  throw std::runtime_error("fixture: unknown layer " + cls);
}

class AttentionParity : public seqnet::testing::FixtureParityTest {
 protected:
  AttentionParity() : FixtureParityTest(kRtol) {}
};

// Where the reference is exactly 0 (a masked step), seqnet must be too.
void expect_zeros_kept(const Tensor& got, const Tensor& want, const std::string& what) {
  if (got.shape() != want.shape()) return;  // reported by expect_close
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < want.size(); ++i) {
    if (want[i] == 0.0f && got[i] != 0.0f) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " entries are 0 in the reference but not in seqnet (first at flat index "
                    << first << ", value " << (first >= 0 ? got[first] : 0.0f) << ")";
}

TEST_P(AttentionParity, MatchesTorch) {
  const AttentionCase& ac = GetParam();
  if (!ac.data) {
    (void)seqnet::testing::load_fixture(ac.file);  // reports the missing file
    FAIL() << "cannot read fixture file " << ac.file;
  }
  const json& c = *ac.data;
  const json& cfg = c.at("config");
  const json& tensors = c.at("tensors");
  SCOPED_TRACE(ac.file + ": " + ac.name);

  std::shared_ptr<Layer> layer = make_layer(cfg);
  const int n_in = cfg.at("num_inputs");
  std::vector<Tensor> inputs;
  for (int k = 0; k < n_in; ++k) inputs.push_back(case_tensor(c, "in_" + std::to_string(k)));
  // Masks: one per input (empty where an input has none), the first also as
  // CallArgs::mask, as a model passes them.
  CallArgs args;
  bool any_mask = false;
  std::vector<Tensor> masks(inputs.size());
  for (int k = 0; k < n_in; ++k) {
    const std::string key = "has_mask_" + std::to_string(k);
    if (cfg.value(key, false)) {
      masks[k] = case_tensor(c, "mask_" + std::to_string(k));
      any_mask = true;
    }
  }
  if (any_mask) {
    args.mask = masks[0];
    args.masks = masks;
  }

  // Build, then copy the weights in.
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  layer->compute_output_shapes(shapes);
  size_t fixture_weights = 0;
  for (const auto& [key, value] : tensors.items()) fixture_weights += key.rfind("w:", 0) == 0 ? 1 : 0;
  size_t layer_weights = 0;
  layer->visit_params([&](const std::string& path, Param& p) {
    ++layer_weights;
    const std::string key = "w:" + path;
    if (!tensors.contains(key)) {
      ADD_FAILURE() << "the fixture has no weight " << key;
      return;
    }
    const Tensor w = case_tensor(c, key);
    if (w.shape() != p.value.shape()) {
      ADD_FAILURE() << key << ": layer weight " << shape_str(p.value.shape()) << ", fixture " << shape_str(w.shape());
      return;
    }
    p.value.copy_from(w);
  });
  ASSERT_EQ(layer_weights, fixture_weights) << "the layer's weights and the fixture's differ";
  ASSERT_FALSE(::testing::Test::HasFailure());

  const int n_out = cfg.at("num_outputs");
  ASSERT_EQ(layer->num_outputs(), n_out);

  // Forward in inference mode (no cache).
  const std::vector<Tensor> pred = layer->forward(inputs, args);
  ASSERT_EQ(static_cast<int>(pred.size()), n_out);
  for (int k = 0; k < n_out; ++k) {
    const std::string key = "out_" + std::to_string(k);
    const Tensor want = case_tensor(c, key);
    expect_close(pred[k], want, key + " (inference)");
    expect_zeros_kept(pred[k], want, key + " (inference)");
  }

  // Forward in training mode (dropout is 0), then backward.
  CallArgs train_args = args;
  train_args.training = true;
  auto cache = layer->make_cache();
  const std::vector<Tensor> outs = layer->forward(inputs, train_args, cache.get());
  ASSERT_EQ(static_cast<int>(outs.size()), n_out);
  for (int k = 0; k < n_out; ++k) {
    const std::string key = "out_" + std::to_string(k);
    const Tensor want = case_tensor(c, key);
    expect_close(outs[k], want, key);
    expect_zeros_kept(outs[k], want, key);
  }
  layer->zero_grad();
  std::vector<Tensor> douts;
  for (int k = 0; k < n_out; ++k) douts.push_back(case_tensor(c, "proj_" + std::to_string(k)));
  const std::vector<Tensor> dins = layer->backward(douts, *cache);
  ASSERT_EQ(dins.size(), inputs.size());
  for (int k = 0; k < n_in; ++k) {
    const std::string key = "din_" + std::to_string(k);
    expect_close(dins[k], case_tensor(c, key), key);
  }
  layer->visit_params([&](const std::string& path, Param& p) {
    const std::string key = "dw:" + path;
    expect_close(p.grad, case_tensor(c, key), key);
  });
}

const auto case_name = seqnet::testing::fixture_case_name;

INSTANTIATE_TEST_SUITE_P(Attention, AttentionParity, ::testing::ValuesIn(seqnet::testing::fixture_cases("attention/attention.json")),
                         case_name);
INSTANTIATE_TEST_SUITE_P(AdditiveAttention, AttentionParity,
                         ::testing::ValuesIn(seqnet::testing::fixture_cases("attention/additive_attention.json")), case_name);
INSTANTIATE_TEST_SUITE_P(LuongAttention, AttentionParity,
                         ::testing::ValuesIn(seqnet::testing::fixture_cases("attention/luong_attention.json")), case_name);
INSTANTIATE_TEST_SUITE_P(AttentionDecoder, AttentionParity,
                         ::testing::ValuesIn(seqnet::testing::fixture_cases("attention/attention_decoder.json")), case_name);

}  // namespace
