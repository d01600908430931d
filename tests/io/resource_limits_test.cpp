// Inputs that are small but would cost far more than their size (the
// hostile-input issue's items 2-4): .npz archives that inflate beyond what
// they declare or beyond a bounded ratio of their size; tiny models whose
// activations would fill the machine; PyTorch imports that must check their
// mapping before doing any expensive work. Each case must end in a clear
// error before the work or the memory is spent.

#include <gtest/gtest.h>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <cstring>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;
using seqnet::testing::TempDir;

namespace {

// Rewrites the uncompressed size of every member in both the local and the
// central headers (a consistent lie, as a crafted archive would tell it).
std::string with_declared_size(std::string zip, uint32_t size) {
  auto put32 = [&](size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) zip[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
  };
  for (size_t i = 0; i + 46 <= zip.size(); ++i) {
    if (zip.compare(i, 4, std::string("PK\x03\x04", 4)) == 0) put32(i + 22, size);
    if (zip.compare(i, 4, std::string("PK\x01\x02", 4)) == 0) put32(i + 24, size);
  }
  return zip;
}

// Input(in) followed by `layers`.
std::unique_ptr<Sequential> seq(const Shape& in, const std::vector<LayerRef>& layers) {
  auto s = std::make_unique<Sequential>();
  s->add(Input(in));
  for (const auto& l : layers) s->add(l);
  return s;
}

// An archive of one deflated member of `n` zero floats.
std::string zeros_npz(int64_t n) { return data::serialize_npz({{"zeros", Tensor({n})}}, true); }

}  // namespace

// ---------------------------------------------------------------- .npz

TEST(ResourceLimits, NpzMemberInflatingPastItsDeclaredSizeStopsAtOnce) {
  // 16 MB of zeros in ~16 KB, claiming 100 bytes: the reader must stop at
  // byte 101, whatever the limits allow.
  const std::string lying = with_declared_size(zeros_npz(4 << 20), 100);
  ASSERT_LT(lying.size(), 100000u);
  expect_error<IOError>([&] { data::parse_npz(lying, "lying.npz"); },
                        {"lying.npz", "member 'zeros.npy' inflates to more than the 100 bytes its header declares"});
}

TEST(ResourceLimits, NpzInflationRatioIsBoundedBeforeInflating) {
  // 96 MiB of zeros in ~100 KB: more than the 64 MiB allowance and more than
  // 64 times the archive. Refused from the central directory alone.
  const std::string bomb = zeros_npz(24 << 20);
  ASSERT_LT(bomb.size(), 200000u);
  expect_error<IOError>([&] { data::parse_npz(bomb, "bomb.npz"); },
                        {"bomb.npz", "declare at least", "decompression bomb", "max_inflation_ratio"});
  // The same archive with the ratio raised reads (the user's choice).
  const auto arrays = data::parse_npz(bomb, "bomb.npz", {.max_inflation_ratio = 2000.0});
  ASSERT_EQ(arrays.size(), 1u);
  EXPECT_EQ(arrays[0].second.size(), int64_t{24} << 20);
  // Within the allowance, zero-filled arrays are fine at any ratio.
  EXPECT_NO_THROW(data::parse_npz(zeros_npz(1 << 20), "small_zeros.npz"));
  // Incompressible data is far below any ratio.
  const std::string dense = data::serialize_npz({{"w", seqnet::testing::uniform({1 << 16}, 3)}}, true);
  EXPECT_NO_THROW(data::parse_npz(dense, "dense.npz", {.inflation_allowance = 0}));
}

TEST(ResourceLimits, NpzTotalLimitIsCheckedOnDeclaredSizes) {
  const std::string two = data::serialize_npz({{"a", Tensor({1000})}, {"b", Tensor({1000})}});
  expect_error<IOError>([&] { data::parse_npz(two, "two.npz", {.max_total_bytes = 3000}); },
                        {"two.npz", "more than the limit of 3000 bytes", "max_total_bytes"});
  EXPECT_EQ(data::parse_npz(two, "two.npz", {.max_total_bytes = 9000}).size(), 2u);
  // A declared size beyond any limit (almost 4 GiB) is refused without inflating.
  const std::string huge = with_declared_size(zeros_npz(10), 0xfffffff0u);
  expect_error<IOError>([&] { data::parse_npz(huge, "huge.npz"); }, {"huge.npz", "declare at least"});
}

TEST(ResourceLimits, FileLimitsAreOptions) {
  TempDir dir("limits");
  const std::string npy = dir.file("x.npy"), npz = dir.file("x.npz");
  data::save_npy(npy, Tensor({1000}));
  data::save_npz(npz, {{"x", Tensor({1000})}});
  expect_error<IOError>([&] { data::load_npy(npy, 1000); }, {npy, "1000"});
  EXPECT_EQ(data::load_npy(npy, 10000).size(), 1000);
  expect_error<IOError>([&] { data::load_npz(npz, {.max_file_bytes = 1000}); }, {npz, "1000"});
  clear_session();
  auto m = seq({4}, {Dense(3)});
  const std::string model = dir.file("m.safetensors");
  m->save(model);
  expect_error<IOError>([&] { load_model(model, {.max_file_bytes = 100}); }, {model, "100"});
  EXPECT_NO_THROW(load_model(model, {.max_file_bytes = 1 << 20}));
}

// ---------------------------------------------------------------- activations

namespace {

// Input(64) -> RepeatVector(2^24) -> LSTM(1): 2 KB of weights, 4 GiB of
// RepeatVector output and more in the LSTM for a single sample.
std::unique_ptr<Model> repeat_bomb() {
  clear_session();
  auto in = Input({64});
  auto h = RepeatVector(int64_t{1} << 24)(in);
  return std::make_unique<Model>(std::vector<SymbolicTensor>{in}, std::vector<SymbolicTensor>{LSTM(1)(h)});
}

}  // namespace

TEST(ResourceLimits, PredictRefusesActivationsBeyondTheLimitBeforeRunning) {
  auto m = repeat_bomb();
  const Tensor x({1, 64}, 0.5f);
  // 1 GiB limit: refused, naming the biggest layer and the sizes.
  expect_error<ResourceError>([&] { m->predict(x, {.max_memory_bytes = int64_t{1} << 30}); },
                              {"predict", "a batch of 1 sample would need at least", "GiB",
                               "more than the limit of 1.00 GiB", "PredictOptions::max_memory_bytes",
                               "LSTM \"lstm\" alone needs", "for inputs (1, 16777216, 64)"});
  // The default limit (half of this machine's memory) refuses it too on
  // any machine with less than 17 GiB.
  if (default_memory_limit() < (int64_t{8} << 30)) {
    expect_error<ResourceError>([&] { m->predict(x); }, {"by default half of this machine's memory"});
  }
  // The estimate grows with the batch: 16 samples need 16 times one.
  const Tensor x16({16, 64}, 0.5f);
  expect_error<ResourceError>([&] { m->predict(x16, {.batch_size = 16, .max_memory_bytes = int64_t{1} << 30}); },
                              {"a batch of 16 samples would need at least 1"});
}

TEST(ResourceLimits, FitAndEvaluateCheckTheirBatchesToo) {
  auto m = repeat_bomb();
  m->compile({.optimizer = "sgd", .loss = "mse"});
  const Tensor x({2, 64}, 0.5f), y({2, 1});
  expect_error<ResourceError>([&] { m->fit(x, y, {.verbose = 0, .max_memory_bytes = int64_t{1} << 30}); },
                              {"fit", "FitOptions::max_memory_bytes", "a batch of 2 samples"});
  expect_error<ResourceError>([&] { m->evaluate(x, y, {.max_memory_bytes = int64_t{1} << 30}); },
                              {"evaluate", "EvaluateOptions::max_memory_bytes"});
}

TEST(ResourceLimits, TheEstimateAdmitsWhatFitsAndCanBeTurnedOff) {
  clear_session();
  auto in = Input({50, 8});
  auto h = LSTM(16, {.return_sequences = true})(in);
  Model m({in}, {TimeDistributed(Dense(4))(h)});
  const Tensor x({64, 50, 8}, 0.1f);
  // ~64 * 50 * (8 + 64 + 48 + 16 + 4) floats per batch: about 1.7 MiB.
  EXPECT_NO_THROW(m.predict(x, {.max_memory_bytes = 16 << 20}));
  expect_error<ResourceError>([&] { m.predict(x, {.max_memory_bytes = 64 << 10}); }, {"more than the limit of 64.0 KiB"});
  // Negative: no check (the caller knows best).
  auto bomb = repeat_bomb();
  (void)bomb;  // building it costs nothing; only running would
  EXPECT_NO_THROW(m.predict(x, {.max_memory_bytes = -1}));
  // Predict's outputs for all samples count: 64 samples of (50, 4) floats.
  const Tensor many({4096, 50, 8}, 0.1f);
  expect_error<ResourceError>([&] { m.predict(many, {.max_memory_bytes = 4 << 20}); },
                              {"the outputs of all 4096 samples alone take"});
}

// ---------------------------------------------------------------- import-torch

TEST(ResourceLimits, ImportChecksTheMappingBeforeTheStateDict) {
  clear_session();
  auto m = seq({5, 3}, {LSTM(4), Dense(2)});
  expect_error<ValueError>([&] { io::check_torch_mapping(*m, {{.module = "rnn", .layer = "nope"}}); }, {"nope"});
  expect_error<ValueError>(
      [&] {
        io::check_torch_mapping(*m, {{.module = "rnn", .layer = "lstm"}, {.module = "rnn2", .layer = "lstm"}});
      },
      {"'lstm' is mapped twice"});
  expect_error<ValueError>([&] { io::check_torch_mapping(*m, {{.module = "rnn", .torch_layer = -1, .layer = "lstm"}}); },
                           {"'lstm'", "-1 is negative"});
  EXPECT_NO_THROW(io::check_torch_mapping(*m, {{.module = "rnn", .layer = "lstm"}, {.module = "fc", .layer = "dense"}}));
  // What a state dict for it can need: 8 bytes per weight value and slack.
  const int64_t values = m->count_params();
  EXPECT_EQ(io::state_dict_byte_limit(*m), 8 * values + 1024 * 5 + (int64_t{16} << 20));
}

TEST(ResourceLimits, SkippedInitializersRunOnlyForUnmappedLayers) {
  clear_session();
  auto ref = seq({5, 3}, {LSTM(4, {.name = "rnn"}), Dense(2, {.name = "fc"})});
  const std::string json = model_to_json(*ref);
  // All mapped: no initializer runs, so the global generator is untouched.
  set_seed(7);
  const GeneratorState before = global_generator().state();
  auto m = model_from_json(json, {.skip_initializers = true});
  EXPECT_EQ(global_generator().state(), before);
  for (Param* p : m->get_layer("rnn")->params()) {
    if (p->name == "bias") continue;  // holds unit_forget_bias's ones
    for (float v : p->value) ASSERT_EQ(v, 0.0f) << p->name;
  }
  io::StateDict sd;
  sd.emplace_back("rnn.weight_ih_l0", Tensor({16, 3}, 0.25f));
  sd.emplace_back("rnn.weight_hh_l0", Tensor({16, 4}, 0.5f));
  sd.emplace_back("rnn.bias_ih_l0", Tensor({16}, 0.125f));
  sd.emplace_back("rnn.bias_hh_l0", Tensor({16}, 0.125f));
  io::import_torch_state_dict(*m, sd, {{.module = "rnn", .layer = "rnn"}},
                              {.allow_unmapped_layers = true, .initialize_unmapped_layers = true});
  // The mapped layer has the state dict's weights, the unmapped Dense its
  // glorot_uniform draws and zero bias.
  EXPECT_EQ(m->get_layer("rnn")->params()[0]->value[0], 0.25f);
  EXPECT_EQ(m->get_layer("rnn")->params()[2]->value[0], 0.25f);
  const Param& kernel = *m->get_layer("fc")->params()[0];
  int nonzero = 0;
  for (float v : kernel.value) nonzero += v != 0.0f;
  EXPECT_EQ(nonzero, kernel.value.size());
  EXPECT_NE(global_generator().state(), before);
}

TEST(ResourceLimits, InitializeWeightsRedrawsAndKeepsTheForgetBias) {
  clear_session();
  set_seed(3);
  auto m = seq({5, 3}, {Bidirectional(LSTM(4)), Dense(2)});
  const Tensor first = m->get_layer(0)->params()[0]->value.clone();
  for (const auto& l : m->unique_layers()) l->initialize_weights();
  Param& kernel = *m->get_layer(0)->params()[0];
  EXPECT_GT(max_abs_diff(first, kernel.value), 0.0f);
  // Both directions' LSTM biases: [zeros(H), ones(H), zeros(2H)].
  int biases = 0;
  for (Param* p : m->get_layer(0)->params()) {
    if (p->name != "bias") continue;
    ++biases;
    ASSERT_EQ(p->value.size(), 16);
    for (int64_t j = 0; j < 16; ++j) EXPECT_EQ(p->value[j], (j >= 4 && j < 8) ? 1.0f : 0.0f) << j;
  }
  EXPECT_EQ(biases, 2);
}
