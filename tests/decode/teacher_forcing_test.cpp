// Teacher-forcing inputs, sampling schedules and scheduled-sampling training
// (src/decode/teacher_forcing.cpp), with callbacks and validation.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "support/hook_recorder.hpp"
#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

TEST(TeacherForcing, ShiftsIdsAndDropsTheStopSymbol) {
  // Targets: value ids, then stop (9), then padding 0.
  Tensor y({2, 4}, {3, 5, 9, 0, 2, 4, 6, 9});
  Tensor in = decode::teacher_forcing_inputs(y, {.start_id = 10, .stop_id = 9});
  EXPECT_EQ(in.to_vector(), (std::vector<float>{10, 3, 5, 0, 10, 2, 4, 6}));
  Tensor keep = decode::teacher_forcing_inputs(y, {.start_id = 10});
  EXPECT_EQ(keep.to_vector(), (std::vector<float>{10, 3, 5, 9, 10, 2, 4, 6}));
  // The variable-length generator's own decoder input agrees.
  Generator g(1);
  auto data = data::first_appearance(20, {.min_length = 4, .max_length = 7}, g);
  auto ed = data::encoder_decoder_ids(data);
  Tensor built =
      decode::teacher_forcing_inputs(ed.decoder_target, {.start_id = data.start_id, .stop_id = data.stop_id});
  EXPECT_EQ(built.to_vector(), ed.decoder_input.to_vector());
  auto oh = data::encoder_decoder_one_hot(data);
  Tensor built_oh =
      decode::teacher_forcing_inputs(oh.decoder_target, {.start_id = data.start_id, .stop_id = data.stop_id});
  EXPECT_EQ(built_oh.to_vector(), oh.decoder_input.to_vector());
}

TEST(TeacherForcing, OneHotWithZeroStart) {
  Tensor y({1, 3, 3}, {0, 1, 0, 0, 0, 1, 1, 0, 0});
  Tensor in = decode::teacher_forcing_inputs(y, {.start_id = -1});
  EXPECT_EQ(in.to_vector(), (std::vector<float>{0, 0, 0, 0, 1, 0, 0, 0, 1}));
}

TEST(TeacherForcing, BadInput) {
  EXPECT_THROW_MSG(decode::teacher_forcing_inputs(Tensor({3})), ValueError, "(samples, time)", "(3,)");
  EXPECT_THROW_MSG(decode::teacher_forcing_inputs(Tensor({2, 3}), {.start_id = -1}), ValueError, "start_id",
                   "got -1");
  EXPECT_THROW_MSG(decode::teacher_forcing_inputs(Tensor({2, 3, 4}), {.start_id = 4}), ValueError, "start_id",
                   "[0, 4)", "got 4");
  EXPECT_THROW_MSG(decode::teacher_forcing_inputs(Tensor({2, 3, 4}), {.stop_id = 5}), ValueError, "stop_id", "got 5");
}

TEST(SamplingSchedule, BengioDecays) {
  using S = decode::SamplingSchedule;
  EXPECT_DOUBLE_EQ(S::constant(0.3).teacher_forcing_probability(7), 0.3);
  const S lin = S::linear(1.0, 0.1, 0.25);
  EXPECT_DOUBLE_EQ(lin.teacher_forcing_probability(0), 1.0);
  EXPECT_NEAR(lin.teacher_forcing_probability(3), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(lin.teacher_forcing_probability(20), 0.25);
  const S ex = S::exponential(0.9);
  EXPECT_DOUBLE_EQ(ex.teacher_forcing_probability(0), 1.0);
  EXPECT_NEAR(ex.teacher_forcing_probability(5), std::pow(0.9, 5), 1e-12);
  const S sig = S::inverse_sigmoid(10);
  EXPECT_NEAR(sig.teacher_forcing_probability(0), 10.0 / 11.0, 1e-12);
  EXPECT_NEAR(sig.teacher_forcing_probability(30), 10.0 / (10.0 + std::exp(3.0)), 1e-12);
  // Every decay is non-increasing.
  for (const S& s : {lin, ex, sig}) {
    for (int i = 0; i < 50; ++i) EXPECT_LE(s.teacher_forcing_probability(i + 1), s.teacher_forcing_probability(i));
  }
  EXPECT_THROW_MSG(S::exponential(1.5).teacher_forcing_probability(0), ValueError, "exponential", "(0, 1)");
  EXPECT_THROW_MSG(S::inverse_sigmoid(0.5).teacher_forcing_probability(0), ValueError, "inverse_sigmoid", ">= 1");
  EXPECT_THROW_MSG(S::linear(1, -1).teacher_forcing_probability(0), ValueError, "slope");
  EXPECT_THROW_MSG((S{.kind = "cosine"}).teacher_forcing_probability(0), ValueError, "unknown kind", "cosine");
  EXPECT_THROW_MSG(S::constant(0.5).teacher_forcing_probability(-1), ValueError, "epoch", "-1");
}

namespace {

// A small id encoder-decoder with its inference pair, sharing layers.
struct Models {
  Model train, encoder, decoder;
};

Models make_models(int64_t V, int64_t U) {
  clear_session();
  auto src = Input({None});
  auto enc = LSTM(U, {.return_state = true})(Embedding(V, 4, {.mask_zero = true})(src));
  auto tgt = Input({None});
  auto emb = Embedding(V, 4, {.mask_zero = true});
  auto lstm = LSTM(U, {.return_sequences = true, .return_state = true});
  auto dense = Dense(V, {.activation = "softmax"});
  auto dec = lstm(emb(tgt), {.initial_state = {enc[1], enc[2]}});
  Model train({src, tgt}, {dense(dec[0])});
  auto sym = Input({1});
  auto h = Input({U}), c = Input({U});
  auto step = lstm(emb(sym), {.initial_state = {h, c}});
  return {std::move(train), Model({src}, {enc[1], enc[2]}), Model({sym, h, c}, {dense(step[0]), step[1], step[2]})};
}

}  // namespace

TEST(ScheduledSampling, AlwaysTeacherForcingEqualsFit) {
  Generator g(3);
  auto data = data::first_appearance(40, {.min_length = 3, .max_length = 5, .n_values = 5}, g);
  auto ed = data::encoder_decoder_ids(data);
  set_seed(11);
  Models a = make_models(data.n_symbols, 8);
  set_seed(11);
  Models b = make_models(data.n_symbols, 8);
  a.train.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "sparse_categorical_crossentropy"});
  b.train.compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "sparse_categorical_crossentropy"});
  a.train.fit({ed.encoder_input, ed.decoder_input}, ed.decoder_target,
              {.epochs = 2, .batch_size = 8, .shuffle = false, .verbose = 0});
  History h = decode::fit_scheduled_sampling(b.train, b.encoder, b.decoder, {ed.encoder_input}, ed.decoder_input,
                                             ed.decoder_target,
                                             {.schedule = decode::SamplingSchedule::constant(1.0),
                                              .epochs = 2,
                                              .batch_size = 8,
                                              .shuffle = false,
                                              .verbose = 0});
  const auto wa = a.train.get_weights(), wb = b.train.get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) seqnet::testing::expect_near(wb[i], wa[i], 1e-6, "weight");
  EXPECT_EQ(h["teacher_forcing_probability"], (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(h["sampled_fraction"], (std::vector<double>{0.0, 0.0}));
  EXPECT_TRUE(h.contains("loss"));
}

TEST(ScheduledSampling, NeverTeacherForcingFeedsPredictions) {
  Generator g(4);
  auto data = data::first_appearance(32, {.min_length = 3, .max_length = 5, .n_values = 5}, g);
  auto ed = data::encoder_decoder_ids(data);
  set_seed(12);
  Models m = make_models(data.n_symbols, 8);
  m.train.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  History h = decode::fit_scheduled_sampling(
      m.train, m.encoder, m.decoder, {ed.encoder_input}, ed.decoder_input, ed.decoder_target,
      {.schedule = decode::SamplingSchedule::linear(1.0, 0.5), .epochs = 3, .batch_size = 16, .verbose = 0});
  EXPECT_EQ(h["teacher_forcing_probability"], (std::vector<double>{1.0, 0.5, 0.0}));
  EXPECT_EQ(h["sampled_fraction"][0], 0.0);
  EXPECT_GT(h["sampled_fraction"][1], 0.3);
  EXPECT_LT(h["sampled_fraction"][1], 0.7);
  // With eps = 0 every real step is the model's prediction unless it
  // predicted padding.
  EXPECT_GT(h["sampled_fraction"][2], 0.9);
}

TEST(ScheduledSampling, BadInput) {
  Generator g(5);
  auto data = data::first_appearance(8, {.min_length = 3, .max_length = 4, .n_values = 5}, g);
  auto ed = data::encoder_decoder_ids(data);
  Models m = make_models(data.n_symbols, 4);
  EXPECT_THROW_MSG(decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input},
                                                  ed.decoder_input, ed.decoder_target, {.verbose = 0}),
                   ValueError, "compile");
  m.train.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  EXPECT_THROW_MSG(decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input},
                                                  ed.decoder_input.reshape({8, -1, 1}), ed.decoder_target,
                                                  {.verbose = 0}),
                   ShapeError, "decoder_inputs", "(samples, time)");
  EXPECT_THROW_MSG(decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input},
                                                  ed.decoder_input, ed.decoder_target.rows(0, 4), {.verbose = 0}),
                   ShapeError, "targets", "8 samples");
  EXPECT_THROW_MSG(decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {}, ed.decoder_input,
                                                  ed.decoder_target, {.verbose = 0}),
                   ValueError, "sources then the decoder input");
  EXPECT_THROW_MSG(decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input},
                                                  ed.decoder_input, ed.decoder_target,
                                                  {.batch_size = 0, .verbose = 0}),
                   ValueError, "batch_size");
}

TEST(ScheduledSampling, CallbackHooksRunInKerasOrder) {
  Generator g(6);
  auto data = data::first_appearance(20, {.min_length = 3, .max_length = 4, .n_values = 5}, g);
  auto ed = data::encoder_decoder_ids(data);
  set_seed(13);
  Models m = make_models(data.n_symbols, 4);
  m.train.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  std::vector<std::string> ev;
  auto cb = seqnet::testing::record_hooks(ev, {{"loss", "loss"}, {"teacher_forcing_probability", "eps"}});
  // 20 samples in batches of 8, 8 and 4; the schedule's epochs 2 and 3.
  History h = decode::fit_scheduled_sampling(
      m.train, m.encoder, m.decoder, {ed.encoder_input}, ed.decoder_input, ed.decoder_target,
      {.schedule = decode::SamplingSchedule::linear(1.0, 0.25), .epochs = 4, .batch_size = 8, .verbose = 0,
       .initial_epoch = 2, .callbacks = {cb}});
  const std::string keys = " loss teacher_forcing_probability sampled_fraction";
  const std::vector<std::string> want = {
      "tb",  "eb2", "bb0 8", "be0 loss eps", "bb1 8", "be1 loss eps", "bb2 4", "be2 loss eps", "ee2" + keys,
      "eb3", "bb0 8", "be0 loss eps", "bb1 8", "be1 loss eps", "bb2 4", "be2 loss eps", "ee3" + keys, "te"};
  EXPECT_EQ(ev, want);
  EXPECT_EQ(h["teacher_forcing_probability"], (std::vector<double>{0.5, 0.25}));
}

TEST(ScheduledSampling, EarlyStoppingStopsTheRun) {
  // teacher_forcing_probability falls every epoch: watched in max mode, it
  // stops improving at epoch 1.
  Generator g(7);
  auto data = data::first_appearance(16, {.min_length = 3, .max_length = 4, .n_values = 5}, g);
  auto ed = data::encoder_decoder_ids(data);
  set_seed(14);
  Models m = make_models(data.n_symbols, 4);
  m.train.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  auto es = EarlyStopping({.monitor = "teacher_forcing_probability", .patience = 1, .mode = "max"});
  History h = decode::fit_scheduled_sampling(
      m.train, m.encoder, m.decoder, {ed.encoder_input}, ed.decoder_input, ed.decoder_target,
      {.schedule = decode::SamplingSchedule::linear(1.0, 0.25), .epochs = 10, .batch_size = 8, .verbose = 0,
       .callbacks = {es}});
  EXPECT_EQ(h.epoch(), (std::vector<int>{0, 1}));
  EXPECT_EQ(es->stopped_epoch(), 1);
  EXPECT_EQ(m.train.optimizer().iterations(), 2 * 2);
  // The next run starts afresh (stop_training is reset).
  History again = decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input}, ed.decoder_input,
                                                 ed.decoder_target, {.epochs = 2, .batch_size = 8, .verbose = 0});
  EXPECT_EQ(again.epoch().size(), 2u);
}

TEST(ScheduledSampling, ValidatesWithTeacherForcing) {
  Generator g(8);
  auto data = data::first_appearance(24, {.min_length = 3, .max_length = 5, .n_values = 5}, g);
  auto ed = data::encoder_decoder_ids(data);
  auto val = data::encoder_decoder_ids(data::first_appearance(10, {.min_length = 3, .max_length = 5, .n_values = 5}, g));
  set_seed(15);
  Models m = make_models(data.n_symbols, 6);
  m.train.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  History h = decode::fit_scheduled_sampling(
      m.train, m.encoder, m.decoder, {ed.encoder_input}, ed.decoder_input, ed.decoder_target,
      {.schedule = decode::SamplingSchedule::constant(0.5), .epochs = 2, .batch_size = 8, .verbose = 0,
       .validation_data = {.x = {val.encoder_input, val.decoder_input}, .y = val.decoder_target}});
  const Logs want = m.train.evaluate({val.encoder_input, val.decoder_input}, val.decoder_target, {.batch_size = 8});
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"loss", "accuracy", "teacher_forcing_probability",
                                                "sampled_fraction", "val_loss", "val_accuracy"}));
  EXPECT_NEAR(h["val_loss"].back(), want.at("loss"), 1e-7);
  EXPECT_NEAR(h["val_accuracy"].back(), want.at("accuracy"), 1e-12);
  decode::ScheduledSamplingOptions no_decoder_input;
  no_decoder_input.verbose = 0;
  no_decoder_input.validation_data = {.x = val.encoder_input, .y = val.decoder_target};
  EXPECT_THROW_MSG(decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input}, ed.decoder_input,
                                                  ed.decoder_target, no_decoder_input),
                   ValueError, "validation_data.x", "sources then the decoder input");
}
