// Symbolic tensors and graph nodes (src/model/symbolic.cpp, layer_ref.cpp):
// Input shapes with None, nodes added by layer calls, return_state
// unpacking, Keras-style unique names and clear_session().

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

using seqnet::testing::expect_error;

}  // namespace

TEST(Symbolic, InputShapesHaveNoneBatch) {
  auto a = Input({4, 10});
  EXPECT_EQ(a.shape(), (Shape{None, 4, 10}));
  EXPECT_EQ(a.rank(), 3);
  EXPECT_TRUE(a.node()->is_input);
  EXPECT_EQ(a.layer().class_name(), "InputLayer");

  auto b = Input({None, 51});
  EXPECT_EQ(b.shape(), (Shape{None, None, 51}));
  auto c = Input({16});
  EXPECT_EQ(c.shape(), (Shape{None, 16}));
  auto d = Input({4, 3}, {.batch_size = 8});
  EXPECT_EQ(d.shape(), (Shape{8, 4, 3}));
  auto e = Input({2}, {.name = "my_input"});
  EXPECT_EQ(e.layer().name(), "my_input");
}

TEST(Symbolic, InputRejectsBadShapes) {
  expect_error<ValueError>([] { Input({0, 3}); }, {"Input", "(0, 3)"});
  expect_error<ValueError>([] { Input({4, -2}); }, {"Input", "(4, -2)"});
  expect_error<ValueError>([] { Input({4}, {.batch_size = -1}); }, {"batch_size", "-1"});
}

TEST(Symbolic, CallingLayersAddsNodesAndInfersShapes) {
  auto x = Input({None, 10});
  auto lstm = LSTM(16, {.return_sequences = true});
  EXPECT_TRUE(lstm->inbound_nodes().empty());
  SymbolicTensor y = lstm(x);
  ASSERT_EQ(lstm->inbound_nodes().size(), 1u);
  EXPECT_EQ(y.shape(), (Shape{None, None, 16}));
  EXPECT_EQ(y.node()->inputs.size(), 1u);
  EXPECT_TRUE(y.node()->inputs[0] == x);
  EXPECT_EQ(y.node()->node_index, 0);
  EXPECT_TRUE(lstm->built());
  EXPECT_EQ(lstm->count_params(), 4 * 16 * (10 + 16 + 1));

  SymbolicTensor z = Dense(3)(y);
  EXPECT_EQ(z.shape(), (Shape{None, None, 3}));
  // Creation order of nodes is increasing.
  EXPECT_LT(y.node()->id, z.node()->id);
}

TEST(Symbolic, ReturnStateUnpacksIntoOutputHC) {
  clear_session();
  auto x = Input({4, 10});
  auto outs = LSTM(16, {.return_state = true})(x);
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[0].shape(), (Shape{None, 16}));
  EXPECT_EQ(outs[1].shape(), (Shape{None, 16}));
  EXPECT_EQ(outs[2].shape(), (Shape{None, 16}));
  EXPECT_EQ(outs[1].describe(), "lstm[0][1]");
  EXPECT_EQ(outs[2].describe(), "lstm[0][2]");

  auto seq = LSTM(16, {.return_sequences = true, .return_state = true})(x);
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[0].shape(), (Shape{None, 4, 16}));
  EXPECT_EQ(seq[1].shape(), (Shape{None, 16}));
  EXPECT_EQ(seq[2].shape(), (Shape{None, 16}));

  // A multi-output call cannot be used as a single tensor.
  expect_error<ValueError>([&] { SymbolicTensor t = outs; (void)t; }, {"3 outputs", "lstm[0][0]"});
  expect_error<ValueError>([&] { (void)outs[3]; }, {"index 3", "3 outputs"});
  // Feeding the states as initial_state of another LSTM.
  auto y = LSTM(16, {.return_sequences = true})(seq[0], {.initial_state = {seq[1], seq[2]}});
  EXPECT_EQ(y.shape(), (Shape{None, 4, 16}));
  ASSERT_EQ(y[0].node()->inputs.size(), 3u);
  EXPECT_EQ(y[0].node()->inputs[1].describe(), "lstm_1[0][1]");
}

TEST(Symbolic, SharedLayerCalledTwiceHasTwoNodesAndOneWeightSet) {
  clear_session();
  auto a = Input({None, 5});
  auto b = Input({None, 5});
  auto lstm = LSTM(7);
  auto ya = lstm(a);
  auto yb = lstm(b);
  ASSERT_EQ(lstm->inbound_nodes().size(), 2u);
  EXPECT_EQ(static_cast<SymbolicTensor>(ya).describe(), "lstm[0][0]");
  EXPECT_EQ(static_cast<SymbolicTensor>(yb).describe(), "lstm[1][0]");
  EXPECT_EQ(lstm->params().size(), 3u);
  // output() is ambiguous for a layer with two calls; get_output_at is not.
  expect_error<ValueError>([&] { (void)lstm.output(); }, {"lstm", "2 times", "get_output_at"});
  EXPECT_TRUE(lstm.get_output_at(1)[0] == static_cast<SymbolicTensor>(yb));
  expect_error<ValueError>([&] { (void)lstm.get_output_at(2); }, {"node index 2", "2 calls"});
  // A later call must fit the built weights.
  auto c = Input({None, 6});
  expect_error<Error>([&] { lstm(c); }, {"lstm"});
}

TEST(Symbolic, LayerOutputAndInputOfASingleCall) {
  auto x = Input({3, 2});
  auto dense = Dense(4);
  expect_error<ValueError>([&] { (void)dense.output(); }, {"not been called"});
  auto y = dense(x);
  EXPECT_TRUE(dense.output()[0] == static_cast<SymbolicTensor>(y));
  EXPECT_TRUE(dense.input()[0] == x);
}

TEST(Symbolic, ShapeMismatchOnCallNamesLayerAndShapes) {
  clear_session();
  auto x = Input({4});  // (None, 4): rank 2, an LSTM wants rank 3
  try {
    LSTM(8)(x);
    ADD_FAILURE() << "expected ShapeError";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("lstm"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 4)"), std::string::npos) << msg;
  }
  // initial_state on a layer that takes none.
  auto s = Input({4, 3});
  auto h = Input({8});
  expect_error<ValueError>([&] { Dense(3)(s, {.initial_state = {h}}); }, {"initial_state"});
}

TEST(Symbolic, KerasStyleUniqueNamesAndClearSession) {
  clear_session();
  auto i1 = Input({3});
  auto i2 = Input({3});
  EXPECT_EQ(i1.layer().name(), "input_1");
  EXPECT_EQ(i2.layer().name(), "input_2");
  auto l0 = LSTM(2), l1 = LSTM(2), l2 = LSTM(2);
  EXPECT_EQ(l0.name(), "lstm");
  EXPECT_EQ(l1.name(), "lstm_1");
  EXPECT_EQ(l2.name(), "lstm_2");
  EXPECT_EQ(Dense(2).name(), "dense");
  EXPECT_EQ(Dense(2).name(), "dense_1");
  EXPECT_EQ(SimpleRNN(2).name(), "simple_rnn");
  EXPECT_EQ(RepeatVector(2).name(), "repeat_vector");
  auto td = TimeDistributed(Dense(2));  // the inner Dense is made first
  EXPECT_EQ(td.name(), "time_distributed");
  EXPECT_EQ(LSTM(2, {.name = "encoder"}).name(), "encoder");
  EXPECT_EQ(to_snake_case("TimeDistributed"), "time_distributed");
  EXPECT_EQ(to_snake_case("SimpleRNN"), "simple_rnn");
  EXPECT_EQ(to_snake_case("GRU"), "gru");

  clear_session();
  EXPECT_EQ(LSTM(2).name(), "lstm");
  EXPECT_EQ(Input({3}).layer().name(), "input_1");
  EXPECT_EQ(Dense(2).name(), "dense");
}

TEST(Symbolic, ModelNamesAreUniqueToo) {
  clear_session();
  auto x = Input({3});
  auto y = Dense(2)(x);
  Model m1({x}, {y});
  Model m2({x}, {y});
  EXPECT_EQ(m1.name(), "model");
  EXPECT_EQ(m2.name(), "model_1");
  Sequential s;
  EXPECT_EQ(s.name(), "sequential");
  Model named({x}, {y}, "mine");
  EXPECT_EQ(named.name(), "mine");
}

TEST(Symbolic, LayerRefIsASharedHandle) {
  auto a = Dense(3);
  LayerRef b = a;
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.ptr().get(), b.ptr().get());
  EXPECT_NO_THROW((void)a.as<layers::Dense>());
  expect_error<ValueError>([&] { (void)a.as<layers::LSTM>(); }, {"dense", "not of the requested layer class"});
  // Bidirectional needs a recurrent layer.
  expect_error<ValueError>([] { Bidirectional(Dense(3)); }, {"Bidirectional", "recurrent"});
}
