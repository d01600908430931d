// Line charts rendered by gnuplot (src/plot.cpp): CSV contents, the images,
// quoting of user text, and the errors when gnuplot is missing or fails.

#include <gtest/gtest.h>
#include <seqnet/error.hpp>
#include <seqnet/files.hpp>
#include <seqnet/plot.hpp>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
namespace fs = std::filesystem;

namespace {

using seqnet::testing::expect_error;

// A fresh directory per test, removed afterwards.
class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("seqnet_plot_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

// Sets PATH for the lifetime of the object.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value) {
    const char* old = std::getenv("PATH");
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() {
    if (had_) ::setenv("PATH", old_.c_str(), 1);
    else ::unsetenv("PATH");
  }

 private:
  bool had_ = false;
  std::string old_;
};

LineChart loss_chart() {
  LineChart c;
  c.title = "Training";
  c.ylabel = "loss";
  c.series = {{"loss", {1.0, 0.5, 0.25}}, {"val_loss", {1.5, std::numeric_limits<double>::quiet_NaN()}}};
  return c;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

size_t temp_files_in(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST(LineChartCsv, DefaultEpochAxisAndGaps) {
  EXPECT_EQ(line_chart_csv(loss_chart()),
            "epoch,loss,val_loss\n"
            "1,1,1.5\n"
            "2,0.5,\n"
            "3,0.25,\n");
}

TEST(LineChartCsv, CustomXAndQuotedNames) {
  LineChart c;
  c.xlabel = "time, s";
  c.x = {0.5, 1.5};
  c.series = {{"say \"hi\"", {1.0 / 3.0, 2}}, {"plain", {}}};
  EXPECT_EQ(line_chart_csv(c),
            "\"time, s\",\"say \"\"hi\"\"\",plain\n"
            "0.5,0.333333333,\n"
            "1.5,2,\n");
}

TEST(LineChartCsv, BadCharts) {
  expect_error<ValueError>([] { line_chart_csv(LineChart{}); }, "no series");
  LineChart unnamed;
  unnamed.series = {{"", {1}}};
  expect_error<ValueError>([&] { line_chart_csv(unnamed); }, "series 0 has no name");
  LineChart too_long;
  too_long.x = {1, 2};
  too_long.series = {{"a", {1, 2, 3}}};
  expect_error<ValueError>([&] { line_chart_csv(too_long); }, "'a' has 3 values");
  LineChart bad_x;
  bad_x.x = {1, std::nan("")};
  bad_x.series = {{"a", {1}}};
  expect_error<ValueError>([&] { line_chart_csv(bad_x); }, "x value 1");
  LineChart tiny = loss_chart();
  tiny.width = 0;
  expect_error<ValueError>([&] { line_chart_csv(tiny); }, "width");
}

TEST_F(PlotTest, WritesCsvScriptPngAndSvg) {
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  const LineChart c = loss_chart();
  PlotFiles f = save_line_chart(c, path("sub/dir/loss"));  // directories are created
  EXPECT_EQ(f.csv, path("sub/dir/loss.csv"));
  EXPECT_EQ(f.png, path("sub/dir/loss.png"));
  EXPECT_EQ(f.svg, path("sub/dir/loss.svg"));
  EXPECT_EQ(f.script, path("sub/dir/loss.gp"));
  EXPECT_EQ(read_file(f.csv), line_chart_csv(c));
  const std::string png = read_file(f.png), svg = read_file(f.svg);
  EXPECT_GT(png.size(), 1000u);
  EXPECT_TRUE(starts_with(png, "\x89PNG\r\n")) << "not a PNG";
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("val_loss"), std::string::npos);  // the legend
  EXPECT_NE(svg.find("Training"), std::string::npos);  // the title
  EXPECT_EQ(temp_files_in(dir_ / "sub/dir"), 0u);
  // Saving again replaces the files.
  EXPECT_NO_THROW(save_line_chart(c, path("sub/dir/loss")));
  EXPECT_EQ(temp_files_in(dir_ / "sub/dir"), 0u);
}

TEST_F(PlotTest, KeptScriptRendersFromItsDirectory) {
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  PlotFiles f = save_line_chart(loss_chart(), path("curve"));
  fs::remove(f.png);
  fs::remove(f.svg);
  // dir_ is a path this test made (no quotes in it).
  const std::string cmd = "cd '" + dir_.string() + "' && gnuplot curve.gp > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_GT(fs::file_size(f.png), 0u);
  EXPECT_GT(fs::file_size(f.svg), 0u);
}

TEST_F(PlotTest, UserTextIsQuoted) {
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  LineChart c;
  c.title = "it's \"quoted\"\nset output '/tmp/evil'; system('touch " + path("pwned") + "')";
  c.xlabel = "step's";
  c.ylabel = "a_b^c";
  c.x = {0, 10, 100, 1000};
  c.log_y = true;
  c.series = {{"o'brien", {1, 10, 100, 1000}}, {"x\ny", {2, 3}}};
  PlotFiles f = save_line_chart(c, path("it's a plot"));
  EXPECT_GT(fs::file_size(f.png), 0u);
  EXPECT_FALSE(fs::exists(path("pwned")));
  EXPECT_NE(read_file(f.svg).find("o'brien"), std::string::npos);
}

TEST_F(PlotTest, ManyPointsUseLines) {
  if (find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  LineChart c;
  c.series = {{"sin", {}}};
  for (int i = 0; i < 500; ++i) c.series[0].y.push_back(std::sin(i / 20.0));
  PlotFiles f = save_line_chart(c, path("sin"));
  EXPECT_NE(read_file(f.script).find("with lines "), std::string::npos);
  EXPECT_GT(fs::file_size(f.svg), 0u);
}

TEST_F(PlotTest, MissingGnuplotSaysWhatToInstall) {
  const std::string empty_dir = path("empty-bin");
  fs::create_directories(empty_dir);
  ScopedPath p(empty_dir);
  EXPECT_EQ(find_gnuplot(), "");
  try {
    save_line_chart(loss_chart(), path("loss"));
    ADD_FAILURE() << "expected IOError";
  } catch (const IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("install gnuplot-nox (scripts/install-deps"), std::string::npos) << msg;
  }
  // The data is still written; no image.
  EXPECT_EQ(read_file(path("loss.csv")), line_chart_csv(loss_chart()));
  EXPECT_FALSE(fs::exists(path("loss.png")));
}

TEST_F(PlotTest, FailingGnuplotReportsItsOutput) {
  const std::string bin = path("fake-bin");
  fs::create_directories(bin);
  write_file_atomic(bin + "/gnuplot", "#!/bin/sh\necho 'line 7: boom' >&2\nexit 3\n");
  fs::permissions(bin + "/gnuplot", fs::perms::owner_all);
  {
    ScopedPath p(bin);
    expect_error<IOError>([&] { save_line_chart(loss_chart(), path("loss")); }, "exited with status 3");
    expect_error<IOError>([&] { save_line_chart(loss_chart(), path("loss")); }, "): line 7: boom");
  }
  write_file_atomic(bin + "/gnuplot", "#!/bin/sh\nexit 0\n");
  fs::permissions(bin + "/gnuplot", fs::perms::owner_all);
  {
    ScopedPath p(bin);
    expect_error<IOError>([&] { save_line_chart(loss_chart(), path("loss")); }, "wrote no image");
  }
  EXPECT_FALSE(fs::exists(path("loss.png")));
  EXPECT_EQ(temp_files_in(dir_), 0u);
}

TEST_F(PlotTest, BadInput) {
  LineChart nan_only;
  nan_only.series = {{"a", {std::nan("")}}};
  expect_error<ValueError>([&] { save_line_chart(nan_only, path("x")); }, "no finite value");
  LineChart log_neg;
  log_neg.log_y = true;
  log_neg.series = {{"a", {-1, 0}}};
  expect_error<ValueError>([&] { save_line_chart(log_neg, path("x")); }, "log_y");
  expect_error<ValueError>([&] { save_line_chart(loss_chart(), ""); }, "empty output path");
  expect_error<ValueError>([&] { save_line_chart(loss_chart(), path("a\nb")); }, "line break");
  expect_error<ValueError>([&] { save_line_chart(loss_chart(), path("dir") + "/"); }, "does not name a file");
}
