// Training gives bit-identical weights on 1 and 2 threads: the products big
// enough to run on several threads are cut into panels that depend on the
// shape only (src/ops/gemm.cpp), Bidirectional's two directions (run at
// once on 2 threads) share nothing, and every other reduction runs in a
// fixed order on one thread. The shapes here make the whole-sequence products
// (input projections, weight gradients, input gradients) exceed the
// single-thread size, so the threaded path is the one compared.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>
#include <seqnet/detail/ops/gemm.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <vector>

using namespace seqnet;

namespace {

Tensor uniform(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  Tensor t(shape);
  for (float& v : t) v = g.uniform(-1.0f, 1.0f);
  return t;
}

// The weights after `steps` Adam steps of the model `make` builds, trained
// with `threads` threads from the same seed.
std::vector<Tensor> train(const std::function<std::unique_ptr<Model>()>& make, const Tensors& x, const Tensor& y,
                          int threads, int steps) {
  set_num_threads(threads);
  clear_session();
  set_seed(42);
  auto m = make();
  m->compile({.optimizer = "adam", .loss = "mse"});
  m->fit(x, {y}, {.epochs = steps, .batch_size = static_cast<int>(x[0].dim(0)), .shuffle = false, .verbose = 0});
  set_num_threads(0);
  return m->get_weights();
}

void expect_same_bits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape());
    EXPECT_EQ(std::memcmp(a[i].data(), b[i].data(), static_cast<size_t>(a[i].size()) * sizeof(float)), 0)
        << "weight " << i << " differs between 1 and 2 threads";
  }
}

}  // namespace

TEST(ThreadDeterminism, LargeProductsGiveTheSameBitsOnOneAndTwoThreads) {
  // Both panel directions (rows of C, columns of C) and both transposes.
  struct Case {
    int64_t M, N, K;
    bool ta, tb;
  };
  for (const Case c : {Case{3000, 700, 96, false, false}, Case{600, 1500, 200, true, false},
                       Case{700, 2100, 64, false, true}}) {
    const Tensor a = uniform({c.ta ? c.K : c.M, c.ta ? c.M : c.K}, 1);
    const Tensor b = uniform({c.tb ? c.N : c.K, c.tb ? c.K : c.N}, 2);
    ASSERT_GT(c.M * c.N * c.K, int64_t{1} << 26) << "the case must take the threaded path";
    Tensor c1({c.M, c.N}), c2({c.M, c.N});
    for (auto [threads, out] : {std::pair<int, Tensor*>{1, &c1}, {2, &c2}}) {
      set_num_threads(threads);
      ops::gemm(c.ta, c.tb, c.M, c.N, c.K, 1.0f, a.data(), a.dim(1), b.data(), b.dim(1), 0.0f, out->data(), c.N);
    }
    set_num_threads(0);
    EXPECT_EQ(std::memcmp(c1.data(), c2.data(), static_cast<size_t>(c1.size()) * sizeof(float)), 0)
        << c.M << "x" << c.N << "x" << c.K;
  }
}

TEST(ThreadDeterminism, LstmAndGruTrainingGiveTheSameWeights) {
  // B x T x I x H = 64 x 40 x 128 x 128: the input projection alone is
  // 2560 x 512 x 128 multiply-adds, above the single-thread size.
  const Tensors x{uniform({64, 40, 128}, 3)};
  const Tensor y = uniform({64, 1}, 4);
  // Bidirectional runs its directions at once on 2 threads, except where it
  // draws dropout masks (then one after the other, as on 1 thread).
  for (const char* cell : {"LSTM", "GRU", "Bidirectional", "Bidirectional with dropout"}) {
    SCOPED_TRACE(cell);
    const std::string c = cell;
    auto make = [&c]() -> std::unique_ptr<Model> {
      auto m = std::make_unique<Sequential>("m");
      m->add(Input({40, 128}));
      if (c == "LSTM") m->add(LSTM(128, {.return_sequences = true}));
      if (c == "GRU") m->add(GRU(128, {.return_sequences = true}));
      if (c == "Bidirectional") m->add(Bidirectional(LSTM(128, {.return_sequences = true})));
      if (c == "Bidirectional with dropout") {
        m->add(Bidirectional(GRU(128, {.dropout = 0.2f, .recurrent_dropout = 0.1f, .return_sequences = true})));
      }
      m->add(GRU(64));
      m->add(Dense(1));
      return m;
    };
    expect_same_bits(train(make, x, y, 1, 3), train(make, x, y, 2, 3));
  }
}

TEST(ThreadDeterminism, EveryCellAndOptionOfTheTimeLoopGivesTheSameWeights) {
  // The time loop itself runs on both threads (unit blocks of the step
  // products, tests/ops/step_product_test.cpp): every cell, masks,
  // go_backwards and recurrent dropout, with a width (H = 72) that leaves a
  // narrow last block.
  Tensor xm = uniform({48, 30, 20}, 5);
  for (int64_t b = 0; b < 48; ++b)
    for (int64_t t = 30 - b % 7; t < 30; ++t)
      for (int64_t i = 0; i < 20; ++i) xm[(b * 30 + t) * 20 + i] = 0.0f;  // post-padding, mask 0
  const Tensors x{xm};
  const Tensor y = uniform({48, 1}, 6);
  for (const char* cell : {"LSTM", "GRU", "GRU reset_after=false", "SimpleRNN"}) {
    SCOPED_TRACE(cell);
    const std::string c = cell;
    auto make = [&c]() -> std::unique_ptr<Model> {
      auto m = std::make_unique<Sequential>("m");
      m->add(Input({30, 20}));
      m->add(Masking(0.0f));
      if (c == "LSTM") {
        m->add(LSTM(72, {.recurrent_dropout = 0.2f, .return_sequences = true}));
        m->add(LSTM(72, {.go_backwards = true}));
      }
      if (c == "GRU") {
        m->add(GRU(72, {.recurrent_dropout = 0.2f, .return_sequences = true, .go_backwards = true}));
        m->add(GRU(72));
      }
      if (c == "GRU reset_after=false") {
        m->add(GRU(72, {.recurrent_dropout = 0.2f, .return_sequences = true, .reset_after = false}));
        m->add(GRU(72, {.go_backwards = true, .reset_after = false}));
      }
      if (c == "SimpleRNN") {
        m->add(SimpleRNN(72, {.recurrent_dropout = 0.2f, .return_sequences = true, .go_backwards = true}));
        m->add(SimpleRNN(72, {.activation = "relu"}));
      }
      m->add(Dense(1));
      return m;
    };
    expect_same_bits(train(make, x, y, 1, 3), train(make, x, y, 2, 3));
  }
}
