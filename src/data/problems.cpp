#include "seqnet/data/problems.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "seqnet/data/encoding.hpp"
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

}  // namespace seqnet::data
