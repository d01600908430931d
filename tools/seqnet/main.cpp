// seqnet: the command-line program. Thin: parses arguments, calls the
// library and the experiments.
//
//   seqnet list
//   seqnet run NAME... | all [--quick] [--seed N] [--out DIR] [--verbose 0|1|2]
//   seqnet summary | predict | import-torch ...   (model files: model_commands.hpp)

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdio>
#include <iostream>

#include "experiment.hpp"
#include "model_commands.hpp"

namespace {

int cmd_list() {
  for (const auto& e : seqnet::experiments::all()) std::printf("%-16s %s\n", e.name.c_str(), e.description.c_str());
  return 0;
}

int cmd_run(const std::vector<std::string>& names_in, bool quick, uint64_t seed, const std::string& out_dir,
            int verbose) {
  namespace ex = seqnet::experiments;
  std::vector<const ex::Experiment*> todo;
  for (const auto& n : names_in) {
    if (n == "all") {
      for (const auto& e : ex::all()) todo.push_back(&e);
      continue;
    }
    const ex::Experiment* e = ex::find(n);
    if (e == nullptr) {
      std::fprintf(stderr, "seqnet: unknown experiment '%s'; valid names: %s, all\n", n.c_str(), ex::names().c_str());
      return 2;
    }
    todo.push_back(e);
  }
  // Everything that can fail before training is checked first.
  if (!out_dir.empty()) seqnet::ensure_writable_directory(out_dir);
  for (const auto* e : todo)
    if (e->check) e->check();
  std::vector<nlohmann::ordered_json> records;
  for (const auto* e : todo) {
    ex::Context ctx;
    ctx.quick = quick;
    ctx.seed = seed;
    ctx.verbose = verbose;
    records.push_back(ex::run(*e, ctx, out_dir));
    if (!out_dir.empty()) ex::write_report(records, out_dir);  // kept current after each experiment
  }
  if (!out_dir.empty()) std::printf("report: %s/report.md\n", out_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seqnet: recurrent sequence models (LSTM, GRU, SimpleRNN) in C++"};
  app.require_subcommand(1);

  auto* list = app.add_subcommand("list", "List the experiments");

  auto* run = app.add_subcommand("run", "Run experiments (names, or 'all')");
  std::vector<std::string> names;
  bool quick = false;
  uint64_t seed = 1;
  std::string out_dir;
  int verbose = 1;
  run->add_option("names", names, "Experiment names, or 'all'")->required();
  run->add_flag("--quick", quick, "Shorter versions (as the tests run them)");
  run->add_option("--seed", seed, "Random seed")->capture_default_str();
  run->add_option("--out", out_dir, "Directory for NAME.json result files");
  run->add_option("--verbose", verbose, "Training output: 0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();

  seqnet::cli::ModelCommands model_commands;
  model_commands.add_to(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*list) return cmd_list();
    if (*run) return cmd_run(names, quick, seed, out_dir, verbose);
    if (model_commands.selected()) return model_commands.run();
  } catch (const seqnet::Error& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';  // one line
    std::fprintf(stderr, "seqnet: %s\n", msg.c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "seqnet: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seqnet: unexpected error: %s\n", e.what());
    return 1;
  }
  return 0;
}
