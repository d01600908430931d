// History::plot (src/train/callbacks.cpp): the CSV and images behind a
// training-curve chart.

#include <gtest/gtest.h>
#include <seqnet/error.hpp>
#include <seqnet/files.hpp>
#include <seqnet/plot.hpp>
#include <seqnet/train/callbacks.hpp>
#include <unistd.h>

#include <filesystem>
#include <string>

using namespace seqnet;
namespace fs = std::filesystem;

namespace {

History three_epochs() {
  History h;
  Logs begin;
  h.on_train_begin(begin);
  const double loss[] = {0.9, 0.5, 0.3}, acc[] = {0.5, 0.75, 0.875}, val[] = {1.0, 0.6, 0.45};
  for (int e = 0; e < 3; ++e) {
    Logs l;
    l.set("loss", loss[e]);
    l.set("accuracy", acc[e]);
    l.set("val_loss", val[e]);
    h.on_epoch_end(e, l);
  }
  return h;
}

class HistoryPlot : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("seqnet_history_plot_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

}  // namespace

TEST_F(HistoryPlot, SelectedKeysAgainstEpochs) {
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  History h = three_epochs();
  PlotFiles f = h.plot((dir_ / "loss").string(), {"loss", "val_loss"}, "Model loss", "loss");
  EXPECT_EQ(read_file(f.csv),
            "epoch,loss,val_loss\n"
            "1,0.9,1\n"
            "2,0.5,0.6\n"
            "3,0.3,0.45\n");
  EXPECT_GT(fs::file_size(f.png), 0u);
  EXPECT_GT(fs::file_size(f.svg), 0u);
  EXPECT_NE(read_file(f.svg).find("Model loss"), std::string::npos);
}

TEST_F(HistoryPlot, AllKeysByDefault) {
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  PlotFiles f = three_epochs().plot((dir_ / "all").string());
  EXPECT_EQ(read_file(f.csv).substr(0, read_file(f.csv).find('\n')), "epoch,loss,accuracy,val_loss");
}

TEST_F(HistoryPlot, BadKeysAndEmptyHistory) {
  History h = three_epochs();
  try {
    h.plot((dir_ / "x").string(), {"val_accuracy"});
    ADD_FAILURE() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("val_accuracy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("val_loss"), std::string::npos) << e.what();  // lists the keys
  }
  History empty;
  EXPECT_THROW(empty.plot((dir_ / "x").string()), ValueError);
  EXPECT_FALSE(fs::exists(dir_ / "x.csv"));
}
