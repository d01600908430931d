#pragma once
// The seed experiments: each is one file in experiments/, uses only the
// public API, and is shared by the `seqnet run` command and the tests.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <iosfwd>
#include <string>
#include <vector>

namespace seqnet {
struct LineChart;
class Callback;
}

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
  // Directory for charts (and the JSON records); empty = no files.
  std::string out_dir{};
  std::ostream& out() const;
};

struct Result {
  // The figures, e.g. {"test_accuracy": 0.99}. Accuracies are fractions.
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  // Anything else worth keeping (tables, sample predictions).
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  // One report row: the tutorial's figure and ours, in words.
  std::string tutorial{};
  std::string ours{};
  // How the run differs from the tutorial's configuration, if it does.
  std::string notes{};
  // Chart files written into Context::out_dir (PNG names, relative).
  std::vector<std::string> charts{};
};

// Saves a line chart as out_dir/<name>.{png,svg,csv,gp} when the context has
// an out_dir, and records it in the result. No-op without out_dir.
void save_chart(const Context& ctx, Result& r, const std::string& name, const seqnet::LineChart& chart);

// The callbacks of one training stage of a long experiment: `callbacks`,
// then (when the context has an out_dir) BackupAndRestore into
// out_dir/checkpoints/<stage>-seed<N>[-quick], kept when the stage
// finishes. Started again with the same --out, an interrupted run
// continues with the epoch after the last one saved, and a finished stage
// restores its trained model instead of training again. Put callbacks that
// change the weights at the end (EarlyStopping) in `callbacks`.
std::vector<std::shared_ptr<seqnet::Callback>> resumable(const Context& ctx, const std::string& stage,
                                                         std::vector<std::shared_ptr<seqnet::Callback>> callbacks = {});

// Writes out_dir/report.md from the records run() returned: one row per
// experiment with the tutorial's figure, ours and the wall time, then each
// experiment's notes, tables and charts.
void write_report(const std::vector<nlohmann::ordered_json>& records, const std::string& out_dir);

struct Experiment {
  std::string name;
  std::string description;
  std::function<Result(Context&)> run;
  // Checks what the experiment needs beyond the library (a data set) and
  // throws seqnet::Error saying how to install it; null when nothing.
  std::function<void()> check{};
  // Whether its training is batch-parallel (Model::fit with batch sizes
  // that split across ranks): under an MPI launcher it then trains
  // data-parallel; otherwise every rank runs it alone (and rank 0 writes).
  bool batch_parallel = true;
  // A real-data experiment at full size (`seqnet run real-data`, `make
  // experiments`): not part of `seqnet run all` (`make run`).
  bool real_data = false;
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
Result luong_scores(Context& ctx);
Result variable_length(Context& ctx);
Result scheduled_sampling(Context& ctx);
Result exploding_gradients(Context& ctx);
Result bidirectional(Context& ctx);
Result echo(Context& ctx);
Result text_classification(Context& ctx);
void text_classification_check();
Result forecast_births(Context& ctx);
void forecast_births_check();
Result sensor_anomaly(Context& ctx);
void sensor_anomaly_check();
Result generate_text(Context& ctx);
void generate_text_check();
Result g2p(Context& ctx);
void g2p_check();

}  // namespace seqnet::experiments
