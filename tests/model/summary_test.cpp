// Model::summary() (src/model/summary.cpp): the exact text of Keras 2.3's
// print_summary for the seed 01 models. The expected strings were produced
// by an independent Python transcription of Keras's print_summary/print_row
// (65 columns at 45%/85%/100% for sequential-like models, 98 columns at
// 33%/55%/67%/100% with "Connected to" otherwise; every field cut at its
// column end and the character before the next field replaced by a space).
// clear_session() first, so the names are deterministic.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <sstream>
#include <string>

using namespace seqnet;

namespace {

constexpr int64_t n_timesteps = 4, n_features = 10, units = 16;

}  // namespace

TEST(Summary, SequentialSingleLSTMDefaultOutput) {
  clear_session();
  Sequential model("model_Single_LSTM_default_output");
  model.add(Input({n_timesteps, n_features}));
  model.add(LSTM(units));
  model.add(RepeatVector(n_timesteps));
  model.add(Dense(n_features, {.activation = "softmax"}));
  const std::string want =
      "Model: \"model_Single_LSTM_default_output\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "lstm (LSTM)                  (None, 16)                1728      \n"
      "_________________________________________________________________\n"
      "repeat_vector (RepeatVector) (None, 4, 16)             0         \n"
      "_________________________________________________________________\n"
      "dense (Dense)                (None, 4, 10)             170       \n"
      "=================================================================\n"
      "Total params: 1,898\n"
      "Trainable params: 1,898\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
  // summary(ostream) writes the same text.
  std::ostringstream os;
  model.summary(os);
  EXPECT_EQ(os.str(), want);
  // summary() without arguments prints it to standard output.
  ::testing::internal::CaptureStdout();
  model.summary();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), want);
}

TEST(Summary, SequentialLSTMDefaultOutputTruncatesLongNames) {
  clear_session();
  Sequential model("model_LSTM_default_output");
  model.add(Input({n_timesteps, n_features}));
  model.add(LSTM(units));
  model.add(RepeatVector(n_timesteps));
  model.add(LSTM(units));
  model.add(RepeatVector(n_timesteps));
  model.add(Dense(n_features, {.activation = "softmax"}));
  const std::string want =
      "Model: \"model_LSTM_default_output\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "lstm (LSTM)                  (None, 16)                1728      \n"
      "_________________________________________________________________\n"
      "repeat_vector (RepeatVector) (None, 4, 16)             0         \n"
      "_________________________________________________________________\n"
      "lstm_1 (LSTM)                (None, 16)                2112      \n"
      "_________________________________________________________________\n"
      "repeat_vector_1 (RepeatVecto (None, 4, 16)             0         \n"
      "_________________________________________________________________\n"
      "dense (Dense)                (None, 4, 10)             170       \n"
      "=================================================================\n"
      "Total params: 4,010\n"
      "Trainable params: 4,010\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
}

TEST(Summary, SequentialLSTMReturnSequences) {
  clear_session();
  Sequential model("model_LSTM_return_sequences");
  model.add(Input({n_timesteps, n_features}));
  model.add(LSTM(units, {.return_sequences = true}));
  model.add(LSTM(units, {.return_sequences = true}));
  model.add(TimeDistributed(Dense(n_features, {.activation = "softmax"})));
  const std::string want =
      "Model: \"model_LSTM_return_sequences\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "lstm (LSTM)                  (None, 4, 16)             1728      \n"
      "_________________________________________________________________\n"
      "lstm_1 (LSTM)                (None, 4, 16)             2112      \n"
      "_________________________________________________________________\n"
      "time_distributed (TimeDistri (None, 4, 10)             170       \n"
      "=================================================================\n"
      "Total params: 4,010\n"
      "Trainable params: 4,010\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
}

TEST(Summary, FunctionalLSTMReturnState) {
  clear_session();
  auto input = Input({n_timesteps, n_features});
  auto lstm1 = LSTM(units, {.return_state = true})(input);
  auto repeated = RepeatVector(n_timesteps)(lstm1[0]);
  auto all_state_h = LSTM(units, {.return_sequences = true})(repeated, {.initial_state = {lstm1[1], lstm1[2]}});
  auto output = TimeDistributed(Dense(n_features, {.activation = "softmax"}))(all_state_h);
  Model model({input}, {output}, "model_LSTM_return_state");
  const std::string want =
      "Model: \"model_LSTM_return_state\"\n"
      "__________________________________________________________________________________________________\n"
      "Layer (type)                    Output Shape         Param #     Connected to                     \n"
      "==================================================================================================\n"
      "input_1 (InputLayer)            [(None, 4, 10)]      0                                            \n"
      "__________________________________________________________________________________________________\n"
      "lstm (LSTM)                     [(None, 16), (None,  1728        input_1[0][0]                    \n"
      "__________________________________________________________________________________________________\n"
      "repeat_vector (RepeatVector)    (None, 4, 16)        0           lstm[0][0]                       \n"
      "__________________________________________________________________________________________________\n"
      "lstm_1 (LSTM)                   (None, 4, 16)        2112        repeat_vector[0][0]              \n"
      "                                                                 lstm[0][1]                       \n"
      "                                                                 lstm[0][2]                       \n"
      "__________________________________________________________________________________________________\n"
      "time_distributed (TimeDistribut (None, 4, 10)        170         lstm_1[0][0]                     \n"
      "==================================================================================================\n"
      "Total params: 4,010\n"
      "Trainable params: 4,010\n"
      "Non-trainable params: 0\n"
      "__________________________________________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
}

TEST(Summary, FunctionalLSTMAllStateHReturnState) {
  clear_session();
  auto input = Input({n_timesteps, n_features});
  auto lstm1 = LSTM(units, {.return_sequences = true, .return_state = true})(input);
  auto all_state_h = LSTM(units, {.return_sequences = true})(lstm1[0], {.initial_state = {lstm1[1], lstm1[2]}});
  auto output = TimeDistributed(Dense(n_features, {.activation = "softmax"}))(all_state_h);
  Model model({input}, {output}, "model_LSTM_all_state_h_return_state");
  const std::string want =
      "Model: \"model_LSTM_all_state_h_return_state\"\n"
      "__________________________________________________________________________________________________\n"
      "Layer (type)                    Output Shape         Param #     Connected to                     \n"
      "==================================================================================================\n"
      "input_1 (InputLayer)            [(None, 4, 10)]      0                                            \n"
      "__________________________________________________________________________________________________\n"
      "lstm (LSTM)                     [(None, 4, 16), (Non 1728        input_1[0][0]                    \n"
      "__________________________________________________________________________________________________\n"
      "lstm_1 (LSTM)                   (None, 4, 16)        2112        lstm[0][0]                       \n"
      "                                                                 lstm[0][1]                       \n"
      "                                                                 lstm[0][2]                       \n"
      "__________________________________________________________________________________________________\n"
      "time_distributed (TimeDistribut (None, 4, 10)        170         lstm_1[0][0]                     \n"
      "==================================================================================================\n"
      "Total params: 4,010\n"
      "Trainable params: 4,010\n"
      "Non-trainable params: 0\n"
      "__________________________________________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
}

TEST(Summary, FunctionalChainIsSequentialLike) {
  // Keras prints a functional chain (one input, single-input layers, no
  // sharing) in the 65-column layout, with its InputLayer row.
  clear_session();
  auto x = Input({3});
  auto h = Dense(4)(x);
  auto y = Dense(2)(h);
  Model model({x}, {y}, "chain");
  const std::string want =
      "Model: \"chain\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "input_1 (InputLayer)         [(None, 3)]               0         \n"
      "_________________________________________________________________\n"
      "dense (Dense)                (None, 4)                 16        \n"
      "_________________________________________________________________\n"
      "dense_1 (Dense)              (None, 2)                 10        \n"
      "=================================================================\n"
      "Total params: 26\n"
      "Trainable params: 26\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
}

TEST(Summary, ThousandsSeparatorsAndNonTrainableParams) {
  clear_session();
  Sequential model("big");
  model.add(Input({2000}));
  model.add(Dense(1000));
  const std::string want =
      "Model: \"big\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "dense (Dense)                (None, 1000)              2001000   \n"
      "=================================================================\n"
      "Total params: 2,001,000\n"
      "Trainable params: 2,001,000\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), want);
  model.params()[1]->trainable = false;  // the bias
  const std::string s = model.summary_string();
  EXPECT_NE(s.find("Total params: 2,001,000\nTrainable params: 2,000,000\nNon-trainable params: 1,000\n"),
            std::string::npos)
      << s;
}

TEST(Summary, SharedLayerListsEveryConnection) {
  clear_session();
  auto a = Input({None, 3}), b = Input({None, 3});
  auto lstm = LSTM(4);
  auto y = Add()({lstm(a), lstm(b)});
  Model model({a, b}, {y}, "shared");
  const std::string s = model.summary_string();
  // 98 columns with Connected to; the shared LSTM lists both of its calls.
  EXPECT_NE(s.find("Connected to"), std::string::npos) << s;
  EXPECT_NE(s.find("lstm (LSTM)                     (None, 4)            128         input_1[0][0]"), std::string::npos)
      << s;
  EXPECT_NE(s.find("                                                                 input_2[0][0]"), std::string::npos)
      << s;
  EXPECT_NE(s.find("add (Add)                       (None, 4)            0           lstm[0][0]"), std::string::npos)
      << s;
  EXPECT_NE(s.find("                                                                 lstm[1][0]"), std::string::npos)
      << s;
  EXPECT_NE(s.find("Total params: 128\n"), std::string::npos) << s;
}
