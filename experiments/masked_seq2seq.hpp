#pragma once
// The masked encoder-decoder with a stop symbol that the variable-length and
// scheduled-sampling experiments share (seed 01's closing problem): padded id
// sequences, Embedding(mask_zero) on both sides, an LSTM encoder whose masked
// steps output zeros, an LSTM decoder started from the encoder's states,
// Luong attention over the encoder sequence (padded source steps get zero
// weight), and the inference encoder / step decoder pair for decode::greedy
// and decode::beam_search.

#include <seqnet/data/problems.hpp>
#include <seqnet/seqnet.hpp>

#include <string>
#include <vector>

namespace seqnet::experiments::masked_seq2seq {

struct Models {
  Model train, encoder, decoder;
};

// With attention (`score` one of LuongAttention's), the step decoder sees the
// encoder sequence as a plain input; Masking(0) recovers its padding mask
// there because the encoder outputs exact zeros at masked steps
// (zero_output_for_mask). The training graph uses the same Masking layer, so
// both compute the same thing. With score "none", the plain encoder-decoder:
// the encoder's states are all the decoder gets.
inline Models build(int64_t n_symbols, int64_t embed_dim, int64_t units, const std::string& score = "general") {
  const bool attend = score != "none";
  auto source = Input({None}, {.name = "source"});
  auto enc = LSTM(units, {.return_sequences = attend, .return_state = true, .zero_output_for_mask = attend})(
      Embedding(n_symbols, embed_dim, {.mask_zero = true})(source));  // [seq or last, h, c]
  auto target_in = Input({None}, {.name = "target_in"});
  auto target_embedding = Embedding(n_symbols, embed_dim, {.mask_zero = true});
  auto decoder_lstm = LSTM(units, {.return_sequences = true, .return_state = true});
  auto output = Dense(n_symbols, {.activation = "softmax"});
  auto dec = decoder_lstm(target_embedding(target_in), {.initial_state = {enc[1], enc[2]}});
  auto symbol = Input({1}, {.name = "symbol"});
  auto h = Input({units}, {.name = "h"}), c = Input({units}, {.name = "c"});
  auto step = decoder_lstm(target_embedding(symbol), {.initial_state = {h, c}});
  if (!attend) {
    return {Model({source, target_in}, {output(dec[0])}, "masked_encoder_decoder"),
            Model({source}, {enc[1], enc[2]}, "inference_encoder"),
            Model({symbol, h, c}, {output(step[0]), step[1], step[2]}, "inference_decoder")};
  }
  auto source_mask = Masking(0.0f);
  auto attention = LuongAttention(units, {.score = score});
  auto att = attention({dec[0], source_mask(enc[0])});
  auto enc_seq = Input({None, units}, {.name = "encoder_sequence"});
  auto step_att = attention({step[0], source_mask(enc_seq)});
  return {Model({source, target_in}, {output(att[0])}, "masked_encoder_decoder"),
          Model({source}, {enc[1], enc[2], enc[0]}, "inference_encoder"),
          Model({symbol, h, c, enc_seq}, {output(step_att[0]), step[1], step[2]}, "inference_decoder")};
}

// Fraction of sources whose decoded sequence equals its target exactly.
inline double exact(const std::vector<std::vector<int64_t>>& got, const std::vector<std::vector<int64_t>>& want) {
  int64_t right = 0;
  for (size_t i = 0; i < got.size(); ++i) right += got[i] == want[i];
  return got.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(got.size());
}

inline std::string show(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace seqnet::experiments::masked_seq2seq
