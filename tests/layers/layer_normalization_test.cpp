// LayerNormalization: PyTorch parity (tests/fixtures/layer_normalization/,
// written by generate.py there), finite-difference gradients with and
// without center / scale on inputs of rank 2-4, masks passing through,
// regularizers, the Keras config both ways (and inside a saved model), and
// bad arguments.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include "support/fixtures.hpp"
#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::case_tensor;
using seqnet::testing::expect_error;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::random_tensor;
using seqnet::testing::run;

namespace {

// Tensor-relative error of float32 against the float64 reference; float32
// rounding alone gives about 1e-7 here (see parity_test.cpp for the rule).
constexpr double kRtol = 1e-5;

TEST(LayerNormalization, MatchesTorch) {
  const nlohmann::json doc = seqnet::testing::load_fixture("layer_normalization/layer_normalization.json");
  ASSERT_GE(doc.at("cases").size(), 8u);
  for (const auto& c : doc.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const auto& cfg = c.at("config");
    LayerNormalizationOptions o;
    o.epsilon = cfg.at("epsilon").get<float>();
    o.center = cfg.at("center").get<bool>();
    o.scale = cfg.at("scale").get<bool>();
    layers::LayerNormalization ln(o);
    const Tensor x = case_tensor(c, "x");
    ln.compute_output_shapes({x.shape()});
    ASSERT_EQ(ln.params().size(), static_cast<size_t>(o.center) + static_cast<size_t>(o.scale));
    if (o.scale) seqnet::testing::param_at(ln, "gamma").value.copy_from(case_tensor(c, "w:gamma"));
    if (o.center) seqnet::testing::param_at(ln, "beta").value.copy_from(case_tensor(c, "w:beta"));
    auto cache = ln.make_cache();
    const Tensor y = ln.forward({x}, {.training = true}, cache.get())[0];
    seqnet::testing::expect_close(y, case_tensor(c, "y"), kRtol, "y");
    ln.zero_grad();
    const Tensor dx = ln.backward({case_tensor(c, "proj")}, *cache)[0];
    seqnet::testing::expect_close(dx, case_tensor(c, "dx"), kRtol, "dx");
    if (o.scale) {
      seqnet::testing::expect_close(seqnet::testing::param_at(ln, "gamma").grad, case_tensor(c, "dw:gamma"), kRtol,
                                    "dgamma");
    }
    if (o.center) {
      seqnet::testing::expect_close(seqnet::testing::param_at(ln, "beta").grad, case_tensor(c, "dw:beta"), kRtol,
                                    "dbeta");
    }
  }
}

TEST(LayerNormalization, GradientsMatchFiniteDifferences) {
  for (bool center : {true, false}) {
    for (bool scale : {true, false}) {
      for (const Shape& s : {Shape{4, 6}, Shape{3, 4, 5}, Shape{2, 3, 2, 4}}) {
        SCOPED_TRACE(fmt::format("center {} scale {} shape {}", center, scale, shape_str(s)));
        layers::LayerNormalization ln({.epsilon = 1e-3f, .center = center, .scale = scale});
        const Tensor x = random_tensor(s, 7, -2.0f, 2.0f);
        ln.compute_output_shapes({x.shape()});
        seqnet::testing::randomize_params(ln, 11, 0.5f, 1.5f);
        const double worst = expect_gradients_match(ln, {x}, {.training = true}, {.eps = 1e-2, .rtol = 2e-2});
        EXPECT_LE(worst, 1.0);
      }
    }
  }
}

TEST(LayerNormalization, NormalizesEachFeatureVector) {
  // Defaults: gamma = 1, beta = 0, so every row comes out with mean 0 and
  // variance var / (var + epsilon).
  layers::LayerNormalization ln;
  const Tensor x = random_tensor({5, 3, 8}, 3, -4.0f, 4.0f);
  const Tensor y = run(ln, {x})[0];
  ASSERT_EQ(y.shape(), x.shape());
  for (int64_t n = 0; n < 15; ++n) {
    double mx = 0, my = 0;
    for (int64_t f = 0; f < 8; ++f) mx += x[n * 8 + f], my += y[n * 8 + f];
    mx /= 8, my /= 8;
    double vx = 0, vy = 0;
    for (int64_t f = 0; f < 8; ++f) {
      vx += (x[n * 8 + f] - mx) * (x[n * 8 + f] - mx);
      vy += (y[n * 8 + f] - my) * (y[n * 8 + f] - my);
    }
    vx /= 8, vy /= 8;
    EXPECT_NEAR(my, 0.0, 1e-6);
    EXPECT_NEAR(vy, vx / (vx + 1e-3), 1e-5);
  }
  // Keras's parameter count and weight names and order: gamma, beta.
  EXPECT_EQ(ln.count_params(), 16);
  const auto shapes = seqnet::testing::param_shapes(ln);
  ASSERT_EQ(shapes.size(), 2u);
  EXPECT_EQ(shapes[0].first, "gamma");
  EXPECT_EQ(shapes[1].first, "beta");
}

TEST(LayerNormalization, OneFeatureGivesBetaAndNoInputGradient) {
  // x - mean is exactly 0: y = beta, dx = 0 and dgamma = 0 exactly.
  layers::LayerNormalization ln;
  const Tensor x = random_tensor({3, 4, 1}, 2, -5.0f, 5.0f);
  ln.compute_output_shapes({x.shape()});
  seqnet::testing::randomize_params(ln, 3);
  auto cache = ln.make_cache();
  const Tensor y = ln.forward({x}, {.training = true}, cache.get())[0];
  const float beta = seqnet::testing::param_at(ln, "beta").value[0];
  for (int64_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], beta);
  ln.zero_grad();
  const Tensor dx = ln.backward({random_tensor(x.shape(), 4)}, *cache)[0];
  for (int64_t i = 0; i < dx.size(); ++i) EXPECT_EQ(dx[i], 0.0f);
  EXPECT_EQ(seqnet::testing::param_at(ln, "gamma").grad[0], 0.0f);
  EXPECT_NE(seqnet::testing::param_at(ln, "beta").grad[0], 0.0f);
}

TEST(LayerNormalization, MaskPassesThroughAndRegularizersApply) {
  auto ln = LayerNormalization({.gamma_regularizer = Regularizer::L2(0.01f)});
  auto lstm = LSTM(2);
  auto in = Input({4, 3});
  auto masked = Masking(0.0f)(in);
  auto normed = ln(masked[0]);
  Model model({in}, {lstm(normed[0])[0]});
  Tensor x = random_tensor({2, 4, 3}, 5);
  for (int64_t f = 0; f < 3; ++f) x[(0 * 4 + 3) * 3 + f] = 0.0f;  // sample 0: last step padded
  // The mask reaches the LSTM through LayerNormalization: sample 0 comes
  // out as if its sequence were cut to its 3 real steps.
  auto in3 = Input({3, 3});
  Model cut({in3}, {lstm(ln(in3)[0])[0]});
  Tensor x3({1, 3, 3});
  for (int64_t i = 0; i < 9; ++i) x3[i] = x[i];
  const Tensor full = model.predict(x);
  const Tensor part = cut.predict(x3);
  EXPECT_NEAR(full[0], part[0], 1e-6);
  EXPECT_NEAR(full[1], part[1], 1e-6);
  const double penalty = seqnet::testing::expect_regularization_gradients_match(*ln);
  EXPECT_GT(penalty, 0.0);
}

TEST(LayerNormalization, KerasConfigRoundTrip) {
  clear_session();
  layers::LayerNormalization ln({.epsilon = 1e-5f,
                                 .center = false,
                                 .gamma_initializer = "glorot_uniform",
                                 .gamma_regularizer = Regularizer::L1L2(0.01f, 0.02f),
                                 .name = "ln"});
  const nlohmann::json cfg = layer_to_config(ln);
  EXPECT_EQ(cfg["class_name"], "LayerNormalization");
  EXPECT_EQ(cfg["config"]["axis"], nlohmann::json::array({-1}));
  EXPECT_EQ(cfg["config"]["epsilon"], 1e-5);
  EXPECT_EQ(cfg["config"]["center"], false);
  EXPECT_EQ(cfg["config"]["gamma_initializer"]["class_name"], "GlorotUniform");
  auto back = layer_from_config(cfg);
  EXPECT_EQ(back->class_name(), "LayerNormalization");
  EXPECT_EQ(back->get_config(), cfg["config"]);
  // Keras 2's own form, with defaults left out and the axis as a number.
  auto k = layer_from_config(nlohmann::json::parse(
      R"({"class_name": "LayerNormalization", "config": {"name": "layer_normalization", "axis": 2,
          "epsilon": 0.001, "trainable": true, "dtype": "float32"}})"));
  const auto& kl = dynamic_cast<layers::LayerNormalization&>(*k);
  EXPECT_EQ(kl.options().axis, 2);
  EXPECT_TRUE(kl.options().center);
  EXPECT_TRUE(kl.options().scale);
  // A whole model through JSON and a model file: same outputs.
  auto in = Input({5, 4});
  auto normed = LayerNormalization()(in);
  auto out = Dense(3)(normed[0]);
  Model model({in}, {out[0]});
  seqnet::testing::randomize_params(*model.get_layer(1), 9, 0.5f, 1.5f);
  const std::string path = ::testing::TempDir() + "/layer_normalization_model.safetensors";
  model.save(path);
  auto loaded = load_model(path);
  const Tensor x = random_tensor({2, 5, 4}, 4);
  seqnet::testing::expect_close(loaded->predict(x), model.predict(x), 0.0, "reloaded predictions");
  std::remove(path.c_str());
}

TEST(LayerNormalization, BadArgumentsAreNamed) {
  expect_error<ValueError>([] { layers::LayerNormalization({.epsilon = 0.0f}); }, {"epsilon", "positive", "0"});
  expect_error<ValueError>([] { layers::LayerNormalization({.gamma_initializer = "nope"}); }, {"gamma_initializer"});
  layers::LayerNormalization ln({.axis = 1});
  expect_error<ValueError>([&] { ln.compute_output_shapes({{None, 4, 3}}); }, {"axis", "1", "last axis"});
  layers::LayerNormalization ok;
  expect_error<ShapeError>([&] { ok.compute_output_shapes({{4}}); }, {"rank >= 2"});
  ok.compute_output_shapes({{None, 3, 4}});
  expect_error<ShapeError>([&] { ok.compute_output_shapes({{None, 3, 5}}); }, {"4 features", "5"});
  expect_error<ValueError>(
      [] {
        layer_from_config(nlohmann::json::parse(
            R"({"class_name": "LayerNormalization", "config": {"name": "n", "axis": [1, 2]}})"));
      },
      {"axis", "one axis"});
  expect_error<ValueError>(
      [] {
        layer_from_config(nlohmann::json::parse(
            R"({"class_name": "LayerNormalization", "config": {"name": "n", "gamma_constraint": {"class_name": "NonNeg"}}})"));
      },
      {"gamma_constraint", "constraints"});
}

}  // namespace
