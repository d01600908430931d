// read_file and write_file_atomic against hostile paths and limits:
// directories, FIFOs, devices, size limits, modes, umask, symlinks, debris
// of killed saves, and a file size limit (ulimit -f).

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path;
  Dir() {
    path = fs::temp_directory_path() / ("seqnet_files_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
  std::string file(const std::string& n) const { return (path / n).string(); }
};

mode_t mode_of(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

TEST(Files, ReadFileRefusesWhatIsNotARegularFile) {
  Dir d;
  expect_error<IOError>([&] { read_file(d.path.string()); }, {d.path.string(), "is a directory"});
  const std::string fifo = d.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  expect_error<IOError>([&] { read_file(fifo); }, {"fifo", "not a regular file"});
  // Refused at once, not after waiting for a writer (a generous bound).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  expect_error<IOError>([&] { read_file("/dev/zero"); }, {"/dev/zero", "not a regular file"});
  expect_error<IOError>([&] { read_file(d.file("missing")); }, {"missing", "cannot open"});
  // Loaders go through it: a directory is named as one.
  expect_error<IOError>([&] { load_model(d.path.string()); }, {"is a directory"});
  expect_error<IOError>([&] { data::load_npy(d.path.string()); }, {"is a directory"});
}

TEST(Files, ReadFileEnforcesItsSizeLimit) {
  Dir d;
  const std::string p = d.file("ten");
  write_file_atomic(p, std::string(10, 'x'));
  EXPECT_EQ(read_file(p, 10), std::string(10, 'x'));
  expect_error<IOError>([&] { read_file(p, 9); }, {"ten", "10 bytes", "limit of 9 bytes"});
  EXPECT_EQ(read_file(p, -1).size(), 10u);
  EXPECT_EQ(read_file(p).size(), 10u);
}

TEST(Files, SavingKeepsModesHonoursTheUmaskAndFollowsSymlinks) {
  Dir d;
  const std::string p = d.file("model.bin");
  write_file_atomic(p, "one");
  ::chmod(p.c_str(), 0600);
  write_file_atomic(p, "two");
  EXPECT_EQ(mode_of(p), 0600u) << "an existing file keeps its mode";
  const mode_t old = ::umask(077);
  write_file_atomic(d.file("new.bin"), "x");
  ::umask(old);
  EXPECT_EQ(mode_of(d.file("new.bin")), 0600u) << "a new file honours the umask";
  ::umask(022);
  write_file_atomic(d.file("new2.bin"), "x");
  ::umask(old);
  EXPECT_EQ(mode_of(d.file("new2.bin")), 0644u);
  // Saving through a symlink replaces its target and keeps the link.
  fs::create_symlink(p, d.file("link.bin"));
  write_file_atomic(d.file("link.bin"), "three");
  EXPECT_TRUE(fs::is_symlink(d.file("link.bin")));
  EXPECT_EQ(read_file(p), "three");
  // A directory is no file to write.
  expect_error<IOError>([&] { write_file_atomic(d.path.string(), "x"); }, {"is a directory"});
  // Nothing is left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(d.path)) entries += e.path().filename().string()[0] == '.' ? 100 : 1;
  EXPECT_EQ(entries, 4);
}

TEST(Files, ASaveRemovesTheDebrisOfKilledSaves) {
  Dir d;
  // The pid of a process that has exited: a save killed by kill -9 leaves
  // its temporary file behind under its pid.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  const std::string stale = d.file(".m.bin.tmp-" + std::to_string(child) + "-abcdef");
  const std::string other = d.file(".other.bin.tmp-" + std::to_string(child) + "-abcdef");
  std::ofstream(stale) << "half a file";
  std::ofstream(other) << "another path's";
  write_file_atomic(d.file("m.bin"), "whole");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(other)) << "only the saved path's debris is removed";
  EXPECT_EQ(read_file(d.file("m.bin")), "whole");
}

TEST(Files, AFileSizeLimitIsAnErrorNotASignal) {
  Dir d;
  const pid_t child = ::fork();
  if (child == 0) {
    rlimit lim{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    try {
      write_file_atomic(d.file("big.bin"), std::string(1 << 20, 'x'));
    } catch (const IOError& e) {
      const std::string msg = e.what();
      ::_exit(msg.find("size limit") != std::string::npos ? 0 : 2);
    }
    ::_exit(3);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(d.file("big.bin")));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++entries;
  EXPECT_EQ(entries, 0) << "no temporary file is left";
}

}  // namespace
