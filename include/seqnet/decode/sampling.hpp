#pragma once
// Sampling from a language model (seed 02's sequence generation and its
// "Making Predictions"): one symbol from a predicted distribution with a
// temperature and top-k, and step-by-step generation from a stateful model
// that carries its states from one symbol to the next.
//
//   // A model of batch size 1: Input({None}, {.batch_size = 1}) ids ->
//   // Embedding -> LSTM(stateful) -> Dense(V, softmax); weights from training.
//   decode::StatefulGenerator gen(model);
//   gen.feed(vocab.encode_characters("Fellow citizens"));   // a seed text primes the states
//   std::vector<int64_t> ids = gen.generate(500, {.temperature = 0.7, .top_k = 20});
//   gen.reset();                                            // forget everything fed so far

#include <cstdint>
#include <vector>

#include "seqnet/model/model.hpp"
#include "seqnet/random.hpp"

namespace seqnet::decode {

// Example: {.temperature = 0.5, .top_k = 10}
struct SamplingOptions {
  // The distribution is raised to the power 1 / temperature and
  // renormalized: below 1 sharpens it, above 1 flattens it, 1 keeps it. 0
  // takes the most probable symbol (greedy; the lowest id on ties).
  // Default: 1.
  double temperature = 1.0;
  // Draw among the k most probable symbols only (ties at the k-th kept by
  // lower id); 0 means all. Default: 0.
  int64_t top_k = 0;
  // The source of randomness. Default: null, the global generator
  // (set_seed).
  Generator* generator = nullptr;
};

// One symbol drawn from `probabilities` (n values, not negative, not all
// zero, finite; they need not sum to 1). Throws ValueError for such a
// distribution (naming the offending index), n < 1, a negative or
// non-finite temperature, or a negative top_k.
int64_t sample(const float* probabilities, int64_t n, const SamplingOptions& options = {});
// The same for a vector or a tensor's values (its last axis when it has
// one row: (V,), (1, V) or (1, 1, V)).
int64_t sample(const std::vector<float>& probabilities, const SamplingOptions& options = {});
int64_t sample(const Tensor& probabilities, const SamplingOptions& options = {});

// Generation one symbol at a time from a stateful language model: a model
// with one input of symbol ids, (1, T) with a fixed batch size of 1 and a
// time axis of None or 1, and a first output of next-symbol
// probabilities, (1, T, V) or (1, V). Each feed runs the model on the new
// symbols only; its stateful layers keep the states in between, so a long
// text costs one step per symbol.
class StatefulGenerator {
 public:
  // Throws ValueError for a model that is not stateful, has another number
  // of inputs, or an input whose batch size is not fixed at 1.
  explicit StatefulGenerator(Model& model);

  // Resets the model's states; no distribution until the next feed.
  void reset();
  // Runs the model on `ids` (one step per symbol, or all at once when the
  // time axis is None) and returns the distribution after the last one.
  // Throws ValueError for an empty list or an id outside the output's
  // vocabulary.
  const std::vector<float>& feed(const std::vector<int64_t>& ids);
  const std::vector<float>& feed(int64_t id) { return feed(std::vector<int64_t>{id}); }
  // Draws the next symbol from the current distribution and feeds it.
  // Throws ValueError before any feed.
  int64_t next(const SamplingOptions& options = {});
  // `n` symbols with next(); with stop_id >= 0 it ends after that symbol
  // (included in the result).
  std::vector<int64_t> generate(int64_t n, const SamplingOptions& options = {}, int64_t stop_id = -1);

  // The distribution after the last symbol fed (empty before any).
  const std::vector<float>& distribution() const { return distribution_; }
  // The vocabulary size of the model's output (known after the first feed).
  int64_t vocabulary_size() const { return static_cast<int64_t>(distribution_.size()); }

 private:
  Model& model_;
  bool whole_sequence_ = false;  // time axis None: feed all ids in one call
  std::vector<float> distribution_;
};

}  // namespace seqnet::decode
