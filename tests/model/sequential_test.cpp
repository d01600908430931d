// Sequential models (src/model/model.cpp): the list constructor, add(),
// add(Input(...)), lazy building from the first data, and their errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

using seqnet::testing::expect_error;

std::vector<std::string> layer_names(const Model& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers()) out.push_back(l.name());
  return out;
}

}  // namespace

TEST(Sequential, AddWithInputBuildsAtOnce) {
  clear_session();
  Sequential model("seq");
  model.add(Input({4, 10}));
  model.add(LSTM(16));
  model.add(RepeatVector(4));
  model.add(Dense(10, {.activation = "softmax"}));
  // Layers exclude the InputLayer, as in Keras.
  EXPECT_EQ(layer_names(model), (std::vector<std::string>{"lstm", "repeat_vector", "dense"}));
  ASSERT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(model.inputs()[0].shape(), (Shape{None, 4, 10}));
  ASSERT_EQ(model.outputs().size(), 1u);
  EXPECT_EQ(model.outputs()[0].shape(), (Shape{None, 4, 10}));
  EXPECT_EQ(model.count_params(), 1898);
  EXPECT_EQ(model.get_layer(1).name(), "repeat_vector");
  EXPECT_EQ(model.layers()[0].output().shape(), (Shape{None, 16}));
  Tensor y = model.predict(random_tensor({3, 4, 10}, 1));
  EXPECT_EQ(y.shape(), (Shape{3, 4, 10}));
}

TEST(Sequential, ListConstructorBuildsLazilyFromData) {
  clear_session();
  Sequential model({LSTM(8, {.return_sequences = true}), TimeDistributed(Dense(3, {.activation = "softmax"}))});
  EXPECT_EQ(model.name(), "sequential");
  EXPECT_TRUE(model.inputs().empty());
  EXPECT_NE(model.summary_string().find("not built yet"), std::string::npos);
  // The first data fixes the input shape: (None, 5, 2).
  Tensor y = model.predict(random_tensor({2, 5, 2}, 1));
  EXPECT_EQ(y.shape(), (Shape{2, 5, 3}));
  ASSERT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(model.inputs()[0].shape(), (Shape{None, 5, 2}));
  EXPECT_EQ(model.count_params(), 4 * 8 * (2 + 8 + 1) + 8 * 3 + 3);
  // Once built, other shapes are rejected.
  expect_error<ShapeError>([&] { model.predict(random_tensor({2, 5, 3}, 1)); }, {"(None, 5, 2)", "(2, 5, 3)"});
}

TEST(Sequential, CompileBeforeBuildThenFit) {
  set_seed(1);
  Sequential model;
  model.add(Dense(4, {.activation = "tanh"}));
  model.add(Dense(1));
  model.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor x = random_tensor({16, 3}, 2), y = random_tensor({16, 1}, 3);
  History h = model.fit(x, y, {.epochs = 3, .batch_size = 8, .verbose = 0});
  EXPECT_EQ(h["loss"].size(), 3u);
  EXPECT_EQ(model.inputs()[0].shape(), (Shape{None, 3}));
}

TEST(Sequential, ListAndAddGiveTheSameModel) {
  clear_session();
  Sequential a({Dense(2)});  // list constructor
  clear_session();
  Sequential b;
  b.add(Dense(2));
  a.predict(random_tensor({1, 3}, 1));
  b.predict(random_tensor({1, 3}, 1));
  EXPECT_EQ(a.count_params(), b.count_params());
  EXPECT_EQ(layer_names(a), layer_names(b));
}

TEST(Sequential, Errors) {
  clear_session();
  Sequential model("s");
  expect_error<ValueError>([&] { model.predict(random_tensor({1, 3}, 1)); }, {"s", "no layers"});
  // Layers with several outputs need the functional API.
  expect_error<ValueError>([&] { model.add(LSTM(4, {.return_state = true})); },
                           {"single output", "lstm", "3", "functional"});
  expect_error<ValueError>([&] { model.add(LayerRef()); }, {"empty layer"});
  model.add(Dense(2));
  // The input must come first.
  expect_error<ValueError>([&] { model.add(Input({3})); }, {"input must be added before any layer"});
  // add() takes Input tensors only, not arbitrary symbolic tensors.
  Sequential other("o");
  auto t = Dense(2)(Input({3}));
  expect_error<ValueError>([&] { other.add(static_cast<SymbolicTensor>(t)); }, {"Input(...)"});

  // A layer that does not fit the previous output: an LSTM after a 2-D input.
  Sequential bad("b");
  bad.add(Input({3}));
  expect_error<Error>([&] { bad.add(LSTM(4)); }, {"lstm", "(None, 3)"});

  // Lazy build needs exactly one array.
  Sequential lazy("l");
  lazy.add(Dense(2));
  expect_error<ValueError>([&] { lazy.predict({random_tensor({1, 3}, 1), random_tensor({1, 3}, 2)}); },
                           {"l", "one input array", "got 2"});
}
