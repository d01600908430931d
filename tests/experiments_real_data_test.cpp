// The real-data experiments in quick mode (experiments/*.cpp, `seqnet run
// NAME --quick`), skipped when their corpus is not installed: each must
// still show real learning against the baseline it reports, and an
// interrupted run continues from its backup.
//
// Thresholds (quick mode, seeds measured when they were set):
//   forecast-births  6 years of training origins, 12 epochs: 14-day MAE
//                    18.3% / 24.1% / 30.6% below seasonal naive (seeds 1 /
//                    2 / 3; the full run's target is 20%) -> asserted
//                    > 12%, and below the AR(56)+calendar regression's.
//   sensor-anomaly   a quarter of the training windows, 6 epochs: ROC AUC
//                    0.9795 / 0.9820 / 0.9808 against the z-score
//                    baseline's 0.9666; best F1 0.932 / 0.944 / 0.932
//                    against 0.892 -> both asserted above the baseline.
//   generate-text    600,000 training characters, LSTM(128), 3 epochs:
//                    held-out 2.49 / 2.46 / 2.48 bits per character (seeds
//                    1 / 2 / 3) against 4.29 for the characters'
//                    frequencies alone -> asserted
//                    at least 1 bit below (the quick run is far from the
//                    5-gram's 1.60 on the same text; the full run beats it).
//   g2p              6,000 training words, 8 epochs: held-out (500 words)
//                    WER 0.662 / 0.650 / 0.682, PER 0.223 / 0.215 / 0.236
//                    (seeds 1 / 2 / 3) -> asserted PER < 0.32, WER < 0.85,
//                    beam search no worse than greedy.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/data/datasets.hpp>
#include <seqnet/seqnet.hpp>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "experiment.hpp"

using namespace seqnet;
namespace ex = seqnet::experiments;
namespace fs = std::filesystem;

namespace {

bool installed(const char* package, const char* short_name) {
  std::error_code ec;
  return fs::is_directory(data::default_dataset_dir(package, short_name), ec);
}

nlohmann::ordered_json run_quick(const std::string& name, std::ostringstream& log, const std::string& out_dir = "",
                                 uint64_t seed = 1) {
  const ex::Experiment* e = ex::find(name);
  if (e == nullptr) throw std::runtime_error("no experiment " + name);
  ex::Context ctx{.quick = true, .seed = seed, .verbose = 0, .log = &log};
  return ex::run(*e, ctx, out_dir);
}

}  // namespace

TEST(RealData, RegisteredApartFromTheSeedExperiments) {
  for (const char* n : {"forecast-births", "sensor-anomaly", "generate-text", "g2p"}) {
    const ex::Experiment* e = ex::find(n);
    ASSERT_NE(e, nullptr) << n;
    EXPECT_TRUE(e->real_data) << n;
    EXPECT_TRUE(e->check) << n << " must check for its corpus";
  }
  EXPECT_FALSE(ex::find("reverse")->real_data);
  EXPECT_FALSE(ex::find("text-classification")->real_data);
}

TEST(RealData, ForecastBirthsQuickBeatsSeasonalNaive) {
  if (!installed("datasets-cdc-nchs-us-births-1969-1988", "us-births")) GTEST_SKIP() << "corpus not installed";
  std::ostringstream log;
  const auto m = run_quick("forecast-births", log)["metrics"];
  EXPECT_LT(m["lstm_mae"].get<double>(), m["ar_calendar_mae"].get<double>()) << log.str();
  EXPECT_GT(m["mae_reduction_vs_seasonal_naive"].get<double>(), 0.12) << log.str();
}

TEST(RealData, SensorAnomalyQuickDetects) {
  if (!installed("datasets-suthaharan-single-hop-sensor-network", "sensor-network")) GTEST_SKIP() << "not installed";
  std::ostringstream log;
  const auto m = run_quick("sensor-anomaly", log)["metrics"];
  EXPECT_GT(m["autoencoder_auc"].get<double>(), m["zscore_auc"].get<double>()) << log.str();
  EXPECT_GT(m["autoencoder_best_f1"].get<double>(), m["zscore_best_f1"].get<double>()) << log.str();
  EXPECT_GT(m["zscore_auc"].get<double>(), 0.9) << "the baseline is a real one";
}

TEST(RealData, InterruptedRunContinuesFromItsBackup) {
  if (!installed("datasets-cdc-nchs-us-births-1969-1988", "us-births")) GTEST_SKIP() << "corpus not installed";
  const fs::path out = fs::temp_directory_path() / ("seqnet_real_resume_" + std::to_string(::getpid()));
  fs::remove_all(out);
  std::ostringstream log1, log2, log3;
  const auto whole = run_quick("forecast-births", log1)["metrics"];
  const auto first = run_quick("forecast-births", log2, out.string())["metrics"];
  EXPECT_EQ(first, whole) << "the backups do not change the run";
  const fs::path dir = out / "checkpoints" / "forecast-births-seed1-quick";
  ASSERT_TRUE(fs::exists(dir / "backup-final.safetensors"));
  // Started again with the same out_dir: the trained model is restored, no epoch runs.
  const auto again = run_quick("forecast-births", log3, out.string())["metrics"];
  EXPECT_EQ(again, whole);
  fs::remove_all(out);
}

TEST(RealData, GenerateTextQuickLearnsAndSamples) {
  if (!installed("datasets-sotu", "sotu")) GTEST_SKIP() << "corpus not installed";
  std::ostringstream log;
  const auto rec = run_quick("generate-text", log);
  const auto m = rec["metrics"];
  EXPECT_LT(m["lstm_bpc"].get<double>(), m["unigram_bpc"].get<double>() - 1.0) << log.str();
  const auto samples = rec["details"]["samples"];
  ASSERT_EQ(samples.size(), 2u);
  for (const auto& [k, v] : samples.items()) EXPECT_GT(v.get<std::string>().size(), 150u) << k;
}

TEST(RealData, G2pQuickLearns) {
  if (!installed("datasets-cmudict", "cmudict")) GTEST_SKIP() << "corpus not installed";
  std::ostringstream log;
  const auto m = run_quick("g2p", log)["metrics"];
  EXPECT_LT(m["per"].get<double>(), 0.32) << log.str();
  EXPECT_LT(m["wer"].get<double>(), 0.85) << log.str();
  EXPECT_LE(m["wer"].get<double>(), m["greedy_wer"].get<double>() + 0.02) << "beam search is not worse than greedy";
}
