// NumPy .npy and .npz (src/data/npy.cpp): files written by NumPy in every
// supported dtype, header version and order; round trips of every dtype
// seqnet writes; NumPy reading what seqnet writes; the int64 > 2^24 rule.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using namespace seqnet::data;
using seqnet::testing::expect_bit_equal;
using seqnet::testing::expect_error;
using seqnet::testing::TempDir;

namespace {

std::string fixture(const std::string& name) { return std::string(SEQNET_FIXTURE_DIR) + "/npy/" + name; }

// base = arange(24) - 7, times `scale`, reshaped.
Tensor base(const Shape& shape, double scale) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>((static_cast<double>(i) - 7.0) * scale);
  return t;
}

}  // namespace

TEST(Npy, ReadsEveryDtypeNumPyWrites) {
  expect_bit_equal(load_npy(fixture("f4.npy")), base({2, 3, 4}, 0.5), "f4");
  Tensor f8 = load_npy(fixture("f8.npy"));
  ASSERT_EQ(f8.shape(), (Shape{4, 6}));
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(f8[i], static_cast<float>((i - 7) / 3.0)) << i;  // rounded once
  expect_bit_equal(load_npy(fixture("f2.npy")), base({24}, 0.25), "f2");
  expect_bit_equal(load_npy(fixture("i4.npy")), base({6, 4}, 1.0), "i4");
  expect_bit_equal(load_npy(fixture("i8.npy")), Tensor({5}, {0, -1, 16777216, -16777216, 12345}), "i8");
  Tensor u1 = load_npy(fixture("u1.npy"));
  ASSERT_EQ(u1.shape(), (Shape{3, 8}));
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(u1[i], static_cast<float>(i));
  Tensor b1 = load_npy(fixture("b1.npy"));
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(b1[i], (i - 7) % 3 == 0 ? 1.0f : 0.0f) << i;
}

TEST(Npy, ReadsVersionsOrdersAndEndianness) {
  const Tensor want = base({2, 3, 4}, 0.5);
  expect_bit_equal(load_npy(fixture("f4_v2.npy")), want, "version 2.0");
  expect_bit_equal(load_npy(fixture("f4_v3.npy")), want, "version 3.0");
  expect_bit_equal(load_npy(fixture("f4_big_endian.npy")), want, "big-endian");
  expect_bit_equal(load_npy(fixture("f4_fortran.npy")), want, "Fortran order");
  Tensor s = load_npy(fixture("scalar.npy"));
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s[0], 3.5f);
  Tensor e = load_npy(fixture("empty.npy"));
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  const NpyHeader h = parse_npy_header(read_file(fixture("f4_v3.npy")));
  EXPECT_EQ(h.major_version, 3);
  EXPECT_EQ(h.descr, "<f4");
}

TEST(Npy, IntegersBeyond2To24AreAnError) {
  expect_error<ValueError>([] { load_npy(fixture("i8_too_big.npy")); },
                           {"i8_too_big.npy", "element 1 is 16777217", "2^24"});
}

TEST(Npy, ReadsNpzStoredAndDeflated) {
  for (const char* f : {"arrays.npz", "arrays_compressed.npz"}) {
    const NamedArrays a = load_npz(fixture(f));
    ASSERT_EQ(a.size(), 2u) << f;
    EXPECT_EQ(a[0].first, "x");
    expect_bit_equal(a[0].second, base({2, 3, 4}, 0.5), f);
    EXPECT_EQ(a[1].first, "ids");
    expect_bit_equal(a[1].second, base({4, 6}, 1.0), f);
  }
}

TEST(Npy, RoundTripsEveryDtype) {
  TempDir dir("npy");
  const Tensor x = base({2, 3, 4}, 0.5);
  const Tensor whole = base({2, 12}, 1.0);
  Tensor small({3, 2}, {0, 1, 2, 250, 255, 7});
  Tensor flags({2, 2}, {0, 1, 1, 0});
  save_npy(dir.file("f4.npy"), x);
  expect_bit_equal(load_npy(dir.file("f4.npy")), x, "float32");
  save_npy(dir.file("f8.npy"), x, NpyDType::Float64);
  expect_bit_equal(load_npy(dir.file("f8.npy")), x, "float64");
  save_npy(dir.file("i4.npy"), whole, NpyDType::Int32);
  expect_bit_equal(load_npy(dir.file("i4.npy")), whole, "int32");
  save_npy(dir.file("i8.npy"), whole, NpyDType::Int64);
  expect_bit_equal(load_npy(dir.file("i8.npy")), whole, "int64");
  save_npy(dir.file("u1.npy"), small, NpyDType::UInt8);
  expect_bit_equal(load_npy(dir.file("u1.npy")), small, "uint8");
  save_npy(dir.file("b1.npy"), flags, NpyDType::Bool);
  expect_bit_equal(load_npy(dir.file("b1.npy")), flags, "bool");
  // Rank 0, rank 1 and empty arrays; the data starts at a multiple of 64.
  for (const Tensor& t : {Tensor(Shape{}, 2.5f), Tensor({7}, 1.5f), Tensor({0, 4})}) {
    const std::string bytes = serialize_npy(t);
    EXPECT_EQ(parse_npy_header(bytes).data_offset % 64, 0u);
    expect_bit_equal(parse_npy(bytes), t, "shape " + shape_str(t.shape()));
  }
  // Values a dtype cannot hold are refused, not rounded.
  expect_error<ValueError>([&] { serialize_npy(x, NpyDType::Int32); }, {"element 0", "int32"});
  expect_error<ValueError>([&] { serialize_npy(Tensor({1}, {256.0f}), NpyDType::UInt8); }, {"uint8"});
  expect_error<ValueError>([&] { serialize_npy(Tensor({1}, {0.5f}), NpyDType::Bool); }, {"bool"});
  expect_error<ValueError>([&] { serialize_npy(Tensor()); }, {"empty"});
  // .npz, stored and compressed.
  const NamedArrays arrays{{"x", x}, {"whole", whole}, {"nested/name", small}};
  for (bool compress : {false, true}) {
    save_npz(dir.file("a.npz"), arrays, compress);
    const NamedArrays back = load_npz(dir.file("a.npz"));
    ASSERT_EQ(back.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(back[i].first, arrays[i].first);
      expect_bit_equal(back[i].second, arrays[i].second, arrays[i].first);
    }
  }
  EXPECT_EQ(serialize_npz(arrays), serialize_npz(arrays));  // reproducible bytes
  expect_error<ValueError>([&] { serialize_npz({{"a", x}, {"a", x}}); }, {"'a' appears twice"});
}

TEST(Npy, NumPyReadsWhatSeqnetWrites) {
  if (std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-numpy is not installed";
  }
  TempDir dir("npy_python");
  save_npy(dir.file("x.npy"), base({2, 3, 4}, 0.5));
  save_npy(dir.file("i.npy"), base({2, 12}, 1.0), NpyDType::Int64);
  save_npz(dir.file("a.npz"), {{"x", base({2, 3, 4}, 0.5)}, {"y", base({24}, 0.25)}}, true);
  const std::string script = "import numpy as np, sys\n"
                             "d = sys.argv[1]\n"
                             "b = np.arange(24) - 7\n"
                             "assert (np.load(d + '/x.npy') == (b * 0.5).astype('f4').reshape(2, 3, 4)).all()\n"
                             "i = np.load(d + '/i.npy')\n"
                             "assert i.dtype == np.int64 and (i == b.reshape(2, 12)).all()\n"
                             "z = np.load(d + '/a.npz')\n"
                             "assert sorted(z.files) == ['x', 'y']\n"
                             "assert (z['y'] == (b * 0.25).astype('f4')).all()\n";
  write_file_atomic(dir.file("check.py"), script);
  EXPECT_EQ(std::system(("/usr/bin/python3 " + dir.file("check.py") + " " + dir.path().string()).c_str()), 0);
}

TEST(Npy, ZeroSizeArraysInEitherOrderAreEmptyTensors) {
  // A zero-size array has no data bytes; converting it once called memcpy
  // with a null pointer (undefined behaviour, found by the fuzzer).
  for (const char* order : {"True", "False"}) {
    for (const char* shape : {"(0, 3)", "(4, 0)", "(0,)"}) {
      std::string header = std::string("{'descr': '<f4', 'fortran_order': ") + order + ", 'shape': " + shape + ", }";
      while ((10 + header.size() + 1) % 64 != 0) header += ' ';
      header += '\n';
      std::string bytes = "\x93NUMPY";
      bytes += '\x01';
      bytes += '\x00';
      bytes += static_cast<char>(header.size() & 0xff);
      bytes += static_cast<char>(header.size() >> 8);
      bytes += header;
      SCOPED_TRACE(header);
      const Tensor t = parse_npy(bytes);
      EXPECT_EQ(t.size(), 0);
      EXPECT_EQ(t.rank(), std::string(shape) == "(0,)" ? 1 : 2);
    }
  }
}
