#pragma once
// Training callbacks with Keras's hook points, and the History that fit()
// returns.
//
// Hooks run in this order: on_train_begin, then per epoch on_epoch_begin,
// per batch on_batch_begin/on_batch_end, on_epoch_end (with the epoch's
// logs, including val_ entries), and finally on_train_end. A callback stops
// training by setting model().stop_training = true. fit(),
// fit_truncated_bptt() and decode::fit_scheduled_sampling() all run their
// callbacks this way (one training loop, src/train/engine.hpp); callbacks
// run in list order, and the History after them.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "seqnet/plot.hpp"

namespace seqnet {

class Model;

// Keras's logs dict: names and values in insertion order.
class Logs {
 public:
  void set(const std::string& name, double value);
  bool contains(const std::string& name) const;
  // Throws ValueError naming the key and listing the available ones.
  double at(const std::string& name) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  void clear() { items_.clear(); }
  // "loss: 0.1234 - accuracy: 0.9500" (Keras progress-bar style).
  std::string format() const;

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// The weighted mean of several Logs, key by key in first-seen order: the
// per-batch logs of an epoch weighted by batch size (or steps).
class LogsMean {
 public:
  void add(const Logs& logs, double weight);
  // Every key's weighted mean so far (empty before the first add).
  Logs mean() const;

 private:
  std::vector<std::pair<std::string, double>> sums_;
  double weight_ = 0;
};

class Callback {
 public:
  virtual ~Callback() = default;
  // Set by fit() before on_train_begin.
  void set_model(Model* model) { model_ = model; }
  // The model being trained. Throws Error outside fit().
  Model& model() const;

  virtual void on_train_begin(Logs& logs) { (void)logs; }
  virtual void on_train_end(Logs& logs) { (void)logs; }
  virtual void on_epoch_begin(int epoch, Logs& logs) { (void)epoch, (void)logs; }
  virtual void on_epoch_end(int epoch, Logs& logs) { (void)epoch, (void)logs; }
  virtual void on_batch_begin(int batch, Logs& logs) { (void)batch, (void)logs; }
  virtual void on_batch_end(int batch, Logs& logs) { (void)batch, (void)logs; }

  // What a callback that continues an interrupted run (BackupAndRestore,
  // seqnet/io/checkpoint.hpp) restored in its on_train_begin: the epochs
  // already done, with their logs, and whether that run had finished.
  // fit() then starts at next_epoch (or runs no epoch when finished) and
  // its History holds the restored epochs first. Null for other callbacks.
  struct Resumed {
    int next_epoch = 0;
    bool finished = false;
    std::vector<std::pair<int, Logs>> epochs;
  };
  virtual const Resumed* resumed() const { return nullptr; }

 protected:
  Model* model_ = nullptr;
};

// Per-epoch values of the loss and metrics (and val_ ones).
class History : public Callback {
 public:
  // Epoch numbers (0-based, as Keras) recorded so far.
  const std::vector<int>& epoch() const { return epoch_; }
  // Keys in first-seen order ("loss", "accuracy", "val_loss", ...).
  std::vector<std::string> keys() const;
  bool contains(const std::string& key) const;
  // The series of one key. Throws ValueError for an unknown key.
  const std::vector<double>& operator[](const std::string& key) const;
  // CSV: header "epoch,<keys...>", one row per epoch.
  std::string to_csv() const;
  // JSON: {"epoch": [...], "history": {"loss": [...], ...}}.
  std::string to_json() const;
  // Writes to_csv() / to_json() to a file (atomically: temporary file, then
  // rename). Throws IOError when it cannot be written.
  void save_csv(const std::string& path) const;
  void save_json(const std::string& path) const;
  // Line chart of the given keys (all keys when empty) against the epoch
  // (1..n): writes <path>.csv/.gp/.png/.svg with save_line_chart
  // (seqnet/plot.hpp). Throws ValueError for an unknown key (naming the
  // keys) or an empty history, IOError as save_line_chart.
  PlotFiles plot(const std::string& path, const std::vector<std::string>& keys = {}, const std::string& title = "",
                 const std::string& ylabel = "") const;

  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  std::vector<int> epoch_;
  std::vector<std::pair<std::string, std::vector<double>>> series_;
};

struct EarlyStoppingOptions {
  // Quantity to watch. Default: "val_loss".
  std::string monitor = "val_loss";
  // Smallest change that counts as an improvement. Default: 0.
  double min_delta = 0.0;
  // Epochs without improvement before stopping. Default: 0.
  int patience = 0;
  // 1 prints a line when stopping. Default: 0.
  int verbose = 0;
  // "min", "max" or "auto" (max for names containing "acc", else min).
  // Default: "auto".
  std::string mode = "auto";
  // Value the monitored quantity must beat. Default: none.
  std::optional<double> baseline{};
  // Restore the weights of the best epoch when stopping. Default: false.
  bool restore_best_weights = false;
};

// Stops training when the monitored quantity stops improving. When the
// epoch logs have no entry for the monitor, it warns once per training run
// on standard error (naming the monitor and the available keys, as Keras
// does) and does not stop.
class EarlyStoppingCallback : public Callback {
 public:
  // Throws ValueError for an unknown mode, patience < 0 or an empty monitor.
  explicit EarlyStoppingCallback(EarlyStoppingOptions options);
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  // Epoch at which training stopped (0 when it did not stop early).
  int stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  bool improved(double current, double reference) const;
  EarlyStoppingOptions o_;
  bool maximize_ = false;
  bool warned_ = false;
  int wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  double best_ = 0;
  struct Snapshot;
  std::shared_ptr<Snapshot> best_weights_;
};

// Keras's ReduceLROnPlateau(monitor, factor, patience, verbose, mode,
// min_delta, cooldown, min_lr).
// Example: {.monitor = "val_loss", .factor = 0.5, .patience = 3, .min_lr = 1e-5}
struct ReduceLROnPlateauOptions {
  // Quantity to watch. Default: "val_loss".
  std::string monitor = "val_loss";
  // The new rate is lr * factor. Must be in (0, 1). Default: 0.1.
  double factor = 0.1;
  // Epochs without improvement before the rate is reduced. Default: 10.
  int patience = 10;
  // 1 prints a line for every reduction. Default: 0.
  int verbose = 0;
  // "min", "max" or "auto" (max for names containing "acc", else min).
  // Default: "auto".
  std::string mode = "auto";
  // Smallest change that counts as an improvement; >= 0. Default: 1e-4.
  double min_delta = 1e-4;
  // Epochs to wait after a reduction before epochs without improvement
  // count again (Keras's counting: the epoch that ends the cooldown already
  // counts, so cooldown 2 skips one epoch). Default: 0.
  int cooldown = 0;
  // The rate is never reduced below this; >= 0. Default: 0.
  double min_lr = 0.0;
};

// Multiplies the optimizer's learning rate by `factor` when the monitored
// quantity has not improved for `patience` epochs (then waits `cooldown`
// epochs), never below min_lr. As in Keras, it puts the rate of the epoch
// into the epoch logs as "lr" (so the History, listed after it, records
// it). A missing monitor warns once per training run on standard error and
// changes nothing. Keras's rule: an improvement is current < best -
// min_delta (min mode) or current > best + min_delta (max mode).
class ReduceLROnPlateauCallback : public Callback {
 public:
  // Throws ValueError for a factor outside (0, 1), patience, cooldown,
  // min_delta or min_lr < 0, an empty monitor or an unknown mode.
  explicit ReduceLROnPlateauCallback(ReduceLROnPlateauOptions options);
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  // The best monitored value so far.
  double best() const { return best_; }

 private:
  ReduceLROnPlateauOptions o_;
  bool maximize_ = false;
  bool warned_ = false;
  int wait_ = 0, cooldown_counter_ = 0;
  double best_ = 0;
};

// Keras's CSVLogger(filename, separator, append).
struct CSVLoggerOptions {
  // Between the fields of a line. Must not be empty. Default: ",".
  std::string separator = ",";
  // Append to an existing file (with a header only when the file is new or
  // empty) instead of overwriting it. Default: false.
  bool append = false;
};

// Writes one line per epoch to a CSV file as the epoch ends (flushed at
// once, so the file can be read during training): a header "epoch" + the
// keys of the first epoch's logs, sorted (Keras's format), then the 0-based
// epoch and the values (Python's float repr: "0.5", "1.0", "nan"; "NA" for
// a key an epoch lacks). Fields holding the separator or a quote are
// quoted; lines end with "\n". The file is opened at on_train_begin and
// closed at on_train_end.
class CSVLoggerCallback : public Callback {
 public:
  // Throws ValueError for an empty file name or separator.
  CSVLoggerCallback(std::string filename, CSVLoggerOptions options);
  ~CSVLoggerCallback() override;
  CSVLoggerCallback(const CSVLoggerCallback&) = delete;
  CSVLoggerCallback& operator=(const CSVLoggerCallback&) = delete;
  // Throws IOError naming the file when it cannot be opened.
  void on_train_begin(Logs& logs) override;
  // Throws IOError naming the file when a line cannot be written.
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  const std::string& filename() const { return filename_; }

 private:
  std::string field(const std::string& text) const;
  std::string filename_;
  CSVLoggerOptions o_;
  struct File;
  std::unique_ptr<File> file_;
  bool started_ = false, write_header_ = true;
  std::vector<std::string> keys_;
};

// Stops training as soon as a batch loss is NaN or infinite.
class TerminateOnNaNCallback : public Callback {
 public:
  void on_batch_end(int batch, Logs& logs) override;
  bool terminated() const { return terminated_; }

 private:
  bool terminated_ = false;
};

// A callback from plain functions (Keras's LambdaCallback).
struct LambdaCallbackOptions {
  std::function<void(int, Logs&)> on_epoch_begin{};
  std::function<void(int, Logs&)> on_epoch_end{};
  std::function<void(int, Logs&)> on_batch_begin{};
  std::function<void(int, Logs&)> on_batch_end{};
  std::function<void(Logs&)> on_train_begin{};
  std::function<void(Logs&)> on_train_end{};
};

std::shared_ptr<EarlyStoppingCallback> EarlyStopping(const EarlyStoppingOptions& options = {});
std::shared_ptr<ReduceLROnPlateauCallback> ReduceLROnPlateau(const ReduceLROnPlateauOptions& options = {});
std::shared_ptr<CSVLoggerCallback> CSVLogger(const std::string& filename, const CSVLoggerOptions& options = {});
std::shared_ptr<TerminateOnNaNCallback> TerminateOnNaN();
std::shared_ptr<Callback> LambdaCallback(LambdaCallbackOptions options);

}  // namespace seqnet
