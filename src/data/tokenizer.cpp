#include "seqnet/data/tokenizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>

#include "seqnet/error.hpp"

namespace seqnet::data {

namespace {

// Length of the UTF-8 character starting with byte c (1 for ASCII and for
// stray continuation bytes, so malformed text still advances).
size_t utf8_length(unsigned char c) {
  if (c >= 0xF0 && c <= 0xF7) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

// The filter set: single bytes in a table, multi-byte UTF-8 characters in a
// list checked only at non-ASCII positions.
struct Filters {
  std::array<bool, 256> byte{};
  std::vector<std::string> multi;

  explicit Filters(std::string_view f) {
    for (size_t i = 0; i < f.size();) {
      const auto c = static_cast<unsigned char>(f[i]);
      const size_t len = std::min(utf8_length(c), f.size() - i);
      if (len == 1) byte[c] = true;
      else multi.emplace_back(f.substr(i, len));
      i += len;
    }
  }
  // Length of the filter character at text[i], or 0.
  size_t match(std::string_view text, size_t i) const {
    const auto c = static_cast<unsigned char>(text[i]);
    if (byte[c]) return 1;
    if (c >= 0x80) {
      for (const auto& m : multi)
        if (text.compare(i, m.size(), m) == 0) return m.size();
    }
    return 0;
  }
};

}  // namespace

std::vector<std::string> text_to_word_sequence(std::string_view text, std::string_view filters, bool lower,
                                               std::string_view split) {
  if (split.empty()) throw ValueError("text_to_word_sequence: split must not be empty");
  // Like Keras: lowercase first, then replace the filter characters.
  std::string lowered;
  if (lower) {
    lowered.assign(text);
    for (char& c : lowered)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    text = lowered;
  }
  const Filters f(filters);
  std::string s;
  s.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (const size_t m = f.match(text, i)) {
      s.append(split);
      i += m;
    } else {
      s.push_back(text[i++]);
    }
  }
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(split, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) words.emplace_back(s, start, end - start);
    start = end + split.size();
  }
  return words;
}

Tokenizer::Tokenizer(TokenizerOptions options) : o_(std::move(options)) {
  if (o_.num_words && *o_.num_words < 1) {
    throw ValueError(fmt::format("Tokenizer: num_words must be >= 1 (it counts the reserved index 0), got {}",
                                 *o_.num_words));
  }
  if (o_.split.empty()) throw ValueError("Tokenizer: split must not be empty");
  index_word_.emplace_back();
}

void Tokenizer::fit_on_texts(const std::vector<std::string>& texts) {
  for (const auto& text : texts) {
    ++document_count_;
    for (auto& w : text_to_word_sequence(text, o_.filters, o_.lower, o_.split)) {
      auto it = count_pos_.find(w);
      if (it == count_pos_.end()) {
        count_pos_.emplace(w, word_counts_.size());
        word_counts_.emplace_back(std::move(w), 1);
      } else {
        ++word_counts_[it->second].second;
      }
    }
  }
  fitted_ = true;
  rebuild_index();
}

void Tokenizer::rebuild_index() {
  // Most frequent first; stable, so equal counts keep first-appearance order.
  std::vector<size_t> order(word_counts_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return word_counts_[a].second > word_counts_[b].second; });
  word_index_.clear();
  index_word_.assign(1, std::string());
  oov_index_.reset();
  if (o_.oov_token) {
    // Keras lists the oov token first; a fitted word equal to it keeps the
    // oov token's index rather than getting a second one.
    index_word_.push_back(*o_.oov_token);
    word_index_.emplace(*o_.oov_token, 1);
    oov_index_ = 1;
  }
  for (size_t k : order) {
    const std::string& w = word_counts_[k].first;
    if (word_index_.contains(w)) continue;
    word_index_.emplace(w, static_cast<int64_t>(index_word_.size()));
    index_word_.push_back(w);
  }
}

void Tokenizer::require_fitted(const char* fn) const {
  if (!fitted_) throw Error(fmt::format("Tokenizer::{}: the tokenizer has no vocabulary; call fit_on_texts first", fn));
}

std::vector<int64_t> Tokenizer::text_to_sequence(std::string_view text) const {
  require_fitted("text_to_sequence");
  std::vector<int64_t> seq;
  for (const auto& w : text_to_word_sequence(text, o_.filters, o_.lower, o_.split)) {
    auto it = word_index_.find(w);
    if (it != word_index_.end()) {
      if (o_.num_words && it->second >= *o_.num_words) {
        if (oov_index_) seq.push_back(*oov_index_);
      } else {
        seq.push_back(it->second);
      }
    } else if (oov_index_) {
      seq.push_back(*oov_index_);
    }
  }
  return seq;
}

std::vector<std::vector<int64_t>> Tokenizer::texts_to_sequences(const std::vector<std::string>& texts) const {
  require_fitted("texts_to_sequences");
  std::vector<std::vector<int64_t>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(text_to_sequence(t));
  return out;
}

std::vector<std::string> Tokenizer::sequences_to_texts(const std::vector<std::vector<int64_t>>& sequences) const {
  require_fitted("sequences_to_texts");
  std::vector<std::string> out;
  out.reserve(sequences.size());
  const auto n_index = static_cast<int64_t>(index_word_.size());
  for (const auto& seq : sequences) {
    std::string text;
    for (int64_t i : seq) {
      if (i == 0) continue;
      const std::string* w = nullptr;
      const bool known = i > 0 && i < n_index;
      if (known && !(o_.num_words && i >= *o_.num_words)) w = &index_word_[static_cast<size_t>(i)];
      else if (oov_index_) w = &index_word_[static_cast<size_t>(*oov_index_)];
      if (w == nullptr) continue;
      if (!text.empty()) text += ' ';
      text += *w;
    }
    out.push_back(std::move(text));
  }
  return out;
}

std::optional<int64_t> Tokenizer::index_of(std::string_view word) const {
  auto it = word_index_.find(std::string(word));
  if (it == word_index_.end()) return std::nullopt;
  return it->second;
}

int64_t Tokenizer::count_of(std::string_view word) const {
  auto it = count_pos_.find(std::string(word));
  return it == count_pos_.end() ? 0 : word_counts_[it->second].second;
}

int64_t Tokenizer::vocabulary_size() const {
  const auto n = static_cast<int64_t>(index_word_.size());
  int64_t v = o_.num_words ? std::min(*o_.num_words, n) : n;
  // Words cut by num_words still map to the oov index.
  if (oov_index_) v = std::max(v, *oov_index_ + 1);
  return v;
}

}  // namespace seqnet::data
