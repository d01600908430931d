#pragma once
// A symbol <-> id table for sequence models over characters or tokens
// (letters and phonemes for grapheme-to-phoneme, characters for a language
// model), with reserved symbols first:
//
//   auto letters = data::Vocabulary::of_characters(words);            // "<pad>" 0, "<start>" 1, "<stop>" 2, "<unk>" 3, ...
//   std::vector<int64_t> ids = letters.encode_characters("HELLO");
//   auto phones = data::Vocabulary::of_tokens(pronunciations);        // {"HH", "AH0", "L", "OW1"} ...
//   std::string back = letters.decode_characters(ids);
//
// Characters are UTF-8 code points: a multi-byte character is one symbol,
// and a byte that is not part of valid UTF-8 is a symbol of its own (so
// decode_characters(encode_characters(t)) == t for any bytes t when every
// symbol is known).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace seqnet::data {

struct VocabularyOptions {
  // Symbols given the first ids, in order. Default: the four the sequence
  // models use: padding 0, start 1, stop 2, unknown 3.
  std::vector<std::string> reserved{"<pad>", "<start>", "<stop>", "<unk>"};
  // The reserved symbol that unknown symbols map to; "" makes an unknown
  // symbol an error (ValueError). Must be one of `reserved` when not empty.
  // Default: "<unk>".
  std::string unknown = "<unk>";
  // Symbols seen fewer times are left out (they become unknown). Default: 1.
  int64_t min_count = 1;
  // Most symbols, reserved ones included; the most frequent are kept (ties:
  // the earlier seen). 0: no limit. Default: 0.
  int64_t max_size = 0;
};

class Vocabulary {
 public:
  // Reserved symbols only.
  explicit Vocabulary(const VocabularyOptions& options = {});
  // The given symbols after the reserved ones, in this order. Throws
  // ValueError for a duplicate or empty symbol.
  Vocabulary(const std::vector<std::string>& symbols, const VocabularyOptions& options);

  // Built from texts (UTF-8 characters) or token sequences: the reserved
  // symbols, then every other symbol by falling count (ties: first seen).
  static Vocabulary of_characters(const std::vector<std::string>& texts, const VocabularyOptions& options = {});
  static Vocabulary of_tokens(const std::vector<std::vector<std::string>>& sequences,
                              const VocabularyOptions& options = {});

  int64_t size() const { return static_cast<int64_t>(symbols_.size()); }
  bool contains(std::string_view symbol) const;
  // The id of a symbol; unknown symbols get the unknown id, or throw
  // ValueError (naming the symbol) when there is none.
  int64_t id(std::string_view symbol) const;
  // The symbol of an id. Throws ValueError for an id outside [0, size()).
  const std::string& symbol(int64_t id) const;
  // The id of a reserved symbol ("<pad>", "<start>", ...). Throws
  // ValueError when it is not reserved.
  int64_t reserved_id(std::string_view symbol) const;
  const std::vector<std::string>& symbols() const { return symbols_; }
  const VocabularyOptions& options() const { return options_; }

  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  std::vector<int64_t> encode_characters(std::string_view text) const;
  // The symbols of `ids`; with skip_reserved, reserved symbols are left out.
  std::vector<std::string> decode(const std::vector<int64_t>& ids, bool skip_reserved = false) const;
  std::string decode_characters(const std::vector<int64_t>& ids, bool skip_reserved = true) const;

  // {"reserved": [...], "unknown": "...", "symbols": [...every symbol...]}.
  std::string to_json() const;
  // Throws ValueError for a malformed or inconsistent description.
  static Vocabulary from_json(std::string_view json);

 private:
  void index_symbols();
  VocabularyOptions options_;
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t unknown_id_ = -1;
};

// The UTF-8 characters of a text, as Vocabulary::of_characters splits it.
std::vector<std::string> utf8_characters(std::string_view text);

}  // namespace seqnet::data
