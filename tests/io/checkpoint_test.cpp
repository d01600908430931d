// ModelCheckpoint (src/io/checkpoint.cpp): Keras-style file-path
// placeholders, save_best_only with min / max / auto modes and a threshold,
// weights-only checkpoints, and clear errors for bad paths and options.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <filesystem>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;
using seqnet::testing::TempDir;
using seqnet::testing::uniform;

TEST(ModelCheckpoint, FormatsFilePaths) {
  Logs logs;
  logs.set("loss", 0.123456);
  logs.set("val_loss", 1.5);
  logs.set("val_accuracy", 0.875);
  EXPECT_EQ(format_checkpoint_path("ckpt-{epoch:02d}-{val_loss:.2f}.safetensors", 4, logs),
            "ckpt-05-1.50.safetensors");
  EXPECT_EQ(format_checkpoint_path("{epoch}_{loss:.3f}_{val_accuracy}", 0, logs), "1_0.123_0.875");
  EXPECT_EQ(format_checkpoint_path("plain.safetensors", 9, logs), "plain.safetensors");
  EXPECT_EQ(format_checkpoint_path("{{literal}}-{epoch:>3}", 1, logs), "{literal}-  2");
  expect_error<ValueError>([&] { format_checkpoint_path("{val_acc}", 0, logs); },
                           {"unknown placeholder '{val_acc}'", "epoch, loss, val_loss, val_accuracy"});
  expect_error<ValueError>([&] { format_checkpoint_path("{epoch", 0, logs); }, {"unbalanced '{'"});
  expect_error<ValueError>([&] { format_checkpoint_path("x}", 0, logs); }, {"unbalanced '}'"});
  expect_error<ValueError>([&] { format_checkpoint_path("{loss:d}", 0, logs); }, {"format spec 'd'", "'loss'"});
  expect_error<ValueError>([] { ModelCheckpoint(""); }, {"empty"});
  expect_error<ValueError>([] { ModelCheckpoint("x", {.mode = "best"}); }, {"mode"});
  expect_error<ValueError>([] { ModelCheckpoint("x{", {}); }, {"unbalanced"});
}

namespace {

std::unique_ptr<Model> small_model() {
  clear_session();
  set_seed(5);
  auto in = Input({4, 2});
  auto m = std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                   std::vector<SymbolicTensor>{Dense(1)(LSTM(4)(in))}, "ck");
  m->compile({.optimizer = Adam({.learning_rate = 0.05f}), .loss = "mse", .metrics = {"mae"}});
  return m;
}

}  // namespace

TEST(ModelCheckpoint, SavesEveryEpochOrOnlyTheBest) {
  TempDir dir("ckpt");
  const Tensor x = uniform({16, 4, 2}, 1), y = uniform({16, 1}, 2);
  auto m = small_model();
  auto every = ModelCheckpoint(dir.file("e{epoch:02d}.safetensors"));
  auto best = ModelCheckpoint(dir.file("best.safetensors"), {.monitor = "loss", .save_best_only = true});
  auto weights = ModelCheckpoint(dir.file("w{epoch}.safetensors"), {.save_weights_only = true});
  History h = m->fit(x, y, {.epochs = 4, .batch_size = 4, .verbose = 0, .callbacks = {every, best, weights}});
  for (int e = 1; e <= 4; ++e) {
    EXPECT_TRUE(std::filesystem::exists(dir.file(fmt::format("e{:02d}.safetensors", e)))) << e;
    EXPECT_TRUE(std::filesystem::exists(dir.file(fmt::format("w{}.safetensors", e)))) << e;
  }
  EXPECT_EQ(every->last_saved(), dir.file("e04.safetensors"));
  // The best file holds the epoch with the lowest loss.
  double lowest = h["loss"][0];
  for (double l : h["loss"]) lowest = std::min(lowest, l);
  ASSERT_TRUE(best->best().has_value());
  EXPECT_EQ(*best->best(), lowest);
  auto loaded = load_model(dir.file("best.safetensors"));
  EXPECT_TRUE(loaded->compiled());
  // Weights-only checkpoints load into the same architecture.
  const auto w = io::SafetensorsFile::read(dir.file("w4.safetensors"));
  EXPECT_EQ(w.metadata().at("content"), "weights");
  auto fresh = small_model();
  fresh->load_weights(dir.file("w4.safetensors"));
  const auto a = fresh->get_weights(), b = m->get_weights();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(max_abs_diff(a[i], b[i]), 0.0f);
}

TEST(ModelCheckpoint, ModesAndThresholds) {
  TempDir dir("ckpt_modes");
  const Tensor x = uniform({16, 4, 2}, 1), y = uniform({16, 1}, 2);
  // Nothing beats an unreachable threshold; a missing monitor saves nothing.
  auto m = small_model();
  auto never = ModelCheckpoint(dir.file("never.safetensors"),
                               {.monitor = "loss", .save_best_only = true, .initial_value_threshold = -1.0});
  auto missing = ModelCheckpoint(dir.file("missing.safetensors"), {.monitor = "val_loss", .save_best_only = true});
  // mode max on the loss saves only when the loss grows.
  auto maxed = ModelCheckpoint(dir.file("max{epoch}.safetensors"), {.monitor = "loss", .save_best_only = true,
                                                                    .mode = "max"});
  History h = m->fit(x, y, {.epochs = 3, .batch_size = 4, .verbose = 0, .callbacks = {never, missing, maxed}});
  EXPECT_FALSE(std::filesystem::exists(dir.file("never.safetensors")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("missing.safetensors")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("max1.safetensors")));
  double highest = h["loss"][0];
  for (int e = 1; e < 3; ++e) {
    const bool grew = h["loss"][static_cast<size_t>(e)] > highest;
    highest = std::max(highest, h["loss"][static_cast<size_t>(e)]);
    EXPECT_EQ(std::filesystem::exists(dir.file(fmt::format("max{}.safetensors", e + 1))), grew) << e;
  }
  // An unwritable path fails the fit with an IOError naming it.
  auto m2 = small_model();
  expect_error<IOError>(
      [&] {
        m2->fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = 0,
                       .callbacks = {ModelCheckpoint(dir.file("no/such/dir/{epoch}.safetensors"))}});
      },
      {"no/such/dir/1.safetensors"});
}
