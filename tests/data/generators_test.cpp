#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <set>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using Ids = std::vector<int64_t>;

namespace {

using seqnet::testing::expect_error;

bool is_one_hot(const Tensor& t) {
  const int64_t f = t.dim(-1);
  for (int64_t r = 0; r < t.size() / f; ++r) {
    float sum = 0;
    for (int64_t k = 0; k < f; ++k) {
      const float v = t[r * f + k];
      if (v != 0.0f && v != 1.0f) return false;
      sum += v;
    }
    if (sum != 1.0f) return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------- echo (seed 05)

TEST(EchoSequence, ShapesValuesAndWindows) {
  Generator g(5);
  auto d = data::echo_sequence(5, 3, g);
  ASSERT_EQ(d.sequence.size(), 25u);
  for (int64_t v : d.sequence) EXPECT_TRUE(v >= 0 && v < 100);
  EXPECT_EQ(d.x.shape(), (Shape{21, 5, 100}));
  EXPECT_EQ(d.y.shape(), (Shape{21, 3, 100}));
  EXPECT_TRUE(is_one_hot(d.x) && is_one_hot(d.y));
  auto xi = data::argmax_last(d.x), yi = data::argmax_last(d.y);
  for (int64_t i = 0; i < 21; ++i)
    for (int64_t t = 0; t < 3; ++t) {
      EXPECT_EQ(yi[i * 3 + t], d.sequence[i + t]);
      EXPECT_EQ(xi[i * 5 + t], d.sequence[i + t]);
    }
  // The seed's whole-sequence framing: 21 samples of 5 in and 5 out.
  auto whole = data::echo_sequence(5, 5, g);
  EXPECT_EQ(whole.x.to_vector(), whole.y.to_vector());
}

TEST(EchoSequence, SameSeedSameData) {
  Generator a(11), b(11), c(12);
  auto da = data::echo_sequence(4, 2, a, 10, 7), db = data::echo_sequence(4, 2, b, 10, 7);
  auto dc = data::echo_sequence(4, 2, c, 10, 7);
  EXPECT_EQ(da.sequence, db.sequence);
  EXPECT_EQ(da.x.to_vector(), db.x.to_vector());
  EXPECT_NE(da.sequence, dc.sequence);
  EXPECT_EQ(da.x.shape(), (Shape{7, 4, 7}));
}

TEST(EchoSequence, BadArguments) {
  Generator g(1);
  expect_error<ValueError>([&] { data::echo_sequence(5, 6, g); }, "n_out=6");
  expect_error<ValueError>([&] { data::echo_sequence(30, 1, g); }, "length=25");
  expect_error<ValueError>([&] { data::echo_sequence(5, 1, g, 25, 0); }, "n_unique=0");
}

// ---------------------------------------------------------------- first n (seed 02)

TEST(FirstNPadded, TargetIsPrefixThenZeros) {
  Generator g(2);
  auto p = data::first_n_padded(4, 5, 2, 50, g);
  EXPECT_EQ(p.x.shape(), (Shape{4, 5, 50}));
  EXPECT_EQ(p.y.shape(), (Shape{4, 5, 50}));
  EXPECT_TRUE(is_one_hot(p.x) && is_one_hot(p.y));
  auto xi = data::argmax_last(p.x), yi = data::argmax_last(p.y);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(yi[i * 5 + 0], xi[i * 5 + 0]);
    EXPECT_EQ(yi[i * 5 + 1], xi[i * 5 + 1]);
    for (int64_t t = 2; t < 5; ++t) EXPECT_EQ(yi[i * 5 + t], 0);
  }
  expect_error<ValueError>([&] { data::first_n_padded(1, 2, 3, 10, g); }, "n_out=3");
}

// ---------------------------------------------------------------- cumulative sum (seed 03)

TEST(CumulativeSum, ShapesAndThresholdRule) {
  Generator g(3);
  const int64_t n = 10;
  auto p = data::cumulative_sum_classification(50, n, g);
  EXPECT_EQ(p.x.shape(), (Shape{50, n, 1}));
  EXPECT_EQ(p.y.shape(), (Shape{50, n, 1}));
  int64_t ones = 0;
  for (int64_t i = 0; i < 50; ++i) {
    double sum = 0;
    bool crossed = false;
    for (int64_t t = 0; t < n; ++t) {
      const float x = p.x[i * n + t];
      EXPECT_TRUE(x >= 0.0f && x < 1.0f);
      sum += x;
      const float y = p.y[i * n + t];
      EXPECT_EQ(y, sum > n / 4.0 ? 1.0f : 0.0f);
      if (crossed) { EXPECT_EQ(y, 1.0f); }  // monotone: once 1, stays 1
      crossed = crossed || y == 1.0f;
      ones += y == 1.0f;
    }
  }
  // About 2.5 of 10 steps stay below the threshold: both classes occur.
  EXPECT_GT(ones, 200);
  EXPECT_LT(ones, 450);
}

TEST(CumulativeSum, SameSeedSameData) {
  Generator a(9), b(9);
  auto pa = data::cumulative_sum_classification(3, 8, a), pb = data::cumulative_sum_classification(3, 8, b);
  EXPECT_EQ(pa.x.to_vector(), pb.x.to_vector());
  EXPECT_EQ(pa.y.to_vector(), pb.y.to_vector());
  Generator g(1);
  expect_error<ValueError>([&] { data::cumulative_sum_classification(1, 0, g); }, "n_timesteps=0");
}

// ---------------------------------------------------------------- first appearance (seed 01)

TEST(FirstAppearance, SeedExample) {
  EXPECT_EQ(data::reversed_first_appearances({3, 2, 3, 5, 2}), (Ids{2, 5, 3}));
  EXPECT_EQ(data::reversed_first_appearances({}), Ids{});
  EXPECT_EQ(data::reversed_first_appearances({7, 7, 7}), Ids{7});
  EXPECT_EQ(data::reversed_first_appearances({1, 2, 3}), (Ids{3, 2, 1}));
}

TEST(FirstAppearance, GeneratorLengthsValuesAndSymbols) {
  Generator g(4);
  auto d = data::first_appearance(200, {.min_length = 3, .max_length = 6, .n_values = 5}, g);
  EXPECT_EQ(d.pad_id, 0);
  EXPECT_EQ(d.stop_id, 6);
  EXPECT_EQ(d.start_id, 7);
  EXPECT_EQ(d.n_symbols, 8);
  ASSERT_EQ(d.inputs.size(), 200u);
  std::set<int64_t> lengths;
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    const auto& in = d.inputs[i];
    EXPECT_EQ(static_cast<int64_t>(in.size()), d.input_lengths[i]);
    EXPECT_EQ(static_cast<int64_t>(d.targets[i].size()), d.target_lengths[i]);
    EXPECT_TRUE(in.size() >= 3 && in.size() <= 6);
    lengths.insert(static_cast<int64_t>(in.size()));
    for (int64_t v : in) EXPECT_TRUE(v >= 1 && v <= 5);
    EXPECT_EQ(d.targets[i], data::reversed_first_appearances(in));
  }
  EXPECT_EQ(lengths, (std::set<int64_t>{3, 4, 5, 6}));  // every length occurs
  EXPECT_EQ(d.max_input_length(), 6);
  EXPECT_LE(d.max_target_length(), 5);

  Generator a(4);
  auto again = data::first_appearance(200, {.min_length = 3, .max_length = 6, .n_values = 5}, a);
  EXPECT_EQ(again.inputs, d.inputs);
}

TEST(FirstAppearance, EncoderDecoderIds) {
  data::VariableLengthData d;
  d.inputs = {{3, 2, 3, 5, 2}, {4}};
  d.targets = {data::reversed_first_appearances(d.inputs[0]), {4}};
  d.input_lengths = {5, 1};
  d.target_lengths = {3, 1};
  d.stop_id = 10;
  d.start_id = 11;
  d.n_symbols = 12;
  auto t = data::encoder_decoder_ids(d);
  EXPECT_EQ(t.encoder_input.shape(), (Shape{2, 5}));
  EXPECT_EQ(t.encoder_input.to_vector(), (std::vector<float>{3, 2, 3, 5, 2, 4, 0, 0, 0, 0}));
  EXPECT_EQ(t.decoder_input.to_vector(), (std::vector<float>{11, 2, 5, 3, 11, 4, 0, 0}));
  EXPECT_EQ(t.decoder_target.to_vector(), (std::vector<float>{2, 5, 3, 10, 4, 10, 0, 0}));
  // Checked element by element: GCC 12.2 with AVX-512 (-march=native)
  // miscompiles the literal std::vector<float>{1, 1, 1, 1, 1, 1, 0, 0} into
  // eight ones.
  ASSERT_EQ(t.decoder_mask.shape(), (Shape{2, 4}));
  for (int64_t s = 0; s < 4; ++s) {
    EXPECT_EQ(t.decoder_mask.at(0, s), 1.0f);
    EXPECT_EQ(t.decoder_mask.at(1, s), s < 2 ? 1.0f : 0.0f);
  }

  auto pre = data::encoder_decoder_ids(d, {.encoder_padding = "pre", .encoder_steps = 6, .decoder_steps = 5});
  EXPECT_EQ(pre.encoder_input.to_vector(), (std::vector<float>{0, 3, 2, 3, 5, 2, 0, 0, 0, 0, 0, 4}));
  EXPECT_EQ(pre.decoder_target.shape(), (Shape{2, 5}));

  expect_error<ValueError>([&] { data::encoder_decoder_ids(d, {.encoder_steps = 4}); }, "encoder_steps 4");
  expect_error<ValueError>([&] { data::encoder_decoder_ids(d, {.decoder_steps = 3}); }, "decoder_steps 3");
  expect_error<ValueError>([&] { data::encoder_decoder_ids(d, {.encoder_padding = "x"}); }, "encoder_padding");
  expect_error<ValueError>([] { data::encoder_decoder_ids(data::VariableLengthData{}); }, "not a VariableLengthData");
}

TEST(FirstAppearance, EncoderDecoderOneHotMasksPadding) {
  Generator g(6);
  auto d = data::first_appearance(16, {}, g);
  auto t = data::encoder_decoder_one_hot(d);
  const int64_t n = 16, te = d.max_input_length(), td = d.max_target_length() + 1, c = d.n_symbols;
  EXPECT_EQ(c, 12);
  EXPECT_EQ(t.encoder_input.shape(), (Shape{n, te, c}));
  EXPECT_EQ(t.decoder_input.shape(), (Shape{n, td, c}));
  EXPECT_EQ(t.decoder_target.shape(), (Shape{n, td, c}));
  EXPECT_EQ(t.decoder_mask.shape(), (Shape{n, td}));
  auto enc = data::argmax_last(t.encoder_input), din = data::argmax_last(t.decoder_input),
       dout = data::argmax_last(t.decoder_target);
  for (int64_t i = 0; i < n; ++i) {
    const auto& in = d.inputs[i];
    const auto& tg = d.targets[i];
    for (int64_t s = 0; s < te; ++s) {
      const int64_t want = s < static_cast<int64_t>(in.size()) ? in[s] : 0;  // padding decodes to 0
      EXPECT_EQ(enc[i * te + s], want);
      if (want == 0) {
        float row = 0;
        for (int64_t k = 0; k < c; ++k) row += t.encoder_input.at(i, s, k);
        EXPECT_EQ(row, 0.0f);  // all-zero rows: what Masking(0) masks
      }
    }
    EXPECT_EQ(din[i * td], d.start_id);
    const auto len = static_cast<int64_t>(tg.size());
    for (int64_t s = 0; s < td; ++s) {
      if (s < len) { EXPECT_EQ(dout[i * td + s], tg[s]); }
      if (s >= 1 && s <= len) { EXPECT_EQ(din[i * td + s], tg[s - 1]); }
      if (s == len) { EXPECT_EQ(dout[i * td + s], d.stop_id); }
      if (s > len) { EXPECT_EQ(dout[i * td + s], 0); }
      EXPECT_EQ(t.decoder_mask.at(i, s), s <= len ? 1.0f : 0.0f);
    }
  }
}

TEST(FirstAppearance, BadOptions) {
  Generator g(1);
  expect_error<ValueError>([&] { data::first_appearance(1, {.min_length = 5, .max_length = 4}, g); },
                           "max_length=4");
  expect_error<ValueError>([&] { data::first_appearance(1, {.min_length = 0}, g); }, "min_length=0");
  expect_error<ValueError>([&] { data::first_appearance(1, {.n_values = 0}, g); }, "n_values=0");
}
