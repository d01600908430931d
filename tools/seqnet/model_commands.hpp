#pragma once
// The model-file commands of the `seqnet` program:
//
//   seqnet summary MODEL
//   seqnet predict MODEL --input X.npy [--input X2.npy ...] --output Y.npy [--output Y2.npy ...]
//                  [--batch-size N] [--max-memory BYTES]
//   seqnet convert IN OUT [--format safetensors|keras|h5|tfjs] [--no-optimizer] [--shard-bytes N]
//   seqnet import-torch --model ARCH --state-dict SD --map MODULE[:K]=LAYER ... --output OUT.safetensors
//                       [--ignore KEY ...] [--allow-unmapped]
//   (each also takes --max-file-bytes BYTES)

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace seqnet::cli {

class ModelCommands {
 public:
  // Adds the subcommands (summary, predict, import-torch, convert, plot) to `app`.
  void add_to(CLI::App& app);
  // Whether one of them was given on the command line (after parsing).
  bool selected() const;
  // Runs the selected one; returns the exit code. Throws seqnet::Error on
  // failure (the caller prints it as one line), cli::UsageError for a
  // command-line mistake found only now (e.g. more --input files than the
  // model has inputs).
  int run() const;

 private:
  CLI::App* summary_ = nullptr;
  CLI::App* predict_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* convert_ = nullptr;
  CLI::App* plot_ = nullptr;
  std::string plot_file_ = "model.png", rankdir_ = "TB";
  bool show_shapes_ = false;
  std::string convert_in_, convert_out_, format_, shard_bytes_;
  bool no_optimizer_ = false;
  std::string model_;
  std::vector<std::string> inputs_, outputs_;
  int batch_size_ = 32;
  std::string arch_, state_dict_, out_;
  std::vector<std::string> maps_, ignore_;
  bool allow_unmapped_ = false;
  std::string max_file_bytes_, max_memory_;
};

}  // namespace seqnet::cli
