// The mixed_bfloat16 policy's semantics (seqnet/mixed_precision.hpp): layers
// take the global policy when made, or their config's "dtype"; configs
// round-trip it in Keras 2's form; unsupported policies are refused by
// name; variables and outputs stay float32; predictions and gradients are
// those of float32 within the stated bfloat16 tolerance (and not equal to
// them: the products really run in bfloat16); training is bit-identical on
// 1 or 2 threads, with the hardware kernel and with the emulation.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/step_product.hpp>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
namespace mp = seqnet::mixed_precision;

namespace {

Tensor uniform(const Shape& shape, uint64_t seed) { return seqnet::testing::random_tensor(shape, seed); }

// Restores float32 (and the hardware path) whatever a test does.
struct PolicyGuard {
  ~PolicyGuard() {
    mp::set_global_policy("float32");
    ops::force_bf16_emulation(false);
    set_num_threads(0);
  }
};

// Embedding -> Bidirectional(LSTM) -> GRU(reset_after=false) sequences ->
// SimpleRNN -> Dense, and a Luong-attention branch: every product kind.
std::unique_ptr<Model> make_model() {
  auto ids = Input({12}, {.name = "ids"});
  auto e = Embedding(30, 16, {.mask_zero = true})(ids);
  auto b = Bidirectional(LSTM(24, {.return_sequences = true}))(e);
  auto g = GRU(20, {.return_sequences = true, .reset_after = false})(b[0]);
  auto att = LuongAttention(20, {.score = "general"})({g[0], g[0]});
  auto s = SimpleRNN(16)(att[0]);
  auto out = Dense(3, {.activation = "softmax"})(s[0]);
  return std::make_unique<Model>(std::vector{ids}, std::vector{out[0]}, "mixed");
}

Tensor ids(int64_t batch, uint64_t seed) {
  Generator g(seed);
  Tensor t({batch, 12});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < 12; ++s) t.at(b, s) = s < 12 - b % 4 ? static_cast<float>(1 + g.below(29)) : 0.0f;
  return t;
}

Tensor labels(int64_t batch, uint64_t seed) {
  Generator g(seed);
  Tensor t({batch});
  for (float& v : t) v = static_cast<float>(g.below(3));
  return t;
}

bool all_bfloat16(const Tensor& t) {
  for (float v : t)
    if ((std::bit_cast<uint32_t>(v) & 0xffffu) != 0) return false;
  return true;
}

}  // namespace

TEST(MixedPrecision, PoliciesAndTheirNames) {
  PolicyGuard guard;
  EXPECT_EQ(mp::global_policy().name(), "float32");
  const mp::Policy p("mixed_bfloat16");
  EXPECT_EQ(p.compute_dtype(), "bfloat16");
  EXPECT_EQ(p.variable_dtype(), "float32");
  EXPECT_EQ(mp::Policy("float32").compute_dtype(), "float32");
  EXPECT_THROW_MSG(mp::Policy("mixed_float16"), ValueError, "'mixed_float16' is not supported", "mixed_bfloat16");
  EXPECT_THROW_MSG(mp::Policy("bfloat16"), ValueError, "'bfloat16'", "float32");
  EXPECT_THROW_MSG(mp::set_global_policy("float128"), ValueError, "'float128'", "not a dtype policy");
  EXPECT_EQ(mp::global_policy().name(), "float32");  // a refused name changes nothing
}

TEST(MixedPrecision, LayersTakeTheGlobalPolicyOrTheirConfigs) {
  PolicyGuard guard;
  auto before = LSTM(4);
  mp::set_global_policy("mixed_bfloat16");
  auto after = LSTM(4);
  auto wrapped = Bidirectional(GRU(4));
  EXPECT_EQ(before->dtype_policy().name(), "float32");
  EXPECT_EQ(after->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(wrapped->dtype_policy().name(), "mixed_bfloat16");
  // Keras 2's config form, and back.
  const nlohmann::json c = after->get_config();
  EXPECT_EQ(c["dtype"], (nlohmann::json{{"class_name", "Policy"}, {"config", {{"name", "mixed_bfloat16"}}}}));
  EXPECT_EQ(before->get_config()["dtype"], "float32");
  mp::set_global_policy("float32");
  auto again = layer_from_config({{"class_name", "LSTM"}, {"config", c}});
  EXPECT_EQ(again->dtype_policy().name(), "mixed_bfloat16");
  auto named = layer_from_config({{"class_name", "Dense"}, {"config", {{"units", 2}, {"dtype", "mixed_bfloat16"}}}});
  EXPECT_EQ(named->dtype_policy().name(), "mixed_bfloat16");
  // A config without a dtype takes the global policy; float32 stays float32.
  mp::set_global_policy("mixed_bfloat16");
  EXPECT_EQ(layer_from_config({{"class_name", "Dense"}, {"config", {{"units", 2}}}})->dtype_policy().name(),
            "mixed_bfloat16");
  EXPECT_EQ(layer_from_config({{"class_name", "Dense"}, {"config", {{"units", 2}, {"dtype", "float32"}}}})
                ->dtype_policy()
                .name(),
            "float32");
  EXPECT_THROW_MSG(layer_from_config({{"class_name", "Dense"}, {"config", {{"units", 2}, {"dtype", "float16"}}}}),
                   ValueError, "Dense", "dtype", "float16");
  // A whole model's JSON keeps every layer's policy.
  auto m = make_model();
  mp::set_global_policy("float32");
  auto loaded = model_from_json(m->to_json());
  for (const LayerRef& l : loaded->layers()) {
    if (l->class_name() == "InputLayer") continue;
    EXPECT_EQ(l->dtype_policy().name(), "mixed_bfloat16") << l->name();
  }
}

TEST(MixedPrecision, OutputsAndGradientsAreFloat32WithinTheBfloat16Tolerance) {
  PolicyGuard guard;
  for (bool emulated : {true, false}) {
    if (!emulated && !mp::hardware_bfloat16()) continue;
    SCOPED_TRACE(emulated ? "emulated" : "hardware");
    ops::force_bf16_emulation(emulated);
    mp::set_global_policy("float32");
    set_seed(3);
    auto f32 = make_model();
    mp::set_global_policy("mixed_bfloat16");
    auto bf16 = make_model();
    bf16->set_weights(f32->get_weights());
    const Tensor x = ids(16, 1);
    const Tensor p32 = f32->predict({x})[0], p16 = bf16->predict({x})[0];
    ASSERT_EQ(p16.shape(), p32.shape());
    double max_diff = 0;
    for (int64_t i = 0; i < p32.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(p16[i]) - p32[i]));
    EXPECT_GT(max_diff, 0.0) << "the policy changed nothing";
    EXPECT_LT(max_diff, 2e-2);  // probabilities: bfloat16 operands carry 8 bits
    EXPECT_FALSE(all_bfloat16(p16));  // outputs are float32, not rounded to bfloat16
    // One training step from the same weights: the same loss to about 1%,
    // and the update direction the same.
    for (auto* m : {f32.get(), bf16.get()}) {
      m->compile({.optimizer = SGD({.learning_rate = 0.1f}), .loss = "sparse_categorical_crossentropy"});
    }
    const Tensor y = labels(16, 2);
    const std::vector<Tensor> w0 = f32->get_weights();
    const double l32 = f32->train_on_batch({x}, {y}).at("loss"), l16 = bf16->train_on_batch({x}, {y}).at("loss");
    EXPECT_NEAR(l16, l32, 1e-2 * l32);
    const std::vector<Tensor> w32 = f32->get_weights(), w16 = bf16->get_weights();
    double dot = 0, n32 = 0, n16 = 0;
    for (size_t i = 0; i < w0.size(); ++i)
      for (int64_t e = 0; e < w0[i].size(); ++e) {
        const double d32 = double(w32[i][e]) - w0[i][e], d16 = double(w16[i][e]) - w0[i][e];
        dot += d32 * d16;
        n32 += d32 * d32;
        n16 += d16 * d16;
      }
    EXPECT_GT(dot / std::sqrt(n32 * n16), 0.999);
    // Variables stay float32: the updated weights are not bfloat16 values.
    int64_t not_bf16 = 0;
    for (const Tensor& w : w16) not_bf16 += !all_bfloat16(w);
    EXPECT_EQ(not_bf16, static_cast<int64_t>(w16.size()));
  }
}

TEST(MixedPrecision, TrainingIsBitIdenticalOnOneOrTwoThreads) {
  PolicyGuard guard;
  for (bool emulated : {true, false}) {
    if (!emulated && !mp::hardware_bfloat16()) continue;
    SCOPED_TRACE(emulated ? "emulated" : "hardware");
    ops::force_bf16_emulation(emulated);
    std::vector<std::vector<Tensor>> runs;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      clear_session();
      set_seed(11);
      mp::set_global_policy("mixed_bfloat16");
      // Large enough for the threaded paths: 64 x 40 x 128 -> 128 units.
      auto m = std::make_unique<Sequential>("m");
      m->add(Input({40, 128}));
      m->add(Bidirectional(LSTM(128, {.return_sequences = true})));
      m->add(GRU(128));
      m->add(Dense(1));
      m->compile({.optimizer = "adam", .loss = "mse"});
      const Tensor x = uniform({64, 40, 128}, 3), y = uniform({64, 1}, 4);
      m->fit({x}, {y}, {.epochs = 2, .batch_size = 64, .shuffle = false, .verbose = 0});
      runs.push_back(m->get_weights());
    }
    ASSERT_EQ(runs[0].size(), runs[1].size());
    for (size_t i = 0; i < runs[0].size(); ++i) {
      EXPECT_EQ(std::memcmp(runs[0][i].data(), runs[1][i].data(), static_cast<size_t>(runs[0][i].size()) * 4), 0)
          << "weight " << i;
    }
  }
}

TEST(MixedPrecision, HardwareAndEmulationAgree) {
  if (!mp::hardware_bfloat16()) GTEST_SKIP() << "this CPU has no AVX512_BF16";
  PolicyGuard guard;
  mp::set_global_policy("mixed_bfloat16");
  set_seed(5);
  auto m = make_model();
  const Tensor x = ids(8, 9);
  const Tensor hw = m->predict({x})[0];
  ops::force_bf16_emulation(true);
  const Tensor emu = m->predict({x})[0];
  // The same order of exact products and float32 sums: the same bits,
  // except where a sum passes through a subnormal (none do here).
  EXPECT_EQ(std::memcmp(hw.data(), emu.data(), static_cast<size_t>(hw.size()) * 4), 0);
}
