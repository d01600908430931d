#pragma once
// The step-decoder convention of decode/search.hpp, checked once and applied
// per step: shared by greedy decoding, beam search and scheduled sampling.

#include <cstdint>
#include <string>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet::decode::detail {

class StepDecoder {
 public:
  // Checks the decoder's inputs and outputs against the convention; throws
  // ValueError / ShapeError prefixed with `context` ("decode::greedy").
  StepDecoder(Model& decoder, std::string context);

  // Whether the symbol input holds ids (B, 1) rather than one-hot (B, 1, V).
  bool ids() const { return ids_; }
  // Vocabulary size (the width of the probabilities).
  int64_t vocabulary() const { return V_; }
  size_t num_states() const { return n_states_; }
  size_t num_constants() const { return n_constants_; }
  const std::string& context() const { return context_; }

  // Checks the initial states and constants against the decoder's inputs
  // 1.. (count, shapes, one batch size); returns the batch size.
  // `from_encoder` words the messages for encoder outputs.
  int64_t check_initial(const Tensors& initial, bool from_encoder) const;
  // Checks a start (allow_zero_vector: -1 allowed for one-hot) or stop
  // (-1 allowed) symbol.
  void check_symbol(int64_t id, const char* argument, bool minus_one_ok) const;

  // The symbol input for these ids, one row each (-1: an all-zero row).
  Tensor symbol_input(const std::vector<int64_t>& ids) const;
  // A (N, 1, V) symbol input holding the rows of `probs` (N, V).
  Tensor distribution_input(const Tensor& probs) const;
  // Runs one step. Returns the decoder's outputs; probabilities(out) is the
  // (N, V) distribution.
  Tensors step(const Tensor& symbol, const std::vector<Tensor>& states, const std::vector<Tensor>& constants);
  // Output 0 as (N, V); throws ValueError when it is not a distribution
  // (negative or non-finite values).
  Tensor probabilities(const Tensors& out) const;

 private:
  Model& decoder_;
  std::string context_;
  bool ids_ = true;
  int64_t V_ = 0;
  size_t n_states_ = 0, n_constants_ = 0;
};

// Rows `rows` of t (first axis), in that order.
Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& rows);
// log(p), with p = 0 mapped to a very negative finite number.
double safe_log(float p);

}  // namespace seqnet::decode::detail
