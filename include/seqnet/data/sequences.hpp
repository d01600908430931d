#pragma once
// Variable-length sequences: Keras's pad_sequences, padding straight to
// one-hot, seed 05's to_supervised window framing and past -> future
// windows of a time series (timeseries_windows).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "seqnet/random.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::data {

// Keras's pad_sequences keyword arguments.
struct PadOptions {
  // Length of every output row. Default: the longest sequence.
  std::optional<int64_t> maxlen{};
  // "pre" puts the padding before each sequence, "post" after it.
  // Default: "pre".
  std::string padding = "pre";
  // Which end of a sequence longer than maxlen is cut: "pre" drops its
  // first values, "post" its last ones. Default: "pre".
  std::string truncating = "pre";
  // Value written into the padded positions. Default: 0.
  float value = 0.0f;
};

// Integer sequences of any lengths -> (N, maxlen) floats with Keras's
// pad_sequences semantics (defaults: maxlen = longest, padding "pre",
// truncating "pre", value 0). An empty sequence gives a row of `value`; no
// sequences give a (0, maxlen) tensor (maxlen 0 when not given). Values are
// stored as float32: integers above 2^24 are not exact.
// Throws ValueError for a padding or truncating other than "pre"/"post" and
// for a negative maxlen.
Tensor pad_sequences(const std::vector<std::vector<int64_t>>& sequences, const PadOptions& options = {});

// pad_sequences for sequences of feature vectors (Keras's pad_sequences on
// a list of 2-D arrays; a separate name because a braced list like {{1}}
// would otherwise fit both): each tensor is (T_i, ...) with the same
// trailing shape, the result (N, maxlen, ...), padding whole time steps. A rank-1 tensor (T_i,)
// counts as (T_i,) values, so the result is (N, maxlen).
// Throws ShapeError when trailing shapes differ or a tensor is a scalar or
// empty(); ValueError as above. No sequences give an empty (0, maxlen) tensor.
Tensor pad_tensor_sequences(const std::vector<Tensor>& sequences, const PadOptions& options = {});

// Pads integer sequences and one-hot encodes them in one step:
// (N, maxlen, n_features). Id 0 is the padding id and encodes as an all-zero
// row (what Masking(0.0) masks and what contributes nothing to a
// categorical crossentropy), so argmax decoding of a padded row gives 0
// again. options.value is ignored (padding is always id 0).
// Throws ValueError for ids outside [0, n_features), n_features <= 0, and as
// pad_sequences does.
Tensor pad_one_hot(const std::vector<std::vector<int64_t>>& sequences, int64_t n_features,
                   const PadOptions& options = {});

// The real steps of one zero-padded sample: the first and the last time
// step holding a nonzero value. A sample of padding only has first = T and
// last = -1 (length 0).
struct StepSpan {
  int64_t first = 0, last = -1;
  int64_t length() const { return last >= first ? last - first + 1 : 0; }
};

// Per sample of an (N, T, ...) array padded with zeros (pad_sequences,
// pad_one_hot; "pre" or "post"), the span of its real steps: a step is
// padding when all of its values are 0. Throws ShapeError for rank < 2.
std::vector<StepSpan> real_step_spans(const Tensor& x);

// Bucketing: batches of sample indices of similar lengths. The samples are
// sorted by length (ties in index order, or in random order when
// `shuffle_with` is given) and cut into batches of batch_size (the last one
// may be smaller); with `shuffle_with` the batches come in random order.
// Throws ValueError for batch_size <= 0 or a negative length.
std::vector<std::vector<int64_t>> length_buckets(const std::vector<int64_t>& lengths, int64_t batch_size,
                                                 Generator* shuffle_with = nullptr);

// X and y of a supervised framing.
struct Supervised {
  Tensor x, y;
};

// Seed 05's to_supervised: the (T, F) encoded sequence (a rank-1 (T,) tensor
// counts as (T, 1)) framed as overlapping windows of n_in steps, one per
// start position: x (T - n_in + 1, n_in, F) with x[i] = steps i .. i+n_in-1,
// and y (T - n_in + 1, n_out, F) holding the n_out OLDEST steps of each
// window (y[i] = steps i .. i+n_out-1). With the seed's sequence
// [86, 81, 88, 1, 23, 78, ...], n_in 5 and n_out 3, the first pair is
// [86, 81, 88, 1, 23] => [86, 81, 88].
// Throws ValueError unless 1 <= n_out <= n_in <= T; ShapeError for another
// rank.
Supervised to_supervised(const Tensor& encoded, int64_t n_in, int64_t n_out);

// timeseries_windows options.
struct WindowOptions {
  // Steps between the starts of consecutive windows (Keras's
  // sequence_stride): 1 makes a window at every step, n_in + n_out windows
  // that do not overlap. Default: 1.
  int64_t stride = 1;
  // For a (N, F) series, the feature columns the targets y hold, in this
  // order (negative values count from the end: {-1} is the last column);
  // x always holds every column. Empty means all columns. Must be empty for
  // a (N,) series. Default: {} (all columns).
  std::vector<int64_t> target_columns{};
};

// A time series framed for forecasting (Keras's
// timeseries_dataset_from_array idea; the tutorials' hand-written
// split_sequence / series_to_supervised): windows of n_in past steps as
// inputs and the n_out steps that follow each as targets. Window w starts
// at step s = w * stride:
//   x[w] = series[s .. s + n_in - 1],  y[w] = series[s + n_in .. s + n_in + n_out - 1]
// There are W = (N - n_in - n_out) / stride + 1 windows (integer division):
// every window lies wholly inside the series, and steps at the end that do
// not complete a window are left out.
//   (N,) series:   x (W, n_in, 1), y (W, n_out)   -- for LSTM(...) -> Dense(n_out)
//   (N, F) series: x (W, n_in, F), y (W, n_out, C) with C = F, or the number
//                  of target_columns
// Returns new tensors; the series is not modified.
// Throws ShapeError for a series that is empty() or not of rank 1 or 2;
// ValueError, naming the value, for n_in < 1, n_out < 1 (every window
// needs a target; to_supervised frames a sequence as its own target),
// stride < 1, a series shorter than n_in + n_out steps (it has no window),
// and for target_columns out of range or given for a (N,) series.
// Example: the series 10, 20, ..., 90 with n_in 3 and n_out 2:
//   auto s = data::timeseries_windows(Tensor({9}, {10, 20, 30, 40, 50, 60, 70, 80, 90}), 3, 2);
//   // s.x (5, 3, 1): [10, 20, 30], [20, 30, 40], ..., [50, 60, 70]
//   // s.y (5, 2):    [40, 50],     [50, 60],     ..., [80, 90]
//   auto t = data::timeseries_windows(series, 3, 2, {.stride = 2});   // windows at steps 0, 2, 4
Supervised timeseries_windows(const Tensor& series, int64_t n_in, int64_t n_out, const WindowOptions& options = {});

}  // namespace seqnet::data
