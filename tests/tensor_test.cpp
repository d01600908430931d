// Tensor: construction, shapes, views sharing storage, reshape with None,
// rows, time slices, slice and index copies, printing like NumPy,
// alignment, borrowed memory, helpers, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;

TEST(Tensor, DefaultIsEmpty) {
  Tensor t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0);
  EXPECT_EQ(t.rank(), 0);
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_TRUE(t.clone().empty());
}

TEST(Tensor, ConstructionAndAccess) {
  Tensor z({2, 3, 4});
  EXPECT_FALSE(z.empty());
  EXPECT_EQ(z.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(z.rank(), 3);
  EXPECT_EQ(z.size(), 24);
  EXPECT_EQ(z.dim(0), 2);
  EXPECT_EQ(z.dim(-1), 4);
  EXPECT_EQ(z.dim(-3), 2);
  for (float v : z) EXPECT_EQ(v, 0.0f);
  Tensor f = Tensor::full({2, 2}, 1.5f);
  for (float v : f) EXPECT_EQ(v, 1.5f);
  EXPECT_EQ(Tensor::ones({3})[2], 1.0f);
  Tensor v({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(v.at(1, 2), 6.0f);
  EXPECT_EQ(v[4], 5.0f);
  v.at(0, 1) = 9.0f;
  EXPECT_EQ(v[1], 9.0f);
  Tensor w({2, 2, 2}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(w.at(1, 0, 1), 5.0f);
  EXPECT_EQ(w.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  // Zero-size tensors exist and are not empty().
  Tensor zero({0, 3});
  EXPECT_FALSE(zero.empty());
  EXPECT_EQ(zero.size(), 0);
  // Scalar shape ().
  Tensor s(Shape{});
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(shape_size({}), 1);
  EXPECT_EQ(shape_size({3, 4}), 12);
}

TEST(Tensor, DataIsAligned) {
  for (int64_t n : {1, 3, 15, 16, 17, 100, 1000, 4097}) {
    Tensor a({n});
    Tensor b = Tensor::uninitialized({n, 3});
    Tensor c = a.clone();
    for (const Tensor* t : {&a, &b, &c}) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t->data()) % 64, 0u) << n;
    }
  }
  Tensor zero({0});
  EXPECT_NE(zero.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(zero.data()) % 64, 0u);
}

TEST(Tensor, CopiesShareStorageCloneDoesNot) {
  Tensor a({2, 2}, {1, 2, 3, 4});
  Tensor b = a;
  b[0] = 7.0f;
  EXPECT_EQ(a[0], 7.0f);
  EXPECT_TRUE(a.shares_storage(b));
  Tensor c = a.clone();
  c[1] = -1.0f;
  EXPECT_EQ(a[1], 2.0f);
  EXPECT_FALSE(a.shares_storage(c));
  EXPECT_TRUE(a.same_shape(c));
  c.fill(3.0f);
  for (float v : c) EXPECT_EQ(v, 3.0f);
  a.copy_from(c);
  EXPECT_EQ(a[3], 3.0f);
  EXPECT_EQ(sum(a), 12.0);
}

TEST(Tensor, ReshapeViews) {
  Tensor a = seqnet::testing::random_tensor({2, 3, 4}, 1);
  Tensor r = a.reshape({6, 4});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_TRUE(r.shares_storage(a));
  r.at(5, 3) = 42.0f;
  EXPECT_EQ(a.at(1, 2, 3), 42.0f);
  EXPECT_EQ(a.reshape({None, 4}).shape(), (Shape{6, 4}));
  EXPECT_EQ(a.reshape({2, None}).shape(), (Shape{2, 12}));
  EXPECT_EQ(a.reshape({None}).shape(), (Shape{24}));
  EXPECT_EQ(a.reshape({1, 24, 1}).shape(), (Shape{1, 24, 1}));
  EXPECT_EQ(Tensor({0, 3}).reshape({None, 3}).shape(), (Shape{0, 3}));
}

TEST(Tensor, ReshapeErrors) {
  Tensor a({2, 3, 4});
  EXPECT_THROW_MSG(a.reshape({5, 5}), ShapeError, "reshape", "(2, 3, 4)", "(5, 5)");
  EXPECT_THROW_MSG(a.reshape({None, 5}), ShapeError, "reshape", "(None, 5)");
  EXPECT_THROW_MSG(a.reshape({None, None}), ShapeError, "more than one None");
  EXPECT_THROW_MSG(a.reshape({-2, 12}), ShapeError, "(-2, 12)");
  EXPECT_THROW_MSG(a.reshape({0, None}), ShapeError, "(0, None)");
}

TEST(Tensor, RowsViews) {
  Tensor a({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor r = a.rows(1, 3);
  EXPECT_EQ(r.shape(), (Shape{2, 2}));
  EXPECT_EQ(r.size(), 4);
  EXPECT_EQ(r.at(0, 0), 2.0f);
  EXPECT_TRUE(r.shares_storage(a));
  r.at(1, 1) = -5.0f;
  EXPECT_EQ(a.at(2, 1), -5.0f);
  EXPECT_EQ(a.rows(4, 4).size(), 0);
  EXPECT_EQ(r.clone().to_vector(), (std::vector<float>{2, 3, 4, -5}));
  Tensor b({3, 2, 2});
  EXPECT_EQ(b.rows(0, 2).shape(), (Shape{2, 2, 2}));
  EXPECT_THROW_MSG(a.rows(3, 5), ShapeError, "rows", "[3, 5)", "(4, 2)");
  EXPECT_THROW_MSG(a.rows(-1, 2), ShapeError, "[-1, 2)");
  EXPECT_THROW_MSG(a.rows(3, 2), ShapeError, "[3, 2)");
  EXPECT_THROW_MSG(Tensor(Shape{}).rows(0, 1), ShapeError, "rows");
}

TEST(Tensor, TimeSliceAndMatrix) {
  Tensor x = seqnet::testing::random_tensor({2, 3, 4}, 2);
  const MatView v = x.time_slice(2);
  EXPECT_EQ(v.rows, 2);
  EXPECT_EQ(v.cols, 4);
  EXPECT_EQ(v.ld, 12);
  EXPECT_EQ(v.row(1)[3], x.at(1, 2, 3));
  const MatView m = x.matrix();
  EXPECT_EQ(m.rows, 6);
  EXPECT_EQ(m.cols, 4);
  EXPECT_EQ(m.ld, 4);
  EXPECT_EQ(m.row(5)[0], x.at(1, 2, 0));
}

TEST(Tensor, Errors) {
  EXPECT_THROW_MSG(Tensor({2, -3}), ShapeError, "(2, -3)", "negative");
  EXPECT_THROW_MSG(Tensor({None, 3}), ShapeError, "(None, 3)");  // None has no place in a concrete tensor
  EXPECT_THROW_MSG(Tensor({1 << 30, 1 << 30, 1 << 30}), ShapeError, "too large");
  EXPECT_THROW_MSG(Tensor({2, 2}, {1, 2, 3}), ShapeError, "(2, 2)", "4 values", "got 3");
  Tensor a({2, 3});
  EXPECT_THROW_MSG(a.dim(2), ShapeError, "axis 2", "(2, 3)");
  EXPECT_THROW_MSG(a.dim(-3), ShapeError, "axis -3");
  Tensor b({3, 2});
  EXPECT_NO_THROW(a.copy_from(b));  // same size is enough
  EXPECT_THROW_MSG(a.copy_from(Tensor({4})), ShapeError, "copy_from", "(2, 3)", "(4,)");
  EXPECT_THROW_MSG(max_abs_diff(a, b), ShapeError, "max_abs_diff", "(2, 3)", "(3, 2)");
}

TEST(Tensor, Helpers) {
  EXPECT_EQ(shape_str({32, 4, 10}), "(32, 4, 10)");
  EXPECT_EQ(shape_str({None, 4}), "(None, 4)");
  EXPECT_EQ(shape_str({5}), "(5,)");
  EXPECT_EQ(shape_str({}), "()");
  EXPECT_FLOAT_EQ(max_abs_diff(Tensor({2}, {1, 2}), Tensor({2}, {1.5f, 0})), 2.0f);
  Tensor w;
  ensure_shape(w, {2, 3});
  EXPECT_EQ(w.shape(), (Shape{2, 3}));
  const float* p = w.data();
  ensure_shape(w, {2, 3});
  EXPECT_EQ(w.data(), p) << "same shape: storage reused";
  ensure_shape(w, {3, 3});
  EXPECT_EQ(w.shape(), (Shape{3, 3}));
}

TEST(Tensor, ReusedStorageStartsZeroedAndSurvivesRelease) {
  // Freed blocks of 64 KB and more are reused: a zero-initialised tensor
  // must not see the values a freed one left behind.
  for (int64_t n : {int64_t{1} << 14, int64_t{1} << 16, (int64_t{1} << 19) + 7}) {
    { Tensor a = Tensor::full({n}, 7.0f); }
    Tensor b({n});
    EXPECT_EQ(*std::max_element(b.begin(), b.end()), 0.0f) << n;
    EXPECT_EQ(*std::min_element(b.begin(), b.end()), 0.0f) << n;
  }
  seqnet::release_cached_memory();
  Tensor c = Tensor::full({int64_t{1} << 16}, 2.0f);
  EXPECT_EQ(c[12345], 2.0f);
}

// ---------------------------------------------------------------- slice, index

namespace {

// 0, 1, 2, ... in a tensor of `shape`: element values name their position.
Tensor iota(const Shape& shape) {
  Tensor t(shape);
  std::iota(t.begin(), t.end(), 0.0f);
  return t;
}

}  // namespace

TEST(TensorSlice, EachAxisOfA3DTensor) {
  const Tensor x = iota({2, 3, 4});  // x[b, t, f] = 12 b + 4 t + f
  Tensor a0 = x.slice(0, 1, 2);
  EXPECT_EQ(a0.shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(a0[0], 12.0f);
  EXPECT_EQ(a0[11], 23.0f);
  Tensor a1 = x.slice(1, 1, 3);
  EXPECT_EQ(a1.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(a1.to_vector(), (std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23}));
  Tensor a2 = x.slice(2, 1, 3);
  EXPECT_EQ(a2.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(a2.to_vector(), (std::vector<float>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t f = 0; f < 2; ++f) EXPECT_EQ(a2.at(b, t, f), x.at(b, t, f + 1));
  // The whole axis is an equal copy.
  EXPECT_EQ(x.slice(2, 0, 4).to_vector(), x.to_vector());
}

TEST(TensorSlice, IsACopyEvenAlongAxisZero) {
  Tensor x = iota({4, 2});
  Tensor s = x.slice(0, 1, 3);
  EXPECT_FALSE(s.shares_storage(x));
  s[0] = -1.0f;
  EXPECT_EQ(x.at(1, 0), 2.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s.data()) % 64, 0u);
  EXPECT_EQ(s.to_vector(), (std::vector<float>{-1, 3, 4, 5}));
  EXPECT_EQ(x.rows(1, 3).to_vector(), (std::vector<float>{2, 3, 4, 5})) << "the source is unchanged";
}

TEST(TensorSlice, SeedTwoNextStepTargets) {
  // seq_out = seq_in[:, 1:, :] with seq_in = [0.1 ... 0.9] as (1, 9, 1).
  Tensor seq_in({1, 9, 1}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f});
  const int64_t T = seq_in.dim(1);
  Tensor seq_out = seq_in.slice(1, 1, T);
  EXPECT_EQ(seq_out.shape(), (Shape{1, 8, 1}));
  EXPECT_EQ(seq_out.to_vector(), (std::vector<float>{0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f}));
  EXPECT_EQ(seq_in.slice(1, 1).to_vector(), seq_out.to_vector()) << "end defaults to the axis length";
  EXPECT_EQ(seq_in.slice(-2, 1).to_vector(), seq_out.to_vector());
}

TEST(TensorSlice, NegativeAxisAndIndicesCountFromTheEnd) {
  const Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.slice(-1, 1, 3).to_vector(), x.slice(2, 1, 3).to_vector());
  EXPECT_EQ(x.slice(-3, 0, 1).to_vector(), x.slice(0, 0, 1).to_vector());
  EXPECT_EQ(x.slice(1, -2, 3).to_vector(), x.slice(1, 1, 3).to_vector());  // x[:, -2:3]
  EXPECT_EQ(x.slice(1, 0, -1).to_vector(), x.slice(1, 0, 2).to_vector());  // x[:, :-1]
  EXPECT_EQ(x.slice(2, -1).shape(), (Shape{2, 3, 1}));                      // x[..., -1:]
  EXPECT_EQ(x.slice(2, -1).to_vector(), (std::vector<float>{3, 7, 11, 15, 19, 23}));
  EXPECT_EQ(x.slice(2, -4, -3).to_vector(), x.slice(2, 0, 1).to_vector());
}

TEST(TensorSlice, EmptySlicesAndZeroSizeTensors) {
  const Tensor x = iota({2, 3, 4});
  Tensor e = x.slice(1, 2, 2);
  EXPECT_FALSE(e.empty());
  EXPECT_EQ(e.shape(), (Shape{2, 0, 4}));
  EXPECT_EQ(e.size(), 0);
  EXPECT_EQ(x.slice(1, 3).shape(), (Shape{2, 0, 4}));  // x[:, 3:]
  EXPECT_EQ(x.slice(2, -2, -2).shape(), (Shape{2, 3, 0}));
  Tensor z({0, 5});
  EXPECT_EQ(z.slice(1, 1, 3).shape(), (Shape{0, 2}));
  EXPECT_EQ(z.slice(0, 0, 0).shape(), (Shape{0, 5}));
  EXPECT_EQ(Tensor({5}, {1, 2, 3, 4, 5}).slice(0, 1, 4).to_vector(), (std::vector<float>{2, 3, 4}));
}

TEST(TensorSlice, Errors) {
  const Tensor x({1, 9, 1});
  EXPECT_THROW_MSG(x.slice(1, 5, 12), ShapeError, "Tensor::slice", "axis 1", "begin 5, end 12", "(1, 9, 1)",
                   "<= 9");
  EXPECT_THROW_MSG(x.slice(1, 10), ShapeError, "axis 1", "begin 10", "(1, 9, 1)");
  EXPECT_THROW_MSG(x.slice(1, -10), ShapeError, "begin -10", "(from the end: [-1, 9))");
  EXPECT_THROW_MSG(x.slice(1, 6, 3), ShapeError, "begin 6, end 3", "(1, 9, 1)");
  EXPECT_THROW_MSG(x.slice(1, -1, -3), ShapeError, "begin -1, end -3", "[8, 6)");
  EXPECT_THROW_MSG(x.slice(3, 0, 1), ShapeError, "axis 3", "(1, 9, 1)", "rank 3");
  EXPECT_THROW_MSG(x.slice(-4, 0, 1), ShapeError, "axis -4");
  EXPECT_THROW_MSG(Tensor(Shape{}).slice(0, 0, 1), ShapeError, "axis 0", "()");
  EXPECT_THROW_MSG(Tensor().slice(0, 0, 0), ShapeError, "empty tensor");
}

TEST(TensorIndex, DropsTheAxis) {
  const Tensor x = iota({2, 3, 4});
  Tensor last_step = x.index(1, -1);  // x[:, -1, :]
  EXPECT_EQ(last_step.shape(), (Shape{2, 4}));
  EXPECT_EQ(last_step.to_vector(), (std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(x.index(0, 1).shape(), (Shape{3, 4}));
  EXPECT_EQ(x.index(0, 1)[0], 12.0f);
  Tensor feature = x.index(-1, 2);  // x[..., 2]
  EXPECT_EQ(feature.shape(), (Shape{2, 3}));
  EXPECT_EQ(feature.to_vector(), (std::vector<float>{2, 6, 10, 14, 18, 22}));
  EXPECT_FALSE(feature.shares_storage(x));
  Tensor scalar = Tensor({3}, {4, 5, 6}).index(0, -3);
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar[0], 4.0f);
  EXPECT_EQ(Tensor({2, 0}).index(0, 1).shape(), (Shape{0}));
}

TEST(TensorIndex, Errors) {
  const Tensor x({2, 3, 4});
  EXPECT_THROW_MSG(x.index(1, 3), ShapeError, "Tensor::index", "index 3", "axis 1", "(2, 3, 4)", "-3 to 2");
  EXPECT_THROW_MSG(x.index(1, -4), ShapeError, "index -4");
  EXPECT_THROW_MSG(x.index(3, 0), ShapeError, "axis 3", "(2, 3, 4)");
  EXPECT_THROW_MSG(Tensor({0, 2}).index(0, 0), ShapeError, "index 0", "(0, 2)");
  EXPECT_THROW_MSG(Tensor().index(0, 0), ShapeError, "empty tensor");
}

// ---------------------------------------------------------------- printing
//
// Every expected string is what NumPy 1.24 prints for the same float32
// array with np.array2string(a, separator=", ").

namespace {

std::string str(const Tensor& t) {
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), to_string(t)) << "operator<< and to_string agree";
  return os.str();
}

Tensor vec(std::vector<float> v) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor({n}, v);
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST(TensorPrint, AlignedColumnsAndShortestDigits) {
  EXPECT_EQ(str(Tensor({2, 3}, {0.1f, 0.25f, 1, -2, 3, 4.5f})),
            "[[ 0.1 ,  0.25,  1.  ],\n"
            " [-2.  ,  3.  ,  4.5 ]]");
  EXPECT_EQ(str(vec({1, 2, 3})), "[1., 2., 3.]");
  EXPECT_EQ(str(Tensor({3})), "[0., 0., 0.]");
  EXPECT_EQ(str(Tensor({2, 2}, {1, 2, 3, 4})), "[[1., 2.],\n [3., 4.]]");
  // Seed 02's sequence: float32 0.1 prints as 0.1, not 0.100000001.
  EXPECT_EQ(str(vec({0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f})),
            "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]");
  // At most 8 digits after the point, rounded (half to even) from the exact value.
  EXPECT_EQ(str(vec({1.0f / 3, 2.0f / 3})), "[0.33333334, 0.6666667 ]");
  EXPECT_EQ(str(vec({0.001953125f})), "[0.00195312]");
  EXPECT_EQ(str(vec({-0.0f})), "[-0.]");
}

TEST(TensorPrint, ScientificNotationForWideRanges) {
  EXPECT_EQ(str(vec({1e-5f, 1})), "[1.e-05, 1.e+00]");
  EXPECT_EQ(str(vec({1.5e-5f, -1})), "[ 1.5e-05, -1.0e+00]");
  EXPECT_EQ(str(vec({1e8f, 1})), "[1.e+08, 1.e+00]");
  EXPECT_EQ(str(vec({123456789.0f})), "[1.2345679e+08]");
  EXPECT_EQ(str(vec({3.4e38f, -1})), "[ 3.4e+38, -1.0e+00]");
  EXPECT_EQ(str(vec({1e-45f, 1})), "[1.e-45, 1.e+00]");
  // All values get as many digits as the longest needs: further digits of
  // the exact value, not zeros (70.117973 is 70.11797332763672 as float32).
  EXPECT_EQ(str(vec({2.3688106e-03f, 7.0117973e+01f, 6.2879790e-09f})), "[2.3688106e-03, 7.0117973e+01, 6.2879790e-09]");
  EXPECT_EQ(str(vec({0.1f, 1.2345678e-05f})), "[1.0000000e-01, 1.2345678e-05]");
}

TEST(TensorPrint, NanAndInf) {
  EXPECT_EQ(str(vec({kNaN, kInf, -kInf})), "[ nan,  inf, -inf]");
  EXPECT_EQ(str(vec({kNaN, 1.5f, -kInf})), "[ nan,  1.5, -inf]");
  EXPECT_EQ(str(vec({1e-5f, kNaN})), "[1.e-05,    nan]");
  EXPECT_EQ(str(Tensor({1, 1}, {kInf})), "[[inf]]");
}

TEST(TensorPrint, NestedBracketsPerAxis) {
  Tensor x = iota({2, 3, 4});
  for (float& v : x) v /= 7.0f;
  EXPECT_EQ(str(x),
            "[[[0.        , 0.14285715, 0.2857143 , 0.42857143],\n"
            "  [0.5714286 , 0.71428573, 0.85714287, 1.        ],\n"
            "  [1.1428572 , 1.2857143 , 1.4285715 , 1.5714285 ]],\n"
            "\n"
            " [[1.7142857 , 1.8571428 , 2.        , 2.142857  ],\n"
            "  [2.2857144 , 2.4285715 , 2.5714285 , 2.7142856 ],\n"
            "  [2.857143  , 3.        , 3.142857  , 3.2857144 ]]]");
  EXPECT_EQ(str(iota({2, 2, 2, 2})),
            "[[[[ 0.,  1.],\n   [ 2.,  3.]],\n\n  [[ 4.,  5.],\n   [ 6.,  7.]]],\n\n\n"
            " [[[ 8.,  9.],\n   [10., 11.]],\n\n  [[12., 13.],\n   [14., 15.]]]]");
}

TEST(TensorPrint, LongRowsWrapAt75Characters) {
  Tensor x = iota({30});
  for (float& v : x) v *= 1.5f;
  EXPECT_EQ(str(x),
            "[ 0. ,  1.5,  3. ,  4.5,  6. ,  7.5,  9. , 10.5, 12. , 13.5, 15. , 16.5,\n"
            " 18. , 19.5, 21. , 22.5, 24. , 25.5, 27. , 28.5, 30. , 31.5, 33. , 34.5,\n"
            " 36. , 37.5, 39. , 40.5, 42. , 43.5]");
}

TEST(TensorPrint, LargeTensorsAreSummarized) {
  // More than 1000 elements: three entries at each end of every long axis;
  // the format is chosen from the values shown.
  EXPECT_EQ(str(iota({2, 10, 100})),
            "[[[0.000e+00, 1.000e+00, 2.000e+00, ..., 9.700e+01, 9.800e+01, 9.900e+01],\n"
            "  [1.000e+02, 1.010e+02, 1.020e+02, ..., 1.970e+02, 1.980e+02, 1.990e+02],\n"
            "  [2.000e+02, 2.010e+02, 2.020e+02, ..., 2.970e+02, 2.980e+02, 2.990e+02],\n"
            "  ...,\n"
            "  [7.000e+02, 7.010e+02, 7.020e+02, ..., 7.970e+02, 7.980e+02, 7.990e+02],\n"
            "  [8.000e+02, 8.010e+02, 8.020e+02, ..., 8.970e+02, 8.980e+02, 8.990e+02],\n"
            "  [9.000e+02, 9.010e+02, 9.020e+02, ..., 9.970e+02, 9.980e+02, 9.990e+02]],\n"
            "\n"
            " [[1.000e+03, 1.001e+03, 1.002e+03, ..., 1.097e+03, 1.098e+03, 1.099e+03],\n"
            "  [1.100e+03, 1.101e+03, 1.102e+03, ..., 1.197e+03, 1.198e+03, 1.199e+03],\n"
            "  [1.200e+03, 1.201e+03, 1.202e+03, ..., 1.297e+03, 1.298e+03, 1.299e+03],\n"
            "  ...,\n"
            "  [1.700e+03, 1.701e+03, 1.702e+03, ..., 1.797e+03, 1.798e+03, 1.799e+03],\n"
            "  [1.800e+03, 1.801e+03, 1.802e+03, ..., 1.897e+03, 1.898e+03, 1.899e+03],\n"
            "  [1.900e+03, 1.901e+03, 1.902e+03, ..., 1.997e+03, 1.998e+03, 1.999e+03]]]");
  Tensor tenths = iota({1001});
  for (float& v : tenths) v /= 10.0f;
  EXPECT_EQ(str(tenths), "[  0. ,   0.1,   0.2, ...,  99.8,  99.9, 100. ]");
  EXPECT_EQ(str(iota({1100, 1})),
            "[[0.000e+00],\n [1.000e+00],\n [2.000e+00],\n ...,\n [1.097e+03],\n [1.098e+03],\n [1.099e+03]]");
  // 1000 elements exactly are printed in full.
  EXPECT_EQ(str(iota({1000})).find("..."), std::string::npos);
}

TEST(TensorPrint, ScalarsEmptyAndZeroSize) {
  EXPECT_EQ(str(Tensor(Shape{}, 2.5f)), "2.5");
  EXPECT_EQ(str(Tensor()), "Tensor()");
  EXPECT_EQ(str(Tensor({0})), "[]");
  EXPECT_EQ(str(Tensor({2, 0})), "[], shape=(2, 0)");
  EXPECT_EQ(str(Tensor({0, 3, 4})), "[], shape=(0, 3, 4)");
}

TEST(TensorPrint, Options) {
  EXPECT_EQ(to_string(vec({1.0f / 3, 2.5f, 1e-3f}), {.precision = 3}), "[3.333e-01, 2.500e+00, 1.000e-03]");
  EXPECT_EQ(to_string(vec({1.0f / 3, 2.5f}), {.precision = 3}), "[0.333, 2.5  ]");
  Tensor halves = iota({10});
  for (float& v : halves) v += 0.5f;
  EXPECT_EQ(to_string(halves, {.linewidth = 20}), "[0.5, 1.5, 2.5, 3.5,\n 4.5, 5.5, 6.5, 7.5,\n 8.5, 9.5]");
  EXPECT_EQ(to_string(halves, {.threshold = 5, .edgeitems = 2}), "[0.5, 1.5, ..., 8.5, 9.5]");
  // NumPy shows the last entry even with no edge items.
  EXPECT_EQ(to_string(iota({10}), {.threshold = 5, .edgeitems = 0}), "[..., 9.]");
}

TEST(TensorPrint, SlicesPrintTheirValues) {
  EXPECT_EQ(str(iota({3, 2}).slice(1, 1)), "[[1.],\n [3.],\n [5.]]");
}

TEST(TensorBorrow, WrapsForeignMemoryAndKeepsItsOwner) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> watch = owner;
  Tensor t = Tensor::borrow({2, 3}, owner->data() + 0, owner);
  EXPECT_EQ(t.data(), owner->data());  // no copy
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.at(1, 2), 6.0f);
  EXPECT_EQ(t.storage_use_count(), 2);  // t and `owner`
  owner.reset();
  EXPECT_FALSE(watch.expired());  // the tensor keeps the memory alive
  Tensor view = t.rows(1, 2).reshape({3});
  EXPECT_EQ(view.to_vector(), (std::vector<float>{4, 5, 6}));
  EXPECT_TRUE(view.shares_storage(t));
  EXPECT_EQ(view.storage_use_count(), 2);
  Tensor copy = t.clone();
  EXPECT_EQ(copy.storage_use_count(), 1);
  EXPECT_NE(copy.data(), t.data());
  t = Tensor();
  EXPECT_EQ(t.storage_use_count(), 0);
  EXPECT_FALSE(watch.expired());  // still held by the view
  view = Tensor();
  EXPECT_TRUE(watch.expired());  // released with the last handle
}

TEST(TensorBorrow, ZeroSizeAndErrors) {
  auto owner = std::make_shared<int>(0);
  Tensor z = Tensor::borrow({0, 4}, nullptr, owner);
  EXPECT_FALSE(z.empty());
  EXPECT_EQ(z.size(), 0);
  float x = 1.0f;
  EXPECT_THROW_MSG((void)Tensor::borrow({2}, nullptr, owner), ValueError, "null data for shape (2,)");
  EXPECT_THROW_MSG((void)Tensor::borrow({1}, &x, nullptr), ValueError, "no owner");
  EXPECT_THROW((void)Tensor::borrow({-2}, &x, owner), ShapeError);
}
