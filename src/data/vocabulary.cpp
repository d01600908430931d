#include "seqnet/data/vocabulary.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

#include "seqnet/error.hpp"

namespace seqnet::data {

namespace {

// Length of the valid UTF-8 character starting at s[i]; 1 for an invalid byte.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) n = 2;
  else if (b >= 0xE0 && b <= 0xEF) n = 3;
  else if (b >= 0xF0 && b <= 0xF4) n = 4;
  else return 1;
  if (i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 > 0x8F)) {
    return 1;  // overlong, surrogate or beyond U+10FFFF
  }
  return n;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u == 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  return s.size() > 40 ? out + "..." : out;
}

Vocabulary ranked(std::unordered_map<std::string, int64_t>& counts, std::vector<std::string>& first_seen,
                  const VocabularyOptions& o) {
  std::vector<size_t> order(first_seen.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return counts[first_seen[a]] > counts[first_seen[b]]; });
  std::vector<std::string> symbols;
  const int64_t room = o.max_size > 0 ? o.max_size - static_cast<int64_t>(o.reserved.size()) : INT64_MAX;
  for (size_t k : order) {
    if (static_cast<int64_t>(symbols.size()) >= room) break;
    const std::string& s = first_seen[k];
    if (counts[s] < o.min_count) continue;
    if (std::find(o.reserved.begin(), o.reserved.end(), s) != o.reserved.end()) continue;
    symbols.push_back(s);
  }
  return Vocabulary(symbols, o);
}

}  // namespace

std::vector<std::string> utf8_characters(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    out.emplace_back(text.substr(i, n));
    i += n;
  }
  return out;
}

Vocabulary::Vocabulary(const VocabularyOptions& options) : Vocabulary(std::vector<std::string>{}, options) {}

Vocabulary::Vocabulary(const std::vector<std::string>& symbols, const VocabularyOptions& options) : options_(options) {
  if (options_.min_count < 1) throw ValueError(fmt::format("Vocabulary: min_count must be >= 1, got {}", options_.min_count));
  if (options_.max_size < 0) throw ValueError(fmt::format("Vocabulary: max_size must be >= 0, got {}", options_.max_size));
  if (options_.max_size > 0 && options_.max_size < static_cast<int64_t>(options_.reserved.size())) {
    throw ValueError(fmt::format("Vocabulary: max_size {} is smaller than the {} reserved symbols", options_.max_size,
                                 options_.reserved.size()));
  }
  symbols_ = options_.reserved;
  symbols_.insert(symbols_.end(), symbols.begin(), symbols.end());
  index_symbols();
}

void Vocabulary::index_symbols() {
  ids_.clear();
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].empty()) throw ValueError(fmt::format("Vocabulary: symbol {} is empty", i));
    if (!ids_.emplace(symbols_[i], static_cast<int64_t>(i)).second) {
      throw ValueError(fmt::format("Vocabulary: symbol '{}' appears twice (ids {} and {})", printable(symbols_[i]),
                                   ids_[symbols_[i]], i));
    }
  }
  unknown_id_ = -1;
  if (!options_.unknown.empty()) {
    if (std::find(options_.reserved.begin(), options_.reserved.end(), options_.unknown) == options_.reserved.end()) {
      throw ValueError(fmt::format("Vocabulary: unknown symbol '{}' is not one of the reserved symbols",
                                   printable(options_.unknown)));
    }
    unknown_id_ = ids_.at(options_.unknown);
  }
}

Vocabulary Vocabulary::of_characters(const std::vector<std::string>& texts, const VocabularyOptions& options) {
  std::unordered_map<std::string, int64_t> counts;
  std::vector<std::string> first_seen;
  for (const auto& t : texts) {
    for (size_t i = 0; i < t.size();) {
      const size_t n = utf8_length(t, i);
      auto [it, fresh] = counts.try_emplace(t.substr(i, n), 0);
      if (fresh) first_seen.push_back(it->first);
      ++it->second;
      i += n;
    }
  }
  return ranked(counts, first_seen, options);
}

Vocabulary Vocabulary::of_tokens(const std::vector<std::vector<std::string>>& sequences,
                                 const VocabularyOptions& options) {
  std::unordered_map<std::string, int64_t> counts;
  std::vector<std::string> first_seen;
  for (const auto& seq : sequences) {
    for (const auto& tok : seq) {
      if (tok.empty()) throw ValueError("Vocabulary::of_tokens: empty token");
      auto [it, fresh] = counts.try_emplace(tok, 0);
      if (fresh) first_seen.push_back(tok);
      ++it->second;
    }
  }
  return ranked(counts, first_seen, options);
}

bool Vocabulary::contains(std::string_view symbol) const { return ids_.find(std::string(symbol)) != ids_.end(); }

int64_t Vocabulary::id(std::string_view symbol) const {
  const auto it = ids_.find(std::string(symbol));
  if (it != ids_.end()) return it->second;
  if (unknown_id_ < 0) {
    throw ValueError(fmt::format("Vocabulary: unknown symbol '{}' (the vocabulary has {} symbols and no unknown symbol)",
                                 printable(symbol), symbols_.size()));
  }
  return unknown_id_;
}

const std::string& Vocabulary::symbol(int64_t id) const {
  if (id < 0 || id >= size()) throw ValueError(fmt::format("Vocabulary: id {} outside [0, {})", id, size()));
  return symbols_[static_cast<size_t>(id)];
}

int64_t Vocabulary::reserved_id(std::string_view symbol) const {
  const auto it = std::find(options_.reserved.begin(), options_.reserved.end(), symbol);
  if (it == options_.reserved.end()) {
    throw ValueError(fmt::format("Vocabulary: '{}' is not a reserved symbol", printable(symbol)));
  }
  return it - options_.reserved.begin();
}

std::vector<int64_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(id(t));
  return out;
}

std::vector<int64_t> Vocabulary::encode_characters(std::string_view text) const {
  std::vector<int64_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    out.push_back(id(text.substr(i, n)));
    i += n;
  }
  return out;
}

std::vector<std::string> Vocabulary::decode(const std::vector<int64_t>& ids, bool skip_reserved) const {
  std::vector<std::string> out;
  const auto n_reserved = static_cast<int64_t>(options_.reserved.size());
  for (int64_t i : ids) {
    const std::string& s = symbol(i);
    if (skip_reserved && i < n_reserved) continue;
    out.push_back(s);
  }
  return out;
}

std::string Vocabulary::decode_characters(const std::vector<int64_t>& ids, bool skip_reserved) const {
  std::string out;
  for (const auto& s : decode(ids, skip_reserved)) out += s;
  return out;
}

std::string Vocabulary::to_json() const {
  nlohmann::json j;
  j["reserved"] = options_.reserved;
  j["unknown"] = options_.unknown;
  j["symbols"] = std::vector<std::string>(symbols_.begin() + static_cast<std::ptrdiff_t>(options_.reserved.size()),
                                          symbols_.end());
  // Symbols may be any bytes (a character vocabulary of a file that is not
  // UTF-8): keep them as they are rather than failing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore);
}

Vocabulary Vocabulary::from_json(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto strings = [&](const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_array()) {
      throw ValueError(fmt::format("Vocabulary::from_json: \"{}\" is missing or not an array", key));
    }
    std::vector<std::string> v;
    for (const auto& e : j[key]) {
      if (!e.is_string()) throw ValueError(fmt::format("Vocabulary::from_json: \"{}\" holds a non-string", key));
      v.push_back(e.get<std::string>());
    }
    return v;
  };
  if (j.is_discarded()) throw ValueError("Vocabulary::from_json: not JSON");
  VocabularyOptions o;
  o.reserved = strings("reserved");
  if (!j.contains("unknown") || !j["unknown"].is_string()) {
    throw ValueError("Vocabulary::from_json: \"unknown\" is missing or not a string");
  }
  o.unknown = j["unknown"].get<std::string>();
  return Vocabulary(strings("symbols"), o);
}

}  // namespace seqnet::data
