#pragma once
// The tutorials' problem generators. All draw from the given generator, so a
// seeded generator gives the same data every time.

#include <cstdint>
#include <vector>

#include "seqnet/random.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::data {

// Seed 01's reversed-sequence problem: X random integers in [0, n_features)
// one-hot (N, T, F); y the same sequence reversed, one-hot.
struct SequencePair {
  Tensor x, y;
};
SequencePair reversed_sequences(int64_t n_samples, int64_t n_timesteps, int64_t n_features, Generator& g);

// Seed 02's encoder-decoder problem: a source of n_in integers in
// [1, cardinality) (0 is reserved as padding / start symbol), the target is
// the first n_out source values reversed, and the decoder input is the target
// shifted right with the start symbol 0: target_in = [0] + target[:-1].
// All one-hot with `cardinality` features: X1 (N, n_in, C), X2 (N, n_out, C),
// y (N, n_out, C).
struct Seq2SeqData {
  Tensor x1, x2, y;
};
Seq2SeqData subset_reversed(int64_t n_samples, int64_t n_in, int64_t n_out, int64_t cardinality, Generator& g);

// Random integers in [lo, hi) (seed 02's generate_sequence uses [1, n_unique)).
std::vector<int64_t> random_integers(int64_t length, int64_t lo, int64_t hi, Generator& g);

}  // namespace seqnet::data
