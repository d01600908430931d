// seqnet: the command-line program. Thin: parses arguments, calls the
// library and the experiments.
//
//   seqnet list
//   seqnet run NAME... | all | real-data [--quick] [--seed N] [--out DIR] [--verbose 0|1|2]
//   seqnet summary | predict | convert | import-torch | plot ...   (model files: model_commands.hpp)
//   seqnet g2p pronounce MODEL_DIR WORD...                          (g2p_command.hpp)
//
// Exit codes: 0 success, 1 runtime error, 2 usage error (cli_support.hpp).
// Every error is one line on stderr starting "seqnet: ".

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/distributed.hpp>
#include <seqnet/seqnet.hpp>

#include <algorithm>
#include <fstream>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli_support.hpp"
#include "experiment.hpp"
#include "g2p_command.hpp"
#include "model_commands.hpp"

namespace {

using seqnet::cli::kExitRuntimeError;
using seqnet::cli::kExitUsageError;

// Prints one "seqnet: " line (newlines in `msg` become spaces).
void print_error(std::string msg) {
  for (char& c : msg)
    if (c == '\n') c = ' ';
  std::fprintf(stderr, "seqnet: %s\n", msg.c_str());
}

std::vector<std::string> subcommand_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int cmd_list() {
  for (bool real : {false, true}) {
    std::printf(real ? "\nreal-data (seqnet run real-data; make experiments):\n" : "all (seqnet run all; make run):\n");
    for (const auto& e : seqnet::experiments::all())
      if (e.real_data == real) std::printf("  %-20s %s\n", e.name.c_str(), e.description.c_str());
  }
  return 0;
}

int cmd_run(const std::vector<std::string>& names_in, bool quick, uint64_t seed, const std::string& out_dir,
            int verbose) {
  namespace ex = seqnet::experiments;
  std::vector<const ex::Experiment*> todo;
  for (const auto& n : names_in) {
    if (n == "all" || n == "real-data") {
      for (const auto& e : ex::all())
        if (e.real_data == (n == "real-data")) todo.push_back(&e);
      continue;
    }
    const ex::Experiment* e = ex::find(n);
    if (e == nullptr) {
      std::fprintf(stderr, "seqnet: unknown experiment '%s'; valid names: %s, all, real-data\n", n.c_str(), ex::names().c_str());
      return kExitUsageError;
    }
    todo.push_back(e);
  }
  // Under an MPI launcher (mpirun -np N seqnet run ...) the experiments
  // whose training is batch-parallel train data-parallel; rank 0 alone
  // prints and writes the records, charts and report.
  seqnet::distributed::init();
  const bool root = seqnet::distributed::rank() == 0;
  std::ofstream quiet;  // not open: what the other ranks would print goes nowhere
  // Everything that can fail before training is checked first.
  if (!out_dir.empty() && root) seqnet::ensure_writable_directory(out_dir);
  for (const auto* e : todo)
    if (e->check) e->check();
  std::vector<nlohmann::ordered_json> records;
  for (const auto* e : todo) {
    ex::Context ctx;
    ctx.quick = quick;
    ctx.seed = seed;
    ctx.verbose = root ? verbose : 0;
    if (!root) ctx.log = &quiet;
    records.push_back(ex::run(*e, ctx, out_dir));
    if (!out_dir.empty() && root) ex::write_report(records, out_dir);  // kept current after each experiment
  }
  if (!out_dir.empty() && root) std::printf("report: %s/report.md\n", out_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seqnet: recurrent sequence models (LSTM, GRU, SimpleRNN) in C++"};
  app.require_subcommand(1);
  app.footer(seqnet::cli::kExitCodesHelp);  // before the subcommands, which inherit it

  auto* list = app.add_subcommand("list", "List the experiments");

  auto* run = app.add_subcommand("run", "Run experiments (names, 'all' or 'real-data')");
  std::vector<std::string> names;
  bool quick = false;
  uint64_t seed = 1;
  std::string out_dir;
  int verbose = 1;
  run->add_option("names", names,
                  "Experiment names, 'all' (the seed experiments) or 'real-data' (the real-data experiments)")
      ->required();
  run->add_flag("--quick", quick, "Shorter versions (as the tests run them)");
  run->add_option("--seed", seed, "Random seed")->capture_default_str();
  run->add_option("--out", out_dir, "Directory for NAME.json result files");
  run->add_option("--verbose", verbose, "Training output: 0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  std::string policy = "float32";
  run->add_option("--dtype-policy", policy,
                  "Mixed precision policy of every model the experiments build: float32 or mixed_bfloat16 "
                  "(bfloat16 products, float32 variables)")
      ->capture_default_str();

  seqnet::cli::ModelCommands model_commands;
  model_commands.add_to(app);
  seqnet::cli::G2pCommand g2p_command;
  g2p_command.add_to(app);

  // The first word names the command; CLI11 would only say that it was
  // "not expected", so an unknown one is named here, with the closest match.
  const std::vector<std::string> commands = subcommand_names(app);
  if (argc < 2) {
    print_error("no command given; the commands are: " + join(commands) + " (see 'seqnet --help')");
    return kExitUsageError;
  }
  if (argv[1][0] != '-' && std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    const std::string guess = seqnet::cli::closest_match(argv[1], commands);
    print_error(std::string("unknown command '") + argv[1] + "'" +
                (guess.empty() ? std::string() : "; did you mean '" + guess + "'?") +
                " The commands are: " + join(commands) + " (see 'seqnet --help')");
    return kExitUsageError;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help
    std::string where = "seqnet";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    print_error(std::string(e.what()) + " (see '" + where + " --help')");
    return kExitUsageError;
  }
  try {
    if (*list) return cmd_list();
    if (*run) {
      seqnet::mixed_precision::set_global_policy(policy);
      return cmd_run(names, quick, seed, out_dir, verbose);
    }
    if (model_commands.selected()) return model_commands.run();
    if (g2p_command.selected()) return g2p_command.run();
  } catch (const seqnet::cli::UsageError& e) {
    print_error(e.what());
    return kExitUsageError;
  } catch (const seqnet::Error& e) {
    print_error(e.what());
    return kExitRuntimeError;
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    print_error(std::string("unexpected error: ") + e.what());
    return kExitRuntimeError;
  }
  return 0;
}
