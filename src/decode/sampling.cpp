#include "seqnet/decode/sampling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "seqnet/error.hpp"

namespace seqnet::decode {

namespace {

// Uniform in [0, 1) with 53 random bits.
double uniform53(Generator& g) { return static_cast<double>(g.next_u64() >> 11) * 0x1.0p-53; }

}  // namespace

int64_t sample(const float* p, int64_t n, const SamplingOptions& o) {
  if (n < 1) throw ValueError(fmt::format("sample: the distribution has {} values; it needs at least 1", n));
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) {
    throw ValueError(fmt::format("sample: temperature must be a finite number >= 0, got {}", o.temperature));
  }
  if (o.top_k < 0) throw ValueError(fmt::format("sample: top_k must be >= 0, got {}", o.top_k));
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!(p[i] >= 0) || !std::isfinite(p[i])) {
      throw ValueError(fmt::format("sample: probability {} is {}; probabilities must be finite and >= 0", i, p[i]));
    }
    total += p[i];
  }
  if (total <= 0) throw ValueError(fmt::format("sample: all {} probabilities are 0", n));
  // Candidates by falling probability (ties by id), cut to top_k.
  std::vector<int64_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), int64_t{0});
  const auto k = static_cast<size_t>(o.top_k == 0 ? n : std::min(o.top_k, n));
  auto by_probability = [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), by_probability);
  ids.resize(k);
  if (o.temperature == 0 || k == 1) return ids.front();
  // p^(1/T) relative to the largest, in logs (no overflow or underflow of
  // the ratio for any temperature).
  std::vector<double> w(k);
  const double top = std::log(static_cast<double>(p[ids.front()]));
  double sum = 0;
  for (size_t i = 0; i < k; ++i) {
    const double pi = p[ids[i]];
    w[i] = pi > 0 ? std::exp((std::log(pi) - top) / o.temperature) : 0.0;
    sum += w[i];
  }
  Generator& g = o.generator != nullptr ? *o.generator : global_generator();
  double u = uniform53(g) * sum;
  for (size_t i = 0; i < k; ++i) {
    if (u < w[i]) return ids[i];
    u -= w[i];
  }
  // Rounding left u at the end: the last candidate with weight.
  for (size_t i = k; i-- > 0;)
    if (w[i] > 0) return ids[i];
  return ids.front();
}

int64_t sample(const std::vector<float>& probabilities, const SamplingOptions& options) {
  return sample(probabilities.data(), static_cast<int64_t>(probabilities.size()), options);
}

int64_t sample(const Tensor& probabilities, const SamplingOptions& options) {
  const int64_t v = probabilities.rank() == 0 ? 0 : probabilities.dim(-1);
  if (probabilities.rank() == 0 || probabilities.size() != v) {
    throw ShapeError(fmt::format("sample: expected one distribution, (V,), (1, V) or (1, 1, V); got shape {}",
                                 shape_str(probabilities.shape())));
  }
  return sample(probabilities.data(), v, options);
}

StatefulGenerator::StatefulGenerator(Model& model) : model_(model) {
  if (!model.stateful()) {
    throw ValueError(fmt::format("StatefulGenerator: model '{}' has no stateful layer; build the generating model "
                                 "with stateful recurrent layers (and copy the trained weights into it)",
                                 model.name()));
  }
  if (model.inputs().size() != 1) {
    throw ValueError(fmt::format("StatefulGenerator: model '{}' has {} inputs; it needs one (the symbol ids)",
                                 model.name(), model.inputs().size()));
  }
  const Shape& s = model.inputs()[0].shape();
  if (s.size() != 2 || s[0] != 1 || (s[1] != None && s[1] != 1)) {
    throw ValueError(fmt::format("StatefulGenerator: model '{}' takes input {}; it needs symbol ids of shape (1, None) "
                                 "or (1, 1): Input({{None}}, {{.batch_size = 1}})",
                                 model.name(), shape_str(s)));
  }
  whole_sequence_ = s[1] == None;
}

void StatefulGenerator::reset() {
  model_.reset_states();
  distribution_.clear();
}

const std::vector<float>& StatefulGenerator::feed(const std::vector<int64_t>& ids) {
  if (ids.empty()) throw ValueError("StatefulGenerator::feed: no symbol to feed");
  const int64_t known = vocabulary_size();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || (known > 0 && ids[i] >= known)) {
      throw ValueError(fmt::format("StatefulGenerator::feed: id {} (entry {}) outside the vocabulary [0, {})", ids[i],
                                   i, known > 0 ? known : int64_t{0}));
    }
  }
  const size_t chunk = whole_sequence_ ? ids.size() : 1;
  Tensor out;
  for (size_t start = 0; start < ids.size(); start += chunk) {
    Tensor x({1, static_cast<int64_t>(chunk)});
    for (size_t i = 0; i < chunk; ++i) x[static_cast<int64_t>(i)] = static_cast<float>(ids[start + i]);
    out = model_.predict_on_batch({x})[0];
  }
  const int64_t v = out.dim(-1);
  // The distribution after the last symbol: the last step of (1, T, V), or (1, V).
  if (!((out.rank() == 3 && out.dim(0) == 1) || (out.rank() == 2 && out.dim(0) == 1))) {
    throw ValueError(fmt::format("StatefulGenerator: the model's first output has shape {}; it needs (1, T, V) or "
                                 "(1, V) probabilities",
                                 shape_str(out.shape())));
  }
  distribution_.assign(out.end() - v, out.end());
  return distribution_;
}

int64_t StatefulGenerator::next(const SamplingOptions& options) {
  if (distribution_.empty()) {
    throw ValueError("StatefulGenerator::next: nothing fed yet; feed a seed text (or a start symbol) first");
  }
  const int64_t id = sample(distribution_, options);
  feed(id);
  return id;
}

std::vector<int64_t> StatefulGenerator::generate(int64_t n, const SamplingOptions& options, int64_t stop_id) {
  if (n < 0) throw ValueError(fmt::format("StatefulGenerator::generate: n must be >= 0, got {}", n));
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(next(options));
    if (out.back() == stop_id) break;
  }
  return out;
}

}  // namespace seqnet::decode
