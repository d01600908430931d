#include "seqnet/data/problems.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "seqnet/data/encoding.hpp"
#include "seqnet/data/sequences.hpp"
#include "seqnet/error.hpp"

namespace seqnet::data {

std::vector<int64_t> random_integers(int64_t length, int64_t lo, int64_t hi, Generator& g) {
  if (length < 0 || hi <= lo) {
    throw ValueError(fmt::format("random_integers: need length >= 0 and lo < hi, got length {} range [{}, {})", length,
                                 lo, hi));
  }
  std::vector<int64_t> v(static_cast<size_t>(length));
  for (auto& x : v) x = lo + static_cast<int64_t>(g.below(static_cast<uint64_t>(hi - lo)));
  return v;
}

SequencePair reversed_sequences(int64_t n_samples, int64_t n_timesteps, int64_t n_features, Generator& g) {
  if (n_samples < 0 || n_timesteps <= 0 || n_features <= 0) {
    throw ValueError(fmt::format("reversed_sequences: invalid sizes n_samples={} n_timesteps={} n_features={}",
                                 n_samples, n_timesteps, n_features));
  }
  std::vector<std::vector<int64_t>> xs, ys;
  for (int64_t i = 0; i < n_samples; ++i) {
    auto s = random_integers(n_timesteps, 0, n_features, g);
    xs.push_back(s);
    std::reverse(s.begin(), s.end());
    ys.push_back(s);
  }
  return {one_hot_encode(xs, n_features), one_hot_encode(ys, n_features)};
}

Seq2SeqData subset_reversed(int64_t n_samples, int64_t n_in, int64_t n_out, int64_t cardinality, Generator& g) {
  if (n_samples < 0 || n_in <= 0 || n_out <= 0 || n_out > n_in || cardinality < 2) {
    throw ValueError(fmt::format("subset_reversed: invalid sizes n_samples={} n_in={} n_out={} cardinality={} "
                                 "(need 0 < n_out <= n_in, cardinality >= 2)",
                                 n_samples, n_in, n_out, cardinality));
  }
  std::vector<std::vector<int64_t>> src, tin, tout;
  for (int64_t i = 0; i < n_samples; ++i) {
    auto s = random_integers(n_in, 1, cardinality, g);
    std::vector<int64_t> target(s.begin(), s.begin() + n_out);
    std::reverse(target.begin(), target.end());
    std::vector<int64_t> shifted{0};
    shifted.insert(shifted.end(), target.begin(), target.end() - 1);
    src.push_back(std::move(s));
    tin.push_back(std::move(shifted));
    tout.push_back(std::move(target));
  }
  return {one_hot_encode(src, cardinality), one_hot_encode(tin, cardinality), one_hot_encode(tout, cardinality)};
}

SequencePair first_n_padded(int64_t n_samples, int64_t n_in, int64_t n_out, int64_t cardinality, Generator& g) {
  if (n_samples < 0 || n_in <= 0 || n_out <= 0 || n_out > n_in || cardinality < 1) {
    throw ValueError(fmt::format("first_n_padded: invalid sizes n_samples={} n_in={} n_out={} cardinality={} "
                                 "(need 0 < n_out <= n_in, cardinality >= 1)",
                                 n_samples, n_in, n_out, cardinality));
  }
  std::vector<std::vector<int64_t>> xs, ys;
  for (int64_t i = 0; i < n_samples; ++i) {
    auto s = random_integers(n_in, 0, cardinality, g);
    std::vector<int64_t> y(s.begin(), s.begin() + n_out);
    y.resize(static_cast<size_t>(n_in), 0);
    xs.push_back(std::move(s));
    ys.push_back(std::move(y));
  }
  return {one_hot_encode(xs, cardinality), one_hot_encode(ys, cardinality)};
}

EchoData echo_sequence(int64_t n_in, int64_t n_out, Generator& g, int64_t length, int64_t n_unique) {
  if (n_unique < 1 || n_in < 1 || n_out < 1 || n_out > n_in || n_in > length) {
    throw ValueError(fmt::format("echo_sequence: need 1 <= n_out <= n_in <= length and n_unique >= 1, got n_in={} "
                                 "n_out={} length={} n_unique={}",
                                 n_in, n_out, length, n_unique));
  }
  EchoData d;
  d.sequence = random_integers(length, 0, n_unique, g);
  Supervised s = to_supervised(one_hot_encode(d.sequence, n_unique), n_in, n_out);
  d.x = s.x;
  d.y = s.y;
  return d;
}

SequencePair cumulative_sum_classification(int64_t n_samples, int64_t n_timesteps, Generator& g) {
  if (n_samples < 0 || n_timesteps < 1) {
    throw ValueError(fmt::format("cumulative_sum_classification: need n_samples >= 0 and n_timesteps >= 1, got "
                                 "n_samples={} n_timesteps={}",
                                 n_samples, n_timesteps));
  }
  const double limit = static_cast<double>(n_timesteps) / 4.0;
  SequencePair p{Tensor({n_samples, n_timesteps, 1}), Tensor({n_samples, n_timesteps, 1})};
  for (int64_t i = 0; i < n_samples; ++i) {
    double sum = 0;
    for (int64_t t = 0; t < n_timesteps; ++t) {
      const float v = g.uniform();
      sum += v;
      p.x[i * n_timesteps + t] = v;
      p.y[i * n_timesteps + t] = sum > limit ? 1.0f : 0.0f;
    }
  }
  return p;
}

std::vector<int64_t> reversed_first_appearances(const std::vector<int64_t>& sequence) {
  std::vector<int64_t> out;
  std::unordered_set<int64_t> seen;
  for (auto it = sequence.rbegin(); it != sequence.rend(); ++it)
    if (seen.insert(*it).second) out.push_back(*it);
  return out;
}

int64_t VariableLengthData::max_input_length() const {
  int64_t m = 0;
  for (int64_t l : input_lengths) m = std::max(m, l);
  return m;
}

int64_t VariableLengthData::max_target_length() const {
  int64_t m = 0;
  for (int64_t l : target_lengths) m = std::max(m, l);
  return m;
}

VariableLengthData first_appearance(int64_t n_samples, const FirstAppearanceOptions& o, Generator& g) {
  if (n_samples < 0 || o.min_length < 1 || o.max_length < o.min_length || o.n_values < 1) {
    throw ValueError(fmt::format("first_appearance: need n_samples >= 0, 1 <= min_length <= max_length and "
                                 "n_values >= 1, got n_samples={} min_length={} max_length={} n_values={}",
                                 n_samples, o.min_length, o.max_length, o.n_values));
  }
  VariableLengthData d;
  d.pad_id = 0;
  d.stop_id = o.n_values + 1;
  d.start_id = o.n_values + 2;
  d.n_symbols = o.n_values + 3;
  const auto span = static_cast<uint64_t>(o.max_length - o.min_length + 1);
  for (int64_t i = 0; i < n_samples; ++i) {
    const int64_t len = o.min_length + static_cast<int64_t>(g.below(span));
    auto in = random_integers(len, 1, o.n_values + 1, g);
    auto target = reversed_first_appearances(in);
    d.input_lengths.push_back(len);
    d.target_lengths.push_back(static_cast<int64_t>(target.size()));
    d.inputs.push_back(std::move(in));
    d.targets.push_back(std::move(target));
  }
  return d;
}

namespace {

// The integer form of encoder_decoder_*: padded id sequences before encoding.
struct EncoderDecoderIds {
  std::vector<std::vector<int64_t>> decoder_in, decoder_out;
  PadOptions enc, dec;
};

EncoderDecoderIds prepare(const char* fn, const VariableLengthData& d, const EncoderDecoderOptions& o) {
  if (o.encoder_padding != "pre" && o.encoder_padding != "post") {
    throw ValueError(fmt::format("{}: encoder_padding must be \"pre\" or \"post\", got \"{}\"", fn,
                                 o.encoder_padding));
  }
  if (d.inputs.size() != d.targets.size() || d.stop_id <= 0 || d.start_id <= 0 || d.n_symbols <= 0) {
    throw ValueError(fmt::format("{}: the data is not a VariableLengthData made by a generator ({} inputs, {} "
                                 "targets, stop_id {}, start_id {}, n_symbols {})",
                                 fn, d.inputs.size(), d.targets.size(), d.stop_id, d.start_id, d.n_symbols));
  }
  const int64_t enc_steps = o.encoder_steps.value_or(d.max_input_length());
  const int64_t dec_steps = o.decoder_steps.value_or(d.max_target_length() + 1);
  if (enc_steps < d.max_input_length()) {
    throw ValueError(fmt::format("{}: encoder_steps {} is shorter than the longest input ({})", fn, enc_steps,
                                 d.max_input_length()));
  }
  if (dec_steps < d.max_target_length() + 1) {
    throw ValueError(fmt::format("{}: decoder_steps {} is shorter than the longest target plus the stop symbol ({})",
                                 fn, dec_steps, d.max_target_length() + 1));
  }
  EncoderDecoderIds r;
  for (const auto& t : d.targets) {
    std::vector<int64_t> in{d.start_id};
    in.insert(in.end(), t.begin(), t.end());
    std::vector<int64_t> out(t.begin(), t.end());
    out.push_back(d.stop_id);
    r.decoder_in.push_back(std::move(in));
    r.decoder_out.push_back(std::move(out));
  }
  r.enc = PadOptions{.maxlen = enc_steps, .padding = o.encoder_padding, .truncating = "post"};
  r.dec = PadOptions{.maxlen = dec_steps, .padding = "post", .truncating = "post"};
  return r;
}

Tensor decoder_mask(const VariableLengthData& d, int64_t steps) {
  const auto n = static_cast<int64_t>(d.targets.size());
  Tensor m({n, steps});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t <= static_cast<int64_t>(d.targets[i].size()); ++t) m.at(i, t) = 1.0f;
  return m;
}

}  // namespace

EncoderDecoderData encoder_decoder_one_hot(const VariableLengthData& d, const EncoderDecoderOptions& o) {
  auto r = prepare("encoder_decoder_one_hot", d, o);
  return {pad_one_hot(d.inputs, d.n_symbols, r.enc), pad_one_hot(r.decoder_in, d.n_symbols, r.dec),
          pad_one_hot(r.decoder_out, d.n_symbols, r.dec), decoder_mask(d, *r.dec.maxlen)};
}

EncoderDecoderData encoder_decoder_ids(const VariableLengthData& d, const EncoderDecoderOptions& o) {
  auto r = prepare("encoder_decoder_ids", d, o);
  for (const auto& s : d.inputs) {
    for (int64_t v : s) {
      if (v < 0 || v >= d.n_symbols) {
        throw ValueError(fmt::format("encoder_decoder_ids: input value {} is outside [0, {})", v, d.n_symbols));
      }
    }
  }
  return {pad_sequences(d.inputs, r.enc), pad_sequences(r.decoder_in, r.dec), pad_sequences(r.decoder_out, r.dec),
          decoder_mask(d, *r.dec.maxlen)};
}

}  // namespace seqnet::data
