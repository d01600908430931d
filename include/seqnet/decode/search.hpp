#pragma once
// Step-by-step decoding with an inference encoder and decoder model pair
// (seed 02's recursive pattern and its predict_sequence(), generalised):
// greedy decoding and beam search, for a batch of sources at once.
//
//   // encoder: sources -> [h, c]; decoder: [previous symbol, h, c] -> [probabilities, h, c]
//   auto out = decode::greedy(encoder, decoder, sources, {.start_id = start, .stop_id = stop, .max_length = 12});
//   auto nbest = decode::beam_search(encoder, decoder, sources,
//                                    {.beam_width = 5, .start_id = start, .stop_id = stop, .max_length = 12});
//
// The step decoder is a Model whose inputs are [symbol, states...,
// constants...] and whose outputs are [probabilities, states...]:
//   symbol         the previous symbol: (B, 1) ids (an Embedding front end)
//                  or (B, 1, V) one-hot vectors (the time axis may be None)
//   states         what changes from step to step (LSTM h and c, an
//                  input-feeding vector); as many as the outputs after the
//                  first, each output with the shape of its input
//   constants      what every step reads unchanged (the encoder's output
//                  sequence, for attention)
//   probabilities  (B, 1, V) or (B, V): the next symbol's distribution (a
//                  softmax output)
// The initial states and the constants, in that order, are the encoder
// model's outputs for the sources, or are given directly (`initial`) when
// some do not come from an encoder (a zero input-feeding vector).

#include <cstdint>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet::decode {

// Example: {.start_id = 12, .stop_id = 11, .max_length = 11}
struct GreedyOptions {
  // The symbol fed at the first step. -1 feeds an all-zero vector (one-hot
  // decoders only), as seed 02's predict_sequence() does. Default: 0.
  int64_t start_id = 0;
  // The symbol that ends a sequence (not part of the result); -1 for none
  // (every sequence runs max_length steps). Default: -1.
  int64_t stop_id = -1;
  // The most symbols generated per sequence, the stop symbol included.
  // Required: > 0.
  int64_t max_length = 0;
  // One-hot decoders: feed back the predicted distribution itself instead
  // of the one-hot vector of its most likely symbol (seed 02's
  // predict_sequence()). Default: false.
  bool feed_probabilities = false;
};

struct GreedyResult {
  // Per source: the generated symbols, without the start and stop symbols.
  std::vector<std::vector<int64_t>> sequences;
  // Per source: the sum of the log-probabilities of the generated symbols,
  // the stop symbol included.
  std::vector<double> log_probabilities;
  // Per source: whether it ended with the stop symbol (false when it ran
  // max_length steps without one).
  std::vector<bool> finished;
  // (B, steps, V): the distribution predicted at every step run (rows after
  // a sequence ended are zero).
  Tensor probabilities;
};

// Greedy decoding of a batch of sources: the encoder's outputs for
// `sources` are the decoder's initial states and constants; at each step the
// most likely symbol is taken and fed back, until every sequence has emitted
// the stop symbol or max_length steps have run.
// Throws ValueError / ShapeError when the decoder does not follow the
// convention above, when its inputs do not match the encoder's outputs
// (naming the input, both shapes), for max_length <= 0, or when a start or
// stop symbol is outside the vocabulary.
GreedyResult greedy(Model& encoder, Model& decoder, const Tensors& sources, const GreedyOptions& options);
// The same from the decoder's initial states and constants (one tensor per
// decoder input after the symbol, batch first).
GreedyResult greedy(Model& decoder, const Tensors& initial, const GreedyOptions& options);

// Example: {.beam_width = 5, .start_id = 12, .stop_id = 11, .max_length = 11, .length_penalty = 0.6}
struct BeamSearchOptions {
  // Hypotheses kept per source at each step. Default: 5.
  int64_t beam_width = 5;
  // As GreedyOptions. Default: 0.
  int64_t start_id = 0;
  // As GreedyOptions. Default: -1 (none).
  int64_t stop_id = -1;
  // As GreedyOptions. Required: > 0.
  int64_t max_length = 0;
  // Length normalisation: finished hypotheses are ranked by
  // log_probability / length^length_penalty, length counting the stop
  // symbol; 0 ranks by log-probability alone. Default: 0.
  double length_penalty = 0.0;
  // Hypotheses returned per source, 1..beam_width; 0 returns beam_width.
  // Default: 0.
  int64_t n_best = 0;
};

struct Hypothesis {
  // The symbols, without the start and stop symbols.
  std::vector<int64_t> symbols;
  // Sum of the log-probabilities of the symbols (stop included).
  double log_probability = 0;
  // The ranking score: log_probability / length^length_penalty.
  double score = 0;
  // Whether it ended with the stop symbol (false: cut at max_length).
  bool finished = false;
};

// Beam search for a batch of sources. Per source: at each step every live
// hypothesis is extended by every symbol; candidates are taken best first
// (by log-probability; ties by hypothesis, then symbol order); a candidate
// ending in the stop symbol becomes a finished hypothesis, the others the
// next step's live hypotheses, until beam_width are live. A source is done
// when no live hypothesis is left, when it has beam_width finished
// hypotheses and no live one can still score above the beam_width-th best
// of them (log-probabilities only fall, so a live hypothesis scores at most
// its log-probability over max_length^length_penalty), or when max_length
// steps have run (live hypotheses are then returned unfinished). Returns,
// per source, the n-best list sorted by score, best first. With
// beam_width 1 the result is greedy decoding's.
// Throws as greedy(), and ValueError for beam_width <= 0 or n_best outside
// [0, beam_width].
std::vector<std::vector<Hypothesis>> beam_search(Model& encoder, Model& decoder, const Tensors& sources,
                                                 const BeamSearchOptions& options);
std::vector<std::vector<Hypothesis>> beam_search(Model& decoder, const Tensors& initial,
                                                 const BeamSearchOptions& options);

}  // namespace seqnet::decode
