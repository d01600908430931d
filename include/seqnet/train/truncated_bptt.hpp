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

#include "seqnet/model/model.hpp"

namespace seqnet {

// Example: {.window = 20, .epochs = 10, .batch_size = 16}
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
  // 0 silent, 1 one line per epoch. Default: 1.
  int verbose = 1;
};

// Trains `model` on x (one array per input, (N, T, ...) with the time axis
// second) against y (one per output, (N, T, ...) per-step targets), window
// by window. Returns the History of the per-epoch means of the windows'
// training logs. REQUIRES: `model` is compiled. Throws ValueError /
// ShapeError for a model that is not stateful, arrays without a common time
// axis, a window <= 0, or a window that the model's fixed time axis does
// not accept (naming what was expected and received).
History fit_truncated_bptt(Model& model, const Tensors& x, const Tensors& y, const TruncatedBPTTOptions& options);

}  // namespace seqnet
