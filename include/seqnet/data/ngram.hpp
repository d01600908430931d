#pragma once
// A smoothed n-gram language model over symbol ids (characters, phonemes,
// words): the baseline a recurrent language model is compared with.
// Interpolated Kneser-Ney (Chen & Goodman 1998, section 3.5, one discount
// per order): the highest order uses counts, the lower orders continuation
// counts (how many distinct symbols precede an n-gram), each order's
// probability mass taken by the discount goes to the next lower order, and
// the lowest order is interpolated with the uniform distribution over the
// vocabulary, so every symbol has a probability above zero.
//
//   auto lm = data::NgramModel::fit(train_sequences, vocab.size(), {.order = 5});
//   double bits = lm.bits(test_sequence);          // -sum log2 P(symbol | previous order-1 symbols)
//   double bpc = bits / test_sequence.size();
//
// Every sequence starts with order-1 copies of a start symbol of its own
// (not one of the vocabulary's), in training and when scoring, so the
// first symbols of a sequence are predicted from "the start of a sequence".

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace seqnet::data {

struct NgramOptions {
  // The n of the n-grams: contexts of order-1 symbols. 1 to 5. Default: 5.
  int order = 5;
};

class NgramModel {
 public:
  // Counts the n-grams of `sequences` (ids in [0, vocabulary_size)).
  // Throws ValueError for an id outside the vocabulary (naming the
  // sequence and position), a vocabulary_size outside [1, 4094], an order
  // outside [1, 5], or no symbol at all. Time and memory O(order x symbols).
  static NgramModel fit(const std::vector<std::vector<int64_t>>& sequences, int64_t vocabulary_size,
                        const NgramOptions& options = {});

  // P(symbol | context): the last order-1 entries of `context` count
  // (earlier ones are ignored); a shorter context is preceded by start
  // symbols. Throws ValueError for ids outside the vocabulary.
  double probability(const std::vector<int64_t>& context, int64_t symbol) const;
  // -sum over the sequence of log2 P(symbol_t | the symbols before it in
  // the sequence, from its start). Divide by the length for bits per symbol.
  double bits(const std::vector<int64_t>& sequence) const;

  int order() const { return order_; }
  int64_t vocabulary_size() const { return vocabulary_size_; }
  // The discount of each order (index 0 = unigrams).
  const std::vector<double>& discounts() const { return discount_; }

 private:
  struct ContextStats {
    double total = 0;    // sum of the counts of the n-grams extending the context
    double distinct = 0;  // how many distinct symbols follow it
  };
  // p for the symbol after `history` (order-1 ids, start symbols included).
  double probability_of(const int64_t* history, int64_t symbol) const;

  int order_ = 5;
  int64_t vocabulary_size_ = 0;
  // Per order k (index k-1): counts of k-grams (highest order: occurrences;
  // lower: continuation counts) and the statistics of their contexts.
  std::vector<std::unordered_map<uint64_t, double>> counts_;
  std::vector<std::unordered_map<uint64_t, ContextStats>> contexts_;
  std::vector<double> discount_;
};

}  // namespace seqnet::data
