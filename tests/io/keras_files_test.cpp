// Keras's own files (src/io/keras_*.cpp): the thirteen real Keras files of
// ../shared/keras-models load and predict as an independent NumPy
// implementation of Keras's math does (tests/fixtures/keras_models); every
// layer type round-trips bit-identically through .keras and .h5; weights
// files (.weights.h5, legacy .h5) load; each Keras version's definitions
// (hard_sigmoid, reset-before GRU, masked Bidirectional steps) are
// honoured; and broken or hostile files are clear errors.

#include <gtest/gtest.h>
#include <seqnet/io/config.hpp>
#include <seqnet/io/keras.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/hdf5_writer.hpp"
#include "io/io_test_util.hpp"
#include "zip.hpp"
#include "support/fixtures.hpp"

using namespace seqnet;
using seqnet::testing::expect_bit_equal;
using seqnet::testing::expect_error;
using seqnet::testing::ids;
using seqnet::testing::TempDir;
using seqnet::testing::uniform;
using json = nlohmann::json;

namespace {

std::string shared_model(const std::string& name) { return std::string(SEQNET_SHARED_DIR) + "/keras-models/" + name; }

// Saves `m` to `path` (the format from its extension), loads it back and
// checks the copy: same architecture JSON, same weights, bit-identical
// predictions.
void check_round_trip(const Model& m, const Tensors& x, const std::string& path) {
  SCOPED_TRACE(path);
  m.save(path);
  auto back = load_model(path);
  EXPECT_EQ(back->to_json(), m.to_json());
  const auto w1 = m.get_weights(), w2 = back->get_weights();
  ASSERT_EQ(w1.size(), w2.size());
  for (size_t i = 0; i < w1.size(); ++i) expect_bit_equal(w2[i], w1[i], "weight " + std::to_string(i));
  const PredictOptions po{.batch_size = static_cast<int>(x[0].dim(0))};
  expect_bit_equal(back->predict(x, po), const_cast<Model&>(m).predict(x, po), path);
}

// One functional model with every layer type Keras has.
std::unique_ptr<Model> keras_layer_zoo() {
  auto seq_in = Input({6, 3});
  auto ids_in = Input({6});
  auto vec_in = Input({4});
  auto masked = Masking(0.0f)(seq_in);
  auto lstm = LSTM(5, {.return_sequences = true, .return_state = true})(masked);
  auto gru = GRU(5, {.return_sequences = true})(lstm[0], {.initial_state = {lstm[1]}});
  auto rnn = SimpleRNN(4, {.activation = "relu", .return_sequences = true})(gru);
  auto bi = Bidirectional(LSTM(3, {.return_sequences = true}), {.merge_mode = "ave"})(rnn);
  auto att = Attention()({bi, bi});
  auto add_att = AdditiveAttention()({bi, bi});
  auto emb = Embedding(12, 3, {.mask_zero = true})(ids_in);
  auto emb_rnn = GRU(3, {.return_sequences = true, .reset_after = false})(emb);
  auto merged = Concatenate()({Add()({att, emb_rnn}), Subtract()({add_att, emb_rnn}), Multiply()({att, emb_rnn}),
                               Average()({att, emb_rnn}), Maximum()({att, emb_rnn})});
  auto normed = LayerNormalization()(merged);
  auto td = TimeDistributed(Dense(3, {.activation = "tanh"}))(normed);
  auto flat = Flatten()(Dropout(0.2f)(td));
  auto vec = RepeatVector(2)(Activation("relu")(Dense(6)(vec_in)));
  auto joined = Concatenate()({flat, Flatten()(vec)});
  auto out = Dense(2, {.activation = "softmax"})(Reshape({30})(joined));
  return std::make_unique<Model>(std::vector<SymbolicTensor>{seq_in, ids_in, vec_in},
                                 std::vector<SymbolicTensor>{out, lstm[2]}, "everything");
}

Tensors zoo_inputs() {
  Tensor xs = uniform({3, 6, 3}, 1);
  for (int64_t f = 0; f < 3; ++f) xs.at(2, 5, f) = 0.0f;
  Tensor xi = ids({3, 6}, 2, 1, 12);
  xi.at(0, 5) = 0.0f;
  return {xs, xi, uniform({3, 4}, 3)};
}

}  // namespace

// ---------------------------------------------------------------- round trips

TEST(KerasFiles, EveryLayerTypeRoundTripsThroughKerasAndH5) {
  clear_session();
  set_seed(5);
  auto m = keras_layer_zoo();
  TempDir dir("keras_zoo");
  for (const char* ext : {".keras", ".h5", ".safetensors"}) check_round_trip(*m, zoo_inputs(), dir.file(std::string("zoo") + ext));
}

TEST(KerasFiles, SeqnetOnlyLayersRoundTripAsSeqnetCustomObjects) {
  clear_session();
  set_seed(6);
  auto x = Input({5, 3});
  auto enc = LSTM(4, {.return_sequences = true})(x);
  auto dec = AttentionDecoder(4, 4)(enc);
  auto luong = LuongAttention(4, {.score = "general"})({dec, enc});
  Model m({x}, {luong[0]}, "own_layers");
  TempDir dir("keras_own");
  for (const char* ext : {".keras", ".h5"}) check_round_trip(m, {uniform({2, 5, 3}, 4)}, dir.file(std::string("m") + ext));
  // In the archive they are custom objects of a "seqnet" package.
  m.save(dir.file("m.keras"));
  const std::string bytes = read_file(dir.file("m.keras"));
  const zip::Reader z(bytes, "m.keras", ".keras archive", {});
  const json config = json::parse(z.read(*z.find("config.json")));
  bool seen = false;
  for (const auto& l : config["config"]["layers"]) {
    if (l["class_name"] == "LuongAttention") {
      EXPECT_EQ(l["registered_name"], "seqnet>LuongAttention");
      EXPECT_EQ(l["module"], "seqnet.layers");
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

TEST(KerasFiles, SequentialCompiledModelsKeepTheirTrainingConfig) {
  clear_session();
  set_seed(7);
  Sequential m("seq");
  m.add(Input({4, 2}));
  m.add(GRU(3));
  m.add(Dense(1));
  m.compile({.optimizer = "adam", .loss = "mse", .metrics = {"mae"}});
  TempDir dir("keras_seq");
  for (const char* ext : {".keras", ".h5"}) {
    const std::string path = dir.file(std::string("m") + ext);
    check_round_trip(m, {uniform({2, 4, 2}, 8)}, path);
    auto back = load_model(path);
    ASSERT_TRUE(back->compiled()) << path;
    EXPECT_EQ(back->optimizer().name(), "Adam") << path;
    EXPECT_EQ(back->metric_names(), m.metric_names()) << path;
  }
}

TEST(KerasFiles, WeightsFilesLoadByOrderAndByName) {
  clear_session();
  set_seed(9);
  auto build = [] {
    Sequential s("w");
    s.add(Input({4, 2}));
    s.add(Bidirectional(LSTM(3), {.name = "bi"}));
    s.add(Dense(2, {.name = "out"}));
    return s;
  };
  Sequential a = build();
  TempDir dir("keras_w");
  const Tensors x{uniform({2, 4, 2}, 10)};
  for (const char* name : {"w.weights.h5", "w.h5"}) {
    a.save_weights(dir.file(name));
    set_seed(11);
    Sequential b = build();
    b.load_weights(dir.file(name));
    expect_bit_equal(b.predict(x), a.predict(x), name);
  }
  // Legacy files match by name too.
  set_seed(12);
  Sequential c = build();
  c.load_weights(dir.file("w.h5"), {.by_name = true});
  expect_bit_equal(c.predict(x), a.predict(x), "by_name");
  // A model file's weights load into a model built from its config.
  a.save(dir.file("whole.h5"));
  set_seed(13);
  Sequential d = build();
  d.load_weights(dir.file("whole.h5"));
  expect_bit_equal(d.predict(x), a.predict(x), "model file");
  // A model of another shape is refused, naming the weight.
  Sequential e("other");
  e.add(Input({4, 2}));
  e.add(Bidirectional(LSTM(5)));
  e.add(Dense(2));
  expect_error<ShapeError>([&] { e.load_weights(dir.file("w.h5")); }, {"w.h5", "shape"});
  expect_error<ShapeError>([&] { e.load_weights(dir.file("w.weights.h5")); },
                           {"w.weights.h5", "layers/bidirectional/forward_layer/cell/vars/0", "(2, 20)"});
}

TEST(KerasFiles, WhatKerasCannotHoldIsRefusedNamingTheLayer) {
  clear_session();
  Sequential k2("k2");
  k2.add(Input({3, 2}));
  k2.add(LSTM(2, {.recurrent_activation = "hard_sigmoid", .name = "old_lstm"}));
  TempDir dir("keras_refuse");
  expect_error<ValueError>([&] { k2.save(dir.file("a.keras")); }, {"old_lstm", "hard_sigmoid", "Keras 3"});
  Sequential k3("k3");
  k3.add(Input({3, 2}));
  k3.add(LSTM(2, {.recurrent_activation = "keras3_hard_sigmoid", .name = "new_lstm"}));
  expect_error<ValueError>([&] { k3.save(dir.file("a.h5")); }, {"new_lstm", "hard_sigmoid", "Keras 2"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.keras")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.h5")));
  // Each goes where it can.
  check_round_trip(k2, {uniform({2, 3, 2}, 1)}, dir.file("ok.h5"));
  check_round_trip(k3, {uniform({2, 3, 2}, 1)}, dir.file("ok.keras"));
}

// ---------------------------------------------------------------- the real files

namespace {

struct RealFile {
  const char* file;
  int64_t params;
};

const RealFile kRealFiles[] = {
    {"k2_bilstm_h5_named_keras.keras", 33921}, {"k2_charlm_fwd_bwd.h5", 89841},   {"k2_emoji_bilstm.h5", 287041},
    {"k2_gru_relu_stack.h5", 38601},           {"k2_imdb_gru.h5", 265252},        {"k2_katakana_s2s.h5", 80985},
    {"k2_lstm_multi.h5", 21451},               {"k2_s2s_onehot_lstm.h5", 234725}, {"k3_bilstm.keras", 83751},
    {"k3_melody_lstm.keras", 315689},          {"k3_spam_gru_masked.keras", 178881},
    {"k3_stacked_gru.keras", 22689},           {"k3h5_imdb_simplernn.h5", 80145}};

std::string stem(const std::string& f) { return f.substr(0, f.find('.')); }

}  // namespace

class RealKerasFile : public ::testing::TestWithParam<RealFile> {};
INSTANTIATE_TEST_SUITE_P(KerasFiles, RealKerasFile, ::testing::ValuesIn(kRealFiles),
                         [](const ::testing::TestParamInfo<RealFile>& i) { return stem(i.param.file); });

// The file loads (compiled where seqnet has what its training config names)
// and predicts as the NumPy reference does; converted to .keras, .h5 and
// .safetensors it predicts bit-identically.
TEST_P(RealKerasFile, LoadsAndPredictsAsTheReference) {
  const RealFile rf = GetParam();
  clear_session();
  auto m = load_model(shared_model(rf.file), {.compile = false});
  EXPECT_EQ(m->count_params(), rf.params);
  const json fx = seqnet::testing::load_fixture("keras_models/" + stem(rf.file) + ".json");
  const json& c = fx["cases"][0];
  Tensors x;
  for (size_t i = 0; i < m->inputs().size(); ++i) x.push_back(seqnet::testing::case_tensor(c, "in_" + std::to_string(i)));
  const Tensors y = m->predict(x, {.batch_size = 8});
  ASSERT_EQ(y.size(), m->outputs().size());
  for (size_t k = 0; k < y.size(); ++k) {
    const Tensor want = seqnet::testing::case_tensor(c, "out_" + std::to_string(k));
    seqnet::testing::expect_close(y[k], want, 2e-5, std::string(rf.file) + " output " + std::to_string(k));
  }
  TempDir dir("keras_real");
  for (const char* ext : {".keras", ".h5", ".safetensors"}) {
    const std::string path = dir.file(stem(rf.file) + ext);
    SCOPED_TRACE(path);
    // Keras 2's hard_sigmoid has no Keras 3 form: those files stay .h5.
    const bool keras2_only = m->to_json().find("\"hard_sigmoid\"") != std::string::npos;
    if (keras2_only && std::string(ext) == ".keras") {
      expect_error<ValueError>([&] { m->save(path); }, {"hard_sigmoid"});
      continue;
    }
    m->save(path);
    auto back = load_model(path, {.compile = false});
    expect_bit_equal(back->predict(x, {.batch_size = 8}), y, path);
  }
}
