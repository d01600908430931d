// Functional models (src/model/model.cpp): graph analysis, layers and
// weights, shared layers (weights and gradients), sub-models cut from a
// trained model, the seed 02 inference models, and graph errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

using seqnet::testing::expect_error;

// Rows [t, t+1) of the time axis of a (B, T, F) tensor, as (B, 1, F).
Tensor time_step(const Tensor& x, int64_t t) {
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor out({B, 1, F});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t f = 0; f < F; ++f) out.at(b, 0, f) = x.at(b, t, f);
  (void)T;
  return out;
}

// One-hot (B, T, C) of random ids.
Tensor random_one_hot(int64_t B, int64_t T, int64_t C, uint64_t seed) {
  Generator g(seed);
  Tensor x({B, T, C});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) x.at(b, t, static_cast<int64_t>(g.below(static_cast<uint64_t>(C)))) = 1.0f;
  return x;
}

}  // namespace

TEST(Model, LayersInputsOutputsAndGetLayer) {
  clear_session();
  auto a = Input({4, 3});
  auto b = Input({5});
  auto enc = LSTM(6, {.return_state = true})(a);
  auto merged = Concatenate()({enc[0], Dense(6)(b)});
  auto out1 = Dense(2, {.activation = "softmax", .name = "class"})(merged);
  auto out2 = Dense(1, {.name = "value"})(enc[2]);
  Model model({a, b}, {out1, out2}, "two_by_two");

  EXPECT_EQ(model.name(), "two_by_two");
  ASSERT_EQ(model.inputs().size(), 2u);
  EXPECT_TRUE(model.inputs()[0] == a);
  EXPECT_TRUE(model.inputs()[1] == b);
  ASSERT_EQ(model.outputs().size(), 2u);
  EXPECT_TRUE(model.outputs()[0] == static_cast<SymbolicTensor>(out1));

  std::vector<std::string> names;
  for (const auto& l : model.layers()) names.push_back(l.name());
  // Input layers first (in input order), then layer calls in creation order.
  const std::vector<std::string> want = {"input_1", "input_2", "lstm", "dense", "concatenate", "class", "value"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(model.get_layer("lstm").name(), "lstm");
  EXPECT_EQ(model.get_layer(2).name(), "lstm");
  EXPECT_EQ(model.get_layer(0)->class_name(), "InputLayer");
  expect_error<ValueError>([&] { model.get_layer("nope"); }, {"two_by_two", "'nope'", "lstm", "concatenate"});
  expect_error<ValueError>([&] { model.get_layer(7); }, {"index 7", "7 layers"});
  expect_error<ValueError>([&] { model.get_layer(-1); }, {"index -1"});

  // Several inputs and outputs: predict returns one array per output.
  Tensors y = model.predict({random_tensor({3, 4, 3}, 1), random_tensor({3, 5}, 2)});
  ASSERT_EQ(y.size(), 2u);
  EXPECT_EQ(y[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(y[1].shape(), (Shape{3, 1}));
  for (int64_t i = 0; i < 3; ++i) EXPECT_NEAR(y[0].at(i, 0) + y[0].at(i, 1), 1.0f, 1e-5f);

  EXPECT_EQ(model.count_params(), 4 * 6 * (3 + 6 + 1) + (5 * 6 + 6) + (12 * 2 + 2) + (6 + 1));
}

TEST(Model, SharedLayerWeightsCountOnce) {
  auto a = Input({None, 3});
  auto b = Input({None, 3});
  auto lstm = LSTM(4);
  auto y = Add()({lstm(a), lstm(b)});
  Model model({a, b}, {y});
  EXPECT_EQ(model.params().size(), 3u);
  EXPECT_EQ(model.count_params(), 4 * 4 * (3 + 4 + 1));
  EXPECT_EQ(model.get_weights().size(), 3u);
  // Applying the same layer to the same data on both branches doubles it.
  Tensor x = random_tensor({2, 5, 3}, 3);
  Tensor twice = model.predict({x, x});
  Model single({a}, {lstm.get_output_at(0)[0]});
  Tensor once = single.predict(x);
  for (int64_t i = 0; i < once.size(); ++i) EXPECT_FLOAT_EQ(twice[i], 2.0f * once[i]);
}

TEST(Model, GetAndSetWeights) {
  auto x = Input({3});
  auto y = Dense(2)(Dense(4)(x));
  Model model({x}, {y});
  auto w = model.get_weights();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].shape(), (Shape{3, 4}));
  EXPECT_EQ(w[3].shape(), (Shape{2}));
  for (auto& t : w) t.fill(0.5f);
  model.set_weights(w);
  Tensor out = model.predict(Tensor({1, 3}, {1, 1, 1}));
  // hidden = 3 * 0.5 + 0.5 = 2 per unit; out = 4 * 2 * 0.5 + 0.5 = 4.5
  EXPECT_FLOAT_EQ(out[0], 4.5f);
  EXPECT_FLOAT_EQ(out[1], 4.5f);
  // get_weights returns copies.
  w[0].fill(9.0f);
  EXPECT_FLOAT_EQ(model.get_weights()[0][0], 0.5f);

  expect_error<ValueError>([&] { model.set_weights({w[0]}); }, {"expected 4 arrays", "got 1"});
  std::vector<Tensor> bad = model.get_weights();
  bad[1] = Tensor({5});
  expect_error<ShapeError>([&] { model.set_weights(bad); }, {"weight 1", "(4,)", "(5,)"});
}

TEST(Model, GraphErrors) {
  clear_session();
  auto a = Input({3});
  auto b = Input({3});
  auto fb = Dense(2)(b);
  // Outputs that do not depend on the inputs.
  expect_error<ValueError>([&] { Model m({a}, {fb}); }, {"graph disconnected", "input_2", "input_1[0][0]"});
  // An input listed twice.
  auto fa = Dense(2)(a);
  expect_error<ValueError>([&] { Model m({a, a}, {fa}); }, {"input 1", "input_1[0][0]", "listed twice"});
  // Empty lists and empty tensors.
  expect_error<ValueError>([&] { Model m({}, {fa}); }, {"at least one input"});
  expect_error<ValueError>([&] { Model m({a}, {}); }, {"at least one output"});
  expect_error<ValueError>([&] { Model m({a}, {SymbolicTensor()}); }, {"output 0", "empty"});
  // An intermediate tensor may serve as an input (Keras allows it too).
  auto h = Dense(4)(a);
  auto out = Dense(1)(h);
  Model tail({h}, {out});
  Tensor t = tail.predict(random_tensor({2, 4}, 1));
  EXPECT_EQ(t.shape(), (Shape{2, 1}));
}

TEST(Model, SubModelKeepsTrainedWeights) {
  // Seed 02's standalone encoder: Model(model.inputs(), model.layers()[0].output()).
  set_seed(3);
  Sequential model;
  model.add(Input({5, 1}));
  model.add(LSTM(8, {.activation = "relu"}));
  model.add(RepeatVector(5));
  model.add(LSTM(8, {.activation = "relu", .return_sequences = true}));
  model.add(TimeDistributed(Dense(1)));
  model.compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "mse"});
  Tensor x({1, 5, 1}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f});
  const auto before = model.get_layer(0).get_weights();
  model.fit(x, x, {.epochs = 5, .verbose = 0});
  EXPECT_GT(max_abs_diff(before[0], model.get_layer(0).get_weights()[0]), 0.0f);

  Model encoder(model.inputs(), {model.layers()[0].output()});
  ASSERT_EQ(encoder.layers().size(), 2u);  // input + lstm
  const auto ew = encoder.get_weights();
  const auto lw = model.get_layer(0).get_weights();
  ASSERT_EQ(ew.size(), lw.size());
  for (size_t i = 0; i < ew.size(); ++i) EXPECT_EQ(max_abs_diff(ew[i], lw[i]), 0.0f);

  Tensor code = encoder.predict(x);
  EXPECT_EQ(code.shape(), (Shape{1, 8}));
  // The rest of the model applied to the code gives the full prediction.
  Tensor h = code;
  for (int i = 1; i < 4; ++i) h = model.get_layer(i)->forward(h);
  Tensor full = model.predict(x);
  EXPECT_EQ(full.shape(), h.shape());
  EXPECT_LE(max_abs_diff(full, h), 1e-6f);

  // Training the sub-model trains the shared layer of the big model.
  encoder.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  encoder.train_on_batch(x, Tensor({1, 8}, 1.0f));
  EXPECT_GT(max_abs_diff(model.get_layer(0).get_weights()[0], lw[0]), 0.0f);
}

TEST(Model, Seq2SeqInferenceModelsReproduceTrainingModelSteps) {
  // Seed 02's define_models: the decoder LSTM and Dense are called in the
  // training model and again in the inference decoder (shared weights).
  set_seed(11);
  const int64_t C = 7, units = 12, T_in = 5, T_out = 3, B = 4;
  auto encoder_inputs = Input({None, C});
  auto encoder = LSTM(units, {.return_state = true})(encoder_inputs);
  std::vector<SymbolicTensor> encoder_states{encoder[1], encoder[2]};
  auto decoder_inputs = Input({None, C});
  auto decoder_lstm = LSTM(units, {.return_sequences = true, .return_state = true});
  auto decoded = decoder_lstm(decoder_inputs, {.initial_state = encoder_states});
  auto decoder_dense = Dense(C, {.activation = "softmax"});
  Model train({encoder_inputs, decoder_inputs}, {decoder_dense(decoded[0])});
  Model infenc({encoder_inputs}, encoder_states);
  auto state_h = Input({units}), state_c = Input({units});
  auto step = decoder_lstm(decoder_inputs, {.initial_state = {state_h, state_c}});
  Model infdec({decoder_inputs, state_h, state_c}, {decoder_dense(step[0]), step[1], step[2]});
  EXPECT_EQ(train.count_params(), 2 * 4 * units * (C + units + 1) + units * C + C);
  EXPECT_EQ(infdec.count_params(), 4 * units * (C + units + 1) + units * C + C);

  Tensor x1 = random_one_hot(B, T_in, C, 1), x2 = random_one_hot(B, T_out, C, 2), y = random_one_hot(B, T_out, C, 3);
  train.compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "categorical_crossentropy"});
  for (int i = 0; i < 5; ++i) train.train_on_batch({x1, x2}, y);

  Tensor teacher = train.predict({x1, x2});  // (B, T_out, C)
  Tensors state = infenc.predict(x1);
  ASSERT_EQ(state.size(), 2u);
  for (int64_t t = 0; t < T_out; ++t) {
    Tensors s = infdec.predict({time_step(x2, t), state[0], state[1]});
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].shape(), (Shape{B, 1, C}));
    EXPECT_LE(max_abs_diff(s[0], time_step(teacher, t)), 1e-5f) << "step " << t;
    state = Tensors{s[1], s[2]};
  }
}

TEST(Model, SharedLayerReceivesTheSumOfBothGradients) {
  // A shared LSTM on two inputs against two separate LSTMs with the same
  // weights: the shared layer's gradient is the sum of the two.
  set_seed(5);
  const int64_t T = 4, I = 3, H = 5;
  auto a = Input({T, I}), b = Input({T, I});
  auto shared = LSTM(H);
  auto head = Dense(2);
  Model m1({a, b}, {head(Concatenate()({shared(a), shared(b)}))});

  auto a2 = Input({T, I}), b2 = Input({T, I});
  auto la = LSTM(H), lb = LSTM(H);
  auto head2 = Dense(2);
  Model m2({a2, b2}, {head2(Concatenate()({la(a2), lb(b2)}))});
  la.set_weights(shared.get_weights());
  lb.set_weights(shared.get_weights());
  head2.set_weights(head.get_weights());

  Tensor xa = random_tensor({3, T, I}, 21), xb = random_tensor({3, T, I}, 22), y = random_tensor({3, 2}, 23);
  m1.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  m2.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "mse"});
  const Logs l1 = m1.train_on_batch({xa, xb}, y);
  const Logs l2 = m2.train_on_batch({xa, xb}, y);
  EXPECT_NEAR(l1.at("loss"), l2.at("loss"), 1e-6);

  const auto ps = shared->params();
  const auto pa = la->params(), pb = lb->params();
  ASSERT_EQ(ps.size(), 3u);
  for (size_t k = 0; k < ps.size(); ++k) {
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < ps[k]->grad.size(); ++i) {
      const double want = static_cast<double>(pa[k]->grad[i]) + pb[k]->grad[i];
      worst = std::max(worst, std::abs(ps[k]->grad[i] - want));
      scale = std::max(scale, std::abs(want));
    }
    EXPECT_GT(scale, 1e-4) << ps[k]->name;
    EXPECT_LE(worst, 1e-6 + 1e-4 * scale) << ps[k]->name;
  }
}

TEST(Model, SharedLayerGradientMatchesFiniteDifferences) {
  // The same shared-layer graph, checked against central differences of the
  // model's loss (test_on_batch), in float: eps 1e-2 on the weights.
  set_seed(6);
  const int64_t T = 3, I = 2, H = 3;
  auto a = Input({T, I}), b = Input({T, I});
  auto shared = LSTM(H, {.return_sequences = true});
  auto y = TimeDistributed(Dense(1))(Add()({shared(a), shared(b)}));
  Model model({a, b}, {y});
  model.compile({.optimizer = SGD({.learning_rate = 1e-6f}), .loss = "mse"});
  Tensor xa = random_tensor({2, T, I}, 31), xb = random_tensor({2, T, I}, 32), target = random_tensor({2, T, 1}, 33);

  const auto w0 = model.get_weights();
  model.train_on_batch({xa, xb}, target);
  std::vector<Tensor> grads;
  for (Param* p : shared->params()) grads.push_back(p->grad.clone());
  model.set_weights(w0);

  const double eps = 1e-2;
  auto loss_at = [&]() { return model.test_on_batch({xa, xb}, target).at("loss"); };
  const auto params = shared->params();
  int checked = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    Tensor& w = params[k]->value;
    for (int64_t i = 0; i < w.size(); i += 3) {
      const float orig = w[i];
      w[i] = orig + static_cast<float>(eps);
      const double lp = loss_at();
      w[i] = orig - static_cast<float>(eps);
      const double lm = loss_at();
      w[i] = orig;
      const double numeric = (lp - lm) / (2 * eps);
      EXPECT_NEAR(grads[k][i], numeric, 2e-3 + 2e-2 * std::abs(numeric)) << params[k]->name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

TEST(Model, MultipleInputsCheckedByCount) {
  clear_session();
  auto a = Input({2}), b = Input({3});
  Model model({a, b}, {Dense(1)(Concatenate()({a, b}))}, "pair");
  expect_error<ValueError>([&] { model.predict(random_tensor({4, 2}, 1)); },
                           {"pair", "expected 2 input arrays", "got 1"});
  expect_error<ShapeError>([&] { model.predict({random_tensor({4, 2}, 1), random_tensor({4, 4}, 2)}); },
                           {"input 1", "input_2", "(None, 3)", "(4, 4)"});
  expect_error<ShapeError>([&] { model.predict({random_tensor({4, 2}, 1), random_tensor({5, 3}, 2)}); },
                           {"same number of samples", "4", "5"});
}
