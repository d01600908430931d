// Greedy decoding and beam search over an inference encoder / step decoder
// pair (decode/search.hpp), and the step-decoder convention they share.

#include "seqnet/decode/search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "decode/step_decoder.hpp"
#include "seqnet/error.hpp"

namespace seqnet::decode {

namespace detail {

namespace {

bool dims_compatible(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 1; i < a.size(); ++i)
    if (a[i] != None && b[i] != None && a[i] != b[i]) return false;
  return true;
}

std::string input_name(const Model& m, size_t i) { return m.inputs()[i].node()->layer->name(); }

}  // namespace

double safe_log(float p) { return std::log(std::max(static_cast<double>(p), 1e-300)); }

Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  Shape s = t.shape();
  const int64_t row = s[0] == 0 ? 0 : t.size() / s[0];
  s[0] = static_cast<int64_t>(rows.size());
  Tensor out = Tensor::uninitialized(s);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(out.data() + static_cast<int64_t>(i) * row, t.data() + rows[i] * row,
                static_cast<size_t>(row) * sizeof(float));
  }
  return out;
}

StepDecoder::StepDecoder(Model& decoder, std::string context) : decoder_(decoder), context_(std::move(context)) {
  const auto& ins = decoder.inputs();
  const auto& outs = decoder.outputs();
  const Shape& sym = ins.at(0).shape();
  if (sym.size() == 2 && (sym[1] == 1 || sym[1] == None)) {
    ids_ = true;
  } else if (sym.size() == 3 && (sym[1] == 1 || sym[1] == None) && sym[2] != None) {
    ids_ = false;
  } else {
    throw ShapeError(fmt::format("{}: decoder input 0 ('{}', the previous symbol) must be (batch, 1) symbol ids or "
                                 "(batch, 1, vocabulary) one-hot vectors, got {}",
                                 context_, input_name(decoder, 0), shape_str(sym)));
  }
  const Shape& p = outs.at(0).shape();
  if (!((p.size() == 3 && (p[1] == 1 || p[1] == None) && p[2] != None) || (p.size() == 2 && p[1] != None))) {
    throw ShapeError(fmt::format("{}: decoder output 0 (the next symbol's probabilities) must be (batch, 1, "
                                 "vocabulary) or (batch, vocabulary), got {}",
                                 context_, shape_str(p)));
  }
  V_ = p.back();
  if (!ids_ && sym[2] != V_) {
    throw ShapeError(fmt::format("{}: the decoder's one-hot symbol input ('{}', {}) and its probabilities ({}) "
                                 "must have the same vocabulary size",
                                 context_, input_name(decoder, 0), shape_str(sym), shape_str(p)));
  }
  n_states_ = outs.size() - 1;
  if (ins.size() < 1 + n_states_) {
    throw ValueError(fmt::format("{}: the decoder model has {} state output{} after the probabilities, so it needs "
                                 "at least {} inputs [symbol, states...], got {}",
                                 context_, n_states_, n_states_ == 1 ? "" : "s", 1 + n_states_, ins.size()));
  }
  n_constants_ = ins.size() - 1 - n_states_;
  for (size_t s = 0; s < n_states_; ++s) {
    const Shape& in = ins[1 + s].shape();
    const Shape& out = outs[1 + s].shape();
    if (!dims_compatible(in, out)) {
      throw ShapeError(fmt::format("{}: decoder state {}: output {} has shape {} but input {} ('{}') has shape {}; "
                                   "the state outputs must come back in the order and shapes of the state inputs",
                                   context_, s, 1 + s, shape_str(out), 1 + s, input_name(decoder, 1 + s),
                                   shape_str(in)));
    }
  }
}

int64_t StepDecoder::check_initial(const Tensors& initial, bool from_encoder) const {
  const auto& ins = decoder_.inputs();
  const size_t want = ins.size() - 1;
  if (initial.size() != want) {
    throw ValueError(fmt::format("{}: the decoder model takes {} input{} after the symbol ({} state{}, {} "
                                 "constant{}), but {} {}",
                                 context_, want, want == 1 ? "" : "s", n_states_, n_states_ == 1 ? "" : "s",
                                 n_constants_, n_constants_ == 1 ? "" : "s",
                                 from_encoder ? "the encoder model gives" : "got",
                                 from_encoder ? fmt::format("{} output{}", initial.size(), initial.size() == 1 ? "" : "s")
                                              : fmt::format("{} initial tensor{}", initial.size(),
                                                            initial.size() == 1 ? "" : "s")));
  }
  int64_t B = -1;
  for (size_t i = 0; i < initial.size(); ++i) {
    const Shape& want_s = ins[1 + i].shape();
    const Tensor& t = initial[i];
    if (t.empty() || !dims_compatible(t.shape(), want_s)) {
      throw ShapeError(fmt::format("{}: {} {} has shape {}, but decoder input {} ('{}', {}) expects {}", context_,
                                   from_encoder ? "encoder output" : "initial tensor", i,
                                   t.empty() ? std::string("()") : shape_str(t.shape()), 1 + i,
                                   input_name(decoder_, 1 + i), i < n_states_ ? "a state" : "a constant",
                                   shape_str(want_s)));
    }
    if (B >= 0 && t.dim(0) != B) {
      throw ShapeError(fmt::format("{}: all initial tensors need the same batch size; tensor 0 has {}, tensor {} has "
                                   "{}",
                                   context_, B, i, t.dim(0)));
    }
    B = t.dim(0);
  }
  if (B == 0) throw ValueError(fmt::format("{}: no sources to decode (batch size 0)", context_));
  return B;
}

void StepDecoder::check_symbol(int64_t id, const char* argument, bool minus_one_ok) const {
  if (id == -1 && minus_one_ok) return;
  if (id < 0 || id >= V_) {
    throw ValueError(fmt::format("{}: argument `{}` must be a symbol in [0, {}){}, got {}", context_, argument, V_,
                                 minus_one_ok ? " or -1" : "", id));
  }
}

Tensor StepDecoder::symbol_input(const std::vector<int64_t>& ids) const {
  const auto N = static_cast<int64_t>(ids.size());
  if (ids_) {
    Tensor t({N, 1});
    for (int64_t i = 0; i < N; ++i) t[i] = static_cast<float>(ids[i]);
    return t;
  }
  Tensor t({N, 1, V_});
  for (int64_t i = 0; i < N; ++i)
    if (ids[i] >= 0) t[i * V_ + ids[i]] = 1.0f;
  return t;
}

Tensor StepDecoder::distribution_input(const Tensor& probs) const { return probs.clone().reshape({probs.dim(0), 1, V_}); }

Tensors StepDecoder::step(const Tensor& symbol, const std::vector<Tensor>& states,
                          const std::vector<Tensor>& constants) {
  std::vector<Tensor> in;
  in.reserve(1 + states.size() + constants.size());
  in.push_back(symbol);
  in.insert(in.end(), states.begin(), states.end());
  in.insert(in.end(), constants.begin(), constants.end());
  return decoder_.predict_on_batch(Tensors(in));
}

Tensor StepDecoder::probabilities(const Tensors& out) const {
  const Tensor& p = out[0];
  const int64_t N = p.dim(0);
  if (p.size() != N * V_) {
    throw ShapeError(fmt::format("{}: decoder output 0 has shape {}, expected ({}, 1, {}) (one step)", context_,
                                 shape_str(p.shape()), N, V_));
  }
  for (int64_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0.0f) || !std::isfinite(p[i])) {
      throw ValueError(fmt::format("{}: decoder output 0 must be probabilities (a softmax output), got {} at row {}",
                                   context_, p[i], i / V_));
    }
  }
  return p.reshape({N, V_});
}

}  // namespace detail

using detail::StepDecoder;

namespace {

void check_max_length(const std::string& context, int64_t max_length) {
  if (max_length <= 0) {
    throw ValueError(fmt::format("{}: argument `max_length` must be a positive number of steps, got {}", context,
                                 max_length));
  }
}

Tensors encode(Model& encoder, const Tensors& sources) {
  int64_t n = sources.empty() || sources[0].rank() < 1 ? 1 : sources[0].dim(0);
  return encoder.predict(sources, {.batch_size = static_cast<int>(std::max<int64_t>(n, 1))});
}

int64_t argmax_row(const float* p, int64_t V) {
  int64_t best = 0;
  for (int64_t v = 1; v < V; ++v)
    if (p[v] > p[best]) best = v;
  return best;
}

GreedyResult greedy_impl(StepDecoder& dec, const Tensors& initial, const GreedyOptions& o, bool from_encoder) {
  check_max_length(dec.context(), o.max_length);
  const int64_t B = dec.check_initial(initial, from_encoder);
  dec.check_symbol(o.start_id, "start_id", !dec.ids());
  dec.check_symbol(o.stop_id, "stop_id", true);
  if (o.feed_probabilities && dec.ids()) {
    throw ValueError(fmt::format("{}: feed_probabilities needs a decoder with a one-hot symbol input", dec.context()));
  }
  const int64_t V = dec.vocabulary();
  std::vector<Tensor> states(initial.begin(), initial.begin() + static_cast<int64_t>(dec.num_states()));
  const std::vector<Tensor> constants(initial.begin() + static_cast<int64_t>(dec.num_states()), initial.end());

  GreedyResult r;
  r.sequences.assign(static_cast<size_t>(B), {});
  r.log_probabilities.assign(static_cast<size_t>(B), 0.0);
  r.finished.assign(static_cast<size_t>(B), false);
  Tensor all({B, o.max_length, V});
  std::vector<int64_t> next(static_cast<size_t>(B), o.start_id);
  Tensor symbol = dec.symbol_input(next);
  int64_t steps = 0;
  for (int64_t t = 0; t < o.max_length; ++t) {
    Tensors out = dec.step(symbol, states, constants);
    const Tensor p = dec.probabilities(out);
    ++steps;
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (r.finished[b]) continue;
      const float* pb = p.data() + b * V;
      std::copy_n(pb, V, all.data() + (b * o.max_length + t) * V);
      const int64_t s = argmax_row(pb, V);
      r.log_probabilities[b] += detail::safe_log(pb[s]);
      next[b] = s;
      if (s == o.stop_id) {
        r.finished[b] = true;
      } else {
        r.sequences[b].push_back(s);
        all_done = false;
      }
    }
    if (all_done) break;
    for (size_t k = 0; k < states.size(); ++k) states[k] = out[1 + k];
    symbol = o.feed_probabilities ? dec.distribution_input(p) : dec.symbol_input(next);
  }
  // Keep the steps that ran.
  r.probabilities = Tensor({B, steps, V});
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(all.data() + b * o.max_length * V, steps * V, r.probabilities.data() + b * steps * V);
  return r;
}

struct Live {
  std::vector<int64_t> symbols;
  double logp = 0;
  int64_t row = 0;  // its row in the last step's batch
};

double rank_score(double logp, size_t length, double alpha) {
  if (alpha == 0.0 || length == 0) return logp;
  return logp / std::pow(static_cast<double>(length), alpha);
}

std::vector<std::vector<Hypothesis>> beam_impl(StepDecoder& dec, const Tensors& initial, const BeamSearchOptions& o,
                                               bool from_encoder) {
  const std::string& ctx = dec.context();
  if (o.beam_width <= 0) {
    throw ValueError(fmt::format("{}: argument `beam_width` must be a positive integer, got {}", ctx, o.beam_width));
  }
  if (o.n_best < 0 || o.n_best > o.beam_width) {
    throw ValueError(fmt::format("{}: argument `n_best` must be in [0, beam_width = {}] (0: beam_width), got {}", ctx,
                                 o.beam_width, o.n_best));
  }
  if (!std::isfinite(o.length_penalty) || o.length_penalty < 0) {
    throw ValueError(fmt::format("{}: argument `length_penalty` must be finite and >= 0, got {}", ctx,
                                 o.length_penalty));
  }
  check_max_length(ctx, o.max_length);
  const int64_t B = dec.check_initial(initial, from_encoder);
  dec.check_symbol(o.start_id, "start_id", !dec.ids());
  dec.check_symbol(o.stop_id, "stop_id", true);
  const int64_t V = dec.vocabulary();
  const auto W = static_cast<size_t>(o.beam_width);
  const size_t n_best = o.n_best == 0 ? W : static_cast<size_t>(o.n_best);

  std::vector<Tensor> states(initial.begin(), initial.begin() + static_cast<int64_t>(dec.num_states()));
  const std::vector<Tensor> constants(initial.begin() + static_cast<int64_t>(dec.num_states()), initial.end());
  std::vector<std::vector<Live>> live(static_cast<size_t>(B));
  std::vector<std::vector<Hypothesis>> done(static_cast<size_t>(B));
  std::vector<char> complete(static_cast<size_t>(B), 0);
  for (int64_t b = 0; b < B; ++b) live[b].push_back({{}, 0.0, b});

  struct Cand {
    double logp;
    size_t hyp;
    int64_t sym;
  };
  std::vector<Cand> cands;
  std::vector<int64_t> parent_rows, src_rows, last;
  for (int64_t t = 0; t < o.max_length; ++t) {
    parent_rows.clear();
    src_rows.clear();
    last.clear();
    for (int64_t b = 0; b < B; ++b) {
      if (complete[b]) continue;
      for (Live& h : live[b]) {
        parent_rows.push_back(h.row);
        src_rows.push_back(b);
        last.push_back(h.symbols.empty() ? o.start_id : h.symbols.back());
        h.row = static_cast<int64_t>(parent_rows.size()) - 1;
      }
    }
    if (parent_rows.empty()) break;
    std::vector<Tensor> st, cs;
    for (const Tensor& s : states) st.push_back(detail::gather_rows(s, parent_rows));
    for (const Tensor& c : constants) cs.push_back(detail::gather_rows(c, src_rows));
    Tensors out = dec.step(dec.symbol_input(last), st, cs);
    const Tensor p = dec.probabilities(out);
    for (size_t k = 0; k < states.size(); ++k) states[k] = out[1 + k];

    for (int64_t b = 0; b < B; ++b) {
      if (complete[b]) continue;
      const auto& hyps = live[b];
      cands.clear();
      for (size_t h = 0; h < hyps.size(); ++h) {
        const float* ph = p.data() + hyps[h].row * V;
        for (int64_t v = 0; v < V; ++v) cands.push_back({hyps[h].logp + detail::safe_log(ph[v]), h, v});
      }
      // Best first; ties by hypothesis, then symbol (as greedy's argmax).
      auto better = [](const Cand& a, const Cand& c) {
        if (a.logp != c.logp) return a.logp > c.logp;
        if (a.hyp != c.hyp) return a.hyp < c.hyp;
        return a.sym < c.sym;
      };
      // At most one stop candidate per hypothesis comes before W live ones.
      const size_t need = std::min(cands.size(), W + hyps.size());
      std::partial_sort(cands.begin(), cands.begin() + static_cast<int64_t>(need), cands.end(), better);
      std::vector<Live> next;
      for (size_t i = 0; i < need && next.size() < W; ++i) {
        const Cand& c = cands[i];
        const Live& h = hyps[c.hyp];
        if (c.sym == o.stop_id) {
          Hypothesis f;
          f.symbols = h.symbols;
          f.log_probability = c.logp;
          f.finished = true;
          f.score = rank_score(c.logp, h.symbols.size() + 1, o.length_penalty);
          done[b].push_back(std::move(f));
        } else {
          Live n{h.symbols, c.logp, h.row};
          n.symbols.push_back(c.sym);
          next.push_back(std::move(n));
        }
      }
      live[b] = std::move(next);
      if (live[b].empty()) {
        complete[b] = 1;
      } else if (done[b].size() >= W) {
        // Done when no live hypothesis can still beat the W-th best finished
        // one: log-probabilities only fall, so the best a live hypothesis
        // can reach is its log-probability over the longest length.
        std::vector<double> s;
        for (const auto& f : done[b]) s.push_back(f.score);
        std::nth_element(s.begin(), s.begin() + static_cast<int64_t>(W) - 1, s.end(), std::greater<>());
        const double kth = s[W - 1];
        double bound = -std::numeric_limits<double>::infinity();
        for (const Live& h : live[b])
          bound = std::max(bound, rank_score(h.logp, static_cast<size_t>(o.max_length), o.length_penalty));
        if (bound <= kth) complete[b] = 1;
      }
    }
  }
  std::vector<std::vector<Hypothesis>> result(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    auto& list = done[b];
    if (!complete[b]) {
      for (const Live& h : live[b]) {
        Hypothesis u;
        u.symbols = h.symbols;
        u.log_probability = h.logp;
        u.finished = false;
        u.score = rank_score(h.logp, h.symbols.size(), o.length_penalty);
        list.push_back(std::move(u));
      }
    }
    std::stable_sort(list.begin(), list.end(),
                     [](const Hypothesis& a, const Hypothesis& c) { return a.score > c.score; });
    if (list.size() > n_best) list.resize(n_best);
    result[b] = std::move(list);
  }
  return result;
}

}  // namespace

GreedyResult greedy(Model& encoder, Model& decoder, const Tensors& sources, const GreedyOptions& options) {
  StepDecoder dec(decoder, "decode::greedy");
  check_max_length(dec.context(), options.max_length);
  return greedy_impl(dec, encode(encoder, sources), options, true);
}

GreedyResult greedy(Model& decoder, const Tensors& initial, const GreedyOptions& options) {
  StepDecoder dec(decoder, "decode::greedy");
  return greedy_impl(dec, initial, options, false);
}

std::vector<std::vector<Hypothesis>> beam_search(Model& encoder, Model& decoder, const Tensors& sources,
                                                 const BeamSearchOptions& options) {
  StepDecoder dec(decoder, "decode::beam_search");
  if (options.beam_width <= 0) {
    throw ValueError(fmt::format("decode::beam_search: argument `beam_width` must be a positive integer, got {}",
                                 options.beam_width));
  }
  check_max_length(dec.context(), options.max_length);
  return beam_impl(dec, encode(encoder, sources), options, true);
}

std::vector<std::vector<Hypothesis>> beam_search(Model& decoder, const Tensors& initial,
                                                 const BeamSearchOptions& options) {
  StepDecoder dec(decoder, "decode::beam_search");
  return beam_impl(dec, initial, options, false);
}

}  // namespace seqnet::decode
