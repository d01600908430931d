// Bucketing by length: data::real_step_spans, data::length_buckets and
// FitOptions::bucket_by_length (batches of similar lengths, each cut to its
// real steps; for masked models the results equal unbucketed training), and
// the graph's answer to whether each cut array is masked.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

// N id sequences with lengths in [lo, hi], values in [1, vocab), padded to T.
struct Padded {
  Tensor ids, targets;
};
Padded variable_length(int64_t N, int64_t T, int64_t lo, int64_t hi, int64_t vocab, const std::string& padding,
                       uint64_t seed) {
  Generator g(seed);
  std::vector<std::vector<int64_t>> seqs, tgts;
  for (int64_t i = 0; i < N; ++i) {
    const int64_t len = std::min(hi, lo + static_cast<int64_t>(g.uniform() * static_cast<float>(hi - lo + 1)));
    std::vector<int64_t> s, t;
    for (int64_t k = 0; k < len; ++k) {
      s.push_back(1 + static_cast<int64_t>(g.uniform() * static_cast<float>(vocab - 1)) % (vocab - 1));
      t.push_back(s.back() % 3 + 1);  // a per-step label in [1, 4)
    }
    seqs.push_back(s);
    tgts.push_back(t);
  }
  const data::PadOptions o{.maxlen = T, .padding = padding};
  return {data::pad_sequences(seqs, o), data::pad_sequences(tgts, o)};
}

void expect_same_weights(const Model& a, const Model& b, double tol) {
  const auto wa = a.get_weights(), wb = b.get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t k = 0; k < wa.size(); ++k) {
    ASSERT_TRUE(wa[k].same_shape(wb[k]));
    for (int64_t i = 0; i < wa[k].size(); ++i) {
      ASSERT_NEAR(wa[k][i], wb[k][i], tol * (1.0 + std::abs(wa[k][i]))) << "weight " << k << " element " << i;
    }
  }
}

}  // namespace

TEST(Bucketing, RealStepSpansPreAndPostPadding) {
  const Tensor post({3, 5}, {4, 2, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0});
  const auto s = data::real_step_spans(post);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, 0);
  EXPECT_EQ(s[0].last, 1);
  EXPECT_EQ(s[1].length(), 3);  // an inner zero is a real step
  EXPECT_EQ(s[2].length(), 0);
  EXPECT_EQ(s[2].first, 5);
  // One-hot rows: a step is padding only when the whole row is zero.
  const Tensor pre = data::pad_one_hot({{1, 2}, {3}}, 4, {.maxlen = 4});
  const auto p = data::real_step_spans(pre);
  EXPECT_EQ(p[0].first, 2);
  EXPECT_EQ(p[0].last, 3);
  EXPECT_EQ(p[1].first, 3);
  EXPECT_EQ(p[1].length(), 1);
  EXPECT_THROW(data::real_step_spans(Tensor({4})), ShapeError);
}

TEST(Bucketing, LengthBucketsGroupSimilarLengths) {
  Generator g(5);
  std::vector<int64_t> lengths;
  for (int i = 0; i < 103; ++i) lengths.push_back(1 + static_cast<int64_t>(g.uniform() * 20));
  for (Generator* shuffle : {static_cast<Generator*>(nullptr), &g}) {
    auto batches = data::length_buckets(lengths, 8, shuffle);
    ASSERT_EQ(batches.size(), 13u);
    std::set<int64_t> seen;
    for (const auto& b : batches) {
      EXPECT_LE(b.size(), 8u);
      for (int64_t i : b) EXPECT_TRUE(seen.insert(i).second) << "sample " << i << " twice";
    }
    EXPECT_EQ(seen.size(), lengths.size());
    // Ordered by (shortest, longest) sample, the batches never overlap in length.
    std::vector<std::pair<int64_t, int64_t>> range;
    for (const auto& b : batches) {
      int64_t mn = 1 << 30, mx = 0;
      for (int64_t i : b) {
        mn = std::min(mn, lengths[static_cast<size_t>(i)]);
        mx = std::max(mx, lengths[static_cast<size_t>(i)]);
      }
      range.emplace_back(mn, mx);
    }
    std::sort(range.begin(), range.end());
    for (size_t k = 0; k + 1 < range.size(); ++k) EXPECT_LE(range[k].second, range[k + 1].first) << "batch " << k;
  }
  // Without a generator: sorted, ties in index order.
  const auto fixed = data::length_buckets({3, 1, 2, 1}, 2);
  EXPECT_EQ(fixed, (std::vector<std::vector<int64_t>>{{1, 3}, {2, 0}}));
  EXPECT_THROW(data::length_buckets({1, 2}, 0), ValueError);
  EXPECT_THROW(data::length_buckets({1, -2}, 1), ValueError);
}

// One batch holding every sample: bucketing only cuts the steps that are
// padding in every sample, which a masked model ignores, so training gives
// the same weights (up to float summation order).
TEST(Bucketing, OneBatchTrainsLikeUnbucketedForPostAndPrePadding) {
  for (const std::string padding : {"post", "pre"}) {
    SCOPED_TRACE(padding);
    const Padded d = variable_length(16, 12, 2, 7, 9, padding, 3);
    auto build = [] {
      set_seed(11);
      auto in = Input({None});
      auto e = Embedding(9, 6, {.mask_zero = true})(in);
      auto h = LSTM(8, {.return_sequences = true})(e);
      auto out = TimeDistributed(Dense(4, {.activation = "softmax"}))(h);
      auto m = std::make_unique<Model>(std::vector<SymbolicTensor>{in}, std::vector<SymbolicTensor>{out});
      m->compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "sparse_categorical_crossentropy",
                  .metrics = {"accuracy"}});
      return m;
    };
    auto plain = build();
    auto bucketed = build();
    bucketed->set_weights(plain->get_weights());
    const History h1 = plain->fit(d.ids, d.targets, {.epochs = 3, .batch_size = 16, .shuffle = false, .verbose = 0});
    const History h2 = bucketed->fit(d.ids, d.targets,
                                     {.epochs = 3, .batch_size = 16, .shuffle = false, .verbose = 0,
                                      .bucket_by_length = true});
    const auto& l1 = h1["loss"];
    const auto& l2 = h2["loss"];
    for (size_t k = 0; k < l1.size(); ++k) EXPECT_NEAR(l1[k], l2[k], 1e-5 * std::abs(l1[k])) << "epoch " << k;
    expect_same_weights(*plain, *bucketed, 1e-5);
  }
}

// Several batches: the same samples are seen once per epoch, and a masked
// encoder-classifier still learns; the loss per epoch is a mean over all
// samples, as without bucketing.
TEST(Bucketing, ShuffledBucketsLearn) {
  const Padded d = variable_length(256, 20, 1, 20, 9, "post", 8);
  // Label: whether the sequence holds more 1s than 2s.
  Tensor y({256, 1});
  for (int64_t i = 0; i < 256; ++i) {
    int c = 0;
    for (int64_t t = 0; t < 20; ++t) c += d.ids.at(i, t) == 1 ? 1 : d.ids.at(i, t) == 2 ? -1 : 0;
    y.data()[i] = c > 0 ? 1.0f : 0.0f;
  }
  set_seed(4);
  auto in = Input({None});
  auto h = LSTM(16)(Embedding(9, 8, {.mask_zero = true})(in));
  Model m({in}, {Dense(1, {.activation = "sigmoid"})(h)});
  m.compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "binary_crossentropy", .metrics = {"accuracy"}});
  int64_t samples = 0;
  auto count = LambdaCallback({.on_batch_begin = [&](int, Logs& l) { samples += static_cast<int64_t>(l.at("size")); }});
  const History hist = m.fit(d.ids, y, {.epochs = 25, .batch_size = 32, .verbose = 0, .callbacks = {count},
                                        .bucket_by_length = true});
  EXPECT_EQ(samples, 25 * 256);
  const auto& acc = hist["accuracy"];
  EXPECT_GT(acc.back(), 0.85) << "first epoch " << acc.front();
}

// Whether the cut steps can count is asked of the graph, per array: a cut
// input needs a mask made from its padding, a cut target a mask reaching
// its output's loss. A mask elsewhere in the model is not enough.
TEST(Bucketing, EveryCutArrayMustBeMasked) {
  const Padded a = variable_length(8, 6, 1, 6, 5, "post", 2);
  const Padded b = variable_length(8, 4, 1, 4, 5, "post", 3);
  {  // two id inputs of different lengths, only the first masked
    clear_session();
    auto in1 = Input({None}), in2 = Input({None});
    auto h1 = LSTM(4)(Embedding(5, 3, {.mask_zero = true})(in1));
    auto h2 = LSTM(4)(Embedding(5, 3)(in2));
    Model m({in1, in2}, {Dense(1)(Concatenate()({h1, h2}))}, "two_inputs");
    m.compile({.optimizer = SGD(), .loss = "mse"});
    EXPECT_THROW_MSG(m.fit({a.ids, b.ids}, Tensor({8, 1}), {.verbose = 0, .bucket_by_length = true}), ValueError,
                     "two_inputs", "bucket_by_length", "input 1 ('input_2')", "no mask", "Masking", "mask_zero");
  }
  {  // a masked input, but a (batch, time) output: its loss takes no mask
    clear_session();
    auto in = Input({None});
    auto h = TimeDistributed(Dense(1))(LSTM(4, {.return_sequences = true})(Embedding(5, 3, {.mask_zero = true})(in)));
    Model m({in}, {Reshape({None})(h)}, "flat_output");
    m.compile({.optimizer = SGD(), .loss = "mse"});
    EXPECT_EQ(m.outputs()[0].shape(), (Shape{None, None}));
    EXPECT_THROW_MSG(m.fit(a.ids, a.targets, {.verbose = 0, .bucket_by_length = true}), ValueError, "flat_output",
                     "target 0", "no mask reaches the loss of output 'reshape'");
  }
  {  // Masking on float inputs, the mask carried by the recurrent layer and
     // TimeDistributed to the sequence output: both cut arrays are masked.
    clear_session();
    set_seed(5);
    Tensor x({8, 6, 2}), y({8, 6, 1});
    for (int64_t n = 0; n < 8; ++n)
      for (int64_t t = 0; t < 1 + n % 6; ++t) {
        x.at(n, t, 0) = 1.0f + static_cast<float>(t);
        x.at(n, t, 1) = static_cast<float>(n);
        y.at(n, t, 0) = 0.5f;
      }
    auto in = Input({None, 2});
    auto out = TimeDistributed(Dense(1))(LSTM(4, {.return_sequences = true})(Masking(0.0f)(in)));
    Model m({in}, {out});
    m.compile({.optimizer = SGD(), .loss = "mse"});
    EXPECT_NO_THROW(m.fit(x, y, {.batch_size = 4, .verbose = 0, .bucket_by_length = true}));
  }
}

TEST(Bucketing, BadInput) {
  const Padded d = variable_length(8, 6, 1, 6, 5, "post", 1);
  {  // no mask
    auto in = Input({None});
    Model m({in}, {Dense(1)(LSTM(4)(Embedding(5, 3)(in)))});
    m.compile({.optimizer = SGD(), .loss = "mse"});
    EXPECT_THROW_MSG(m.fit(d.ids, Tensor({8, 1}), {.verbose = 0, .bucket_by_length = true}), ValueError,
                     "bucket_by_length", "Masking", "mask_zero");
  }
  {  // fixed time axis
    auto in = Input({6});
    Model m({in}, {Dense(1)(LSTM(4)(Embedding(5, 3, {.mask_zero = true})(in)))});
    m.compile({.optimizer = SGD(), .loss = "mse"});
    EXPECT_THROW_MSG(m.fit(d.ids, Tensor({8, 1}), {.verbose = 0, .bucket_by_length = true}), ValueError,
                     "bucket_by_length", "None time axis");
  }
  {  // stateful
    auto in = Input({None}, {.batch_size = 4});
    Model m({in}, {Dense(1)(LSTM(4, {.stateful = true})(Embedding(5, 3, {.mask_zero = true})(in)))});
    m.compile({.optimizer = SGD(), .loss = "mse"});
    EXPECT_THROW_MSG(
        m.fit(d.ids, Tensor({8, 1}), {.batch_size = 4, .shuffle = false, .verbose = 0, .bucket_by_length = true}),
        ValueError, "bucket_by_length", "stateful");
  }
}
