#pragma once
// Helpers shared by the io tests (header only).

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "support/gradcheck.hpp"

namespace seqnet::testing {

// Expects the two tensors to have the same shape and the same bits.
inline void expect_bit_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(float)), 0)
      << what << ": max |diff| = " << max_abs_diff(a, b);
}

inline void expect_bit_equal(const Tensors& a, const Tensors& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) expect_bit_equal(a[i], b[i], what + " output " + std::to_string(i));
}

using seqnet::testing::expect_error;

// A fresh temporary directory, removed at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("seqnet_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

// With SEQNET_DUMP_CORPUS set, writes `bytes` to $SEQNET_DUMP_CORPUS/kind/name:
// how the crafted files of the tests become tests/fixtures/bad_files (the
// committed corpus that BadFiles.CommittedCorpus loads and `make fuzz`
// seeds from).
inline void dump_corpus(const std::string& kind, const std::string& name, const std::string& bytes) {
  const char* dir = std::getenv("SEQNET_DUMP_CORPUS");
  if (dir == nullptr) return;
  const auto d = std::filesystem::path(dir) / kind;
  std::filesystem::create_directories(d);
  write_file_atomic((d / name).string(), bytes);
}

// Deterministic uniform data in [lo, hi).
inline Tensor uniform(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Generator g(seed);
  Tensor t(shape);
  for (float& v : t) v = g.uniform(lo, hi);
  return t;
}

// Integer ids in [lo, hi) as floats.
inline Tensor ids(const Shape& shape, uint64_t seed, int64_t lo, int64_t hi) {
  Generator g(seed);
  Tensor t(shape);
  for (float& v : t) v = static_cast<float>(lo + static_cast<int64_t>(g.below(static_cast<uint64_t>(hi - lo))));
  return t;
}

}  // namespace seqnet::testing
