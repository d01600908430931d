#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <seqnet/distributed.hpp>
#include <seqnet/seqnet.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <iostream>

#include "experiment.hpp"

namespace seqnet::experiments {

std::ostream& Context::out() const { return log != nullptr ? *log : std::cout; }

const std::vector<Experiment>& all() {
  static const std::vector<Experiment> list = {
      {"reverse", "seed 01: reversed sequences, two LSTMs linked by sequences and states (T=4)", reverse},
      {"reverse-patterns", "seed 01: the four ways of connecting two LSTM layers at T = 4, 8, 16", reverse_patterns},
      {"return-states", "seed 02: the four output configurations of a one-unit LSTM", return_states},
      {"seq2seq", "seed 02: encoder-decoder LSTM with teacher forcing and inference models", seq2seq},
      {"autoencoder", "seed 02: composite LSTM autoencoder and its standalone encoder", autoencoder},
      {"attention", "seed 02: encoder-decoder baseline against the Bahdanau AttentionDecoder", attention},
      {"luong-scores", "seed 02: Luong global attention with the dot, general, concat and location scores",
       luong_scores},
      {"variable-length", "seed 01: first appearances reversed, variable lengths, masked encoder-decoder, greedy and beam",
       variable_length},
      {"scheduled-sampling", "seed 02: teacher forcing against scheduled sampling, scored in open-loop generation",
       scheduled_sampling, nullptr, false},
      {"bidirectional", "seed 03: LSTM, reversed LSTM and Bidirectional LSTM on cumulative-sum labels", bidirectional},
      {"echo", "seed 05: echoing whole and partial windows with stateful LSTMs (batches of 7 and 21 streams)", echo,
       nullptr, false},
      {"text-classification", "seed 04: Embedding + SimpleRNN/LSTM/GRU models on the SpamAssassin mail corpus",
       text_classification, text_classification_check},
      {"exploding-gradients", "seeds 02/04: a relu SimpleRNN diverging without clipping, trained with it",
       exploding_gradients},
      {"forecast-births", "real data: 14-day forecasts of daily US births 1969-1988, encoder-decoder LSTM vs baselines",
       forecast_births, forecast_births_check, true, true},
      {"sensor-anomaly", "real data: LSTM autoencoder anomaly detection on labelled wireless sensor readings",
       sensor_anomaly, sensor_anomaly_check, true, true},
      {"generate-text", "real data: character LSTM language model on the State of the Union addresses, vs a 5-gram",
       generate_text, generate_text_check, false, true},
      {"g2p", "real data: grapheme-to-phoneme on CMUdict, BiLSTM encoder, attention decoder, beam search",
       g2p, g2p_check, true, true},
  };
  return list;
}

const Experiment* find(const std::string& name) {
  for (const auto& e : all())
    if (e.name == name) return &e;
  return nullptr;
}

std::string names() {
  std::string s;
  for (const auto& e : all()) s += (s.empty() ? "" : ", ") + e.name;
  return s;
}

namespace {

std::string stage_dir(const Context& ctx, const std::string& stage) {
  return fmt::format("{}/checkpoints/{}-seed{}{}", ctx.out_dir, stage, ctx.seed, ctx.quick ? "-quick" : "");
}

}  // namespace

std::vector<std::shared_ptr<Callback>> resumable(const Context& ctx, const std::string& stage,
                                                std::vector<std::shared_ptr<Callback>> callbacks) {
  if (ctx.out_dir.empty()) return callbacks;
  callbacks.push_back(BackupAndRestore(stage_dir(ctx, stage), {.delete_checkpoint = false}));
  return callbacks;
}

void save_chart(const Context& ctx, Result& r, const std::string& name, const LineChart& chart) {
  if (ctx.out_dir.empty()) return;
  r.charts.push_back(name + ".png");
  if (distributed::rank() != 0) return;  // under an MPI launcher rank 0 writes
  save_line_chart(chart, ctx.out_dir + "/" + name);
}

nlohmann::ordered_json run(const Experiment& e, Context& ctx, const std::string& out_dir) {
  ctx.out_dir = out_dir;
  std::ostream& os = ctx.out();
  os << "=== " << e.name << (ctx.quick ? " (quick)" : "") << ": " << e.description << "\n";
  set_seed(ctx.seed);
  clear_session();
  // Under an MPI launcher: data-parallel when its training allows, else
  // every rank runs it alone.
  std::optional<distributed::LocalScope> alone;
  if (!e.batch_parallel) alone.emplace();
  const int world = distributed::active() ? distributed::world_size() : 1;
  distributed::reset_stats();
  // A backup from an earlier run (the real-data experiments name their one
  // training stage after themselves): its training does not run again.
  std::error_code ec;
  const bool resumed = !out_dir.empty() && std::filesystem::exists(stage_dir(ctx, e.name) + "/backup.json", ec);
  const auto t0 = std::chrono::steady_clock::now();
  Result r = e.run(ctx);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const distributed::CommStats comm = distributed::stats();
  nlohmann::ordered_json j;
  j["experiment"] = e.name;
  j["metrics"] = r.metrics;
  j["details"] = r.details;
  j["tutorial"] = r.tutorial;
  j["ours"] = r.ours;
  j["notes"] = r.notes;
  j["charts"] = r.charts;
  j["wall_seconds"] = secs;
  j["seed"] = ctx.seed;
  j["quick"] = ctx.quick;
  j["world_size"] = world;
  j["real_data"] = e.real_data;
  if (resumed) j["resumed_from"] = stage_dir(ctx, e.name);
  if (comm.gradient_exchanges > 0) {
    // Data-parallel training: what this rank exchanged per training step.
    const auto steps = static_cast<double>(comm.gradient_exchanges);
    j["communication"] = {{"steps", comm.gradient_exchanges},
                          {"gradient_bytes_per_step", static_cast<double>(comm.gradient_bytes) / steps},
                          {"exchange_ms_per_step", 1e3 * comm.total_seconds / steps},
                          {"exposed_ms_per_step", 1e3 * comm.exposed_seconds / steps},
                          {"small_exchanges", comm.small_exchanges}};
  }
  os << "--- " << e.name << ": " << r.metrics.dump() << fmt::format(" ({:.1f} s)", secs) << "\n\n";
  os.flush();
  if (!out_dir.empty() && distributed::rank() == 0) write_file_atomic(out_dir + "/" + e.name + ".json", j.dump(2) + "\n");
  return j;
}

}  // namespace seqnet::experiments
