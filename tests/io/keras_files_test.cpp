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

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/hdf5.hpp"
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

// The real Keras files live beside the checkout (../shared, as in CI); a
// checkout without them skips the tests that read them, saying so.
#define SKIP_WITHOUT_SHARED_MODELS()                                                               \
  if (!std::filesystem::exists(shared_model("README.md"))) {                                      \
    GTEST_SKIP() << "no " << shared_model("") << " (the real Keras files sit beside the checkout)"; \
  }

// Saves `m` to `path` (the format from its extension), loads it back and
// checks the copy: same architecture JSON, same weights, bit-identical
// predictions.
void check_round_trip(const Model& m, const Tensors& x, const std::string& path) {
  SCOPED_TRACE(path);
  // A path ending in "/model.json" is a TF.js model directory.
  const std::string tfjs_suffix = "/model.json";
  if (path.size() > tfjs_suffix.size() && path.compare(path.size() - tfjs_suffix.size(), tfjs_suffix.size(), tfjs_suffix) == 0) {
    save_tfjs(m, path.substr(0, path.size() - tfjs_suffix.size()));
  } else {
    m.save(path);
  }
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

TEST(KerasFiles, EveryLayerTypeRoundTripsThroughKerasH5AndTfjs) {
  clear_session();
  set_seed(5);
  auto m = keras_layer_zoo();
  TempDir dir("keras_zoo");
  for (const char* ext : {".keras", ".h5", ".safetensors", "_tfjs/model.json"}) {
    check_round_trip(*m, zoo_inputs(), dir.file(std::string("zoo") + ext));
  }
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
  for (const char* ext : {".keras", ".h5", "_tfjs/model.json"}) {
    check_round_trip(m, {uniform({2, 5, 3}, 4)}, dir.file(std::string("m") + ext));
  }
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
  for (const char* ext : {".keras", ".h5", "_tfjs/model.json"}) {
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
  SKIP_WITHOUT_SHARED_MODELS();
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

// ---------------------------------------------------------------- versions and hostile files

namespace {

// "keras_h5_config_not_json.h5" from ("keras_h5", "config not JSON", ".h5").
std::string corpus_name(const std::string& prefix, const std::string& what, const std::string& ext) {
  std::string n = prefix + "_" + what;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n + ext;
}

struct LayerWeightsSpec {
  std::string layer;
  std::vector<std::pair<std::string, Tensor>> weights;  // weight_names entry, value
};

// A Keras legacy HDF5 model file with `config` as its model_config.
std::string legacy_h5(const std::string& config, const std::string& keras_version,
                      const std::vector<LayerWeightsSpec>& layers) {
  io::hdf5::Writer w;
  w.attribute(io::hdf5::Writer::kRoot, "keras_version", keras_version);
  w.attribute(io::hdf5::Writer::kRoot, "backend", std::string("tensorflow"));
  w.attribute(io::hdf5::Writer::kRoot, "model_config", config);
  const auto mw = w.group(io::hdf5::Writer::kRoot, "model_weights");
  std::vector<std::string> names;
  for (const auto& l : layers) {
    names.push_back(l.layer);
    const auto g = w.group(mw, l.layer);
    std::vector<std::string> wn;
    for (const auto& [n, t] : l.weights) {
      const size_t slash = n.rfind('/');
      const auto dg = slash == std::string::npos ? g : w.group_path(g, n.substr(0, slash));
      w.dataset(dg, slash == std::string::npos ? n : n.substr(slash + 1), t.shape(), t.data());
      wn.push_back(n);
    }
    w.attribute(g, "weight_names", wn);
  }
  w.attribute(mw, "layer_names", names);
  return w.build("test file");
}

// A Sequential config: InputLayer (None, 1) then Dense(1) with `activation`.
std::string dense_config(const std::string& activation, const std::string& extra_layer = "") {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 1], "name": "x"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 1, "activation": ")" +
         activation + R"(", "use_bias": true}})" + extra_layer + "]}}";
}

std::vector<LayerWeightsSpec> dense_weights() {
  return {{"d", {{"d/kernel:0", Tensor({1, 1}, 1.0f)}, {"d/bias:0", Tensor({1}, 0.0f)}}}};
}

float predict_one(const std::string& bytes, float x) {
  auto m = load_model_from_bytes(bytes, "test.h5", {.compile = false});
  return m->predict({Tensor({1, 1}, x)})[0][0];
}

}  // namespace

TEST(KerasVersions, HardSigmoidFollowsTheFilesKerasVersion) {
  clear_session();
  const std::string cfg = dense_config("hard_sigmoid");
  // Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6.
  EXPECT_FLOAT_EQ(predict_one(legacy_h5(cfg, "2.13.1", dense_weights()), 2.0f), 0.9f);
  EXPECT_FLOAT_EQ(predict_one(legacy_h5(cfg, "3.9.2", dense_weights()), 2.0f), 5.0f / 6.0f);
  EXPECT_FLOAT_EQ(predict_one(legacy_h5(cfg, "3.9.2", dense_weights()), -2.5f), 0.5f / 6.0f);
  EXPECT_FLOAT_EQ(predict_one(legacy_h5(cfg, "2.13.1", dense_weights()), -2.5f), 0.0f);
}

TEST(KerasVersions, GruWithoutResetAfterIsKeras20sResetBeforeGru) {
  SKIP_WITHOUT_SHARED_MODELS();
  clear_session();
  auto m = load_model(shared_model("k2_imdb_gru.h5"), {.compile = false});
  EXPECT_NE(m->to_json().find("\"reset_after\":false"), std::string::npos);
}

TEST(KerasVersions, BidirectionalBeforeKeras23RepeatsOutputsAtMaskedSteps) {
  clear_session();
  set_seed(3);
  // Masking -> Bidirectional(SimpleRNN, return_sequences), saved by seqnet
  // and relabelled as written by Keras 2.2.4 and by Keras 2.13.
  auto x = Input({4, 1}, {.name = "x"});
  auto y = Bidirectional(SimpleRNN(2, {.return_sequences = true, .name = "r"}), {.name = "bi"})(
      Masking(0.0f, {.name = "mask"})(x));
  Model m({x}, {y}, "m");
  std::vector<LayerWeightsSpec> weights{{"bi", {}}};
  int k = 0;
  m.get_layer("bi")->visit_params([&](const std::string& path, Param& p) {
    weights[0].weights.emplace_back(path + ":" + std::to_string(k++), p.value);
  });
  const std::string cfg = m.to_json();
  Tensor in({1, 4, 1}, 0.5f);
  in.at(0, 2, 0) = 0.0f;  // step 2 masked
  auto old_m = load_model_from_bytes(legacy_h5(cfg, "2.2.4", weights), "old.h5", {.compile = false});
  auto new_m = load_model_from_bytes(legacy_h5(cfg, "2.13.1", weights), "new.h5", {.compile = false});
  const Tensor a = old_m->predict({in})[0], b = new_m->predict({in})[0];
  expect_bit_equal(b, m.predict({in})[0], "Keras 2.3 and later: seqnet's own rule");
  for (int64_t u = 0; u < 4; ++u) {
    EXPECT_EQ(b.at(0, 2, u), 0.0f) << "Keras >= 2.3 outputs zeros at a masked step";
  }
  for (int64_t u = 0; u < 2; ++u) {
    EXPECT_EQ(a.at(0, 2, u), a.at(0, 1, u)) << "forward direction repeats its previous output";
    EXPECT_EQ(a.at(0, 2, 2 + u), a.at(0, 3, 2 + u)) << "backward direction repeats its previous output";
  }
}

TEST(KerasHostile, LegacyHdf5FilesAreClearErrors) {
  clear_session();
  const auto w = dense_weights();
  auto expect = [&](const std::string& bytes, std::initializer_list<std::string> fragments, const char* what) {
    SCOPED_TRACE(what);
    expect_error<Error>([&] { load_model_from_bytes(bytes, "bad.h5"); }, fragments);
    seqnet::testing::dump_corpus("model", corpus_name("keras_h5", what, ".h5"), bytes);
  };
  expect(legacy_h5("{\"class_name\": ", "2.13.1", w), {"bad.h5", "model_config", "JSON"}, "config not JSON");
  expect(legacy_h5("[1, 2]", "2.13.1", w), {"bad.h5", "model config"}, "config not an object");
  const std::string lambda = R"(, {"class_name": "Lambda", "config": {"name": "lam", "function": "x"}})";
  expect(legacy_h5(dense_config("relu", lambda), "2.13.1", w), {"bad.h5", "'lam'", "Lambda"}, "Lambda layer");
  const std::string custom =
      R"(, {"module": "my_pkg", "class_name": "Foo", "registered_name": "my_pkg>Foo", "config": {"name": "foo"}})";
  expect(legacy_h5(dense_config("relu", custom), "3.9.2", w), {"bad.h5", "'foo'", "custom layer", "my_pkg>Foo"},
         "custom layer");
  const std::string conv = R"(, {"class_name": "Conv1D", "config": {"name": "conv", "filters": 3}})";
  expect(legacy_h5(dense_config("relu", conv), "2.13.1", w), {"bad.h5", "Conv1D"}, "unknown layer class");
  // No weight values at all: the model may allocate none.
  expect(legacy_h5(dense_config("relu"), "2.13.1", {}), {"bad.h5", "Dense \"d\"", "the file holds 0 weight values"},
         "no weights");
  expect(legacy_h5(dense_config("relu"), "2.13.1", {{"ghost", {{"ghost/kernel:0", Tensor({4}, 0.0f)}}}}),
         {"bad.h5", "'d'", "missing"}, "weights of another layer");
  expect(legacy_h5(dense_config("relu"), "2.13.1",
                   {{"d", {{"d/kernel:0", Tensor({2, 1}, 1.0f)}, {"d/bias:0", Tensor({1}, 0.0f)}}}}),
         {"bad.h5", "d/kernel:0", "(2, 1)", "(1, 1)"}, "wrong shape");
  {
    auto extra = w;
    extra.push_back({"ghost", {{"ghost/kernel:0", Tensor({1}, 0.0f)}}});
    expect(legacy_h5(dense_config("relu"), "2.13.1", extra), {"bad.h5", "ghost", "match no layer"}, "extra layer");
  }
  // weight_names naming a dataset that is not there.
  {
    io::hdf5::Writer hw;
    hw.attribute(io::hdf5::Writer::kRoot, "model_config", dense_config("relu"));
    const auto mw = hw.group(io::hdf5::Writer::kRoot, "model_weights");
    hw.attribute(mw, "layer_names", std::vector<std::string>{"d"});
    const auto d = hw.group(mw, "d");
    hw.attribute(d, "weight_names", std::vector<std::string>{"d/kernel:0", "d/bias:0"});
    const float spare[2] = {0, 0};
    hw.dataset(d, "spare", {2}, spare);
    expect(hw.build("t"), {"bad.h5", "kernel:0"}, "dangling weight_names");
  }
  // A config that would allocate far more than the file holds.
  const std::string huge = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4096], "name": "x"}},
      {"class_name": "Dense", "config": {"name": "d", "units": 16777216}}]}})";
  expect(legacy_h5(huge, "2.13.1", w), {"bad.h5", "the file holds 2 weight values"}, "huge config");
  // A weights-only file given to load_model.
  {
    io::hdf5::Writer hw;
    hw.attribute(io::hdf5::Writer::kRoot, "layer_names", std::vector<std::string>{});
    expect(hw.build("t"), {"bad.h5", "load_weights"}, "weights only");
  }
  // Truncated at every 997th byte: always a clear error.
  const std::string good = legacy_h5(dense_config("relu"), "2.13.1", w);
  for (size_t n = 0; n < good.size(); n += 97) {
    expect_error<Error>([&] { load_model_from_bytes(good.substr(0, n), "cut.h5"); }, {"cut.h5"});
  }
}

namespace {

std::string archive(const std::vector<std::pair<std::string, std::string>>& members) {
  std::vector<std::pair<std::string, std::string_view>> views;
  for (const auto& [n, d] : members) views.emplace_back(n, d);
  return zip::write(views, false, "test");
}

}  // namespace

TEST(KerasHostile, ArchivesAreClearErrors) {
  clear_session();
  Sequential m("s");
  m.add(Input({3, 2}));
  m.add(GRU(2, {.name = "g"}));
  const std::string good = save_model_bytes(m, "keras");
  const zip::Reader z(good, "good", ".keras archive", {});
  const std::string config = z.read(*z.find("config.json"));
  const std::string weights = z.read(*z.find("model.weights.h5"));
  auto expect = [&](const std::string& bytes, std::initializer_list<std::string> fragments, const char* what) {
    SCOPED_TRACE(what);
    expect_error<Error>([&] { load_model_from_bytes(bytes, "bad.keras"); }, fragments);
    seqnet::testing::dump_corpus("model", corpus_name("keras_zip", what, ".keras"), bytes);
  };
  expect(archive({{"../config.json", config}, {"model.weights.h5", weights}}), {"bad.keras", "path traversal"},
         "traversal");
  expect(archive({{"/etc/config.json", config}}), {"bad.keras", "absolute"}, "absolute name");
  expect(archive({{"model.weights.h5", weights}}), {"bad.keras", "no config.json"}, "no config");
  expect(archive({{"config.json", "{oops"}, {"model.weights.h5", weights}}), {"bad.keras", "config.json", "JSON"},
         "config not JSON");
  expect(archive({{"config.json", config}}), {"bad.keras", "no model.weights.h5"}, "no weights");
  expect(archive({{"config.json", config}, {"model.weights.h5", io::hdf5::Writer().build("t")}}),
         {"bad.keras", "the file holds 0 weight values"}, "empty weights");
  expect(archive({{"config.json", config}, {"model.weights.h5", "not hdf5 at all"}}),
         {"bad.keras", "model.weights.h5"}, "weights not HDF5");
  {
    io::hdf5::Writer hw;
    const auto lg = hw.group(io::hdf5::Writer::kRoot, "layers");
    const std::vector<float> v(64, 0.5f);
    hw.dataset(hw.group_path(lg, "gru/cell/vars"), "0", {2, 6}, v.data());
    hw.dataset(hw.group_path(lg, "zzz/vars"), "0", {64}, v.data());
    expect(archive({{"config.json", config}, {"model.weights.h5", hw.build("t")}}), {"bad.keras", "/layers/gru/cell/vars", "no member '1'"},
           "too few weights");
  }
  {
    // The model's weights plus a layer the model does not have.
    Sequential m2("s");
    m2.add(Input({3, 2}));
    m2.add(GRU(2, {.name = "g"}));
    io::hdf5::Writer hw;
    const auto lg = hw.group(io::hdf5::Writer::kRoot, "layers");
    int n = 0;
    m2.get_layer("g")->visit_params([&](const std::string&, Param& p) {
      hw.dataset(hw.group_path(lg, "gru/cell/vars"), std::to_string(n++), p.value.shape(), p.value.data());
    });
    const float v[1] = {1};
    hw.dataset(hw.group_path(lg, "dense_9/vars"), "0", {1}, v);
    expect(archive({{"config.json", config}, {"model.weights.h5", hw.build("t")}}),
           {"bad.keras", "layers/dense_9", "no layer of the model"}, "extra layer");
  }
  for (size_t n = 0; n < good.size(); n += 101) {
    expect_error<Error>([&] { load_model_from_bytes(good.substr(0, n), "cut.keras"); }, {"cut.keras"});
  }
}

TEST(KerasHostile, TfjsManifestsAreClearErrors) {
  clear_session();
  Sequential m("s");
  m.add(Input({3, 2}));
  m.add(LSTM(2, {.name = "l"}));
  TempDir dir("tfjs_bad");
  save_tfjs(m, dir.path().string());
  const std::string path = dir.file("model.json");
  const json good = json::parse(read_file(path));
  auto expect = [&](const std::function<void(json&)>& edit, std::initializer_list<std::string> fragments, const char* what) {
    SCOPED_TRACE(what);
    json j = good;
    edit(j);
    expect_error<Error>([&] { load_model_from_bytes(j.dump(), path); }, fragments);
    seqnet::testing::dump_corpus("model", corpus_name("tfjs", what, ".json"), j.dump());
  };
  auto w0 = [](json& j) -> json& { return j["weightsManifest"][0]; };
  expect([&](json& j) { w0(j)["weights"][0]["shape"] = {2, 9}; }, {"declares", "bytes", "shards hold"},
         "byte counts disagree");
  expect([&](json& j) { w0(j)["paths"][0] = "../../etc/passwd"; }, {"leaves the model's directory"}, "traversal");
  expect([&](json& j) { w0(j)["paths"][0] = "/etc/passwd"; }, {"leaves the model's directory"}, "absolute");
  expect([&](json& j) { w0(j)["paths"][0] = "nothing.bin"; }, {"nothing.bin", "missing"}, "missing shard");
  expect([&](json& j) { w0(j)["weights"][0]["dtype"] = "int32"; }, {"'l/kernel'", "int32"}, "int32 weight");
  expect([&](json& j) { w0(j)["weights"][0]["shape"] = {1 << 30, 1 << 30, 1 << 30}; }, {"too many elements"},
         "absurd shape");
  expect([&](json& j) { j["format"] = "graph-model"; }, {"graph-model", "not a TF.js Layers model"}, "graph model");
  expect([&](json& j) { j["weightsManifest"] = "x"; }, {"weightsManifest"}, "manifest not a list");
  expect([&](json& j) { j.erase("modelTopology"); }, {"modelTopology"}, "no topology");
  expect([&](json& j) { w0(j)["weights"][0]["quantization"] = {{"dtype", "uint4"}}; }, {"uint4"}, "bad quantization");
  // The good one loads and predicts as the model.
  auto back = load_model(path);
  const Tensors x{uniform({2, 3, 2}, 5)};
  expect_bit_equal(back->predict(x), m.predict(x), "tfjs round trip");
}

TEST(Hdf5Writer, WideGroupsAndEmptyOnesReadBack) {
  // More members than one symbol table node holds, in groups and datasets,
  // and an empty group: seqnet's reader sees them all (h5py too:
  // tests/io/keras_writer_check.py reads the Keras files this writer makes).
  io::hdf5::Writer w;
  const auto wide = w.group(io::hdf5::Writer::kRoot, "wide");
  for (int i = 0; i < 1000; ++i) {
    const float v = static_cast<float>(i);
    w.dataset(wide, "d" + std::to_string(i), {1}, &v);
  }
  for (int i = 0; i < 300; ++i) w.group(io::hdf5::Writer::kRoot, "g" + std::to_string(i));
  w.attribute(wide, "names", std::vector<std::string>{"a", "bcd", ""});
  const std::string bytes = w.build("wide.h5");
  TempDir dir("hdf5_wide");
  write_file_atomic(dir.file("wide.h5"), bytes);
  const auto f = io::hdf5::File::parse(bytes, "wide.h5");
  EXPECT_EQ(f.root().member_names().size(), 301u);
  const auto g = f.root().group("wide");
  EXPECT_EQ(g.member_names().size(), 1000u);
  EXPECT_EQ(g.dataset("d777").read_float32(), std::vector<float>{777.0f});
  EXPECT_EQ(g.attribute("names").strings(), (std::vector<std::string>{"a", "bcd", ""}));
  EXPECT_TRUE(f.root().group("g299").member_names().empty());
}
