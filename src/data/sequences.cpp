#include "seqnet/data/sequences.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "seqnet/error.hpp"

namespace seqnet::data {

namespace {

void check_options(const char* fn, const PadOptions& o) {
  if (o.padding != "pre" && o.padding != "post") {
    throw ValueError(fmt::format("{}: padding must be \"pre\" or \"post\", got \"{}\"", fn, o.padding));
  }
  if (o.truncating != "pre" && o.truncating != "post") {
    throw ValueError(fmt::format("{}: truncating must be \"pre\" or \"post\", got \"{}\"", fn, o.truncating));
  }
  if (o.maxlen && *o.maxlen < 0) {
    throw ValueError(fmt::format("{}: maxlen must be >= 0, got {}", fn, *o.maxlen));
  }
}

// Where sequence of length `len` lands in a row of `maxlen` steps: the first
// source step taken, how many steps are taken, and the first destination
// step.
struct Placement {
  int64_t src = 0, count = 0, dst = 0;
};

Placement place(int64_t len, int64_t maxlen, const PadOptions& o) {
  Placement p;
  p.count = std::min(len, maxlen);
  p.src = (len > maxlen && o.truncating == "pre") ? len - maxlen : 0;
  p.dst = o.padding == "pre" ? maxlen - p.count : 0;
  return p;
}

template <typename Lengths>
int64_t resolve_maxlen(const PadOptions& o, const Lengths& lengths) {
  if (o.maxlen) return *o.maxlen;
  int64_t m = 0;
  for (int64_t l : lengths) m = std::max(m, l);
  return m;
}

}  // namespace

Tensor pad_sequences(const std::vector<std::vector<int64_t>>& sequences, const PadOptions& options) {
  check_options("pad_sequences", options);
  std::vector<int64_t> lengths;
  lengths.reserve(sequences.size());
  for (const auto& s : sequences) lengths.push_back(static_cast<int64_t>(s.size()));
  const int64_t maxlen = resolve_maxlen(options, lengths);
  const auto n = static_cast<int64_t>(sequences.size());
  Tensor out({n, maxlen}, options.value);
  for (int64_t i = 0; i < n; ++i) {
    const Placement p = place(lengths[i], maxlen, options);
    float* row = out.data() + i * maxlen + p.dst;
    for (int64_t k = 0; k < p.count; ++k) row[k] = static_cast<float>(sequences[i][p.src + k]);
  }
  return out;
}

Tensor pad_tensor_sequences(const std::vector<Tensor>& sequences, const PadOptions& options) {
  check_options("pad_tensor_sequences", options);
  Shape trailing;
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const Tensor& s = sequences[i];
    if (s.empty() || s.rank() < 1) {
      throw ShapeError(fmt::format("pad_tensor_sequences: sequence {} is {}; expected a (time, ...) tensor", i,
                                   s.empty() ? "an empty tensor" : "a scalar"));
    }
    Shape t(s.shape().begin() + 1, s.shape().end());
    if (i == 0) {
      trailing = t;
    } else if (t != trailing) {
      throw ShapeError(fmt::format("pad_tensor_sequences: sequence {} has shape {}, but sequence 0 has {}; all must share "
                                   "the shape after the time axis",
                                   i, shape_str(s.shape()), shape_str(sequences[0].shape())));
    }
    lengths.push_back(s.dim(0));
  }
  const int64_t maxlen = resolve_maxlen(options, lengths);
  const auto n = static_cast<int64_t>(sequences.size());
  Shape shape{n, maxlen};
  shape.insert(shape.end(), trailing.begin(), trailing.end());
  Tensor out(shape, options.value);
  const int64_t step = shape_size(trailing);
  for (int64_t i = 0; i < n; ++i) {
    const Placement p = place(lengths[i], maxlen, options);
    if (p.count == 0 || step == 0) continue;
    std::memcpy(out.data() + (i * maxlen + p.dst) * step, sequences[i].data() + p.src * step,
                static_cast<size_t>(p.count * step) * sizeof(float));
  }
  return out;
}

Tensor pad_one_hot(const std::vector<std::vector<int64_t>>& sequences, int64_t n_features, const PadOptions& options) {
  check_options("pad_one_hot", options);
  if (n_features <= 0) throw ValueError(fmt::format("pad_one_hot: n_features must be positive, got {}", n_features));
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < sequences.size(); ++i) {
    for (size_t t = 0; t < sequences[i].size(); ++t) {
      const int64_t v = sequences[i][t];
      if (v < 0 || v >= n_features) {
        throw ValueError(fmt::format("pad_one_hot: value {} at sequence {} step {} is outside [0, {})", v, i, t,
                                     n_features));
      }
    }
    lengths.push_back(static_cast<int64_t>(sequences[i].size()));
  }
  const int64_t maxlen = resolve_maxlen(options, lengths);
  const auto n = static_cast<int64_t>(sequences.size());
  Tensor out({n, maxlen, n_features});
  for (int64_t i = 0; i < n; ++i) {
    const Placement p = place(lengths[i], maxlen, options);
    for (int64_t k = 0; k < p.count; ++k) {
      const int64_t v = sequences[i][p.src + k];
      if (v != 0) out.at(i, p.dst + k, v) = 1.0f;
    }
  }
  return out;
}

Supervised to_supervised(const Tensor& encoded, int64_t n_in, int64_t n_out) {
  if (encoded.empty() || (encoded.rank() != 1 && encoded.rank() != 2)) {
    throw ShapeError(fmt::format("to_supervised: expected a (time, features) or (time,) tensor, got {}",
                                 encoded.empty() ? std::string("an empty tensor") : shape_str(encoded.shape())));
  }
  const int64_t T = encoded.dim(0);
  const int64_t F = encoded.rank() == 2 ? encoded.dim(1) : 1;
  if (n_in < 1 || n_out < 1 || n_out > n_in || n_in > T) {
    throw ValueError(fmt::format("to_supervised: need 1 <= n_out <= n_in <= sequence length, got n_in={} n_out={} "
                                 "for a sequence of {} steps",
                                 n_in, n_out, T));
  }
  const int64_t n = T - n_in + 1;
  Supervised s{Tensor({n, n_in, F}), Tensor({n, n_out, F})};
  for (int64_t i = 0; i < n && F > 0; ++i) {
    const float* src = encoded.data() + i * F;
    std::memcpy(s.x.data() + i * n_in * F, src, static_cast<size_t>(n_in * F) * sizeof(float));
    std::memcpy(s.y.data() + i * n_out * F, src, static_cast<size_t>(n_out * F) * sizeof(float));
  }
  return s;
}

Supervised timeseries_windows(const Tensor& series, int64_t n_in, int64_t n_out, const WindowOptions& options) {
  if (series.empty() || (series.rank() != 1 && series.rank() != 2)) {
    throw ShapeError(fmt::format("timeseries_windows: expected a (time,) or (time, features) series, got {}",
                                 series.empty() ? std::string("an empty tensor") : shape_str(series.shape())));
  }
  if (n_in < 1) throw ValueError(fmt::format("timeseries_windows: n_in must be >= 1, got {}", n_in));
  if (n_out < 1) {
    throw ValueError(fmt::format("timeseries_windows: n_out must be >= 1 (steps to predict), got {}", n_out));
  }
  if (options.stride < 1) {
    throw ValueError(fmt::format("timeseries_windows: stride must be >= 1, got {}", options.stride));
  }
  const bool univariate = series.rank() == 1;
  const int64_t N = series.dim(0);
  const int64_t F = univariate ? 1 : series.dim(1);
  if (N < n_in + n_out) {
    throw ValueError(fmt::format("timeseries_windows: a series of {} steps is too short for n_in={} plus n_out={}: "
                                 "a window needs {} steps",
                                 N, n_in, n_out, n_in + n_out));
  }
  std::vector<int64_t> cols;
  if (!options.target_columns.empty()) {
    if (univariate) {
      throw ValueError(fmt::format("timeseries_windows: target_columns is only for a (time, features) series; the "
                                   "series has shape {}",
                                   shape_str(series.shape())));
    }
    for (int64_t c : options.target_columns) {
      const int64_t k = c < 0 ? c + F : c;
      if (k < 0 || k >= F) {
        throw ValueError(fmt::format("timeseries_windows: target column {} is out of range for a series of {} "
                                     "features (shape {})",
                                     c, F, shape_str(series.shape())));
      }
      cols.push_back(k);
    }
  } else {
    for (int64_t k = 0; k < F; ++k) cols.push_back(k);
  }
  const int64_t W = (N - n_in - n_out) / options.stride + 1;
  const auto C = static_cast<int64_t>(cols.size());
  Supervised s;
  s.x = Tensor({W, n_in, F});
  s.y = univariate ? Tensor({W, n_out}) : Tensor({W, n_out, C});
  const float* src = series.data();
  for (int64_t w = 0; w < W; ++w) {
    const int64_t start = w * options.stride;
    if (F > 0) {
      std::memcpy(s.x.data() + w * n_in * F, src + start * F, static_cast<size_t>(n_in * F) * sizeof(float));
    }
    float* y = s.y.data() + w * n_out * C;
    for (int64_t t = 0; t < n_out; ++t) {
      const float* step = src + (start + n_in + t) * F;
      for (int64_t c = 0; c < C; ++c) y[t * C + c] = step[cols[static_cast<size_t>(c)]];
    }
  }
  return s;
}

std::vector<StepSpan> real_step_spans(const Tensor& x) {
  if (x.rank() < 2) {
    throw ShapeError(fmt::format("real_step_spans: expected an array of shape (samples, time, ...), got {}",
                                 shape_str(x.shape())));
  }
  const int64_t N = x.dim(0), T = x.dim(1);
  const int64_t step = T == 0 || N == 0 ? 0 : x.size() / (N * T);
  std::vector<StepSpan> spans(static_cast<size_t>(N), StepSpan{T, -1});
  for (int64_t i = 0; i < N; ++i) {
    StepSpan& sp = spans[static_cast<size_t>(i)];
    const float* row = x.data() + i * T * step;
    auto real = [&](int64_t t) {
      const float* v = row + t * step;
      return std::any_of(v, v + step, [](float f) { return f != 0.0f; });
    };
    for (int64_t t = 0; t < T; ++t) {
      if (real(t)) {
        sp.first = t;
        break;
      }
    }
    for (int64_t t = T - 1; t >= sp.first; --t) {
      if (real(t)) {
        sp.last = t;
        break;
      }
    }
  }
  return spans;
}

std::vector<std::vector<int64_t>> length_buckets(const std::vector<int64_t>& lengths, int64_t batch_size,
                                                 Generator* shuffle_with) {
  if (batch_size <= 0) throw ValueError(fmt::format("length_buckets: batch_size must be > 0, got {}", batch_size));
  const auto n = static_cast<int64_t>(lengths.size());
  for (int64_t i = 0; i < n; ++i) {
    if (lengths[static_cast<size_t>(i)] < 0) {
      throw ValueError(fmt::format("length_buckets: length {} of sample {} is negative",
                                   lengths[static_cast<size_t>(i)], i));
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  if (shuffle_with != nullptr) {
    order = shuffle_with->permutation(n);
  } else {
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return lengths[static_cast<size_t>(a)] < lengths[static_cast<size_t>(b)];
  });
  std::vector<std::vector<int64_t>> batches;
  for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
    batches.emplace_back(order.begin() + b0, order.begin() + std::min(n, b0 + batch_size));
  }
  if (shuffle_with != nullptr) {
    const std::vector<int64_t> perm = shuffle_with->permutation(static_cast<int64_t>(batches.size()));
    std::vector<std::vector<int64_t>> shuffled;
    shuffled.reserve(batches.size());
    for (int64_t k : perm) shuffled.push_back(std::move(batches[static_cast<size_t>(k)]));
    batches = std::move(shuffled);
  }
  return batches;
}

}  // namespace seqnet::data
