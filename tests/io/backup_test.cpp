// BackupAndRestore and load_training_state (src/io/checkpoint.cpp,
// src/io/model_io.cpp): a run interrupted after any epoch continues bit for
// bit as the uninterrupted one (weights, optimizer, dropout and shuffling),
// its History holding every epoch; a finished backup kept with
// delete_checkpoint = false skips the training; malformed or mismatched
// backups are clear errors.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;
using seqnet::testing::TempDir;
using seqnet::testing::uniform;
namespace fs = std::filesystem;

namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// Dropout and shuffling draw from the global generator, so an exact
// continuation needs its state restored too.
std::unique_ptr<Model> model(int units = 6, const std::string& optimizer = "adam") {
  clear_session();
  set_seed(17);
  auto in = Input({5, 3});
  auto h = LSTM(units, {.dropout = 0.2f, .recurrent_dropout = 0.1f})(in);
  auto m = std::make_unique<Model>(std::vector<SymbolicTensor>{in}, std::vector<SymbolicTensor>{Dense(2)(h)}, "br");
  m->compile({.optimizer = optimizer, .loss = "mse", .metrics = {"mae"}});
  return m;
}

std::vector<float> flat_weights(const Model& m) {
  std::vector<float> out;
  for (const Tensor& w : m.get_weights()) out.insert(out.end(), w.begin(), w.end());
  return out;
}

// Throws after epoch `at` (0-based) ends, after the backup of that epoch.
std::shared_ptr<Callback> interrupt_after(int at) {
  return LambdaCallback({.on_epoch_end = [at](int epoch, Logs&) {
    if (epoch == at) throw Interrupted();
  }});
}

}  // namespace

TEST(BackupAndRestore, InterruptedRunContinuesBitForBit) {
  const Tensor x = uniform({40, 5, 3}, 1), y = uniform({40, 2}, 2);
  const FitOptions base{.epochs = 6, .batch_size = 8, .validation_split = 0.25, .verbose = 0};
  auto full = model();
  const History hf = full->fit(x, y, base);
  const auto expected = flat_weights(*full);

  for (int at : {0, 2, 4}) {
    TempDir dir("backup");
    const std::string folder = dir.file("run");
    FitOptions o = base;
    o.callbacks = {BackupAndRestore(folder), interrupt_after(at)};
    auto first = model();
    EXPECT_THROW(first->fit(x, y, o), Interrupted);
    ASSERT_TRUE(fs::exists(folder + "/backup.json")) << at;
    // Exactly one model file beside the description.
    int files = 0;
    for (const auto& e : fs::directory_iterator(folder)) files += e.path().extension() == ".safetensors";
    EXPECT_EQ(files, 1) << at;

    // The program runs again from the start: same model code, same seed.
    auto again = model();
    o.callbacks = {BackupAndRestore(folder)};
    const History h = again->fit(x, y, o);
    EXPECT_EQ(flat_weights(*again), expected) << "interrupted after epoch " << at;
    ASSERT_EQ(h.epoch().size(), 6u);
    EXPECT_EQ(h["loss"], hf["loss"]);
    EXPECT_EQ(h["val_mae"], hf["val_mae"]);
    EXPECT_EQ(again->optimizer().iterations(), full->optimizer().iterations());
    EXPECT_FALSE(fs::exists(folder)) << "deleted after a finished run (delete_checkpoint)";
  }
}

TEST(BackupAndRestore, FinishedBackupKeptSkipsTraining) {
  TempDir dir("backup");
  const std::string folder = dir.file("kept");
  const Tensor x = uniform({24, 5, 3}, 3), y = uniform({24, 2}, 4);
  auto m = model();
  auto stop = EarlyStopping({.monitor = "loss", .patience = 0, .restore_best_weights = true});
  const FitOptions o{.epochs = 5, .batch_size = 8, .verbose = 0,
                     .callbacks = {stop, BackupAndRestore(folder, {.delete_checkpoint = false})}};
  const History h1 = m->fit(x, y, o);
  const auto trained = flat_weights(*m);
  ASSERT_TRUE(fs::exists(folder + "/backup-final.safetensors"));
  EXPECT_FALSE(fs::exists(folder + fmt::format("/backup-e{:06d}.safetensors", h1.epoch().size())));

  auto again = model();
  EXPECT_NE(flat_weights(*again), trained);
  const History h2 = again->fit(x, y, {.epochs = 5, .batch_size = 8, .verbose = 0,
                                       .callbacks = {BackupAndRestore(folder, {.delete_checkpoint = false})}});
  EXPECT_EQ(flat_weights(*again), trained);
  EXPECT_EQ(h2["loss"], h1["loss"]);
  EXPECT_EQ(again->optimizer().iterations(), m->optimizer().iterations());
}

TEST(BackupAndRestore, MalformedOrMismatchedBackups) {
  TempDir dir("backup");
  const std::string folder = dir.file("bad");
  const Tensor x = uniform({16, 5, 3}, 5), y = uniform({16, 2}, 6);
  auto m = model();
  EXPECT_THROW(m->fit(x, y, {.epochs = 3, .batch_size = 8, .verbose = 0,
                             .callbacks = {BackupAndRestore(folder), interrupt_after(1)}}),
               Interrupted);
  const std::string info = folder + "/backup.json";
  std::ifstream in(info);
  const std::string good((std::istreambuf_iterator<char>(in)), {});
  in.close();

  // A model of another size, or compiled with another optimizer.
  expect_error<ShapeError>([&] { model(7)->fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {BackupAndRestore(folder)}}); },
                           {"backup-e000002.safetensors", "shape"});
  expect_error<IOError>(
      [&] { model(6, "rmsprop")->fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {BackupAndRestore(folder)}}); },
      {"optimizer is Adam", "RMSprop"});

  auto write = [&](const std::string& text) { std::ofstream(info, std::ios::trunc) << text; };
  auto fit_fails = [&](std::initializer_list<std::string> fragments) {
    expect_error<IOError>([&] { model()->fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {BackupAndRestore(folder)}}); },
                          fragments);
  };
  write("{");
  fit_fails({"backup.json"});
  write(R"({"format": "other"})");
  fit_fails({"backup.json", "not a seqnet backup", "remove the folder"});
  nlohmann::json j = nlohmann::json::parse(good);
  j["model"] = "../../etc/passwd";
  write(j.dump());
  fit_fails({"\"model\""});
  j = nlohmann::json::parse(good);
  j["history"][0]["epoch"] = 9;
  write(j.dump());
  fit_fails({"out of order"});
  j = nlohmann::json::parse(good);
  j["version"] = 2;
  write(j.dump());
  fit_fails({"version"});
  // The model file named is gone.
  write(good);
  fs::remove(folder + "/backup-e000002.safetensors");
  fit_fails({"backup-e000002.safetensors"});
  expect_error<ValueError>([] { BackupAndRestore(""); }, {"backup_dir is empty"});
}

TEST(LoadTrainingState, KeepsTheModelObjectAndChecksEverything) {
  TempDir dir("state");
  const Tensor x = uniform({16, 5, 3}, 7), y = uniform({16, 2}, 8);
  auto a = model();
  a->fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = 0});
  a->save(dir.file("a.safetensors"));
  a->save_weights(dir.file("w.safetensors"));
  a->save(dir.file("noopt.safetensors"), false);
  const auto saved = flat_weights(*a);
  auto b = model();
  Model* before = b.get();
  load_training_state(*b, dir.file("a.safetensors"));
  EXPECT_EQ(b.get(), before);
  EXPECT_EQ(flat_weights(*b), flat_weights(*a));
  EXPECT_EQ(b->optimizer().iterations(), a->optimizer().iterations());
  // One more epoch from both: the same bits (optimizer slots and generator restored).
  set_seed(99);
  a->fit(x, y, {.epochs = 1, .batch_size = 8, .verbose = 0});
  const auto after_a = flat_weights(*a);
  load_training_state(*b, dir.file("a.safetensors"));
  set_seed(99);
  b->fit(x, y, {.epochs = 1, .batch_size = 8, .verbose = 0});
  EXPECT_EQ(flat_weights(*b), after_a);

  auto c = model();
  const auto untouched = flat_weights(*c);
  expect_error<IOError>([&] { load_training_state(*c, dir.file("w.safetensors")); }, {"only weights"});
  expect_error<IOError>([&] { load_training_state(*c, dir.file("noopt.safetensors")); },
                        {"no optimizer state", "compile = false"});
  EXPECT_EQ(flat_weights(*c), untouched) << "unchanged when it throws";
  load_training_state(*c, dir.file("noopt.safetensors"), {.compile = false});
  EXPECT_EQ(flat_weights(*c), saved);
  EXPECT_EQ(c->optimizer().iterations(), 0) << "compile = false leaves the optimizer alone";
}
