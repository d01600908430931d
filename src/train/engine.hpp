#pragma once
// The one training loop behind Model::fit, fit_truncated_bptt and
// decode::fit_scheduled_sampling. The loop owns what every way of training
// shares: the epochs (from initial_epoch), the callbacks and their hook
// order, the History, the progress bar (verbose 0 / 1 / 2), validation at
// the end of each epoch and stop_training. What one epoch's batches are,
// and what training on one means, comes from a BatchSource:
//   fit                    shuffled (or ordered) batches of rows, or batches
//                          bucketed by length (FitOptions::bucket_by_length)
//   fit_truncated_bptt     batches of sequences, each trained window by
//                          window with the states carried across its windows
//   fit_scheduled_sampling batches whose decoder inputs are resampled from
//                          the model's own predictions per the schedule
//
// Per epoch: on_epoch_begin, "Epoch i/N" (verbose > 0), begin_epoch; per
// batch: on_batch_begin (logs "batch", "size"), train_batch, on_batch_end
// (the running logs), progress bar; stop_training ends the epoch after the
// batch. Then end_epoch, validate (its val_ logs join the epoch's), the
// progress bar's last line and on_epoch_end. The History is the last
// callback, as in Keras, so it records what earlier callbacks add to the
// logs (ReduceLROnPlateau's "lr").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet::detail {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Prepares epoch `epoch` (its order, buckets or sampling probability) and
  // returns its number of batches.
  virtual int64_t begin_epoch(int epoch) = 0;
  // The number of samples of batch `b` of this epoch (the batch logs' "size").
  virtual int64_t batch_samples(int64_t b) const = 0;
  // Trains on batch `b` (one gradient update or several); returns the
  // epoch's running logs.
  virtual Logs train_batch(int64_t b) = 0;
  // The epoch's training logs, after its last batch.
  virtual Logs end_epoch() = 0;
  // Validation logs, every key prefixed with "val_"; empty without
  // validation data.
  virtual Logs validate() { return Logs(); }
};

struct LoopOptions {
  int epochs = 1;
  int initial_epoch = 0;
  // 0 silent, 1 progress bar, 2 one line per epoch.
  int verbose = 1;
  std::vector<std::shared_ptr<Callback>> callbacks{};
};

// Throws ValueError prefixed with `context` for epochs < 0, initial_epoch
// < 0, a verbose level other than 0, 1 or 2, or a null callback.
void check_loop_options(const LoopOptions& options, const std::string& context);

// Runs the epochs [initial_epoch, epochs) of `source` on `model` and
// returns the History. Resets model.stop_training first. The callbacks see
// the model from on_train_begin to on_train_end (and not after, also when
// something throws). REQUIRES: check_loop_options(options) passed.
History run_epochs(Model& model, BatchSource& source, const LoopOptions& options);

// For the ways of training that do not train data-parallel
// (fit_truncated_bptt, fit_scheduled_sampling): throws ValueError prefixed
// with `context` when the process runs under an MPI launcher with more than
// one rank, where each rank would silently train a copy of its own.
void refuse_data_parallel(const std::string& context);

// Keras's stateful rule: a stateful model whose inputs have a fixed batch
// size (Input's batch_size) runs batches of exactly that size. Throws
// ValueError prefixed with `context`, naming the input, the fixed size and
// `given` (e.g. "batch_size 8"), when `batch_size` differs. Models that are
// not stateful, or have no fixed batch size, pass.
void check_stateful_batch_size(const Model& model, int64_t batch_size, const std::string& context,
                               const std::string& given);

}  // namespace seqnet::detail
