#pragma once
// The seed experiments: each is one file in experiments/, uses only the
// public API, and is shared by the `seqnet run` command and the tests.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace seqnet::experiments {

struct Context {
  // A shorter version for tests (still asserting real learning).
  bool quick = false;
  // Seed of the run: weights, data and shuffling.
  uint64_t seed = 1;
  // fit() verbosity for the experiment's training (0, 1 or 2).
  int verbose = 1;
  // Where the experiment prints its summaries and results (null: stdout).
  std::ostream* log = nullptr;
  std::ostream& out() const;
};

struct Result {
  // The figures, e.g. {"test_accuracy": 0.99}. Accuracies are fractions.
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  // Anything else worth keeping (tables, sample predictions).
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
};

struct Experiment {
  std::string name;
  std::string description;
  std::function<Result(Context&)> run;
};

// Every experiment, in report order.
const std::vector<Experiment>& all();
// nullptr when there is none of that name.
const Experiment* find(const std::string& name);
// Names of all experiments, comma separated.
std::string names();

// Runs one experiment: prints a header, times it, and returns the record
// {"experiment", "metrics", "details", "wall_seconds", "seed", "quick"}.
// With a non-empty out_dir, also writes out_dir/NAME.json (atomically).
nlohmann::ordered_json run(const Experiment& e, Context& ctx, const std::string& out_dir);

// The individual experiments.
Result reverse(Context& ctx);
Result reverse_patterns(Context& ctx);
Result seq2seq(Context& ctx);
Result return_states(Context& ctx);
Result autoencoder(Context& ctx);
Result attention(Context& ctx);
Result exploding_gradients(Context& ctx);

}  // namespace seqnet::experiments
