// decode::sample and decode::StatefulGenerator (src/decode/sampling.cpp):
// greedy and top-k limits, the frequencies of temperature sampling against
// p^(1/T) / Z, stateful step-by-step generation against running the whole
// text at once, and errors.

#include <gtest/gtest.h>
#include <seqnet/decode/sampling.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;

TEST(Sample, GreedyAndTopOne) {
  const std::vector<float> p{0.1f, 0.4f, 0.4f, 0.1f};
  Generator g(1);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(decode::sample(p, {.temperature = 0, .generator = &g}), 1) << "ties go to the lower id";
    EXPECT_EQ(decode::sample(p, {.temperature = 3.0, .top_k = 1, .generator = &g}), 1);
  }
  EXPECT_EQ(decode::sample(Tensor({1, 1, 3}, {0.2f, 0.1f, 0.7f}), {.temperature = 0}), 2);
}

TEST(Sample, FrequenciesFollowTheTemperatureAndTopK) {
  const std::vector<float> p{0.5f, 0.25f, 0.15f, 0.1f, 0.0f};
  const int draws = 200000;
  for (double t : {1.0, 0.5, 2.0}) {
    for (int64_t k : {int64_t{0}, int64_t{2}}) {
      std::vector<double> expect(p.size(), 0.0);
      double z = 0;
      for (size_t i = 0; i < p.size(); ++i) {
        if (k > 0 && static_cast<int64_t>(i) >= k) continue;  // p is sorted: the top k are the first k
        expect[i] = std::pow(p[i], 1.0 / t);
        z += expect[i];
      }
      for (auto& e : expect) e /= z;
      Generator g(42);
      std::vector<int> seen(p.size(), 0);
      for (int i = 0; i < draws; ++i) ++seen[static_cast<size_t>(decode::sample(p, {.temperature = t, .top_k = k, .generator = &g}))];
      for (size_t i = 0; i < p.size(); ++i) {
        const double sd = std::sqrt(draws * expect[i] * (1 - expect[i]));
        EXPECT_NEAR(seen[i], draws * expect[i], 5 * sd + 1) << "T " << t << " top_k " << k << " id " << i;
      }
      EXPECT_EQ(seen[4], 0) << "a zero probability is never drawn";
    }
  }
}

TEST(Sample, SameGeneratorSameDraws) {
  const std::vector<float> p{0.3f, 0.3f, 0.4f};
  Generator a(9), b(9);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(decode::sample(p, {.generator = &a}), decode::sample(p, {.generator = &b}));
  set_seed(5);
  const int64_t first = decode::sample(p);
  set_seed(5);
  EXPECT_EQ(decode::sample(p), first) << "the global generator by default";
}

TEST(Sample, RejectsBadDistributions) {
  expect_error<ValueError>([] { decode::sample(std::vector<float>{}); }, {"at least 1"});
  expect_error<ValueError>([] { decode::sample(std::vector<float>{0.5f, -0.1f}); }, {"probability 1 is -0.1"});
  expect_error<ValueError>([] { decode::sample(std::vector<float>{0.5f, NAN}); }, {"probability 1 is nan"});
  expect_error<ValueError>([] { decode::sample(std::vector<float>{0, 0}); }, {"all 2 probabilities are 0"});
  expect_error<ValueError>([] { decode::sample(std::vector<float>{1}, {.temperature = -1}); }, {"temperature", "-1"});
  expect_error<ValueError>([] { decode::sample(std::vector<float>{1}, {.top_k = -2}); }, {"top_k", "-2"});
  expect_error<ShapeError>([] { decode::sample(Tensor({2, 3}, 0.1f)); }, {"(2, 3)"});
}

namespace {

// Embedding -> LSTM -> softmax over 6 symbols, batch `batch` (0: None), time axis `steps` (0: None).
Model language_model(bool stateful, int64_t batch, int64_t steps) {
  auto in = Input({steps == 0 ? None : steps}, {.batch_size = batch});
  auto e = Embedding(6, 4, {.name = "embedding"})(in);
  auto h = LSTM(5, {.return_sequences = true, .stateful = stateful, .name = "lstm"})(e);
  auto out = TimeDistributed(Dense(6, {.activation = "softmax"}), "next")(h);
  return Model({in}, {out});
}

}  // namespace

TEST(StatefulGenerator, StepByStepEqualsTheWholeText) {
  set_seed(3);
  Model whole = language_model(false, 0, 0);
  Model step = language_model(true, 1, 1);
  Model chunks = language_model(true, 1, 0);
  step.set_weights(whole.get_weights());
  chunks.set_weights(whole.get_weights());
  const std::vector<int64_t> text{1, 4, 2, 2, 5, 0, 3};
  Tensor x({1, 7});
  for (int i = 0; i < 7; ++i) x[i] = static_cast<float>(text[static_cast<size_t>(i)]);
  const Tensor all = whole.predict({x})[0];  // (1, 7, 6)
  decode::StatefulGenerator g1(step), g2(chunks);
  std::vector<float> d1 = g1.feed({1, 4, 2});
  d1 = g1.feed({2, 5, 0, 3});
  g2.feed(std::vector<int64_t>{1, 4});
  g2.feed(2);
  const std::vector<float> d2 = g2.feed({2, 5, 0, 3});
  ASSERT_EQ(d1.size(), 6u);
  for (int v = 0; v < 6; ++v) {
    EXPECT_NEAR(d1[static_cast<size_t>(v)], all.at(0, 6, v), 2e-6);
    EXPECT_NEAR(d2[static_cast<size_t>(v)], all.at(0, 6, v), 2e-6);
  }
  // reset() forgets: the first symbol again gives the first step's distribution.
  g1.reset();
  EXPECT_TRUE(g1.distribution().empty());
  const auto first = g1.feed(1);
  for (int v = 0; v < 6; ++v) EXPECT_NEAR(first[static_cast<size_t>(v)], all.at(0, 0, v), 2e-6);
}

TEST(StatefulGenerator, GeneratesReproduciblyAndStops) {
  set_seed(4);
  Model m = language_model(true, 1, 0);
  decode::StatefulGenerator g(m);
  expect_error<ValueError>([&] { g.next(); }, {"nothing fed yet"});
  Generator r1(7), r2(7);
  g.feed({1, 2});
  const auto a = g.generate(30, {.temperature = 0.8, .top_k = 4, .generator = &r1});
  g.reset();
  g.feed({1, 2});
  const auto b = g.generate(30, {.temperature = 0.8, .top_k = 4, .generator = &r2});
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 30u);
  for (int64_t id : a) EXPECT_TRUE(id >= 0 && id < 6);
  g.reset();
  g.feed(1);
  const auto greedy = g.generate(50, {.temperature = 0}, a.front());
  g.reset();
  g.feed(1);
  const int64_t stop = g.generate(1, {.temperature = 0}).front();
  g.reset();
  g.feed(1);
  const auto until = g.generate(50, {.temperature = 0}, stop);
  EXPECT_EQ(until, std::vector<int64_t>{stop}) << "ends after the stop symbol, which it includes";
  (void)greedy;
  expect_error<ValueError>([&] { g.feed(std::vector<int64_t>{}); }, {"no symbol"});
  expect_error<ValueError>([&] { g.feed(9); }, {"id 9", "[0, 6)"});
}

TEST(StatefulGenerator, RejectsModelsItCannotDrive) {
  Model plain = language_model(false, 0, 0);
  expect_error<ValueError>([&] { decode::StatefulGenerator g(plain); }, {"no stateful layer"});
  Model batch4 = language_model(true, 4, 0);
  expect_error<ValueError>([&] { decode::StatefulGenerator g(batch4); }, {"(4, None)", "batch_size = 1"});
}
