#include "seqnet/data/ngram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "seqnet/error.hpp"

namespace seqnet::data {

namespace {

// An n-gram's key: its symbols (id + 1, the start symbol V + 1) in 12 bits
// each, the first symbol highest. Every symbol is >= 1, so keys of
// different lengths never collide and the context of a k-gram is key >> 12.
constexpr int kBits = 12;
constexpr uint64_t kMask = (uint64_t{1} << kBits) - 1;
constexpr int64_t kMaxVocabulary = static_cast<int64_t>(kMask) - 1;

uint64_t push(uint64_t key, int64_t symbol) { return (key << kBits) | static_cast<uint64_t>(symbol + 1); }

uint64_t last_symbols(uint64_t key, int k) { return k == 0 ? 0 : key & ((uint64_t{1} << (kBits * k)) - 1); }

}  // namespace

NgramModel NgramModel::fit(const std::vector<std::vector<int64_t>>& sequences, int64_t vocabulary_size,
                           const NgramOptions& options) {
  if (options.order < 1 || options.order > 5) {
    throw ValueError(fmt::format("NgramModel: order must be in [1, 5], got {}", options.order));
  }
  if (vocabulary_size < 1 || vocabulary_size > kMaxVocabulary) {
    throw ValueError(
        fmt::format("NgramModel: vocabulary_size must be in [1, {}], got {}", kMaxVocabulary, vocabulary_size));
  }
  NgramModel m;
  m.order_ = options.order;
  m.vocabulary_size_ = vocabulary_size;
  const int n = options.order;
  const int64_t start = vocabulary_size;
  // Occurrence counts of every k-gram ending on a real symbol, k = 1..n.
  std::vector<std::unordered_map<uint64_t, double>> raw(static_cast<size_t>(n));
  size_t symbols = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    std::vector<int64_t> padded(static_cast<size_t>(n - 1), start);
    for (size_t t = 0; t < sequences[s].size(); ++t) {
      const int64_t id = sequences[s][t];
      if (id < 0 || id >= vocabulary_size) {
        throw ValueError(fmt::format("NgramModel: sequence {} position {} holds id {}, outside [0, {})", s, t, id,
                                     vocabulary_size));
      }
      padded.push_back(id);
    }
    symbols += sequences[s].size();
    for (size_t i = static_cast<size_t>(n - 1); i < padded.size(); ++i) {
      uint64_t key = 0;
      for (int k = 1; k <= n; ++k) {
        // The k-gram ending at i, built from its last symbol backwards.
        key = key | (static_cast<uint64_t>(padded[i - static_cast<size_t>(k - 1)] + 1) << (kBits * (k - 1)));
        raw[static_cast<size_t>(k - 1)][key] += 1;
      }
    }
  }
  if (symbols == 0) throw ValueError("NgramModel: the sequences hold no symbol");

  m.counts_.resize(static_cast<size_t>(n));
  m.contexts_.resize(static_cast<size_t>(n));
  m.discount_.assign(static_cast<size_t>(n), 0.0);
  // Lower orders: continuation counts, how many distinct symbols precede
  // the k-gram (the start symbol among them): one per (k+1)-gram type.
  for (int k = 1; k < n; ++k) {
    auto& cont = m.counts_[static_cast<size_t>(k - 1)];
    for (const auto& [key, c] : raw[static_cast<size_t>(k)]) cont[last_symbols(key, k)] += 1;
    if (k + 1 < n) raw[static_cast<size_t>(k)].clear();
  }
  m.counts_[static_cast<size_t>(n - 1)] = std::move(raw[static_cast<size_t>(n - 1)]);
  for (int k = 1; k <= n; ++k) {
    double n1 = 0, n2 = 0;
    auto& ctx = m.contexts_[static_cast<size_t>(k - 1)];
    for (const auto& [key, c] : m.counts_[static_cast<size_t>(k - 1)]) {
      ContextStats& st = ctx[key >> kBits];
      st.total += c;
      st.distinct += 1;
      n1 += c == 1;
      n2 += c == 2;
    }
    // Chen & Goodman's estimate; 0.5 when the counts do not tell.
    const double d = n1 > 0 && n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
    m.discount_[static_cast<size_t>(k - 1)] = std::clamp(d, 0.05, 0.95);
  }
  return m;
}

double NgramModel::probability_of(const int64_t* history, int64_t symbol) const {
  double p = 1.0 / static_cast<double>(vocabulary_size_);
  uint64_t context = 0;  // the last k-1 symbols of the history
  for (int k = 1; k <= order_; ++k) {
    if (k > 1) context = context | (static_cast<uint64_t>(history[order_ - k + 1 - 1] + 1) << (kBits * (k - 2)));
    const auto& ctx = contexts_[static_cast<size_t>(k - 1)];
    const auto it = ctx.find(context);
    if (it == ctx.end()) continue;  // an unseen context: all of its mass on the lower order
    const auto& counts = counts_[static_cast<size_t>(k - 1)];
    const auto c = counts.find(push(context, symbol));
    const double count = c == counts.end() ? 0.0 : c->second;
    const double d = discount_[static_cast<size_t>(k - 1)];
    p = std::max(count - d, 0.0) / it->second.total + d * it->second.distinct / it->second.total * p;
  }
  return p;
}

double NgramModel::probability(const std::vector<int64_t>& context, int64_t symbol) const {
  auto check = [&](int64_t id, const char* what) {
    if (id < 0 || id >= vocabulary_size_) {
      throw ValueError(fmt::format("NgramModel::probability: {} id {} outside [0, {})", what, id, vocabulary_size_));
    }
  };
  check(symbol, "symbol");
  std::vector<int64_t> history(static_cast<size_t>(order_ - 1), vocabulary_size_);
  const size_t take = std::min(context.size(), history.size());
  for (size_t i = 0; i < take; ++i) {
    const int64_t id = context[context.size() - take + i];
    check(id, "context");
    history[history.size() - take + i] = id;
  }
  return probability_of(history.data(), symbol);
}

double NgramModel::bits(const std::vector<int64_t>& sequence) const {
  std::vector<int64_t> padded(static_cast<size_t>(order_ - 1), vocabulary_size_);
  for (size_t t = 0; t < sequence.size(); ++t) {
    if (sequence[t] < 0 || sequence[t] >= vocabulary_size_) {
      throw ValueError(fmt::format("NgramModel::bits: position {} holds id {}, outside [0, {})", t, sequence[t],
                                   vocabulary_size_));
    }
    padded.push_back(sequence[t]);
  }
  double total = 0;
  for (size_t t = 0; t < sequence.size(); ++t) total -= std::log2(probability_of(padded.data() + t, sequence[t]));
  return total;
}

}  // namespace seqnet::data
