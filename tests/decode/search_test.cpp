// Greedy decoding and beam search (src/decode/search.cpp): greedy against a
// hand-written step loop, beam width 1 against greedy, beam search against
// exhaustive enumeration, n-best order and length normalisation, the
// one-hot / zero-start / feed-probabilities path of seed 02, constants
// (attention over the encoder sequence) and bad input.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <functional>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

constexpr int64_t kV = 5;  // vocabulary: 0..4, stop = 4, start = 3
constexpr int64_t kStop = 4, kStart = 3;

// Encoder: (T, V) one-hot source -> [h, c]. Decoder: [id (B, 1), h, c] ->
// [p (B, 1, V), h, c]. Untrained weights, the output layer scaled up so the
// distributions are peaked (greedy and beam search then differ).
struct Pair {
  Model encoder, decoder;
};

Pair make_pair(uint64_t seed, float sharpen = 3.0f) {
  clear_session();
  set_seed(seed);
  auto src = Input({4, kV});
  auto enc = LSTM(6, {.return_state = true})(src);
  auto sym = Input({1});
  auto h = Input({6}), c = Input({6});
  auto emb = Embedding(kV, 4)(sym);
  auto dec = LSTM(6, {.return_sequences = true, .return_state = true})(emb, {.initial_state = {h, c}});
  auto dense = Dense(kV, {.activation = "softmax"});
  auto p = dense(dec[0]);
  Pair pr{Model({src}, {enc[1], enc[2]}), Model({sym, h, c}, {p, dec[1], dec[2]})};
  auto w = dense.get_weights();
  for (float& v : w[0]) v *= sharpen;
  dense.set_weights(w);
  return pr;
}

Tensor sources(int64_t B, uint64_t seed) { return random_tensor({B, 4, kV}, seed, 0.0f, 1.0f); }

// log P(symbols [+ stop]) of one source under the step decoder, in double.
double sequence_log_prob(Pair& m, const Tensor& src_row, const std::vector<int64_t>& symbols, bool with_stop) {
  Tensors st = m.encoder.predict(src_row);
  double lp = 0;
  int64_t prev = kStart;
  std::vector<int64_t> all = symbols;
  if (with_stop) all.push_back(kStop);
  for (int64_t s : all) {
    Tensor in({1, 1}, {static_cast<float>(prev)});
    Tensors out = m.decoder.predict({in, st[0], st[1]});
    lp += std::log(static_cast<double>(out[0][s]));
    st = Tensors{out[1], out[2]};
    prev = s;
  }
  return lp;
}

Tensor row(const Tensor& x, int64_t b) { return x.rows(b, b + 1).clone(); }

}  // namespace

TEST(Greedy, MatchesAHandWrittenStepLoop) {
  Pair m = make_pair(1);
  const Tensor src = sources(6, 2);
  auto r = decode::greedy(m.encoder, m.decoder, src, {.start_id = kStart, .stop_id = kStop, .max_length = 7});
  ASSERT_EQ(r.sequences.size(), 6u);
  for (int64_t b = 0; b < 6; ++b) {
    // The loop of seed 02's predict_sequence, with argmax feedback and a stop.
    Tensors st = m.encoder.predict(row(src, b));
    int64_t prev = kStart;
    std::vector<int64_t> want;
    bool stopped = false;
    double lp = 0;
    for (int t = 0; t < 7; ++t) {
      Tensors out = m.decoder.predict({Tensor({1, 1}, {static_cast<float>(prev)}), st[0], st[1]});
      int64_t best = 0;
      for (int64_t v = 1; v < kV; ++v)
        if (out[0][v] > out[0][best]) best = v;
      lp += std::log(static_cast<double>(out[0][best]));
      if (best == kStop) {
        stopped = true;
        break;
      }
      want.push_back(best);
      st = Tensors{out[1], out[2]};
      prev = best;
    }
    EXPECT_EQ(r.sequences[b], want) << "source " << b;
    EXPECT_EQ(r.finished[b], stopped) << "source " << b;
    EXPECT_NEAR(r.log_probabilities[b], lp, 1e-5) << "source " << b;
  }
  EXPECT_EQ(r.probabilities.dim(0), 6);
  EXPECT_EQ(r.probabilities.dim(2), kV);
  EXPECT_LE(r.probabilities.dim(1), 7);
}

TEST(Greedy, WithoutStopRunsMaxLengthSteps) {
  Pair m = make_pair(2);
  auto r = decode::greedy(m.encoder, m.decoder, sources(3, 3), {.start_id = kStart, .max_length = 5});
  for (const auto& s : r.sequences) EXPECT_EQ(s.size(), 5u);
  for (bool f : r.finished) EXPECT_FALSE(f);
  EXPECT_EQ(r.probabilities.shape(), (Shape{3, 5, kV}));
}

TEST(BeamSearch, WidthOneEqualsGreedy) {
  for (uint64_t seed : {1, 2, 3, 4}) {
    Pair m = make_pair(seed);
    const Tensor src = sources(8, 10 + seed);
    const decode::GreedyOptions g{.start_id = kStart, .stop_id = kStop, .max_length = 6};
    auto greedy = decode::greedy(m.encoder, m.decoder, src, g);
    auto beam = decode::beam_search(m.encoder, m.decoder, src,
                                    {.beam_width = 1, .start_id = kStart, .stop_id = kStop, .max_length = 6});
    ASSERT_EQ(beam.size(), 8u);
    for (size_t b = 0; b < 8; ++b) {
      ASSERT_EQ(beam[b].size(), 1u);
      EXPECT_EQ(beam[b][0].symbols, greedy.sequences[b]) << "seed " << seed << " source " << b;
      EXPECT_EQ(beam[b][0].finished, greedy.finished[b]);
      EXPECT_NEAR(beam[b][0].log_probability, greedy.log_probabilities[b], 1e-5);
    }
  }
}

TEST(BeamSearch, HypothesesSortedByScoreWithCorrectLogProbabilities) {
  Pair m = make_pair(5, 1.5f);
  const Tensor src = sources(4, 20);
  for (double alpha : {0.0, 0.7}) {
    auto beams = decode::beam_search(
        m.encoder, m.decoder, src,
        {.beam_width = 4, .start_id = kStart, .stop_id = kStop, .max_length = 5, .length_penalty = alpha});
    for (size_t b = 0; b < beams.size(); ++b) {
      ASSERT_FALSE(beams[b].empty());
      EXPECT_LE(beams[b].size(), 4u);
      for (size_t i = 0; i + 1 < beams[b].size(); ++i) EXPECT_GE(beams[b][i].score, beams[b][i + 1].score);
      for (const auto& h : beams[b]) {
        const size_t len = h.symbols.size() + (h.finished ? 1 : 0);
        EXPECT_NEAR(h.score, h.log_probability / std::pow(static_cast<double>(len), alpha), 1e-9);
        EXPECT_NEAR(h.log_probability, sequence_log_prob(m, row(src, static_cast<int64_t>(b)), h.symbols, h.finished),
                    1e-4);
        if (!h.finished) {
          EXPECT_EQ(h.symbols.size(), 5u);
        }
      }
    }
  }
}

TEST(BeamSearch, WideBeamFindsTheMostProbableSequence) {
  // Every sequence of at most 3 symbols (4 values, then a stop or the cut at
  // max_length 3): a beam as wide as the whole tree keeps every prefix, so
  // its best must be the exhaustive best.
  Pair m = make_pair(6, 1.0f);
  const Tensor src = sources(3, 30);
  auto beams = decode::beam_search(m.encoder, m.decoder, src,
                                   {.beam_width = 200, .start_id = kStart, .stop_id = kStop, .max_length = 3,
                                    .n_best = 3});
  for (int64_t b = 0; b < 3; ++b) {
    double best = -1e300;
    std::vector<int64_t> best_seq;
    bool best_finished = false;
    std::function<void(std::vector<int64_t>&)> walk = [&](std::vector<int64_t>& seq) {
      // Finished here (stop after seq), if there is room for the stop.
      if (seq.size() < 3) {
        const double lp = sequence_log_prob(m, row(src, b), seq, true);
        if (lp > best) {
          best = lp;
          best_seq = seq;
          best_finished = true;
        }
      } else {
        const double lp = sequence_log_prob(m, row(src, b), seq, false);
        if (lp > best) {
          best = lp;
          best_seq = seq;
          best_finished = false;
        }
        return;
      }
      for (int64_t v = 0; v < kV; ++v) {
        if (v == kStop) continue;
        seq.push_back(v);
        walk(seq);
        seq.pop_back();
      }
    };
    std::vector<int64_t> seq;
    walk(seq);
    ASSERT_EQ(beams[b].size(), 3u);
    EXPECT_EQ(beams[b][0].symbols, best_seq) << "source " << b;
    EXPECT_EQ(beams[b][0].finished, best_finished);
    EXPECT_NEAR(beams[b][0].log_probability, best, 1e-4);
  }
}

TEST(BeamSearch, BeatsOrTiesGreedyOnLogProbability) {
  Pair m = make_pair(7, 1.5f);
  const Tensor src = sources(10, 40);
  auto g = decode::greedy(m.encoder, m.decoder, src, {.start_id = kStart, .stop_id = kStop, .max_length = 6});
  auto beams = decode::beam_search(m.encoder, m.decoder, src,
                                   {.beam_width = 5, .start_id = kStart, .stop_id = kStop, .max_length = 6});
  for (size_t b = 0; b < 10; ++b) {
    if (!g.finished[b] || !beams[b][0].finished) continue;
    EXPECT_GE(beams[b][0].log_probability, g.log_probabilities[b] - 1e-6) << "source " << b;
  }
}

TEST(BeamSearch, KeepsItsBestLiveHypothesisWhileFillersFinish) {
  // Regression: a bigram decoder (the next symbol depends on the previous
  // one only) whose likely path 3 -> 0 -> 0 -> ... never stops, while the
  // unlikely symbols 1 and 2 are followed by the stop symbol almost surely.
  // The beam's filler hypotheses finish early; stopping as soon as
  // beam_width hypotheses had finished dropped the far better live one (the
  // variable-length experiment's beam accuracy fell to 83% below greedy's
  // 100%). A source is only done when no live hypothesis can beat them.
  clear_session();
  auto sym = Input({1});
  auto h = Input({1});
  auto table = Embedding(kV, kV);
  auto p = Activation("softmax")(table(sym));
  Model decoder({sym, h}, {p, Activation("linear")(h)});
  const double P[kV][kV] = {{0.9, 0.05, 0.05, 0, 0}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1},
                            {0.9, 0.05, 0.05, 0, 0}, {0.2, 0.2, 0.2, 0.2, 0.2}};
  Tensor w({kV, kV});
  for (int64_t i = 0; i < kV; ++i)
    for (int64_t j = 0; j < kV; ++j) w.at(i, j) = static_cast<float>(std::log(P[i][j] + 1e-6));
  table.set_weights({w});
  const Tensors initial{Tensor({2, 1})};
  auto g = decode::greedy(decoder, initial, {.start_id = kStart, .stop_id = kStop, .max_length = 8});
  EXPECT_EQ(g.sequences[0], std::vector<int64_t>(8, 0));
  for (int64_t width : {2, 3, 5}) {
    auto beams = decode::beam_search(decoder, initial,
                                     {.beam_width = width, .start_id = kStart, .stop_id = kStop, .max_length = 8});
    for (size_t b = 0; b < 2; ++b) {
      EXPECT_EQ(beams[b][0].symbols, g.sequences[b]) << "width " << width;
      EXPECT_FALSE(beams[b][0].finished);
      EXPECT_NEAR(beams[b][0].log_probability, g.log_probabilities[b], 1e-5);
      // The fillers are there, finished, behind it.
      ASSERT_GE(beams[b].size(), 2u);
      EXPECT_TRUE(beams[b][1].finished);
      EXPECT_NEAR(beams[b][1].log_probability, std::log(0.05) + std::log(1.0), 1e-3);
    }
  }
}

TEST(Greedy, OneHotZeroStartFeedingProbabilitiesAsSeed02) {
  // Seed 02's predict_sequence(): an all-zero start vector and the whole
  // predicted distribution fed back at each step.
  clear_session();
  set_seed(3);
  const int64_t V = 6, U = 5;
  auto src = Input({None, V});
  auto enc = LSTM(U, {.return_state = true})(src);
  auto dec_in = Input({None, V});
  auto lstm = LSTM(U, {.return_sequences = true, .return_state = true});
  auto dense = Dense(V, {.activation = "softmax"});
  auto h = Input({U}), c = Input({U});
  auto step = lstm(dec_in, {.initial_state = {h, c}});
  Model encoder({src}, {enc[1], enc[2]});
  Model decoder({dec_in, h, c}, {dense(step[0]), step[1], step[2]});
  const Tensor x = random_tensor({3, 4, V}, 9, 0, 1);
  auto r = decode::greedy(encoder, decoder, x, {.start_id = -1, .max_length = 4, .feed_probabilities = true});
  Tensors st = encoder.predict(x);
  Tensor target({3, 1, V});
  for (int64_t t = 0; t < 4; ++t) {
    Tensors out = decoder.predict({target, st[0], st[1]});
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t v = 0; v < V; ++v) EXPECT_NEAR(r.probabilities.at(b, t, v), out[0][b * V + v], 1e-6);
    st = Tensors{out[1], out[2]};
    target = out[0];
  }
}

TEST(Greedy, ConstantsReachEveryStep) {
  // An attention decoder: the encoder sequence is a constant input of the
  // step decoder (the direct pattern's layers reused step by step).
  clear_session();
  set_seed(4);
  const int64_t V = 5, U = 6;
  auto src = Input({None, V});
  auto enc = LSTM(U, {.return_sequences = true, .return_state = true})(src);
  auto sym = Input({1});
  auto h = Input({U}), c = Input({U}), enc_seq = Input({None, U});
  auto dec = LSTM(U, {.return_sequences = true, .return_state = true})(Embedding(V, 3)(sym),
                                                                       {.initial_state = {h, c}});
  auto att = LuongAttention(U, {.score = "dot"})({dec[0], enc_seq});
  auto p = Dense(V, {.activation = "softmax"})(att[0]);
  Model encoder({src}, {enc[1], enc[2], enc[0]});
  Model decoder({sym, h, c, enc_seq}, {p, dec[1], dec[2]});
  const Tensor x = random_tensor({4, 3, V}, 5, 0, 1);
  auto r = decode::greedy(encoder, decoder, x, {.start_id = 0, .stop_id = 1, .max_length = 5});
  auto b1 = decode::beam_search(encoder, decoder, x, {.beam_width = 1, .start_id = 0, .stop_id = 1, .max_length = 5});
  for (size_t b = 0; b < 4; ++b) EXPECT_EQ(b1[b][0].symbols, r.sequences[b]);
}

TEST(Decode, BadInput) {
  Pair m = make_pair(8);
  const Tensor src = sources(2, 50);
  EXPECT_THROW_MSG(decode::greedy(m.encoder, m.decoder, src, {.start_id = kStart, .max_length = 0}), ValueError,
                   "decode::greedy", "max_length", "got 0");
  EXPECT_THROW_MSG(decode::beam_search(m.encoder, m.decoder, src, {.beam_width = 0, .max_length = 3}), ValueError,
                   "decode::beam_search", "beam_width", "got 0");
  EXPECT_THROW_MSG(decode::beam_search(m.encoder, m.decoder, src, {.beam_width = 2, .max_length = 0}), ValueError,
                   "max_length", "got 0");
  EXPECT_THROW_MSG(
      decode::beam_search(m.encoder, m.decoder, src, {.beam_width = 2, .max_length = 3, .n_best = 3}), ValueError,
      "n_best", "got 3");
  EXPECT_THROW_MSG(decode::greedy(m.encoder, m.decoder, src, {.start_id = 9, .max_length = 3}), ValueError,
                   "start_id", "[0, 5)", "got 9");
  EXPECT_THROW_MSG(decode::greedy(m.encoder, m.decoder, src, {.start_id = -1, .max_length = 3}), ValueError,
                   "start_id", "got -1");
  EXPECT_THROW_MSG(decode::greedy(m.encoder, m.decoder, src, {.stop_id = 7, .max_length = 3}), ValueError, "stop_id",
                   "got 7");
  EXPECT_THROW_MSG(decode::greedy(m.encoder, m.decoder, src, {.max_length = 3, .feed_probabilities = true}),
                   ValueError, "feed_probabilities", "one-hot");
  // Initial tensors that do not match the decoder's inputs.
  Tensors st = m.encoder.predict(src);
  EXPECT_THROW_MSG(decode::greedy(m.decoder, Tensors{st[0]}, {.max_length = 3}), ValueError,
                   "takes 2 inputs after the symbol (2 states, 0 constants)", "got 1 initial tensor");
  EXPECT_THROW_MSG(decode::greedy(m.decoder, Tensors{st[0], Tensor({2, 7})}, {.max_length = 3}), ShapeError,
                   "initial tensor 1 has shape (2, 7)", "decoder input 2", "(None, 6)");
  EXPECT_THROW_MSG(decode::greedy(m.decoder, Tensors{st[0], Tensor({3, 6})}, {.max_length = 3}), ShapeError,
                   "same batch size");
  // An encoder whose outputs do not match the decoder's state inputs.
  clear_session();
  auto s2 = Input({4, kV});
  auto e2 = LSTM(7, {.return_state = true})(s2);
  Model enc7({s2}, {e2[1], e2[2]});
  EXPECT_THROW_MSG(decode::greedy(enc7, m.decoder, src, {.max_length = 3}), ShapeError, "encoder output 0",
                   "(2, 7)", "(None, 6)");
  Model enc_h({s2}, {e2[1]});
  EXPECT_THROW_MSG(decode::beam_search(enc_h, m.decoder, src, {.beam_width = 2, .max_length = 3}), ValueError,
                   "the encoder model gives 1 output");
  // A decoder whose states come back in another shape.
  auto sym = Input({1});
  auto h = Input({6});
  auto d = SimpleRNN(5, {.return_sequences = true, .return_state = true})(Embedding(kV, 3)(sym));
  Model bad({sym, h}, {Dense(kV, {.activation = "softmax"})(d[0]), d[1]});
  EXPECT_THROW_MSG(decode::greedy(bad, Tensors{Tensor({2, 6})}, {.max_length = 3}), ShapeError, "decoder state 0",
                   "(None, 5)", "(None, 6)");
  // A decoder whose first input is not a symbol.
  auto x = Input({3, 4});
  Model not_dec({x}, {Dense(kV, {.activation = "softmax"})(LSTM(4)(x))});
  EXPECT_THROW_MSG(decode::greedy(not_dec, Tensors{}, {.max_length = 3}), ShapeError, "decoder input 0",
                   "(None, 3, 4)");
}
