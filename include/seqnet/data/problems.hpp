#pragma once
// The tutorials' problem generators. All draw from the given generator, so a
// seeded generator gives the same data every time.

#include <cstdint>
#include <optional>
#include <string>
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

// Seed 02's "first n with zero padding" problem (get_pair): X is n_in
// random integers in [0, cardinality), y the first n_out of them followed by
// n_in - n_out zeros; both one-hot: X (N, n_in, C), y (N, n_in, C).
// Throws ValueError unless 0 < n_out <= n_in, cardinality >= 1, n_samples >= 0.
SequencePair first_n_padded(int64_t n_samples, int64_t n_in, int64_t n_out, int64_t cardinality, Generator& g);

// Seed 05's echo problem (get_data): `length` random integers in
// [0, n_unique), one-hot (length, n_unique), framed with
// to_supervised(n_in, n_out): x (length - n_in + 1, n_in, n_unique) and y
// (.., n_out, n_unique) = the n_out oldest steps of each window. The seed
// uses length 25 and n_unique 100 (the defaults). `sequence` is the raw
// integer sequence.
struct EchoData {
  std::vector<int64_t> sequence;
  Tensor x, y;
};
// Throws ValueError unless 1 <= n_out <= n_in <= length and n_unique >= 1.
EchoData echo_sequence(int64_t n_in, int64_t n_out, Generator& g, int64_t length = 25, int64_t n_unique = 100);

// Seed 03's cumulative-sum classification: x uniform in [0, 1), y[t] = 1
// when the cumulative sum x[0] + ... + x[t] exceeds n_timesteps / 4, else 0.
// Shapes x (N, n_timesteps, 1) and y (N, n_timesteps, 1).
// Throws ValueError for n_samples < 0 or n_timesteps < 1.
SequencePair cumulative_sum_classification(int64_t n_samples, int64_t n_timesteps, Generator& g);

// Seed 01's closing problem: the input reversed, keeping only the first
// appearance of each value in that reversed order: [3, 2, 3, 5, 2] ->
// [2, 5, 3].
std::vector<int64_t> reversed_first_appearances(const std::vector<int64_t>& sequence);

struct FirstAppearanceOptions {
  // Input lengths are drawn uniformly from [min_length, max_length].
  // Defaults: 4 and 8.
  int64_t min_length = 4;
  int64_t max_length = 8;
  // Input values are drawn uniformly from [1, n_values]. Default: 9.
  int64_t n_values = 9;
};

// Variable-length integer sequences for an encoder-decoder, with reserved
// symbols: 0 = padding (masked), values 1..n_values, stop_id = n_values + 1
// (ends every decoder target), start_id = n_values + 2 (first decoder
// input); n_symbols = n_values + 3 is the one-hot width / Embedding
// input_dim. inputs and targets are unpadded and hold values only (no
// start/stop); the lengths are theirs.
struct VariableLengthData {
  std::vector<std::vector<int64_t>> inputs, targets;
  std::vector<int64_t> input_lengths, target_lengths;
  int64_t pad_id = 0, stop_id = 0, start_id = 0, n_symbols = 0;
  int64_t max_input_length() const;
  int64_t max_target_length() const;
};

// n_samples inputs of random length with targets reversed_first_appearances.
// Throws ValueError unless 1 <= min_length <= max_length, n_values >= 1 and
// n_samples >= 0.
VariableLengthData first_appearance(int64_t n_samples, const FirstAppearanceOptions& options, Generator& g);

struct EncoderDecoderOptions {
  // Where the encoder input is padded: "post" (default; use with masking)
  // or "pre".
  std::string encoder_padding = "post";
  // Encoder time steps. Default: the longest input.
  std::optional<int64_t> encoder_steps{};
  // Decoder time steps. Default: the longest target + 1 (the stop symbol).
  std::optional<int64_t> decoder_steps{};
};

// Padded tensors for a masked encoder-decoder with teacher forcing:
//   encoder_input   the inputs, padded with 0 on the encoder_padding side
//   decoder_input   [start] + target, padded with 0 after ("post")
//   decoder_target  target + [stop], padded with 0 after
//   decoder_mask    (N, decoder_steps): 1 at real steps (target and stop),
//                   0 at padding
// In the one-hot form every tensor but the mask is (N, T, n_symbols) and
// padding steps are all-zero rows (Masking(0.0) masks them; they add nothing
// to a categorical crossentropy); in the id form they are (N, T) symbol ids
// for Embedding(mask_zero = true) and sparse losses.
struct EncoderDecoderData {
  Tensor encoder_input, decoder_input, decoder_target, decoder_mask;
};
// Throws ValueError when encoder_steps / decoder_steps are shorter than the
// data, or for a bad encoder_padding.
EncoderDecoderData encoder_decoder_one_hot(const VariableLengthData& data, const EncoderDecoderOptions& options = {});
EncoderDecoderData encoder_decoder_ids(const VariableLengthData& data, const EncoderDecoderOptions& options = {});

}  // namespace seqnet::data
