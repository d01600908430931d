// Parity of seqnet's layers with PyTorch references.
//
// Every case of the fixture files tests/fixtures/*.json (written by
// tests/fixtures/generate_torch_fixtures.py, which documents the format and
// how Keras weights map to torch) is one test, named after the case:
//   LSTM/Parity.MatchesTorch/lstm_mask_sequences_return_state
// The test builds the seqnet layer with the case's configuration, copies the
// Keras-layout weights in, runs forward (training mode, with the case's mask
// and initial states) and backward with the stored projections as output
// gradients, i.e. for the loss L = sum_k sum(out_k * proj_k), and compares
// outputs, returned states, input and initial-state gradients and every
// weight gradient with the float64 reference.
//
// Tolerance: tensor-relative error max|got - want| / max|want| <= 1e-5 for
// every tensor. seqnet computes in float32 and the reference in float64, so
// float32 rounding alone gives about 1e-6 here; a larger error is a bug, not
// noise (do not loosen this bound to make a case pass).

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

using ParityCase = seqnet::testing::FixtureCase;

std::shared_ptr<layers::Recurrent> make_recurrent(const json& cfg) {
  const std::string cls = cfg.at("layer");
  const std::string name = cfg.value("name", std::string());
  if (cls == "LSTM") {
    LSTMOptions o;
    o.activation = cfg.at("activation");
    o.recurrent_activation = cfg.at("recurrent_activation");
    o.return_sequences = cfg.at("return_sequences");
    o.return_state = cfg.at("return_state");
    o.go_backwards = cfg.at("go_backwards");
    o.name = name;
    return std::make_shared<layers::LSTM>(cfg.at("units").get<int64_t>(), o);
  }
  if (cls == "GRU") {
    GRUOptions o;
    o.activation = cfg.at("activation");
    o.recurrent_activation = cfg.at("recurrent_activation");
    o.return_sequences = cfg.at("return_sequences");
    o.return_state = cfg.at("return_state");
    o.go_backwards = cfg.at("go_backwards");
    o.reset_after = cfg.at("reset_after");
    o.name = name;
    return std::make_shared<layers::GRU>(cfg.at("units").get<int64_t>(), o);
  }
  if (cls == "SimpleRNN") {
    SimpleRNNOptions o;
    o.activation = cfg.at("activation");
    o.return_sequences = cfg.at("return_sequences");
    o.return_state = cfg.at("return_state");
    o.go_backwards = cfg.at("go_backwards");
    o.name = name;
    return std::make_shared<layers::SimpleRNN>(cfg.at("units").get<int64_t>(), o);
  }
  throw std::runtime_error("fixture: unknown recurrent layer " + cls);
}

std::shared_ptr<Layer> make_layer(const json& cfg) {
  const std::string cls = cfg.at("layer");
  if (cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN") return make_recurrent(cfg);
  if (cls == "Bidirectional") {
    BidirectionalOptions o;
    o.merge_mode = cfg.at("merge_mode");
    return std::make_shared<layers::Bidirectional>(make_recurrent(cfg.at("inner")), o);
  }
  if (cls == "Dense") {
    DenseOptions o;
    o.activation = cfg.at("activation");
    return std::make_shared<layers::Dense>(cfg.at("units").get<int64_t>(), o);
  }
  if (cls == "TimeDistributed") return std::make_shared<layers::TimeDistributed>(make_layer(cfg.at("inner")));
  if (cls == "Embedding") {
    return std::make_shared<layers::Embedding>(cfg.at("input_dim").get<int64_t>(),
                                               cfg.at("output_dim").get<int64_t>());
  }
  throw std::runtime_error("fixture: unknown layer " + cls);
}

class Parity : public seqnet::testing::FixtureParityTest {
 protected:
  Parity() : FixtureParityTest(kRtol) {}
};

TEST_P(Parity, MatchesTorch) {
  const ParityCase& pc = GetParam();
  if (!pc.data) {
    (void)seqnet::testing::load_fixture(pc.file);  // reports the missing file
    FAIL() << "cannot read fixture file " << pc.file;
  }
  const json& c = *pc.data;
  const json& cfg = c.at("config");
  const json& tensors = c.at("tensors");
  SCOPED_TRACE(pc.file + ": " + pc.name + " (reference: " + cfg.value("reference", std::string("?")) + ")");

  std::shared_ptr<Layer> layer = make_layer(cfg);
  std::vector<Tensor> inputs{case_tensor(c, "x")};
  const int n_states = cfg.at("num_state_inputs");
  for (int k = 0; k < n_states; ++k) inputs.push_back(case_tensor(c, "state_" + std::to_string(k)));
  CallArgs args;
  args.training = true;
  if (cfg.at("has_mask").get<bool>()) args.mask = case_tensor(c, "mask");

  // Build, then copy the weights in; every weight of the layer must be in
  // the fixture and vice versa.
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

  // Forward.
  auto cache = layer->make_cache();
  const std::vector<Tensor> outs = layer->forward(inputs, args, cache.get());
  const int n_out = cfg.at("num_outputs");
  ASSERT_EQ(layer->num_outputs(), n_out);
  ASSERT_EQ(static_cast<int>(outs.size()), n_out);
  for (int k = 0; k < n_out; ++k) {
    const std::string key = "out_" + std::to_string(k);
    expect_close(outs[k], case_tensor(c, key), key);
  }

  // Backward with the projections as output gradients.
  layer->zero_grad();
  std::vector<Tensor> douts;
  for (int k = 0; k < n_out; ++k) douts.push_back(case_tensor(c, "proj_" + std::to_string(k)));
  const std::vector<Tensor> dins = layer->backward(douts, *cache);
  ASSERT_EQ(dins.size(), inputs.size());
  if (tensors.contains("dx")) {
    expect_close(dins[0], case_tensor(c, "dx"), "dx");
  } else {
    EXPECT_TRUE(dins[0].empty()) << "a non-differentiable input (ids) should get an empty gradient";
  }
  for (int k = 0; k < n_states; ++k) {
    const std::string key = "dstate_" + std::to_string(k);
    expect_close(dins[1 + k], case_tensor(c, key), key);
  }
  layer->visit_params([&](const std::string& path, Param& p) {
    const std::string key = "dw:" + path;
    expect_close(p.grad, case_tensor(c, key), key);
  });
}

const auto case_name = seqnet::testing::fixture_case_name;

INSTANTIATE_TEST_SUITE_P(LSTM, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("lstm.json")), case_name);
INSTANTIATE_TEST_SUITE_P(GRU, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("gru.json")), case_name);
INSTANTIATE_TEST_SUITE_P(SimpleRNN, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("simple_rnn.json")), case_name);
INSTANTIATE_TEST_SUITE_P(Bidirectional, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("bidirectional.json")), case_name);
INSTANTIATE_TEST_SUITE_P(Dense, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("dense.json")), case_name);
INSTANTIATE_TEST_SUITE_P(TimeDistributed, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("time_distributed.json")),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Embedding, Parity, ::testing::ValuesIn(seqnet::testing::fixture_cases("embedding.json")), case_name);

}  // namespace
