// Tensor: construction, shapes, views sharing storage, reshape with None,
// rows, time slices, alignment, helpers, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <algorithm>
#include <cstdint>

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
