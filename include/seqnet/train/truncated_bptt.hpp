#pragma once
// Truncated backpropagation through time (seed 04, "Truncated Back
// Propagation through Time"): long sequences are cut into windows of k
// steps; a stateful model runs the windows of a batch in order, carrying its
// states from one window to the next, and back-propagates within each
// window only (the carried state is a constant at the window's start, so
// the gradient stops at the window's edge). Each window is one gradient
// update.
//
//   auto model = ...;  // stateful recurrent layers, time axis None or k
//   History h = fit_truncated_bptt(model, x, y, {.window = 20, .epochs = 10, .batch_size = 16});

#include <cstdint>
#include <memory>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet {

// Example: {.window = 20, .epochs = 10, .batch_size = 16, .callbacks = {EarlyStopping({.monitor = "loss"})}}
struct TruncatedBPTTOptions {
  // Steps per window (k). The last window of a sequence is shorter when k
  // does not divide its length (the model's time axis must then be None).
  // Required: > 0.
  int64_t window = 0;
  // Default: 1.
  int epochs = 1;
  // Sequences per batch; all windows of a batch run before the next batch,
  // and the states are reset between batches. A model with a fixed batch
  // size needs this size. Default: 32.
  int batch_size = 32;
  // Shuffle the sequences (not the windows) every epoch. Default: true.
  bool shuffle = true;
  // 0 silent, 1 progress bar (one step per batch of sequences), 2 one line
  // per epoch. Default: 1.
  int verbose = 1;
  // Called as in fit(): a "batch" is one batch of sequences with all its
  // windows, and its logs are the epoch's running means. Default: none (a
  // History is always recorded).
  std::vector<std::shared_ptr<Callback>> callbacks{};
  // Sequences to validate on after every epoch, window by window with the
  // states carried as in training (test_on_batch, no update); their logs
  // are "val_loss" and "val_<metric>". Shaped like the training arrays
  // (their own sample count and length). Default: none.
  ValidationData validation_data{};
  // Epoch to start from (for resuming). Default: 0.
  int initial_epoch = 0;
};

// Trains `model` on x (one array per input, (N, T, ...) with the time axis
// second) against y (one per output, (N, T, ...) per-step targets), window
// by window. Returns the History of the per-epoch means of the windows'
// training logs (weighted by the windows' samples times steps).
// REQUIRES: `model` is compiled. Throws ValueError / ShapeError for a model
// that is not stateful, arrays without a common time axis, a window <= 0,
// a window that the model's fixed time axis does not accept, a batch size
// other than the model's fixed one (naming what was expected and
// received), or bad options.
History fit_truncated_bptt(Model& model, const Tensors& x, const Tensors& y, const TruncatedBPTTOptions& options);

}  // namespace seqnet
