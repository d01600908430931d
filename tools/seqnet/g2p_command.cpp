#include "g2p_command.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <seqnet/data/sequences.hpp>
#include <seqnet/data/vocabulary.hpp>
#include <seqnet/decode/search.hpp>
#include <seqnet/files.hpp>
#include <seqnet/io/json.hpp>
#include <seqnet/seqnet.hpp>

#include <cctype>
#include <cstdio>

#include "cli_support.hpp"

namespace seqnet::cli {

void G2pCommand::add_to(CLI::App& app) {
  g2p_ = app.add_subcommand("g2p", "Grapheme-to-phoneme models (from `seqnet run g2p --out DIR`)");
  g2p_->require_subcommand(1);
  pronounce_ = g2p_->add_subcommand("pronounce", "Print the n best pronunciations of words");
  pronounce_->add_option("model", model_dir_, "The model folder (DIR/g2p_model)")->required();
  pronounce_->add_option("words", words_, "Words (letters and apostrophes)")->required();
  pronounce_->add_option("--beam", beam_, "Beam width")->check(CLI::Range(1, 64))->capture_default_str();
  pronounce_->add_option("--n-best", n_best_, "Pronunciations per word (at most the beam width)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
}

bool G2pCommand::selected() const { return g2p_ != nullptr && *g2p_; }

int G2pCommand::run() const {
  if (n_best_ > beam_) throw UsageError(fmt::format("--n-best {} is larger than --beam {}", n_best_, beam_));
  const std::string info_path = model_dir_ + "/vocabulary.json";
  const nlohmann::json info = io::parse_untrusted_json(read_file(info_path, int64_t{16} << 20), info_path);
  if (!info.is_object() || !info.contains("format") || info["format"] != "seqnet-g2p" || !info.contains("letters") ||
      !info.contains("phonemes") || !info.contains("max_length") || !info["max_length"].is_number_integer() ||
      info["max_length"].get<int64_t>() < 1 || info["max_length"].get<int64_t>() > 1000) {
    throw IOError(fmt::format("{}: not a seqnet-g2p vocabulary file (format, letters, phonemes, max_length 1-1000)",
                              info_path));
  }
  data::Vocabulary letters, phones;
  try {
    letters = data::Vocabulary::from_json(info["letters"].dump());
    phones = data::Vocabulary::from_json(info["phonemes"].dump());
  } catch (const Error& e) {
    throw IOError(fmt::format("{}: {}", info_path, e.what()));
  }
  auto encoder = load_model(model_dir_ + "/encoder.safetensors", {.compile = false});
  auto decoder = load_model(model_dir_ + "/decoder.safetensors", {.compile = false});
  std::vector<std::vector<int64_t>> sources;
  std::vector<std::string> spelled;
  for (const auto& w : words_) {
    std::string up;
    for (char c : w) {
      if (!std::isalpha(static_cast<unsigned char>(c)) && c != '\'') {
        throw UsageError(fmt::format("word '{}': only letters and apostrophes can be pronounced", w));
      }
      up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (up.size() > 100) throw UsageError(fmt::format("word '{}...' is longer than 100 letters", up.substr(0, 20)));
    spelled.push_back(up);
    sources.push_back(letters.encode_characters(up));
  }
  const Tensor x = data::pad_sequences(sources, {.padding = "post"});
  const auto nbest = decode::beam_search(*encoder, *decoder, {x},
                                         {.beam_width = beam_,
                                          .start_id = phones.reserved_id("<start>"),
                                          .stop_id = phones.reserved_id("<stop>"),
                                          .max_length = info["max_length"].get<int64_t>(),
                                          .n_best = n_best_});
  for (size_t i = 0; i < spelled.size(); ++i) {
    for (size_t k = 0; k < nbest[i].size(); ++k) {
      std::string line = fmt::format("{}  {}  {:.4f} ", spelled[i], k + 1, nbest[i][k].log_probability);
      for (const auto& p : phones.decode(nbest[i][k].symbols, true)) line += " " + p;
      if (!nbest[i][k].finished) line += "  (cut at max_length)";
      std::printf("%s\n", line.c_str());
    }
  }
  return 0;
}

}  // namespace seqnet::cli
