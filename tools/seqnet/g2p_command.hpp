#pragma once
// The grapheme-to-phoneme command of the `seqnet` program, for the models
// the g2p experiment saves (`seqnet run g2p --out DIR` writes DIR/g2p_model):
//
//   seqnet g2p pronounce MODEL_DIR WORD... [--beam N] [--n-best K]
//
// prints, per word, its K best pronunciations with their log-probabilities:
//
//   SEQNET  1  -0.0412  S IY1 K N EH2 T
//   SEQNET  2  -3.5301  S EH1 K N EH2 T
//
// MODEL_DIR holds encoder.safetensors, decoder.safetensors (the inference
// encoder and step decoder) and vocabulary.json ({"format": "seqnet-g2p",
// "letters": ..., "phonemes": ..., "max_length": N}); all are untrusted.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace seqnet::cli {

class G2pCommand {
 public:
  void add_to(CLI::App& app);
  bool selected() const;
  // Throws seqnet::Error on failure, cli::UsageError for a bad word.
  int run() const;

 private:
  CLI::App* g2p_ = nullptr;
  CLI::App* pronounce_ = nullptr;
  std::string model_dir_;
  std::vector<std::string> words_;
  int beam_ = 5, n_best_ = 3;
};

}  // namespace seqnet::cli
