// Model files (src/io/model_io.cpp): save -> load_model round trips that
// predict bit-identically for every layer type, Sequential and functional
// models with shared layers; the file layout (tensor names, metadata);
// compiled models whose fit() resumes bit-identically from a file (optimizer
// state, iterations, random generator, stateful layers' states);
// save_weights / load_weights; and the random generator's state API.

#include <gtest/gtest.h>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_bit_equal;
using seqnet::testing::expect_error;
using seqnet::testing::ids;
using seqnet::testing::TempDir;
using seqnet::testing::uniform;
using json = nlohmann::json;

namespace {

// Saves `m`, loads it back, and checks the copy: same architecture JSON,
// same weights, bit-identical predictions.
std::unique_ptr<Model> check_save_load(const Model& m, const Tensors& x, const std::string& what) {
  SCOPED_TRACE(what);
  const std::string bytes = save_model_to_bytes(m);
  auto back = load_model_from_bytes(bytes, what);
  EXPECT_EQ(back->to_json(), m.to_json());
  const auto w1 = m.get_weights(), w2 = back->get_weights();
  EXPECT_EQ(w1.size(), w2.size());
  for (size_t i = 0; i < w1.size() && i < w2.size(); ++i) expect_bit_equal(w2[i], w1[i], "weight " + std::to_string(i));
  const PredictOptions po{.batch_size = static_cast<int>(x[0].dim(0))};
  expect_bit_equal(back->predict(x, po), const_cast<Model&>(m).predict(x, po), what);
  return back;
}

}  // namespace

TEST(ModelIO, EveryLayerTypeRoundTripsBitIdentically) {
  clear_session();
  set_seed(5);
  // One functional model with every layer type.
  auto seq_in = Input({6, 3});
  auto ids_in = Input({6});
  auto vec_in = Input({4});
  auto masked = Masking(0.0f)(seq_in);
  auto lstm = LSTM(5, {.return_sequences = true, .return_state = true})(masked);
  auto gru = GRU(5, {.return_sequences = true})(lstm[0], {.initial_state = {lstm[1]}});
  auto rnn = SimpleRNN(4, {.activation = "relu", .return_sequences = true})(gru);
  auto bi = Bidirectional(LSTM(3, {.return_sequences = true}), {.merge_mode = "ave"})(rnn);
  auto att = AttentionDecoder(4, 4)(bi);
  auto emb = Embedding(12, 4, {.mask_zero = true})(ids_in);
  auto emb_rnn = GRU(4, {.return_sequences = true, .reset_after = false})(emb);
  auto merged = Concatenate()({Add()({att, emb_rnn}), Subtract()({att, emb_rnn}), Multiply()({att, emb_rnn}),
                               Average()({att, emb_rnn}), Maximum()({att, emb_rnn})});
  auto td = TimeDistributed(Dense(3, {.activation = "tanh"}))(merged);
  auto flat = Flatten()(Dropout(0.2f)(td));
  auto vec = RepeatVector(2)(Activation("relu")(Dense(6)(vec_in)));
  auto joined = Concatenate()({flat, Flatten()(vec)});
  auto out = Dense(2, {.activation = "softmax"})(Reshape({30})(joined));
  Model m({seq_in, ids_in, vec_in}, {out, lstm[2]}, "everything");
  Tensor xs = uniform({3, 6, 3}, 1);
  for (int64_t f = 0; f < 3; ++f) xs.at(2, 5, f) = 0.0f;
  Tensor xi = ids({3, 6}, 2, 1, 12);
  xi.at(0, 5) = 0.0f;
  check_save_load(m, {xs, xi, uniform({3, 4}, 3)}, "everything");
}

TEST(ModelIO, SequentialAndSharedLayers) {
  clear_session();
  set_seed(6);
  Sequential s("seq");
  s.add(Input({5, 2}));
  s.add(Bidirectional(GRU(3, {.return_sequences = true})));
  s.add(LSTM(4));
  s.add(Dense(1));
  auto back = check_save_load(s, {uniform({4, 5, 2}, 1)}, "sequential");
  EXPECT_NE(dynamic_cast<Sequential*>(back.get()), nullptr);

  // Seed 02's inference decoder: layers shared with the training model.
  clear_session();
  const int64_t C = 6, U = 5;
  auto enc_in = Input({None, C});
  auto enc = LSTM(U, {.return_state = true})(enc_in);
  auto dec_in = Input({None, C});
  auto dec_lstm = LSTM(U, {.return_sequences = true, .return_state = true});
  auto dec = dec_lstm(dec_in, {.initial_state = {enc[1], enc[2]}});
  auto dense = Dense(C, {.activation = "softmax"});
  Model train({enc_in, dec_in}, {dense(dec[0])}, "train");
  auto h_in = Input({U}), c_in = Input({U});
  auto step = dec_lstm(dec_in, {.initial_state = {h_in, c_in}});
  Model decoder({dec_in, h_in, c_in}, {dense(step[0]), step[1], step[2]}, "decoder");
  check_save_load(train, {uniform({2, 4, C}, 1), uniform({2, 3, C}, 2)}, "train");
  check_save_load(decoder, {uniform({2, 1, C}, 3), uniform({2, U}, 4), uniform({2, U}, 5)}, "decoder");
}

TEST(ModelIO, FileLayout) {
  clear_session();
  auto in = Input({4, 3});
  auto h = Bidirectional(LSTM(2, {.return_sequences = true}))(in);
  h = LSTM(3, {.return_sequences = true, .name = "lstm_1"})(h);
  h = TimeDistributed(Dense(2))(h);
  auto out = Dense(1, {.name = "out"})(Flatten()(h));
  Model m({in}, {out}, "layout");
  m.compile({.optimizer = Adam(), .loss = "mse"});
  m.fit(uniform({8, 4, 3}, 1), uniform({8, 1}, 2), {.epochs = 1, .batch_size = 4, .verbose = 0});
  TempDir dir("layout");
  m.save(dir.file("m.safetensors"));
  const auto f = io::SafetensorsFile::read(dir.file("m.safetensors"));
  std::set<std::string> names;
  for (const auto& t : f.tensors()) {
    names.insert(t.name);
    EXPECT_EQ(t.dtype, io::DType::F32);
  }
  for (const char* n : {"bidirectional/forward_lstm/kernel", "bidirectional/backward_lstm/recurrent_kernel",
                        "lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", "time_distributed/kernel",
                        "time_distributed/bias", "out/kernel", "out/bias", "optimizer/lstm_1/kernel/m",
                        "optimizer/lstm_1/kernel/v", "optimizer/out/bias/v"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_EQ(f.find("lstm_1/kernel")->shape, (Shape{4, 12}));
  EXPECT_EQ(f.find("lstm_1/bias")->shape, (Shape{12}));
  const auto& meta = f.metadata();
  EXPECT_EQ(meta.at("format"), "seqnet");
  EXPECT_EQ(meta.at("version"), "1");
  EXPECT_EQ(meta.at("content"), "model");
  EXPECT_EQ(meta.at("model_config"), m.to_json());
  const json tc = json::parse(meta.at("training_config"));
  EXPECT_EQ(tc["loss"], "mean_squared_error");
  EXPECT_EQ(tc["optimizer_config"]["class_name"], "Adam");
  EXPECT_EQ(tc["optimizer_config"]["config"]["learning_rate"].dump(), "0.001");
  const json ts = json::parse(meta.at("training_state"));
  EXPECT_EQ(ts["optimizer_iterations"], "2");
  EXPECT_EQ(ts["random_state"]["s"].size(), 4u);
  // Without the optimizer: no training entries.
  m.save(dir.file("lean.safetensors"), false);
  const auto lean = io::SafetensorsFile::read(dir.file("lean.safetensors"));
  EXPECT_EQ(lean.metadata().count("training_config"), 0u);
  EXPECT_EQ(lean.find("optimizer/out/bias/v"), nullptr);
  auto loaded = load_model(dir.file("lean.safetensors"));
  EXPECT_FALSE(loaded->compiled());
  // No temporary files are left next to the file.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(ModelIO, CompiledModelsKeepTheirTrainingConfig) {
  clear_session();
  auto in = Input({3});
  auto a = Dense(2, {.activation = "softmax", .name = "a"})(in);
  auto b = Dense(1, {.name = "b"})(in);
  Model m({in}, {a, b}, "two");
  m.compile({.optimizer = RMSprop({.learning_rate = 0.01f, .momentum = 0.5f, .centered = true, .clipnorm = 1.5f}),
             .loss = {"categorical_crossentropy", Huber(0.5f)},
             .loss_weights = {1.0f, 0.25f},
             .metrics = {"accuracy"}});
  auto back = load_model_from_bytes(save_model_to_bytes(m));
  ASSERT_TRUE(back->compiled());
  EXPECT_EQ(training_config(*back), training_config(m));
  EXPECT_EQ(back->optimizer().get_config(), m.optimizer().get_config());
  EXPECT_EQ(back->optimizer().get_config()["clipnorm"].dump(), "1.5");
  // Every optimizer's config reads back as itself.
  for (auto opt : {SGD({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true, .clipvalue = 0.5f}),
                   Adam({.beta_1 = 0.8f, .amsgrad = true, .global_clipnorm = 2.0f}),
                   Adagrad({.initial_accumulator_value = 0.2f})}) {
    const json cc{{"class_name", opt->name()}, {"config", opt->get_config()}};
    EXPECT_EQ(optimizer_from_config(cc)->get_config(), opt->get_config());
  }
  // Keras 2 legacy optimizer keys.
  auto legacy = optimizer_from_config(json::parse(
      R"({"class_name": "Adam", "config": {"name": "Adam", "lr": 0.002, "decay": 0.0, "beta_1": 0.9,
          "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}})"));
  EXPECT_EQ(legacy->learning_rate(), 0.002f);
  expect_error<ValueError>(
      [] { optimizer_from_config(json::parse(R"({"class_name": "Adam", "config": {"decay": 0.01}})")); }, {"decay"});
  expect_error<ValueError>(
      [] {
        optimizer_from_config(json::parse(
            R"({"class_name": "Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay"}}})"));
      },
      {"schedules"});
  expect_error<ValueError>([] { loss_from_config(json::parse(R"({"class_name": "CategoricalCrossentropy",
                                                                  "config": {"from_logits": true}})")); },
                           {"from_logits"});
  // compile = false skips the training configuration.
  auto plain = load_model_from_bytes(save_model_to_bytes(m), "m", {.compile = false});
  EXPECT_FALSE(plain->compiled());
}

namespace {

// A small model with dropout (random masks) trained with shuffling: resuming
// from a file must continue exactly as an uninterrupted run.
std::unique_ptr<Model> resumable_model() {
  clear_session();
  auto in = Input({5, 3});
  auto h = LSTM(6, {.dropout = 0.2f, .recurrent_dropout = 0.1f, .return_sequences = true})(in);
  h = Dropout(0.3f)(h);
  h = GRU(4)(h);
  auto out = Dense(2, {.activation = "softmax"})(h);
  auto m = std::make_unique<Model>(std::vector<SymbolicTensor>{in}, std::vector<SymbolicTensor>{out}, "resumable");
  m->compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "categorical_crossentropy", .metrics = {"acc"}});
  return m;
}

Tensor one_hot_targets(int64_t n, uint64_t seed) {
  Generator g(seed);
  Tensor y({n, 2});
  for (int64_t i = 0; i < n; ++i) y.at(i, static_cast<int64_t>(g.below(2))) = 1.0f;
  return y;
}

}  // namespace

TEST(ModelIO, FitResumesBitIdenticallyFromAFile) {
  const Tensor x = uniform({40, 5, 3}, 21);
  const Tensor y = one_hot_targets(40, 22);
  const FitOptions fo{.epochs = 4, .batch_size = 8, .validation_split = 0.2, .verbose = 0};
  // Uninterrupted run.
  set_seed(42);
  auto full = resumable_model();
  History h_full = full->fit(x, y, fo);
  // Interrupted after two epochs by a checkpoint, resumed in a "new process".
  TempDir dir("resume");
  set_seed(42);
  {
    auto first = resumable_model();
    FitOptions part = fo;
    part.epochs = 2;
    part.callbacks = {ModelCheckpoint(dir.file("ckpt-{epoch}.safetensors"))};
    first->fit(x, y, part);
  }
  set_seed(999);  // the new process has other random state
  clear_session();
  auto resumed = load_model(dir.file("ckpt-2.safetensors"));
  FitOptions rest = fo;
  rest.initial_epoch = 2;
  History h_rest = resumed->fit(x, y, rest);
  const auto wf = full->get_weights(), wr = resumed->get_weights();
  ASSERT_EQ(wf.size(), wr.size());
  for (size_t i = 0; i < wf.size(); ++i) expect_bit_equal(wr[i], wf[i], "weight " + std::to_string(i));
  ASSERT_EQ(h_rest["loss"].size(), 2u);
  EXPECT_EQ(h_rest["loss"][1], h_full["loss"][3]);
  EXPECT_EQ(h_rest["val_loss"][1], h_full["val_loss"][3]);
  EXPECT_EQ(resumed->optimizer().iterations(), full->optimizer().iterations());
  // Without the random state, the continuation differs (dropout, shuffling).
  set_seed(999);
  auto other = load_model(dir.file("ckpt-2.safetensors"), {.restore_random_state = false});
  EXPECT_EQ(global_generator().state(), Generator(999).state());
  other->fit(x, y, rest);
  EXPECT_GT(max_abs_diff(other->get_weights()[0], wf[0]), 0.0f);
}

TEST(ModelIO, StatefulModelsResumeWithTheirStates) {
  const Tensor x = uniform({8, 4, 2}, 31);
  const Tensor y = uniform({8, 1}, 32);
  auto build = [] {
    clear_session();
    auto in = Input({4, 2}, {.batch_size = 2});
    auto h = LSTM(3, {.return_sequences = true, .stateful = true})(in);
    h = Bidirectional(GRU(2, {.stateful = true}))(h);
    auto m = std::make_unique<Model>(std::vector<SymbolicTensor>{in}, std::vector<SymbolicTensor>{Dense(1)(h)}, "st");
    m->compile({.optimizer = SGD({.learning_rate = 0.05f, .momentum = 0.9f}), .loss = "mse"});
    return m;
  };
  const FitOptions fo{.epochs = 3, .batch_size = 2, .shuffle = false, .verbose = 0};
  set_seed(7);
  auto full = build();
  full->fit(x, y, fo);
  set_seed(7);
  auto first = build();
  FitOptions part = fo;
  part.epochs = 1;
  first->fit(x, y, part);
  const std::string bytes = save_model_to_bytes(*first);
  const auto f = io::SafetensorsFile::parse(bytes);
  EXPECT_NE(f.find("states/lstm/0"), nullptr);
  EXPECT_NE(f.find("states/lstm/1"), nullptr);
  EXPECT_NE(f.find("states/bidirectional/forward_gru/0"), nullptr);
  EXPECT_NE(f.find("states/bidirectional/backward_gru/0"), nullptr);
  auto resumed = load_model_from_bytes(bytes);
  FitOptions rest = fo;
  rest.initial_epoch = 1;
  resumed->fit(x, y, rest);
  const auto wf = full->get_weights(), wr = resumed->get_weights();
  for (size_t i = 0; i < wf.size(); ++i) expect_bit_equal(wr[i], wf[i], "weight " + std::to_string(i));
  const PredictOptions po{.batch_size = 2};
  expect_bit_equal(resumed->predict(x, po), full->predict(x, po), "stateful predictions");
}

TEST(ModelIO, SaveWeightsAndLoadWeights) {
  clear_session();
  set_seed(3);
  auto in = Input({4, 2});
  Model a({in}, {Dense(2)(LSTM(3)(in))}, "a");
  TempDir dir("weights");
  a.save_weights(dir.file("w.safetensors"));
  const auto f = io::SafetensorsFile::read(dir.file("w.safetensors"));
  EXPECT_EQ(f.metadata().at("content"), "weights");
  EXPECT_EQ(f.metadata().count("model_config"), 0u);
  expect_error<IOError>([&] { load_model(dir.file("w.safetensors")); }, {"only weights", "load_weights"});
  // The same architecture built again (other initial weights) takes them.
  clear_session();
  set_seed(4);
  auto in2 = Input({4, 2});
  Model b({in2}, {Dense(2)(LSTM(3)(in2))}, "b");
  b.load_weights(dir.file("w.safetensors"));
  const Tensor x = uniform({3, 4, 2}, 1);
  expect_bit_equal(b.predict(x), a.predict(x), "load_weights");
  // A full model file works too.
  a.save(dir.file("full.safetensors"));
  b.load_weights(dir.file("full.safetensors"));
  // Another architecture: a clear error and no change.
  clear_session();
  auto in3 = Input({4, 2});
  Model c({in3}, {Dense(2)(LSTM(4)(in3))}, "c");
  const auto before = c.get_weights();
  expect_error<ShapeError>([&] { c.load_weights(dir.file("w.safetensors")); },
                           {"w.safetensors", "'lstm/kernel'", "(2, 12)", "(2, 16)"});
  expect_bit_equal(c.get_weights()[0], before[0], "unchanged");
  // Other layer names: matched by order (Keras's default); by name the
  // Dense layer has no namesake in the file.
  clear_session();
  auto in4 = Input({4, 2});
  Model d({in4}, {Dense(2, {.name = "other"})(LSTM(3)(in4))}, "d");
  d.load_weights(dir.file("w.safetensors"));
  expect_bit_equal(d.predict(x), a.predict(x), "load_weights by order");
}

TEST(ModelIO, LoadWeightsMatchesLayersByOrderOrByName) {
  clear_session();
  set_seed(5);
  // Built twice in one session: automatic names differ (lstm, dense vs
  // lstm_1, dense_1), as they do for a Keras user who builds the model again.
  auto build = [](int units, const std::string& dense_name = "") {
    auto in = Input({4, 2});
    auto h = LSTM(units)(in);
    return std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                   std::vector<SymbolicTensor>{Dense(2, {.name = dense_name})(h[0])[0]});
  };
  auto a = build(3);
  auto b = build(3);
  EXPECT_NE(a->layers()[1].name(), b->layers()[1].name());
  TempDir dir("by_order");
  a->save_weights(dir.file("w.safetensors"));
  b->load_weights(dir.file("w.safetensors"));
  const Tensor x = uniform({3, 4, 2}, 2);
  expect_bit_equal(b->predict(x), a->predict(x), "by order");
  // A different number of layers with weights names both sides' layers.
  auto in = Input({4, 2});
  auto h = LSTM(3, {.name = "enc"})(in);
  auto h2 = Dense(4, {.name = "mid"})(h[0]);
  Model c({in}, {Dense(2, {.name = "out"})(h2[0])[0]}, "c");
  const auto before = c.get_weights();
  expect_error<ValueError>([&] { c.load_weights(dir.file("w.safetensors")); },
                           {"w.safetensors", "by order", "2 layer(s)", "has 3", "lstm, dense", "enc, mid, out"});
  // Same count, other shapes: both weights are named.
  auto d = build(4);
  expect_error<ShapeError>([&] { d->load_weights(dir.file("w.safetensors")); },
                           {"'lstm/kernel'", "(2, 12)", "(2, 16)", "kernel"});
  // A layer with another number of weights.
  auto in5 = Input({4, 2});
  auto h5 = LSTM(3)(in5);
  Model e({in5}, {Dense(2, {.use_bias = false})(h5[0])[0]}, "e");
  expect_error<ValueError>([&] { e.load_weights(dir.file("w.safetensors")); }, {"has 2 weight(s)", "has 1"});
  const auto after = c.get_weights();
  for (size_t i = 0; i < before.size(); ++i) expect_bit_equal(after[i], before[i], "unchanged after a failed load");

  // By name: a layer takes its namesake's weights; layers only one side has
  // are skipped. The file holds lstm and dense.
  clear_session();
  auto partial = build(3, "other");  // lstm, other
  const auto other_before = partial->get_layer("other").get_weights();
  partial->load_weights(dir.file("w.safetensors"), {.by_name = true});
  expect_bit_equal(partial->get_layer("lstm").get_weights()[0], a->layers()[1].get_weights()[0],
                   "the namesake layer is loaded");
  expect_bit_equal(partial->get_layer("other").get_weights()[0], other_before[0], "the other layer is unchanged");
  // No namesake at all is an error.
  auto none = build(3, "head");  // lstm_1, head
  expect_error<ValueError>([&] { none->load_weights(dir.file("w.safetensors"), {.by_name = true}); },
                           {"by_name", "no layer", "namesake", "lstm_1, head", "dense, lstm"});
  // A namesake with other shapes: an error, or skipped with skip_mismatch.
  clear_session();
  auto wide = build(4);  // lstm (4 units), dense (4 -> 2)
  expect_error<ShapeError>([&] { wide->load_weights(dir.file("w.safetensors"), {.by_name = true}); },
                           {"'lstm/kernel'", "(2, 12)", "(2, 16)"});
  const auto wide_lstm = wide->get_layer("lstm").get_weights();
  const auto wide_dense = wide->get_layer("dense").get_weights();
  wide->load_weights(dir.file("w.safetensors"), {.by_name = true, .skip_mismatch = true});
  expect_bit_equal(wide->get_layer("lstm").get_weights()[0], wide_lstm[0], "skipped on a mismatch");
  expect_bit_equal(wide->get_layer("dense").get_weights()[0], wide_dense[0], "dense (4 -> 2) mismatches too");
}

TEST(ModelIO, LoadWeightsOfAFileWithoutItsOrderMatchesByName) {
  // Files written before the order was kept: matched by name, strictly.
  clear_session();
  auto in = Input({3});
  Model a({in}, {Dense(2)(in)[0]}, "a");
  TempDir dir("no_order");
  const auto params = a.params();
  std::vector<io::NamedTensor> tensors{{"dense/kernel", params[0]->value}, {"dense/bias", params[1]->value}};
  write_file_atomic(dir.file("old.safetensors"),
                    io::serialize_safetensors(tensors, {{"format", "seqnet"}, {"version", "1"}, {"content", "weights"}}));
  clear_session();
  auto in2 = Input({3});
  Model b({in2}, {Dense(2)(in2)[0]}, "b");
  b.load_weights(dir.file("old.safetensors"));
  const Tensor x = uniform({2, 3}, 3);
  expect_bit_equal(b.predict(x), a.predict(x), "old file by name");
  auto in3 = Input({3});
  Model c({in3}, {Dense(2, {.name = "other"})(in3)[0]}, "c");
  expect_error<IOError>([&] { c.load_weights(dir.file("old.safetensors")); }, {"'other/kernel' is missing"});
}

TEST(ModelIO, WritesAtomicallyAndReportsIOErrors) {
  clear_session();
  auto in = Input({2});
  Model m({in}, {Dense(1)(in)}, "m");
  TempDir dir("atomic");
  const std::string path = dir.file("m.safetensors");
  m.save(path);
  const std::string before = read_file(path);
  expect_error<IOError>([&] { m.save(dir.file("missing/dir/m.safetensors")); }, {"missing/dir"});
  // A save that fails before writing leaves the existing file as it was.
  auto bad_in = Input({2});
  Model bad({bad_in}, {Dense(1, {.name = "a/b"})(bad_in)}, "bad");
  expect_error<ValueError>([&] { bad.save(path); }, {"'/'"});
  EXPECT_EQ(read_file(path), before);
  expect_error<IOError>([&] { load_model(dir.file("nope.safetensors")); }, {"nope.safetensors"});
}

TEST(ModelIO, NewerFormatVersionsAreRefused) {
  clear_session();
  auto in = Input({2});
  Model m({in}, {Dense(1)(in)}, "m");
  const auto f = io::SafetensorsFile::parse(save_model_to_bytes(m));
  auto meta = f.metadata();
  meta["version"] = "2";
  std::vector<io::NamedTensor> ts;
  for (const auto& t : f.tensors()) ts.push_back({t.name, f.to_tensor(t)});
  expect_error<IOError>([&] { load_model_from_bytes(io::serialize_safetensors(ts, meta), "future"); },
                        {"future", "version 2", "upgrade"});
}

TEST(GeneratorState, SetStateContinuesTheSequence) {
  Generator g(123);
  g.normal();  // leaves a spare normal draw
  const GeneratorState st = g.state();
  EXPECT_TRUE(st.have_spare);
  std::vector<double> a;
  for (int i = 0; i < 5; ++i) a.push_back(g.normal() + g.uniform());
  Generator h(1);
  h.set_state(st);
  EXPECT_EQ(h.state(), st);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(h.normal() + h.uniform(), a[static_cast<size_t>(i)]);
  GeneratorState zero;
  expect_error<ValueError>([&] { h.set_state(zero); }, {"all-zero"});
}

TEST(ModelIO, MalformedWeightOrderIsAClearError) {
  clear_session();
  auto in = Input({3});
  Model a({in}, {Dense(2)(in)[0]}, "a");
  TempDir dir("bad_order");
  const auto params = a.params();
  const std::vector<io::NamedTensor> tensors{{"dense/kernel", params[0]->value}, {"dense/bias", params[1]->value}};
  auto write = [&](const std::string& order) {
    write_file_atomic(dir.file("w.safetensors"),
                      io::serialize_safetensors(tensors, {{"format", "seqnet"},
                                                          {"version", "1"},
                                                          {"content", "weights"},
                                                          {"weight_order", order}}));
  };
  const auto before = a.get_weights();
  write(R"({"dense/kernel": 0})");
  expect_error<IOError>([&] { a.load_weights(dir.file("w.safetensors")); }, {"weight_order", "list of tensor names"});
  write(R"(["dense/kernel", 7])");
  expect_error<IOError>([&] { a.load_weights(dir.file("w.safetensors")); }, {"weight_order", "list of tensor names"});
  write(R"(["dense/kernel", "dense/kernel", "dense/bias"])");
  expect_error<IOError>([&] { a.load_weights(dir.file("w.safetensors")); }, {"'dense/kernel' twice"});
  write(R"(["dense/kernel", "dense/gone"])");
  expect_error<IOError>([&] { a.load_weights(dir.file("w.safetensors")); }, {"'dense/gone' is missing"});
  write(R"(["dense/kernel"])");  // a tensor of the file left out of the order
  expect_error<IOError>([&] { a.load_weights(dir.file("w.safetensors")); }, {"weight_order leaves out", "'dense/bias'"});
  write("not json");
  expect_error<IOError>([&] { a.load_weights(dir.file("w.safetensors")); }, {"weight_order"});
  const auto after = a.get_weights();
  for (size_t i = 0; i < before.size(); ++i) expect_bit_equal(after[i], before[i], "unchanged");
}
