#pragma once
// ModelCheckpoint: Keras's callback that saves the model (or its weights)
// during fit(), with the atomic writes of Model::save (a crash never leaves
// a broken file).
//
//   model.fit(x, y, {.epochs = 50, .validation_split = 0.1,
//                    .callbacks = {ModelCheckpoint("ckpt-{epoch:02d}-{val_loss:.2f}.safetensors",
//                                                  {.monitor = "val_loss", .save_best_only = true})}});
//
// The file path may hold placeholders in Python's format syntax: {epoch}
// (1-based, as Keras) and any name in the epoch's logs ({loss},
// {val_loss}, {accuracy}, ...), each with an optional format spec after a
// colon ({epoch:02d}, {val_loss:.4f}); "{{" and "}}" are literal braces.
// A full save (the default) includes the optimizer and random-generator
// state, so load_model(file) followed by fit(..., {.initial_epoch = epoch})
// continues the run exactly.
//
// BackupAndRestore: Keras's callback that makes an interrupted fit()
// continue where it stopped when the same code runs again:
//
//   model.fit(x, y, {.epochs = 40, .callbacks = {BackupAndRestore("out/backup")}});
//
// After every epoch it saves the model with its optimizer and random state
// (atomically, one file per epoch, then a small JSON naming it; the older
// file is removed after). When fit() starts and the folder holds a backup,
// the model takes its state (load_training_state, seqnet/io/model_io.hpp)
// and training continues with the next epoch, bit for bit as the
// uninterrupted run, its History starting with the restored epochs.
// Callbacks' own counters (EarlyStopping's patience) start afresh.

#include <memory>
#include <optional>
#include <string>

#include "seqnet/files.hpp"
#include "seqnet/train/callbacks.hpp"

namespace seqnet {

struct ModelCheckpointOptions {
  // Quantity compared by save_best_only. Default: "val_loss".
  std::string monitor = "val_loss";
  // 1 prints a line for every save (and for every skipped one with
  // save_best_only). Default: 0.
  int verbose = 0;
  // Save only when the monitored quantity improves on the best so far.
  // Default: false (save every epoch).
  bool save_best_only = false;
  // Save only the weights (Model::save_weights) instead of the whole model.
  // Default: false.
  bool save_weights_only = false;
  // "min", "max" or "auto" (max when the monitor names an accuracy, else
  // min). Default: "auto".
  std::string mode = "auto";
  // With save_best_only, a value the monitored quantity must beat before
  // the first save. Default: none.
  std::optional<double> initial_value_threshold{};
};

class ModelCheckpointCallback : public Callback {
 public:
  // Throws ValueError for an empty file path, an unknown mode or a verbose
  // level other than 0 or 1.
  ModelCheckpointCallback(std::string filepath, ModelCheckpointOptions options);
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

  // The path of the last file written ("" before any).
  const std::string& last_saved() const { return last_saved_; }
  // The best monitored value so far (with save_best_only).
  std::optional<double> best() const { return best_; }

 private:
  std::string filepath_;
  ModelCheckpointOptions o_;
  bool maximize_ = false;
  std::optional<double> best_;
  std::string last_saved_;
};

// Keras's ModelCheckpoint(filepath, ...). Throws as the constructor.
std::shared_ptr<ModelCheckpointCallback> ModelCheckpoint(const std::string& filepath,
                                                         const ModelCheckpointOptions& options = {});

// The file path for `epoch` (0-based; {epoch} prints epoch + 1) and `logs`.
// Throws ValueError for an unknown placeholder (listing the available ones),
// an unbalanced brace or a format spec that does not fit the value.
std::string format_checkpoint_path(const std::string& pattern, int epoch, const Logs& logs);

struct BackupAndRestoreOptions {
  // Remove the backup when training ends without an exception (Keras's
  // delete_checkpoint). With false, the end state stays, marked finished:
  // a later fit() with the same folder restores it and runs no epoch, so a
  // finished stage of a longer program is skipped when the program runs
  // again. Put the callback after any that change the weights at the end
  // (EarlyStopping with restore_best_weights). Default: true.
  bool delete_checkpoint = true;
  // Most bytes of a backup file read back (read_file's limit). Default:
  // kDefaultMaxFileBytes.
  int64_t max_file_bytes = kDefaultMaxFileBytes;
};

class BackupAndRestoreCallback : public Callback {
 public:
  // Throws ValueError for an empty folder name.
  BackupAndRestoreCallback(std::string backup_dir, BackupAndRestoreOptions options);
  // Restores a backup if the folder holds one. Throws IOError for a
  // malformed backup (naming the file) or one that does not fit the model.
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  const Resumed* resumed() const override { return restored_ ? &resumed_ : nullptr; }

  const std::string& backup_dir() const { return dir_; }
  // The description file of the backup: <backup_dir>/backup.json.
  std::string info_path() const;

 private:
  void write(int epoch, bool finished);
  std::string dir_;
  BackupAndRestoreOptions o_;
  bool restored_ = false;
  Resumed resumed_;
  // Every epoch done so far (restored ones first) with its logs.
  std::vector<std::pair<int, Logs>> done_;
  std::string model_file_;
};

// Keras's BackupAndRestore(backup_dir, ...). Throws as the constructor.
std::shared_ptr<BackupAndRestoreCallback> BackupAndRestore(const std::string& backup_dir,
                                                           const BackupAndRestoreOptions& options = {});

}  // namespace seqnet
