#pragma once
// Word-level text tokenization with the semantics of Keras's
// keras.preprocessing.text.Tokenizer (seed 04's text pipeline): fit a
// vocabulary on texts, then turn texts into integer sequences for an
// Embedding layer (pad them with data::pad_sequences).
//
// Text is handled as bytes holding UTF-8: lowercasing changes ASCII letters
// only; filters are matched as whole UTF-8 characters.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace seqnet::data {

// Keras's default Tokenizer filters: punctuation, tab and newline.
inline constexpr std::string_view kDefaultTokenizerFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

struct TokenizerOptions {
  // Keep only the num_words - 1 most frequent words: like Keras, num_words
  // counts the reserved index 0, so sequences hold indices < num_words.
  // Default: none (every word is kept).
  std::optional<int64_t> num_words{};
  // Characters replaced by `split` before splitting. Default: Keras's
  // !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ plus tab and newline.
  std::string filters{kDefaultTokenizerFilters};
  // Lowercase (ASCII) before filtering. Default: true.
  bool lower = true;
  // Word separator. Default: " ".
  std::string split = " ";
  // Out-of-vocabulary token. When set it gets index 1 (before every word)
  // and words that are unknown or cut by num_words map to it; when not set
  // they are dropped. Default: none.
  std::optional<std::string> oov_token{};
};

// Keras's text_to_word_sequence: lowercases (ASCII) if asked, replaces each
// filter character with `split`, splits on `split` and drops empty words.
// Throws ValueError for an empty split.
std::vector<std::string> text_to_word_sequence(std::string_view text,
                                               std::string_view filters = kDefaultTokenizerFilters,
                                               bool lower = true, std::string_view split = " ");

class Tokenizer {
 public:
  // Throws ValueError for num_words < 1 or an empty split.
  explicit Tokenizer(TokenizerOptions options = {});

  // Counts the words of the texts (adding to earlier fits) and rebuilds the
  // index: 1 = most frequent word (or the oov token when set, then 2 = the
  // most frequent word), equal counts ordered by first appearance, as Keras
  // does. Every word is indexed; num_words applies when converting.
  void fit_on_texts(const std::vector<std::string>& texts);

  // Each text as word indices (Keras's texts_to_sequences): words missing
  // from the index or with index >= num_words become the oov index (when
  // oov_token is set) or are dropped. Throws Error before fit_on_texts.
  std::vector<std::vector<int64_t>> texts_to_sequences(const std::vector<std::string>& texts) const;
  std::vector<int64_t> text_to_sequence(std::string_view text) const;

  // Indices back to words joined by a space (Keras's sequences_to_texts):
  // unknown indices and indices >= num_words are skipped, or become the oov
  // token when one is set. Index 0 (padding) is always skipped (Keras turns
  // it into the oov token). Throws Error before fit_on_texts.
  std::vector<std::string> sequences_to_texts(const std::vector<std::vector<int64_t>>& sequences) const;

  // word -> index, for every fitted word (not cut by num_words) and the oov
  // token.
  const std::unordered_map<std::string, int64_t>& word_index() const { return word_index_; }
  // index -> word: index_word()[i] is the word with index i; [0] is "".
  const std::vector<std::string>& index_word() const { return index_word_; }
  // Index of a word, or nullopt when it is not in the index.
  std::optional<int64_t> index_of(std::string_view word) const;
  // (word, count) in order of first appearance (Keras's word_counts
  // OrderedDict). The oov token is not counted.
  const std::vector<std::pair<std::string, int64_t>>& word_counts() const { return word_counts_; }
  // Count of a word (0 when never seen).
  int64_t count_of(std::string_view word) const;
  // Number of texts fitted so far.
  int64_t document_count() const { return document_count_; }
  // The input_dim an Embedding needs for the sequences this tokenizer
  // produces: highest index produced + 1, i.e. min(num_words, index size + 1).
  int64_t vocabulary_size() const;
  bool fitted() const { return fitted_; }
  const TokenizerOptions& options() const { return o_; }

 private:
  void rebuild_index();
  void require_fitted(const char* fn) const;

  TokenizerOptions o_;
  bool fitted_ = false;
  int64_t document_count_ = 0;
  std::vector<std::pair<std::string, int64_t>> word_counts_;
  std::unordered_map<std::string, size_t> count_pos_;
  std::unordered_map<std::string, int64_t> word_index_;
  std::vector<std::string> index_word_;
  std::optional<int64_t> oov_index_;
};

}  // namespace seqnet::data
