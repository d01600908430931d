// Keras-compatible architecture JSON (src/io/model_config.cpp,
// layer_registry.cpp, config_reader.cpp and every Layer::get_config):
// to_json -> model_from_json round trips for every layer type, Sequential
// and functional models with shared layers, architectures in the form Keras
// 2 writes them (tests/fixtures/keras/), and clear errors for configs seqnet
// cannot honour.

#include <gtest/gtest.h>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_bit_equal;
using seqnet::testing::expect_error;
using seqnet::testing::ids;
using seqnet::testing::uniform;
using json = nlohmann::json;

namespace {

struct Built {
  std::unique_ptr<Model> model;
  Tensors x;
};

// Copies weights layer by layer, by name.
void copy_weights(const Model& from, const Model& to) {
  for (const auto& l : from.layers()) {
    if (l->params().empty()) continue;
    to.get_layer(l.name()).set_weights(l.get_weights());
  }
}

// to_json -> model_from_json -> to_json is the identity, and the rebuilt
// model (with the same weights) predicts bit-identically.
void check_round_trip(const std::string& name, const std::function<Built()>& build) {
  SCOPED_TRACE(name);
  set_seed(11);
  Built b = build();
  const std::string j1 = b.model->to_json();
  std::unique_ptr<Model> m2 = model_from_json(j1);
  EXPECT_EQ(m2->to_json(), j1);
  EXPECT_EQ(m2->name(), b.model->name());
  EXPECT_EQ(m2->count_params(), b.model->count_params());
  EXPECT_EQ(m2->summary_string(), b.model->summary_string());
  EXPECT_EQ(dynamic_cast<Sequential*>(m2.get()) != nullptr, dynamic_cast<Sequential*>(b.model.get()) != nullptr);
  copy_weights(*b.model, *m2);
  const PredictOptions po{.batch_size = static_cast<int>(b.x[0].dim(0))};
  expect_bit_equal(m2->predict(b.x, po), b.model->predict(b.x, po), name + " from_json");
}

Built single(const SymbolicTensor& in, const std::vector<SymbolicTensor>& out, Tensors x, const std::string& name) {
  return {std::make_unique<Model>(std::vector<SymbolicTensor>{in}, out, name), std::move(x)};
}

}  // namespace

TEST(Config, DenseActivationAndRegularizers) {
  check_round_trip("dense", [] {
    clear_session();
    auto in = Input({5});
    auto h = Dense(4, {.activation = "relu",
                       .kernel_initializer = "he_normal",
                       .bias_initializer = Initializer::constant(0.1),
                       .kernel_regularizer = regularizers::l2(0.001f),
                       .bias_regularizer = regularizers::l1_l2(0.01f, 0.02f)})(in);
    h = Activation("tanh")(h);
    auto out = Dense(3, {.activation = "softmax", .use_bias = false,
                         .kernel_initializer = Initializer::random_normal(0.5, 0.2)})(h);
    return single(in, {out}, uniform({6, 5}, 1), "dense_model");
  });
}

TEST(Config, DropoutRepeatFlattenReshape) {
  check_round_trip("shape layers", [] {
    clear_session();
    auto in = Input({6});
    auto h = Dropout(0.3f)(in);
    h = RepeatVector(3)(h);
    h = Flatten()(h);
    h = Reshape({2, 9})(h);
    h = Reshape({None, 3})(h);
    return single(in, {h}, uniform({4, 6}, 2), "shapes");
  });
}

TEST(Config, MaskingEmbeddingAndTimeDistributed) {
  check_round_trip("masking", [] {
    clear_session();
    auto in = Input({5, 3});
    auto h = Masking(0.0f)(in);
    h = LSTM(4, {.kernel_regularizer = regularizers::l1_l2(0.001f, 0.002f), .dropout = 0.1f,
                 .recurrent_dropout = 0.2f, .return_sequences = true})(h);
    auto out = TimeDistributed(Dense(2, {.activation = "softmax"}))(h);
    Tensor x = uniform({3, 5, 3}, 3);
    for (int64_t f = 0; f < 3; ++f) x.at(0, 4, f) = 0.0f;  // a padded step
    return single(in, {out}, x, "masked");
  });
  check_round_trip("embedding", [] {
    clear_session();
    auto in = Input({6});
    auto h = Embedding(10, 4, {.embeddings_initializer = Initializer::random_uniform(-0.1, 0.1),
                               .embeddings_regularizer = regularizers::l2(),
                               .mask_zero = true,
                               .input_length = 6})(in);
    h = GRU(5)(h);
    auto out = Dense(1, {.activation = "sigmoid"})(h);
    Tensor x = ids({4, 6}, 4, 1, 10);
    x.at(1, 5) = 0.0f;
    return single(in, {out}, x, "embedded");
  });
}

TEST(Config, MergeLayers) {
  check_round_trip("merges", [] {
    clear_session();
    auto a = Input({4});
    auto b = Input({4});
    auto c = Concatenate(-1)({Add()({a, b}), Subtract()({a, b}), Multiply()({a, b}), Average()({a, b}),
                              Maximum()({a, b})});
    auto out = Dense(2)(c);
    Built r{std::make_unique<Model>(std::vector<SymbolicTensor>{a, b}, std::vector<SymbolicTensor>{out}, "merges"),
            Tensors{uniform({3, 4}, 5), uniform({3, 4}, 6)}};
    return r;
  });
}

TEST(Config, RecurrentLayersWithStates) {
  check_round_trip("lstm states", [] {
    clear_session();
    auto in = Input({5, 3});
    auto enc = LSTM(4, {.unit_forget_bias = false, .return_state = true})(in);
    auto dec = LSTM(4, {.activation = "relu", .recurrent_activation = "hard_sigmoid", .return_sequences = true,
                        .return_state = true, .go_backwards = true})(in, {.initial_state = {enc[1], enc[2]}});
    return single(in, {dec[0], dec[1], dec[2]}, uniform({2, 5, 3}, 7), "states");
  });
  check_round_trip("gru and simple rnn", [] {
    clear_session();
    auto in = Input({None, 3});
    auto h = GRU(4, {.return_sequences = true, .reset_after = false})(in);
    h = GRU(3, {.recurrent_activation = "hard_sigmoid", .use_bias = false, .return_sequences = true})(h);
    h = SimpleRNN(2, {.activation = "relu", .bias_initializer = "ones"})(h);
    return single(in, {h}, uniform({2, 6, 3}, 8), "grus");
  });
  check_round_trip("stateful", [] {
    clear_session();
    auto in = Input({4, 2}, {.batch_size = 2});
    auto h = LSTM(3, {.stateful = true})(in);
    return single(in, {h}, uniform({2, 4, 2}, 9), "stateful");
  });
}

TEST(Config, Bidirectional) {
  check_round_trip("bidirectional", [] {
    clear_session();
    auto in = Input({5, 3});
    auto h = Bidirectional(LSTM(3, {.return_sequences = true}))(in);
    h = Bidirectional(GRU(2, {.return_sequences = true}), {.merge_mode = "sum"})(h);
    h = Bidirectional(SimpleRNN(2, {.return_sequences = true}), {.merge_mode = "mul"})(h);
    auto backward = std::make_shared<layers::LSTM>(2, LSTMOptions{.return_state = true, .go_backwards = true});
    auto last = Bidirectional(LSTM(2, {.return_state = true}), {.merge_mode = "none", .backward_layer = backward})(h);
    auto ave = Bidirectional(GRU(2), {.merge_mode = "ave"})(h);
    return single(in, {last[0], last[1], last[2], last[3], last[4], last[5], ave}, uniform({2, 5, 3}, 10), "bidi");
  });
}

TEST(Config, AttentionDecoder) {
  check_round_trip("attention decoder", [] {
    clear_session();
    auto in = Input({5, 4});
    auto h = LSTM(6, {.return_sequences = true})(in);
    auto out = AttentionDecoder(3, 4, {.kernel_regularizer = regularizers::l2(0.001f)})(h);
    auto probs = AttentionDecoder(2, 3, {.return_probabilities = true})(h);
    return single(in, {out, probs}, uniform({2, 5, 4}, 11), "attention");
  });
}

TEST(Config, SequentialModels) {
  check_round_trip("sequential", [] {
    clear_session();
    auto m = std::make_unique<Sequential>("seq");
    m->add(Input({4, 3}));
    m->add(LSTM(5, {.return_sequences = true}));
    m->add(TimeDistributed(Dense(2)));
    m->add(Flatten());
    m->add(Dense(1));
    return Built{std::move(m), Tensors{uniform({3, 4, 3}, 12)}};
  });
  check_round_trip("sequential built from data", [] {
    clear_session();
    auto m = std::make_unique<Sequential>(std::vector<LayerRef>{GRU(3), Dense(2, {.activation = "softmax"})});
    Tensor x = uniform({2, 6, 4}, 13);
    m->predict(x);  // builds it
    return Built{std::move(m), Tensors{x}};
  });
  // The Keras class name and the InputLayer entry.
  clear_session();
  Sequential s({LSTM(2), Dense(1)});
  expect_error<ValueError>([&] { s.to_json(); }, {"not built"});
  s.predict(uniform({1, 3, 2}, 1));
  const json j = json::parse(s.to_json());
  EXPECT_EQ(j["class_name"], "Sequential");
  EXPECT_EQ(j["config"]["layers"][0]["class_name"], "InputLayer");
  EXPECT_EQ(j["config"]["layers"][0]["config"]["batch_input_shape"], json::parse("[null, 3, 2]"));
  EXPECT_EQ(j["config"]["layers"][1]["class_name"], "LSTM");
  EXPECT_EQ(j["keras_version"], "2.13.1");
}

TEST(Config, SharedLayersAcrossModelsAreRenumbered) {
  // Seed 02's three models share the decoder LSTM and Dense: each model's
  // JSON numbers a layer's calls among its own calls, as Keras does.
  clear_session();
  set_seed(3);
  const int64_t C = 5, U = 4;
  auto enc_in = Input({None, C});
  auto enc = LSTM(U, {.return_state = true})(enc_in);
  auto dec_in = Input({None, C});
  auto dec_lstm = LSTM(U, {.return_sequences = true, .return_state = true});
  auto dec = dec_lstm(dec_in, {.initial_state = {enc[1], enc[2]}});
  auto dense = Dense(C, {.activation = "softmax"});
  Model train({enc_in, dec_in}, {dense(dec[0])}, "train");
  Model encoder({enc_in}, {enc[1], enc[2]}, "encoder");
  auto h_in = Input({U}), c_in = Input({U});
  auto step = dec_lstm(dec_in, {.initial_state = {h_in, c_in}});
  Model decoder({dec_in, h_in, c_in}, {dense(step[0]), step[1], step[2]}, "decoder");

  const json jd = json::parse(decoder.to_json());
  for (const auto& l : jd["config"]["layers"]) {
    if (l["name"] == dec_lstm.name()) {
      ASSERT_EQ(l["inbound_nodes"].size(), 1u);  // call 1 overall, call 0 in this model
      EXPECT_EQ(l["inbound_nodes"][0][1][0], h_in.node()->layer->name());
    }
  }
  EXPECT_EQ(jd["config"]["output_layers"][0][1], 0);
  const json jt = json::parse(train.to_json());
  EXPECT_EQ(jt["config"]["layers"].size(), 5u);

  Tensors xt{uniform({2, 3, C}, 1), uniform({2, 3, C}, 2)};
  Tensors xd{uniform({2, 1, C}, 3), uniform({2, U}, 4), uniform({2, U}, 5)};
  for (Model* m : {&train, &encoder, &decoder}) {
    auto m2 = model_from_json(m->to_json());
    EXPECT_EQ(m2->to_json(), m->to_json());
    copy_weights(*m, *m2);
    const Tensors& x = m == &train ? xt : (m == &encoder ? Tensors{xt[0]} : xd);
    expect_bit_equal(m2->predict(x), m->predict(x), m->name());
  }

  // A layer called twice inside one model keeps both calls and its weights
  // stay shared after the round trip.
  clear_session();
  auto a = Input({3}), b = Input({3});
  auto shared = Dense(2, {.name = "shared"});
  Model twice({a, b}, {Add()({shared(a), shared(b)})}, "twice");
  const json jw = json::parse(twice.to_json());
  for (const auto& l : jw["config"]["layers"])
    if (l["name"] == "shared") {
      EXPECT_EQ(l["inbound_nodes"].size(), 2u);
    }
  auto t2 = model_from_json(twice.to_json());
  EXPECT_EQ(t2->count_params(), 8);
  copy_weights(twice, *t2);
  Tensors x2{uniform({2, 3}, 6), uniform({2, 3}, 7)};
  expect_bit_equal(t2->predict(x2), twice.predict(x2), "twice");
}

TEST(Config, LayerConfigsUseKerasKeys) {
  clear_session();
  layers::LSTM lstm(8, LSTMOptions{.return_sequences = true, .name = "enc"});
  const json c = lstm.get_config();
  for (const char* k : {"name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful",
                        "unroll", "time_major", "units", "activation", "recurrent_activation", "use_bias",
                        "kernel_initializer", "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                        "recurrent_dropout", "implementation"}) {
    EXPECT_TRUE(c.contains(k)) << k;
  }
  EXPECT_EQ(c["kernel_initializer"], json::parse(R"({"class_name": "GlorotUniform", "config": {"seed": null}})"));
  EXPECT_EQ(c["recurrent_initializer"]["class_name"], "Orthogonal");
  EXPECT_EQ(c["units"], 8);
  EXPECT_FALSE(c.contains("zero_output_for_mask"));
  layers::Dropout d(0.1f);
  EXPECT_EQ(d.get_config()["rate"].dump(), "0.1");  // the float's shortest decimal
  layers::Bidirectional bi(std::make_shared<layers::GRU>(3), {.name = "bi"});
  const json bc = bi.get_config();
  EXPECT_EQ(bc["layer"]["class_name"], "GRU");
  EXPECT_EQ(bc["merge_mode"], "concat");
  EXPECT_TRUE(bc["layer"]["config"]["reset_after"].get<bool>());
  EXPECT_FALSE(bc["layer"]["config"].contains("zero_output_for_mask"));
  // Layer classes without get_config say so.
  struct NoConfig : Layer {
    NoConfig() : Layer("NoConfig", "nc") {}
    std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override { return in; }
    std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) override { return in; }
    std::vector<Tensor> backward_impl(const std::vector<Tensor>& d, Cache&) override { return d; }
  } nc;
  expect_error<ValueError>([&] { nc.get_config(); }, {"NoConfig \"nc\"", "not serializable"});
  // The registry covers every built-in layer.
  const auto names = registered_layers();
  const std::set<std::string> have(names.begin(), names.end());
  for (const char* n : {"Dense", "Activation", "Dropout", "RepeatVector", "Flatten", "Reshape", "Masking", "Embedding",
                        "Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate", "TimeDistributed", "LSTM",
                        "GRU", "SimpleRNN", "Bidirectional", "AttentionDecoder"}) {
    EXPECT_TRUE(have.count(n)) << n;
  }
}

TEST(Config, WeightsComeInKerasOrder) {
  // Layer order, Keras's weight names and order inside each layer, and
  // frozen weights last (Keras's Model.weights = trainable + non-trainable).
  clear_session();
  auto in = Input({3, 2});
  auto h = Bidirectional(LSTM(2, {.return_sequences = true}))(in);
  auto frozen = Dense(2, {.name = "frozen"});
  h = frozen(h);
  auto out = GRU(1)(h);
  Model m({in}, {out});
  std::vector<Shape> shapes;
  for (const auto& w : m.get_weights()) shapes.push_back(w.shape());
  const std::vector<Shape> keras{{2, 8}, {2, 8}, {8}, {2, 8}, {2, 8}, {8}, {4, 2}, {2}, {2, 3}, {1, 3}, {2, 3}};
  EXPECT_EQ(shapes, keras);
  for (Param* p : frozen->params()) p->trainable = false;
  shapes.clear();
  for (const auto& w : m.get_weights()) shapes.push_back(w.shape());
  const std::vector<Shape> frozen_last{{2, 8}, {2, 8}, {8}, {2, 8}, {2, 8}, {8}, {2, 3}, {1, 3}, {2, 3}, {4, 2}, {2}};
  EXPECT_EQ(shapes, frozen_last);
  auto w = m.get_weights();
  w[9].fill(0.5f);  // the frozen kernel
  m.set_weights(w);
  EXPECT_EQ(frozen.get_weights()[0][0], 0.5f);
}

TEST(Config, TrainableFlagsSurvive) {
  clear_session();
  auto in = Input({3});
  auto frozen = Dense(2, {.name = "frozen"});
  auto out = Dense(1)(frozen(in));
  Model m({in}, {out});
  for (Param* p : frozen->params()) p->trainable = false;
  const json j = json::parse(m.to_json());
  EXPECT_FALSE(j["config"]["layers"][1]["config"]["trainable"].get<bool>());
  auto m2 = model_from_json(m.to_json());
  for (Param* p : m2->get_layer("frozen")->params()) EXPECT_FALSE(p->trainable);
  for (Param* p : m2->get_layer(2)->params()) EXPECT_TRUE(p->trainable);
}

// ---------------------------------------------------------------- Keras 2 files

TEST(Config, LoadsKeras2FunctionalSeq2Seq) {
  // As tf.keras 2.13's model.to_json() writes the tutorial's training model
  // (initializers in the 2.13 form with "module" and "registered_name").
  const std::string text = read_file(std::string(SEQNET_FIXTURE_DIR) + "/keras/seq2seq_train_functional.json");
  auto m = model_from_json(text);
  EXPECT_EQ(m->name(), "model");
  EXPECT_EQ(m->inputs().size(), 2u);
  EXPECT_EQ(m->count_params(), 2 * 4 * 128 * (51 + 128 + 1) + 128 * 51 + 51);  // 190,899
  EXPECT_EQ(m->get_layer("lstm_1").as<layers::LSTM>().config().return_state, true);
  Tensors out = m->predict({uniform({2, 6, 51}, 1), uniform({2, 3, 51}, 2)});
  EXPECT_EQ(out[0].shape(), (Shape{2, 3, 51}));
  // Written back, it is the same architecture.
  const json back = json::parse(m->to_json());
  const json orig = json::parse(text);
  EXPECT_EQ(back["config"]["input_layers"], orig["config"]["input_layers"]);
  EXPECT_EQ(back["config"]["output_layers"], orig["config"]["output_layers"]);
  for (size_t i = 0; i < orig["config"]["layers"].size(); ++i) {
    EXPECT_EQ(back["config"]["layers"][i]["inbound_nodes"], orig["config"]["layers"][i]["inbound_nodes"]) << i;
  }
}

TEST(Config, LoadsKeras2SequentialForms) {
  // tf.keras 2.x: an InputLayer entry first.
  auto a = model_from_json(read_file(std::string(SEQNET_FIXTURE_DIR) + "/keras/sequential_lstm.json"));
  ASSERT_NE(dynamic_cast<Sequential*>(a.get()), nullptr);
  EXPECT_EQ(a->count_params(), 1728 + 170);
  EXPECT_EQ(a->inputs()[0].shape(), (Shape{None, 4, 10}));
  // Keras 2.2: batch_input_shape in the first layer, VarianceScaling
  // initializers, an Embedding and a Bidirectional GRU.
  auto b = model_from_json(read_file(std::string(SEQNET_FIXTURE_DIR) + "/keras/sequential_keras22.json"));
  EXPECT_EQ(b->inputs()[0].shape(), (Shape{None, 20}));
  EXPECT_EQ(b->get_layer("embedding_1").as<layers::Embedding>().options().mask_zero, true);
  auto& bi = b->get_layer("bidirectional_1").as<layers::Bidirectional>();
  EXPECT_EQ(bi.forward_layer().class_name(), "GRU");
  EXPECT_FALSE(dynamic_cast<layers::GRU&>(bi.forward_layer()).reset_after());
  EXPECT_EQ(bi.forward_layer().config().kernel_initializer.name, "glorot_uniform");
  Tensors out = b->predict(ids({3, 20}, 1, 0, 100));
  EXPECT_EQ(out[0].shape(), (Shape{3, 1}));
  // The old form with initial_state as a call keyword.
  auto c = model_from_json(read_file(std::string(SEQNET_FIXTURE_DIR) + "/keras/initial_state_kwarg.json"));
  EXPECT_EQ(c->get_layer("decoder")->inbound_nodes().size(), 1u);
  EXPECT_EQ(c->predict({uniform({1, 2, 3}, 1), uniform({1, 2, 3}, 2)})[0].shape(), (Shape{1, 2, 4}));
}

// ---------------------------------------------------------------- errors

namespace {

json lstm_model(const std::function<void(json& lstm_config)>& edit) {
  clear_session();
  auto in = Input({3, 2});
  Model m({in}, {LSTM(2, {.name = "lstm"})(in)}, "m");
  json j = json::parse(m.to_json());
  edit(j["config"]["layers"][1]["config"]);
  return j;
}

}  // namespace

TEST(Config, RejectsWhatWouldChangeTheMath) {
  auto load = [](const json& j) { return model_from_json(j.dump()); };
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["time_major"] = true; })); },
                           {"LSTM \"lstm\" config", "`time_major`", "true"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["activation"] = "swish"; })); },
                           {"`activation`", "unknown activation 'swish'"});
  expect_error<ValueError>(
      [&] {
        load(lstm_model([](json& c) { c["kernel_constraint"] = {{"class_name", "MaxNorm"}, {"config", {}}}; }));
      },
      {"`kernel_constraint`", "constraints"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["dtype"] = "float64"; })); },
                           {"`dtype`", "float32"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["activity_regularizer"] = {{"class_name", "L2"}}; })); },
                           {"activity_regularizer"});
  expect_error<ValueError>(
      [&] { load(lstm_model([](json& c) { c["kernel_initializer"] = {{"class_name", "Magic"}, {"config", {}}}; })); },
      {"unknown initializer 'magic'"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["units"] = -3; })); }, {"`units`", "[1, 16777216]"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["units"] = 1e30; })); }, {"`units`"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["units"] = "16"; })); }, {"`units`", "integer"});
  expect_error<ValueError>([&] { load(lstm_model([](json& c) { c["dropout"] = 1.5; })); }, {"`dropout`"});
  // Harmless keys are accepted: unroll, implementation, seeds, unknown keys.
  EXPECT_NO_THROW(load(lstm_model([](json& c) {
    c["unroll"] = true;
    c["implementation"] = 1;
    c["kernel_initializer"]["config"]["seed"] = 42;
    c["some_future_key"] = "whatever";
  })));
  // Other layers.
  const std::string dropout = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3]}},
      {"class_name": "Dropout", "config": {"name": "d", "rate": 0.5, "noise_shape": [null, 1]}}]}})";
  expect_error<ValueError>([&] { model_from_json(dropout); }, {"Dropout \"d\"", "noise_shape"});
  const std::string unknown = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3]}},
      {"class_name": "Conv1D", "config": {"name": "c", "filters": 2}}]}})";
  expect_error<ValueError>([&] { model_from_json(unknown); }, {"unknown layer class 'Conv1D'", "LSTM"});
  const std::string flatten = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 2]}},
      {"class_name": "Flatten", "config": {"name": "f", "data_format": "channels_first"}}]}})";
  expect_error<ValueError>([&] { model_from_json(flatten); }, {"data_format"});
  const std::string ragged = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "ragged": true}},
      {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}})";
  expect_error<ValueError>([&] { model_from_json(ragged); }, {"ragged"});
}

TEST(Config, RejectsMalformedAndHostileJson) {
  expect_error<IOError>([] { model_from_json("{\"class_name\": "); }, {"invalid JSON"});
  expect_error<IOError>([] { model_from_json(std::string(100000, '[') + std::string(100000, ']')); },
                        {"nested deeper than 64"});
  expect_error<IOError>([] { model_from_json(R"({"class_name": "Sequential", "config": {"x": 1e999}})"); },
                        {"number overflow"});
  expect_error<ValueError>([] { model_from_json("[1, 2]"); }, {"Sequential", "Functional"});
  expect_error<ValueError>([] { model_from_json(R"({"class_name": "Graph", "config": {}})"); },
                           {"unsupported model class 'Graph'"});
  // Shapes and sizes beyond the limits.
  const std::string huge_input = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16777216, 16777216, 16777216]}}]}})";
  expect_error<ValueError>([&] { model_from_json(huge_input); }, {"2^40"});
  const std::string huge_dense = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16777216]}},
      {"class_name": "Dense", "config": {"name": "d", "units": 16777216}}]}})";
  expect_error<ValueError>([&] { model_from_json(huge_dense); }, {"Dense \"d\"", "kernel", "more than allowed"});
  // Graph errors.
  auto functional = [](const std::string& layers, const std::string& outputs) {
    return R"({"class_name": "Functional", "config": {"name": "f", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}, "name": "in",
         "inbound_nodes": []}, )" +
           layers + R"(], "input_layers": [["in", 0, 0]], "output_layers": )" + outputs + "}}";
  };
  expect_error<ValueError>(
      [&] {
        model_from_json(functional(R"({"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d",
                                       "inbound_nodes": [[["nowhere", 0, 0, {}]]]})",
                                   R"([["d", 0, 0]])"));
      },
      {"unknown layer 'nowhere'"});
  expect_error<ValueError>(
      [&] {
        model_from_json(functional(R"({"class_name": "Dense", "config": {"name": "a", "units": 3}, "name": "a",
                                       "inbound_nodes": [[["b", 0, 0, {}]]]},
                                      {"class_name": "Dense", "config": {"name": "b", "units": 3}, "name": "b",
                                       "inbound_nodes": [[["a", 0, 0, {}]]]})",
                                   R"([["a", 0, 0]])"));
      },
      {"cycle"});
  expect_error<ValueError>(
      [&] {
        model_from_json(functional(R"({"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d",
                                       "inbound_nodes": [[["in", 0, 0, {}]]]})",
                                   R"([["d", 3, 0]])"));
      },
      {"'d' call 3"});
  expect_error<ValueError>(
      [&] {
        model_from_json(functional(R"({"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d",
                                       "inbound_nodes": [[["in", 0, 0, {"training": true}]]]})",
                                   R"([["d", 0, 0]])"));
      },
      {"call argument 'training'"});
  expect_error<ValueError>(
      [&] {
        model_from_json(functional(R"({"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d",
                                       "inbound_nodes": [{"args": [], "kwargs": {}}]})",
                                   R"([["d", 0, 0]])"));
      },
      {"Keras 3"});
  expect_error<ShapeError>(
      [&] {
        model_from_json(functional(R"({"class_name": "LSTM", "config": {"name": "l", "units": 2}, "name": "l",
                                       "inbound_nodes": [[["in", 0, 0, {}]]]})",
                                   R"([["l", 0, 0]])"));
      },
      {"LSTM \"l\"", "(batch, time"});
}
