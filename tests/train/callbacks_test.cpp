// Callbacks (src/train/callbacks.cpp) and their place in fit(): hook order,
// stop_training, EarlyStopping (driven with forged logs), ReduceLROnPlateau,
// CSVLogger, TerminateOnNaN, LambdaCallback, Logs and History (CSV / JSON /
// atomic save).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;
using seqnet::testing::TempDir;

namespace {

using seqnet::testing::expect_error;

// A tiny regression model.
struct Tiny {
  SymbolicTensor x = Input({3});
  Model model{{x}, {Dense(1)(x)}};
  Tensor xs = random_tensor({10, 3}, 1);
  Tensor ys = random_tensor({10, 1}, 2);
  Tiny() { model.compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse"}); }
};

// Records every hook as a line.
class Recorder : public Callback {
 public:
  std::vector<std::string> events;
  int stop_at_batch = -1;
  void on_train_begin(Logs&) override { events.push_back("train_begin"); }
  void on_train_end(Logs&) override { events.push_back("train_end"); }
  void on_epoch_begin(int e, Logs&) override { events.push_back("epoch_begin " + std::to_string(e)); }
  void on_epoch_end(int e, Logs& l) override {
    std::string keys;
    for (const auto& kv : l.items()) keys += " " + kv.first;
    events.push_back("epoch_end " + std::to_string(e) + keys);
  }
  void on_batch_begin(int b, Logs& l) override {
    events.push_back("batch_begin " + std::to_string(b) + " size " + std::to_string(static_cast<int>(l.at("size"))));
    (void)model();  // the model is available inside fit
  }
  void on_batch_end(int b, Logs& l) override {
    events.push_back("batch_end " + std::to_string(b) + (l.contains("loss") ? " loss" : ""));
    if (b == stop_at_batch) model().stop_training = true;
  }
};

// Drives an EarlyStopping callback with a forged series of monitored values;
// returns the epoch after which training would stop (-1: never).
int drive(EarlyStoppingCallback& es, Model& model, const std::string& key, const std::vector<double>& values) {
  es.set_model(&model);
  model.stop_training = false;
  Logs none;
  es.on_train_begin(none);
  for (size_t e = 0; e < values.size(); ++e) {
    Logs l;
    l.set(key, values[e]);
    es.on_epoch_end(static_cast<int>(e), l);
    if (model.stop_training) return static_cast<int>(e);
  }
  return -1;
}

int count_of(const std::string& text, const std::string& part) {
  int n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Callbacks, HooksRunInKerasOrder) {
  Tiny t;
  auto rec = std::make_shared<Recorder>();
  History h = t.model.fit(t.xs, t.ys,
                          {.epochs = 2, .batch_size = 4, .validation_split = 0.2, .verbose = 0, .callbacks = {rec}});
  // 8 training samples in batches of 4 (the last 2 of 10 are validation).
  const std::vector<std::string> want = {
      "train_begin",
      "epoch_begin 0",
      "batch_begin 0 size 4",
      "batch_end 0 loss",
      "batch_begin 1 size 4",
      "batch_end 1 loss",
      "epoch_end 0 loss val_loss",
      "epoch_begin 1",
      "batch_begin 0 size 4",
      "batch_end 0 loss",
      "batch_begin 1 size 4",
      "batch_end 1 loss",
      "epoch_end 1 loss val_loss",
      "train_end",
  };
  EXPECT_EQ(rec->events, want);
  EXPECT_EQ(h.epoch(), (std::vector<int>{0, 1}));
  // Outside fit the callback has no model.
  expect_error<Error>([&] { (void)rec->model(); }, {"no model"});
}

TEST(Callbacks, PartialLastBatchAndInitialEpoch) {
  Tiny t;
  auto rec = std::make_shared<Recorder>();
  t.model.fit(t.xs, t.ys, {.epochs = 3, .batch_size = 4, .verbose = 0, .callbacks = {rec}, .initial_epoch = 2});
  const std::vector<std::string> want = {
      "train_begin",         "epoch_begin 2",     "batch_begin 0 size 4", "batch_end 0 loss",
      "batch_begin 1 size 4", "batch_end 1 loss", "batch_begin 2 size 2", "batch_end 2 loss",
      "epoch_end 2 loss",    "train_end",
  };
  EXPECT_EQ(rec->events, want);
}

TEST(Callbacks, StopTrainingInOnBatchEndEndsAfterThatBatch) {
  Tiny t;
  auto rec = std::make_shared<Recorder>();
  rec->stop_at_batch = 1;
  History h = t.model.fit(t.xs, t.ys, {.epochs = 5, .batch_size = 2, .verbose = 0, .callbacks = {rec}});
  const std::vector<std::string> want = {
      "train_begin",         "epoch_begin 0",    "batch_begin 0 size 2", "batch_end 0 loss",
      "batch_begin 1 size 2", "batch_end 1 loss", "epoch_end 0 loss",     "train_end",
  };
  EXPECT_EQ(rec->events, want);
  EXPECT_EQ(h.epoch().size(), 1u);
  // A new fit starts with stop_training reset.
  rec->events.clear();
  rec->stop_at_batch = -1;
  History h2 = t.model.fit(t.xs, t.ys, {.epochs = 2, .batch_size = 5, .verbose = 0, .callbacks = {rec}});
  EXPECT_EQ(h2.epoch().size(), 2u);
}

TEST(Callbacks, LambdaCallbackSeesEveryHook) {
  Tiny t;
  std::vector<std::string> ev;
  auto cb = LambdaCallback({
      .on_epoch_begin = [&](int e, Logs&) { ev.push_back("eb" + std::to_string(e)); },
      .on_epoch_end = [&](int e, Logs&) { ev.push_back("ee" + std::to_string(e)); },
      .on_batch_begin = [&](int b, Logs&) { ev.push_back("bb" + std::to_string(b)); },
      .on_batch_end = [&](int b, Logs&) { ev.push_back("be" + std::to_string(b)); },
      .on_train_begin = [&](Logs&) { ev.push_back("tb"); },
      .on_train_end = [&](Logs&) { ev.push_back("te"); },
  });
  t.model.fit(t.xs, t.ys, {.epochs = 1, .batch_size = 5, .verbose = 0, .callbacks = {cb}});
  EXPECT_EQ(ev, (std::vector<std::string>{"tb", "eb0", "bb0", "be0", "bb1", "be1", "ee0", "te"}));
  // Empty functions are skipped.
  auto empty = LambdaCallback({});
  EXPECT_NO_THROW(t.model.fit(t.xs, t.ys, {.epochs = 1, .verbose = 0, .callbacks = {empty}}));
}

TEST(EarlyStopping, PatienceCountsEpochsWithoutImprovement) {
  Tiny t;
  auto es = EarlyStopping({.monitor = "val_loss", .patience = 2});
  // best 0.9 at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3.
  EXPECT_EQ(drive(*es, t.model, "val_loss", {1.0, 0.9, 0.95, 0.91, 0.8}), 3);
  EXPECT_EQ(es->stopped_epoch(), 3);
  EXPECT_EQ(es->best_epoch(), 1);
  EXPECT_DOUBLE_EQ(es->best(), 0.9);
  // An improvement resets the count.
  EXPECT_EQ(drive(*es, t.model, "val_loss", {1.0, 1.1, 0.9, 1.2, 0.8, 1.3, 1.4}), 6);
  // Steady improvement never stops.
  EXPECT_EQ(drive(*es, t.model, "val_loss", {5, 4, 3, 2, 1}), -1);
  EXPECT_EQ(es->stopped_epoch(), 0);
}

TEST(EarlyStopping, PatienceZeroStopsAtTheFirstEpochWithoutImprovement) {
  // Keras 2.3 (and Keras 3): patience 0 stops at the first epoch that does
  // not improve, never while the quantity keeps improving (the default
  // EarlyStopping() must not end training after the second epoch).
  Tiny t;
  auto es = EarlyStopping({.monitor = "loss"});
  EXPECT_EQ(drive(*es, t.model, "loss", {1.0, 0.9, 0.8, 0.7}), -1);
  EXPECT_EQ(drive(*es, t.model, "loss", {1.0, 0.9, 0.95, 0.7}), 2);
}

TEST(EarlyStopping, MinDelta) {
  Tiny t;
  auto es = EarlyStopping({.monitor = "val_loss", .min_delta = 0.05, .patience = 2});
  // 0.97 and 0.96 are improvements smaller than min_delta: they do not count.
  EXPECT_EQ(drive(*es, t.model, "val_loss", {1.0, 0.97, 0.96, 0.5}), 2);
  EXPECT_DOUBLE_EQ(es->best(), 1.0);
  // For a maximized quantity, min_delta works upwards.
  auto up = EarlyStopping({.monitor = "val_accuracy", .min_delta = 0.05, .patience = 1});
  EXPECT_EQ(drive(*up, t.model, "val_accuracy", {0.5, 0.6, 0.62}), 2);
  EXPECT_DOUBLE_EQ(up->best(), 0.6);
}

TEST(EarlyStopping, ModeAutoMaximizesAccuracies) {
  Tiny t;
  // "acc" in the name: maximize.
  auto acc = EarlyStopping({.monitor = "acc", .patience = 1});
  EXPECT_EQ(drive(*acc, t.model, "acc", {0.5, 0.6, 0.55}), 2);
  EXPECT_DOUBLE_EQ(acc->best(), 0.6);
  auto val_acc = EarlyStopping({.monitor = "val_accuracy", .patience = 1});
  EXPECT_EQ(drive(*val_acc, t.model, "val_accuracy", {0.5, 0.6, 0.7, 0.8}), -1);
  // Other names: minimize.
  auto loss = EarlyStopping({.monitor = "val_loss", .patience = 1});
  EXPECT_EQ(drive(*loss, t.model, "val_loss", {0.5, 0.6, 0.7}), 1);
  // Explicit modes override the name.
  auto max = EarlyStopping({.monitor = "val_loss", .patience = 1, .mode = "max"});
  EXPECT_EQ(drive(*max, t.model, "val_loss", {0.5, 0.6, 0.7}), -1);
  auto min = EarlyStopping({.monitor = "acc", .patience = 1, .mode = "min"});
  EXPECT_EQ(drive(*min, t.model, "acc", {0.5, 0.6, 0.7}), 1);
}

TEST(EarlyStopping, Baseline) {
  Tiny t;
  // Epoch 0 improves on nothing-seen-yet but does not beat the baseline
  // 0.5, so its epoch still counts: epochs 0 and 1 -> stop after epoch 1.
  auto es = EarlyStopping({.monitor = "val_loss", .patience = 2, .baseline = 0.5});
  EXPECT_EQ(drive(*es, t.model, "val_loss", {1.0, 1.1, 1.2}), 1);
  // Beating the baseline resets it.
  EXPECT_EQ(drive(*es, t.model, "val_loss", {1.0, 0.4, 0.45, 0.42, 0.41}), 3);
}

TEST(EarlyStopping, RestoreBestWeightsInFit) {
  // The monitored value is forged by a LambdaCallback listed before
  // EarlyStopping; it also records the weights at the end of every epoch.
  set_seed(3);
  Tiny t;
  const std::vector<double> forged = {1.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99};
  std::vector<std::vector<Tensor>> weights_at;
  auto forge = LambdaCallback({.on_epoch_end = [&](int e, Logs& l) {
    l.set("forged", forged.at(static_cast<size_t>(e)));
    weights_at.push_back(t.model.get_weights());
  }});
  auto es = EarlyStopping({.monitor = "forged", .patience = 2, .restore_best_weights = true});
  History h = t.model.fit(t.xs, t.ys, {.epochs = 7, .batch_size = 4, .verbose = 0, .callbacks = {forge, es}});
  // Best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3.
  EXPECT_EQ(h.epoch().size(), 4u);
  EXPECT_EQ(es->stopped_epoch(), 3);
  EXPECT_EQ(es->best_epoch(), 1);
  const auto now = t.model.get_weights();
  ASSERT_EQ(now.size(), weights_at[1].size());
  for (size_t i = 0; i < now.size(); ++i) EXPECT_EQ(max_abs_diff(now[i], weights_at[1][i]), 0.0f);
  // ... and they differ from the last epoch's weights (training did move them).
  EXPECT_GT(max_abs_diff(now[0], weights_at[3][0]), 0.0f);
}

TEST(EarlyStopping, StopsARealFitOnValLoss) {
  // val_loss monitored from real logs (random targets: validation stops
  // improving quickly).
  set_seed(4);
  Tiny t;
  auto es = EarlyStopping({.monitor = "val_loss", .patience = 1});
  History h = t.model.fit(t.xs, t.ys,
                          {.epochs = 200, .batch_size = 2, .validation_split = 0.3, .verbose = 0, .callbacks = {es}});
  // Training ended as soon as val_loss failed to improve.
  const auto& v = h["val_loss"];
  ASSERT_GE(v.size(), 2u);
  ASSERT_LT(v.size(), 200u);
  EXPECT_GE(v.back(), *std::min_element(v.begin(), v.end() - 1));
  for (size_t i = 1; i + 1 < v.size(); ++i) EXPECT_LT(v[i], v[i - 1]) << "epoch " << i;
}

TEST(EarlyStopping, MonitoringAKeyThatIsNotLoggedWarnsOncePerFit) {
  // Keras warns and trains on; a misspelt monitor must still be visible, so
  // the warning names the callback, the key and the keys there are.
  Tiny t;
  auto es = EarlyStopping({.monitor = "val_loss"});
  // No validation data: there is no val_loss.
  ::testing::internal::CaptureStderr();
  History h = t.model.fit(t.xs, t.ys, {.epochs = 3, .verbose = 0, .callbacks = {es}});
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(h.epoch().size(), 3u);  // not stopped
  EXPECT_EQ(es->stopped_epoch(), 0);
  EXPECT_EQ(count_of(err, "EarlyStopping"), 1) << err;
  EXPECT_NE(err.find("'val_loss'"), std::string::npos) << err;
  EXPECT_NE(err.find("available: loss)"), std::string::npos) << err;
  // Once per fit: a second fit warns again.
  ::testing::internal::CaptureStderr();
  t.model.fit(t.xs, t.ys, {.epochs = 2, .verbose = 0, .callbacks = {es}});
  EXPECT_EQ(count_of(::testing::internal::GetCapturedStderr(), "EarlyStopping"), 1);

  auto typo = EarlyStopping({.monitor = "val_acc"});
  t.model.compile({.optimizer = "sgd", .loss = "mse", .metrics = {"mae"}});
  ::testing::internal::CaptureStderr();
  EXPECT_NO_THROW(
      t.model.fit(t.xs, t.ys, {.epochs = 2, .validation_split = 0.2, .verbose = 0, .callbacks = {typo}}));
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("'val_acc'"), std::string::npos) << err;
  EXPECT_NE(err.find("available: loss, mae, val_loss, val_mae"), std::string::npos) << err;
}

TEST(EarlyStopping, InvalidOptions) {
  expect_error<ValueError>([] { EarlyStopping({.mode = "maximum"}); }, {"EarlyStopping", "mode 'maximum'", "'auto'"});
  expect_error<ValueError>([] { EarlyStopping({.patience = -1}); }, {"EarlyStopping", "patience", "-1"});
  expect_error<ValueError>([] { EarlyStopping({.monitor = ""}); }, {"EarlyStopping", "monitor"});
}

TEST(TerminateOnNaN, StopsOnANaNLoss) {
  Tiny t;
  Tensor xs = t.xs.clone();
  xs.at(4, 1) = std::numeric_limits<float>::quiet_NaN();  // sample 4 is in batch 2 (batch size 2)
  auto nan = TerminateOnNaN();
  auto rec = std::make_shared<Recorder>();
  ::testing::internal::CaptureStdout();
  History h = t.model.fit(xs, t.ys, {.epochs = 3, .batch_size = 2, .shuffle = false, .verbose = 0, .callbacks = {nan, rec}});
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(nan->terminated());
  EXPECT_NE(out.find("Batch 2: Invalid loss, terminating training"), std::string::npos) << out;
  // Batches 0, 1 and 2 ran; then the epoch ended and training stopped.
  EXPECT_EQ(rec->events.back(), "train_end");
  EXPECT_EQ(std::count(rec->events.begin(), rec->events.end(), std::string("batch_end 2 loss")), 1);
  EXPECT_EQ(std::count(rec->events.begin(), rec->events.end(), std::string("batch_begin 3 size 2")), 0);
  EXPECT_EQ(h.epoch().size(), 1u);
  EXPECT_TRUE(std::isnan(h["loss"][0]));

  // Finite losses do not stop anything (a fresh model: t's weights are NaN now).
  Tiny fresh;
  auto ok = TerminateOnNaN();
  History h2 = fresh.model.fit(fresh.xs, fresh.ys, {.epochs = 2, .verbose = 0, .callbacks = {ok}});
  EXPECT_FALSE(ok->terminated());
  EXPECT_EQ(h2.epoch().size(), 2u);
}

TEST(Logs, SetAtFormat) {
  Logs l;
  l.set("loss", 0.5);
  l.set("acc", 0.25);
  l.set("loss", 0.125);  // overwrite keeps the position
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l.items()[0].first, "loss");
  EXPECT_DOUBLE_EQ(l.at("loss"), 0.125);
  EXPECT_TRUE(l.contains("acc"));
  EXPECT_FALSE(l.contains("val_acc"));
  expect_error<ValueError>([&] { l.at("val_acc"); }, {"'val_acc'", "loss, acc"});
  EXPECT_EQ(l.format(), "loss: 0.1250 - acc: 0.2500");
  Logs tiny;
  tiny.set("loss", 1.5e-5);
  EXPECT_EQ(tiny.format(), "loss: 1.5000e-05");
  Logs empty;
  expect_error<ValueError>([&] { empty.at("loss"); }, {"'loss'", "none"});
}

namespace {

History forged_history() {
  History h;
  Logs none;
  h.on_train_begin(none);
  for (int e = 0; e < 3; ++e) {
    Logs l;
    l.set("loss", 1.0 / (e + 1));
    l.set("acc", 0.25 * e);
    l.set("val_loss", 2.0 / (e + 1));
    h.on_epoch_end(e, l);
  }
  return h;
}

}  // namespace

TEST(History, KeysSeriesCsvJson) {
  History h = forged_history();
  EXPECT_EQ(h.epoch(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"loss", "acc", "val_loss"}));
  EXPECT_TRUE(h.contains("acc"));
  EXPECT_FALSE(h.contains("val_acc"));
  EXPECT_EQ(h["loss"], (std::vector<double>{1.0, 0.5, 1.0 / 3}));
  expect_error<ValueError>([&] { (void)h["val_acc"]; }, {"'val_acc'", "loss, acc, val_loss"});

  EXPECT_EQ(h.to_csv(),
            "epoch,loss,acc,val_loss\n"
            "0,1,0,2\n"
            "1,0.5,0.25,1\n"
            "2,0.333333333,0.5,0.666666667\n");

  const auto j = nlohmann::json::parse(h.to_json());
  EXPECT_EQ(j["epoch"], nlohmann::json::array({0, 1, 2}));
  ASSERT_TRUE(j["history"].is_object());
  EXPECT_EQ(j["history"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["history"]["loss"][2].get<double>(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(j["history"]["acc"][1].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["history"]["val_loss"][0].get<double>(), 2.0);
  // Key order is kept in the text.
  const std::string text = h.to_json();
  EXPECT_LT(text.find("\"loss\""), text.find("\"acc\""));
  EXPECT_LT(text.find("\"acc\""), text.find("\"val_loss\""));

  // NaN becomes null in JSON (JSON has no NaN).
  History n;
  Logs none;
  n.on_train_begin(none);
  Logs l;
  l.set("loss", std::numeric_limits<double>::quiet_NaN());
  n.on_epoch_end(0, l);
  EXPECT_TRUE(nlohmann::json::parse(n.to_json())["history"]["loss"][0].is_null());
}

TEST(History, SaveIsAtomicAndReportsErrors) {
  History h = forged_history();
  const auto dir = std::filesystem::temp_directory_path() / ("seqnet_history_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string csv = (dir / "history.csv").string(), json = (dir / "history.json").string();
  h.save_csv(csv);
  h.save_json(json);
  EXPECT_EQ(read_all(csv), h.to_csv());
  EXPECT_EQ(read_all(json), h.to_json());
  // Overwriting replaces the whole file and leaves no temporary file behind.
  History shorter;
  Logs none;
  shorter.on_train_begin(none);
  Logs l;
  l.set("loss", 1.0);
  shorter.on_epoch_end(0, l);
  shorter.save_csv(csv);
  EXPECT_EQ(read_all(csv), "epoch,loss\n0,1\n");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 2);
  // A directory that does not exist: IOError naming the path.
  const std::string bad = (dir / "missing" / "h.csv").string();
  expect_error<IOError>([&] { h.save_csv(bad); }, {bad});
  std::filesystem::remove_all(dir);
}

TEST(History, FitReturnsPerEpochSeries) {
  set_seed(2);
  Tiny t;
  t.model.compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse", .metrics = {"mae"}});
  History h = t.model.fit(t.xs, t.ys, {.epochs = 4, .batch_size = 4, .validation_split = 0.2, .verbose = 0});
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"loss", "mae", "val_loss", "val_mae"}));
  for (const auto& k : h.keys()) EXPECT_EQ(h[k].size(), 4u) << k;
  // The last val_loss is the loss of evaluate() on the last 20% after training.
  const Logs v = t.model.evaluate(t.xs.rows(8, 10), t.ys.rows(8, 10));
  EXPECT_NEAR(h["val_loss"].back(), v.at("loss"), 1e-6);
  EXPECT_NEAR(h["val_mae"].back(), v.at("mae"), 1e-6);
}

// ---------------------------------------------------------------- ReduceLROnPlateau

namespace {

// Drives a ReduceLROnPlateau callback with forged monitored values; returns
// the "lr" it logged for every epoch and, last, the rate after the run.
std::vector<float> drive_lr(ReduceLROnPlateauCallback& cb, Model& model, const std::string& key,
                            const std::vector<double>& values) {
  cb.set_model(&model);
  Logs none;
  cb.on_train_begin(none);
  std::vector<float> lr;
  for (size_t e = 0; e < values.size(); ++e) {
    Logs l;
    l.set(key, values[e]);
    cb.on_epoch_end(static_cast<int>(e), l);
    lr.push_back(static_cast<float>(l.at("lr")));
  }
  lr.push_back(model.optimizer().learning_rate());
  cb.set_model(nullptr);
  return lr;
}

void expect_rates(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << "epoch " << i;
}

}  // namespace

TEST(ReduceLROnPlateau, LowersTheRateAfterPatienceEpochsWithoutImprovement) {
  Tiny t;  // SGD, learning rate 0.05
  auto cb = ReduceLROnPlateau({.monitor = "val_loss", .factor = 0.5, .patience = 2, .min_delta = 0.0});
  // Best 0.9 at epoch 1; epochs 2 and 3 do not improve -> halved after
  // epoch 3; 0.85 improves at epoch 4; epochs 5 and 6 do not -> halved again.
  expect_rates(drive_lr(*cb, t.model, "val_loss", {1.0, 0.9, 0.9, 0.95, 0.85, 0.85, 0.86}),
               {0.05f, 0.05f, 0.05f, 0.05f, 0.025f, 0.025f, 0.025f, 0.0125f});
  EXPECT_DOUBLE_EQ(cb->best(), 0.85);
}

TEST(ReduceLROnPlateau, MinDeltaAndModes) {
  Tiny t;
  // Improvements smaller than min_delta (Keras default 1e-4) do not count.
  auto cb = ReduceLROnPlateau({.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 0.01});
  // 0.995 is no improvement on 1.0; 0.98 is.
  expect_rates(drive_lr(*cb, t.model, "loss", {1.0, 0.995, 0.98}), {0.05f, 0.05f, 0.025f, 0.025f});
  // Accuracies are maximized in auto mode: rising values never reduce.
  t.model.optimizer().set_learning_rate(0.05f);
  auto acc = ReduceLROnPlateau({.monitor = "val_accuracy", .patience = 0});
  expect_rates(drive_lr(*acc, t.model, "val_accuracy", {0.5, 0.6, 0.7}), {0.05f, 0.05f, 0.05f, 0.05f});
  auto max = ReduceLROnPlateau({.monitor = "loss", .factor = 0.5, .patience = 0, .mode = "max"});
  expect_rates(drive_lr(*max, t.model, "loss", {0.5, 0.6, 0.55}), {0.05f, 0.05f, 0.05f, 0.025f});
}

TEST(ReduceLROnPlateau, CooldownPausesTheCount) {
  Tiny t;
  // A flat series with patience 1: without cooldown every epoch after the
  // first reduces; with cooldown 2 the rate drops every second epoch (as in
  // Keras, the cooldown counter drops at the start of each epoch, before the
  // epoch is counted, so cooldown 2 skips one epoch).
  auto plain = ReduceLROnPlateau({.monitor = "loss", .factor = 0.5, .patience = 1});
  expect_rates(drive_lr(*plain, t.model, "loss", {1, 1, 1, 1}), {0.05f, 0.05f, 0.025f, 0.0125f, 0.00625f});
  t.model.optimizer().set_learning_rate(0.05f);
  auto cool = ReduceLROnPlateau({.monitor = "loss", .factor = 0.5, .patience = 1, .cooldown = 2});
  expect_rates(drive_lr(*cool, t.model, "loss", {1, 1, 1, 1, 1, 1}),
               {0.05f, 0.05f, 0.025f, 0.025f, 0.0125f, 0.0125f, 0.00625f});
}

TEST(ReduceLROnPlateau, NeverBelowMinLr) {
  Tiny t;
  auto cb = ReduceLROnPlateau({.monitor = "loss", .factor = 0.1, .patience = 0, .min_lr = 0.002});
  expect_rates(drive_lr(*cb, t.model, "loss", {1, 1, 1, 1}), {0.05f, 0.05f, 0.005f, 0.002f, 0.002f});
}

TEST(ReduceLROnPlateau, InAFitTheHistoryRecordsTheRate) {
  // The monitored value is forged by a LambdaCallback listed first; the
  // History comes after every callback, so it holds ReduceLROnPlateau's "lr".
  Tiny t;
  const std::vector<double> forged = {1.0, 0.9, 0.9, 0.9, 0.9};
  auto forge = LambdaCallback({.on_epoch_end = [&](int e, Logs& l) { l.set("forged", forged.at(size_t(e))); }});
  auto cb = ReduceLROnPlateau({.monitor = "forged", .factor = 0.5, .patience = 2, .verbose = 1});
  ::testing::internal::CaptureStdout();
  History h = t.model.fit(t.xs, t.ys, {.epochs = 5, .batch_size = 5, .verbose = 0, .callbacks = {forge, cb}});
  const std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_TRUE(h.contains("lr"));
  const std::vector<double>& lr = h["lr"];
  ASSERT_EQ(lr.size(), 5u);
  for (int e = 0; e < 4; ++e) EXPECT_FLOAT_EQ(static_cast<float>(lr[static_cast<size_t>(e)]), 0.05f) << e;
  EXPECT_FLOAT_EQ(static_cast<float>(lr[4]), 0.025f);  // reduced after epoch 3 (index), used in epoch 4
  EXPECT_FLOAT_EQ(t.model.optimizer().learning_rate(), 0.025f);
  EXPECT_NE(out.find("Epoch 4: ReduceLROnPlateau reducing learning rate to 0.025."), std::string::npos) << out;
  EXPECT_TRUE(h.contains("forged"));
}

TEST(ReduceLROnPlateau, MonitoringAKeyThatIsNotLoggedWarnsOncePerFit) {
  Tiny t;
  auto cb = ReduceLROnPlateau({.patience = 0});  // monitors val_loss
  ::testing::internal::CaptureStderr();
  History h = t.model.fit(t.xs, t.ys, {.epochs = 3, .verbose = 0, .callbacks = {cb}});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(err, "ReduceLROnPlateau"), 1) << err;
  EXPECT_NE(err.find("'val_loss'"), std::string::npos) << err;
  EXPECT_NE(err.find("available: loss, lr)"), std::string::npos) << err;
  EXPECT_EQ(h.epoch().size(), 3u);
  EXPECT_FLOAT_EQ(t.model.optimizer().learning_rate(), 0.05f);  // unchanged
}

TEST(ReduceLROnPlateau, InvalidOptions) {
  expect_error<ValueError>([] { ReduceLROnPlateau({.factor = 1.0}); }, {"ReduceLROnPlateau", "factor", "(0, 1)", "1"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.factor = 0.0}); }, {"factor", "0"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.patience = -1}); }, {"patience", "-1"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.mode = "lowest"}); }, {"mode 'lowest'"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.min_delta = -0.1}); }, {"min_delta", "-0.1"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.cooldown = -2}); }, {"cooldown", "-2"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.min_lr = -1}); }, {"min_lr", "-1"});
  expect_error<ValueError>([] { ReduceLROnPlateau({.monitor = ""}); }, {"monitor"});
}

// ---------------------------------------------------------------- CSVLogger

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, sep);) out.push_back(f);
  return out;
}

}  // namespace

TEST(CSVLogger, WritesSortedKeysAndALineAsEachEpochEnds) {
  set_seed(6);
  TempDir dir("csvlogger");
  const std::string path = dir.file("log.csv");
  Tiny t;
  t.model.compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse", .metrics = {"mae"}});
  std::vector<size_t> lines_at_epoch_end;
  auto csv = CSVLogger(path);
  auto peek = LambdaCallback(
      {.on_epoch_end = [&](int, Logs&) { lines_at_epoch_end.push_back(lines_of(read_all(path)).size()); }});
  History h = t.model.fit(t.xs, t.ys,
                          {.epochs = 3, .batch_size = 4, .validation_split = 0.2, .verbose = 0, .callbacks = {csv, peek}});
  EXPECT_EQ(lines_at_epoch_end, (std::vector<size_t>{2, 3, 4}));  // the header, then one line per epoch, at once
  const auto lines = lines_of(read_all(path));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,loss,mae,val_loss,val_mae");  // sorted, as Keras
  for (size_t e = 0; e < 3; ++e) {
    const auto f = split(lines[e + 1], ',');
    ASSERT_EQ(f.size(), 5u) << lines[e + 1];
    EXPECT_EQ(f[0], std::to_string(e));
    // Shortest round-trip text: each value reads back exactly.
    EXPECT_EQ(std::stod(f[1]), h["loss"][e]);
    EXPECT_EQ(std::stod(f[2]), h["mae"][e]);
    EXPECT_EQ(std::stod(f[3]), h["val_loss"][e]);
    EXPECT_EQ(std::stod(f[4]), h["val_mae"][e]);
  }
  // A second run without append replaces the file.
  t.model.fit(t.xs, t.ys, {.epochs = 1, .verbose = 0, .callbacks = {csv}});
  EXPECT_EQ(lines_of(read_all(path)).size(), 2u);
  EXPECT_EQ(lines_of(read_all(path))[0], "epoch,loss,mae");
}

TEST(CSVLogger, AppendModeAndSeparator) {
  TempDir dir("csvlogger");
  const std::string path = dir.file("log.tsv");
  Tiny t;
  auto csv = CSVLogger(path, {.separator = "\t", .append = true});
  // A new file gets a header.
  t.model.fit(t.xs, t.ys, {.epochs = 2, .verbose = 0, .callbacks = {csv}});
  // Resuming appends rows only, numbered by the resumed epochs.
  t.model.fit(t.xs, t.ys, {.epochs = 4, .verbose = 0, .callbacks = {csv}, .initial_epoch = 2});
  const auto lines = lines_of(read_all(path));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "epoch\tloss");
  for (int e = 0; e < 4; ++e) EXPECT_EQ(split(lines[static_cast<size_t>(e) + 1], '\t').at(0), std::to_string(e));
  // An existing empty file gets a header too (Keras's rule).
  const std::string empty = dir.file("empty.csv");
  { std::ofstream touch(empty); }
  auto csv2 = CSVLogger(empty, {.append = true});
  t.model.fit(t.xs, t.ys, {.epochs = 1, .verbose = 0, .callbacks = {csv2}});
  EXPECT_EQ(lines_of(read_all(empty)).at(0), "epoch,loss");
}

TEST(CSVLogger, ValuesAsPythonWritesThemMissingKeysAndQuoting) {
  TempDir dir("csvlogger");
  const std::string path = dir.file("log.csv");
  auto csv = CSVLogger(path);
  Logs none;
  csv->on_train_begin(none);
  Logs first;
  first.set("loss", 1.0);
  first.set("acc", 0.5);
  first.set("tiny", 1e-5);
  first.set("big", 1e16);
  first.set("a,b", std::numeric_limits<double>::quiet_NaN());
  csv->on_epoch_end(0, first);
  Logs second;  // "acc" and "a,b" missing, "new" ignored (the keys are the first epoch's)
  second.set("loss", 0.25);
  second.set("tiny", 2.0);
  second.set("big", -std::numeric_limits<double>::infinity());
  second.set("new", 3.0);
  csv->on_epoch_end(1, second);
  csv->on_train_end(none);
  EXPECT_EQ(read_all(path),
            "epoch,\"a,b\",acc,big,loss,tiny\n"
            "0,nan,0.5,1e+16,1.0,1e-05\n"
            "1,NA,NA,-inf,0.25,2.0\n");
}

TEST(CSVLogger, BadPathAndOptions) {
  TempDir dir("csvlogger");
  Tiny t;
  const std::string bad = dir.file("missing/log.csv");
  expect_error<IOError>([&] { t.model.fit(t.xs, t.ys, {.epochs = 1, .verbose = 0, .callbacks = {CSVLogger(bad)}}); },
                        {"CSVLogger", bad});
  expect_error<ValueError>([] { CSVLogger(""); }, {"CSVLogger", "file name"});
  expect_error<ValueError>([] { CSVLogger("x.csv", {.separator = ""}); }, {"CSVLogger", "separator"});
}
