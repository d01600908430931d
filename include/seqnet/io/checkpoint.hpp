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

#include <memory>
#include <optional>
#include <string>

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

}  // namespace seqnet
