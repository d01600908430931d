// PyTorch import (src/io/torch_import.cpp): state dicts written by
// tools/export_torch_state_dict.py from nn.LSTM (2 layers), bidirectional
// 2-layer nn.GRU, nn.RNN (relu, and bidirectional tanh), nn.Linear (with and
// without bias) and nn.Embedding, imported into matching seqnet models whose
// predictions must equal PyTorch's on the same input (fixtures from
// tests/fixtures/torch_import/generate_torch_import_fixtures.py); and the
// checks that make a wrong mapping a clear error.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_bit_equal;
using seqnet::testing::expect_error;
using io::TorchMapping;

namespace {

std::string fixture(const std::string& name) { return std::string(SEQNET_FIXTURE_DIR) + "/torch_import/" + name; }

// Imports fixture `name` into `m` and compares the predictions with PyTorch's.
void expect_matches_torch(Model& m, const std::string& name, const std::string& state_file,
                          const std::vector<TorchMapping>& mapping) {
  const auto sd = io::load_state_dict(fixture(state_file));
  const auto report = io::import_torch_state_dict(m, sd, mapping);
  EXPECT_FALSE(report.empty());
  const Tensor x = data::load_npy(fixture(name + "_x.npy"));
  const Tensor want = data::load_npy(fixture(name + "_y.npy"));
  const Tensor got = m.predict(x);
  ASSERT_EQ(got.shape(), want.shape()) << name;
  const float scale = std::max(1.0f, [&] {
    float mx = 0;
    for (float v : want) mx = std::max(mx, std::abs(v));
    return mx;
  }());
  EXPECT_LT(max_abs_diff(got, want), 2e-6f * scale) << name;
}

}  // namespace

TEST(TorchImport, EmbeddingAndTwoLayerLSTMMatchPyTorch) {
  clear_session();
  auto in = Input({7});
  auto h = Embedding(20, 6)(in);
  h = LSTM(8, {.return_sequences = true})(h);
  h = LSTM(8, {.return_sequences = true})(h);
  Model m({in}, {Dense(5)(h)});
  expect_matches_torch(m, "lstm_stack", "lstm_stack.npz",
                       {{.module = "emb", .layer = "embedding"},
                        {.module = "rnn", .torch_layer = 0, .layer = "lstm"},
                        {.module = "rnn", .torch_layer = 1, .layer = "lstm_1"},
                        {.module = "fc", .layer = "dense"}});
}

TEST(TorchImport, BidirectionalTwoLayerGRUMatchesPyTorch) {
  clear_session();
  auto in = Input({6, 4});
  auto h = Bidirectional(GRU(5, {.return_sequences = true}))(in);
  h = Bidirectional(GRU(5, {.return_sequences = true}))(h);
  Model m({in}, {TimeDistributed(Dense(3))(h)});
  expect_matches_torch(m, "bigru", "bigru.safetensors",
                       {io::parse_torch_mapping("encoder.gru:0=bidirectional"),
                        io::parse_torch_mapping("encoder.gru:1=bidirectional_1"),
                        io::parse_torch_mapping("head=time_distributed")});
}

TEST(TorchImport, ReluRNNBidirectionalRNNAndNoBiasMatchPyTorch) {
  clear_session();
  auto in = Input({5, 3});
  auto h = SimpleRNN(6, {.activation = "relu"})(in);
  Model m({in}, {Dense(2, {.activation = "softmax"})(h)});
  expect_matches_torch(m, "rnn_relu", "rnn_relu.npz", {{.module = "rnn", .layer = "simple_rnn"}, {.module = "fc", .layer = "dense"}});

  clear_session();
  auto in2 = Input({5, 3});
  Model bi({in2}, {Bidirectional(SimpleRNN(4, {.return_sequences = true}))(in2)});
  expect_matches_torch(bi, "birnn", "birnn.npz", {{.module = "rnn", .layer = "bidirectional"}});

  clear_session();
  auto in3 = Input({4, 3});
  auto l = LSTM(4, {.use_bias = false})(in3);
  Model nb({in3}, {Dense(2, {.use_bias = false})(l)});
  expect_matches_torch(nb, "no_bias", "no_bias.safetensors",
                       {{.module = "lstm", .layer = "lstm"}, {.module = "out", .layer = "dense"}});
}

TEST(TorchImport, MappingsAreCheckedBeforeAnythingChanges) {
  const auto sd = io::load_state_dict(fixture("lstm_stack.npz"));
  clear_session();
  auto in = Input({7});
  auto h = Embedding(20, 6)(in);
  h = LSTM(8, {.return_sequences = true})(h);
  h = LSTM(7, {.return_sequences = true})(h);
  Model m({in}, {Dense(5)(h)});
  const auto before = m.get_weights();
  auto unchanged = [&] {
    const auto now = m.get_weights();
    for (size_t i = 0; i < now.size(); ++i) expect_bit_equal(now[i], before[i], "weight " + std::to_string(i));
  };
  // A shape that does not fit (7 units for an nn.LSTM of hidden size 8).
  expect_error<ShapeError>(
      [&] {
        io::import_torch_state_dict(m, sd,
                                    {{.module = "emb", .layer = "embedding"}, {.module = "rnn", .layer = "lstm"},
                                     {.module = "rnn", .torch_layer = 1, .layer = "lstm_1"},
                                     {.module = "fc", .layer = "dense"}});
      },
      {"'rnn.weight_ih_l1'", "(32, 8)", "LSTM \"lstm_1\"", "(28, 8)"});
  unchanged();
  // A missing key.
  expect_error<ValueError>(
      [&] { io::import_torch_state_dict(m, sd, {{.module = "rnn", .torch_layer = 2, .layer = "lstm"}}); },
      {"no key 'rnn.weight_ih_l2'", "rnn.weight_ih_l0"});
  // Keys nobody maps, and seqnet layers nobody fills.
  clear_session();
  auto in2 = Input({7});
  auto h2 = Embedding(20, 6)(in2);
  h2 = LSTM(8, {.return_sequences = true})(h2);
  h2 = LSTM(8, {.return_sequences = true})(h2);
  Model ok({in2}, {Dense(5)(h2)});
  const std::vector<TorchMapping> partial{{.module = "emb", .layer = "embedding"},
                                          {.module = "rnn", .layer = "lstm"},
                                          {.module = "rnn", .torch_layer = 1, .layer = "lstm_1"}};
  expect_error<ValueError>([&] { io::import_torch_state_dict(ok, sd, partial); },
                           {"2 state-dict key(s) are not mapped", "'fc.bias'", "'fc.weight'"});
  expect_error<ValueError>(
      [&] { io::import_torch_state_dict(ok, sd, partial, {.ignore = {"fc.weight", "fc.bias"}}); },
      {"Dense \"dense\" has weights but no mapping"});
  EXPECT_NO_THROW(io::import_torch_state_dict(ok, sd, partial,
                                              {.ignore = {"fc.weight", "fc.bias"}, .allow_unmapped_layers = true}));
  expect_error<ValueError>(
      [&] { io::import_torch_state_dict(ok, sd, {{.module = "emb", .layer = "nope"}}); }, {"no layer named 'nope'"});
  // A bias on one side only.
  const auto nb = io::load_state_dict(fixture("no_bias.safetensors"));
  clear_session();
  auto in3 = Input({4, 3});
  Model biased({in3}, {Dense(2, {.use_bias = false})(LSTM(4)(in3))});
  expect_error<ValueError>(
      [&] { io::import_torch_state_dict(biased, nb, {{.module = "lstm", .layer = "lstm"}, {.module = "out", .layer = "dense"}}); },
      {"no biases", "use_bias = false"});
  // GRU weights need reset_after = true; an LSTM is not a GRU.
  const auto gru_sd = io::load_state_dict(fixture("bigru.safetensors"));
  clear_session();
  auto in4 = Input({6, 4});
  Model classic({in4}, {Bidirectional(GRU(5, {.return_sequences = true, .reset_after = false}))(in4)});
  expect_error<ValueError>(
      [&] { io::import_torch_state_dict(classic, gru_sd, {{.module = "encoder.gru", .layer = "bidirectional"}}); },
      {"reset_after = true"});
  clear_session();
  auto in5 = Input({6, 4});
  Model wrong({in5}, {Bidirectional(LSTM(5, {.return_sequences = true}))(in5)});
  expect_error<ShapeError>(
      [&] { io::import_torch_state_dict(wrong, gru_sd, {{.module = "encoder.gru", .layer = "bidirectional"}}); },
      {"(15, 4)", "(20, 4)", "nn.LSTM"});
}

TEST(TorchImport, ParsesMappings) {
  auto m = io::parse_torch_mapping("encoder.rnn:1=lstm_1");
  EXPECT_EQ(m.module, "encoder.rnn");
  EXPECT_EQ(m.torch_layer, 1);
  EXPECT_EQ(m.layer, "lstm_1");
  m = io::parse_torch_mapping("=lstm");
  EXPECT_EQ(m.module, "");
  EXPECT_EQ(m.layer, "lstm");
  expect_error<ValueError>([] { io::parse_torch_mapping("rnn"); }, {"module[:layer_index]=seqnet_layer"});
  expect_error<ValueError>([] { io::parse_torch_mapping("rnn:x=lstm"); }, {"not a layer index"});
}
