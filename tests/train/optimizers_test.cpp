// Optimizers (src/train/optimizers.cpp): a few update steps of each rule
// against the Keras formulas of include/seqnet/train/optimizers.hpp,
// computed here by hand in double precision; gradient clipping; options.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

using seqnet::testing::expect_error;

Param make_param(const std::vector<float>& w) {
  Param p;
  p.name = "w";
  p.value = Tensor({static_cast<int64_t>(w.size())}, w);
  p.grad = Tensor({static_cast<int64_t>(w.size())});
  return p;
}

void set_grad(Param& p, const std::vector<float>& g) {
  for (size_t i = 0; i < g.size(); ++i) p.grad[static_cast<int64_t>(i)] = g[i];
}

// Float arithmetic against double references: relative 1e-5.
void expect_values(const Param& p, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(static_cast<size_t>(p.value.size()), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(p.value[static_cast<int64_t>(i)], want[i], 1e-6 + 1e-5 * std::abs(want[i])) << what << " element " << i;
  }
}

const std::vector<float> kW0 = {0.5f, -1.0f, 2.0f};
// Gradients of three successive steps (the third one smaller, for amsgrad).
const std::vector<std::vector<float>> kG = {{0.1f, -0.2f, 0.3f}, {0.4f, 0.1f, -0.5f}, {0.01f, 0.02f, -0.01f}};

}  // namespace

TEST(Optimizers, SGDPlain) {
  auto opt = SGD({.learning_rate = 0.1f});
  EXPECT_EQ(opt->name(), "SGD");
  EXPECT_TRUE(opt->slot_names().empty());
  Param p = make_param(kW0);
  std::vector<double> w(kW0.begin(), kW0.end());
  for (const auto& g : kG) {
    set_grad(p, g);
    opt->apply({&p});
    for (size_t i = 0; i < w.size(); ++i) w[i] -= 0.1 * g[i];
    expect_values(p, w, "sgd");
  }
  EXPECT_EQ(opt->iterations(), 3);
}

TEST(Optimizers, SGDMomentumAndNesterov) {
  for (bool nesterov : {false, true}) {
    auto opt = SGD({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = nesterov});
    EXPECT_EQ(opt->slot_names(), std::vector<std::string>{"momentum"});
    Param p = make_param(kW0);
    std::vector<double> w(kW0.begin(), kW0.end()), v(3, 0.0);
    for (const auto& g : kG) {
      set_grad(p, g);
      opt->apply({&p});
      for (size_t i = 0; i < w.size(); ++i) {
        v[i] = 0.9 * v[i] - 0.1 * g[i];
        w[i] += nesterov ? 0.9 * v[i] - 0.1 * g[i] : v[i];
      }
      expect_values(p, w, nesterov ? "nesterov" : "momentum");
    }
  }
}

TEST(Optimizers, RMSpropPlainMomentumCentered) {
  struct Case {
    float momentum;
    bool centered;
  };
  for (Case c : {Case{0.0f, false}, Case{0.5f, false}, Case{0.0f, true}, Case{0.5f, true}}) {
    auto opt = RMSprop({.learning_rate = 0.01f, .rho = 0.9f, .momentum = c.momentum, .centered = c.centered});
    EXPECT_EQ(opt->name(), "RMSprop");
    Param p = make_param(kW0);
    const double lr = 0.01, rho = 0.9, eps = 1e-7;
    std::vector<double> w(kW0.begin(), kW0.end()), s(3, 0.0), m(3, 0.0), mg(3, 0.0);
    for (const auto& g : kG) {
      set_grad(p, g);
      opt->apply({&p});
      for (size_t i = 0; i < w.size(); ++i) {
        s[i] = rho * s[i] + (1 - rho) * g[i] * g[i];
        double denom = s[i];
        if (c.centered) {
          mg[i] = rho * mg[i] + (1 - rho) * g[i];
          denom -= mg[i] * mg[i];
        }
        const double step = lr * g[i] / (std::sqrt(denom) + eps);
        if (c.momentum > 0) {
          m[i] = c.momentum * m[i] + step;
          w[i] -= m[i];
        } else {
          w[i] -= step;
        }
      }
      expect_values(p, w, c.centered ? "rmsprop centered" : "rmsprop");
    }
  }
  std::vector<std::string> slots = RMSprop({.momentum = 0.5f, .centered = true})->slot_names();
  EXPECT_EQ(slots, (std::vector<std::string>{"rms", "momentum", "mg"}));
}

TEST(Optimizers, AdamAndAmsgrad) {
  for (bool amsgrad : {false, true}) {
    auto opt = Adam({.learning_rate = 0.01f, .amsgrad = amsgrad});
    EXPECT_EQ(opt->name(), "Adam");
    Param p = make_param(kW0);
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    std::vector<double> w(kW0.begin(), kW0.end()), m(3, 0.0), v(3, 0.0), vhat(3, 0.0);
    int t = 0;
    for (const auto& g : kG) {
      set_grad(p, g);
      opt->apply({&p});
      ++t;
      const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
      for (size_t i = 0; i < w.size(); ++i) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        vhat[i] = std::max(vhat[i], v[i]);
        w[i] -= alpha * m[i] / (std::sqrt(amsgrad ? vhat[i] : v[i]) + eps);
      }
      expect_values(p, w, amsgrad ? "amsgrad" : "adam");
    }
    // The third gradient is small: v decreased, so amsgrad used the larger vhat.
    EXPECT_LT(v[0], vhat[0]);
  }
  // The first Adam step moves every weight by about lr (sign of the gradient).
  auto opt = Adam({.learning_rate = 0.01f});
  Param p = make_param(kW0);
  set_grad(p, kG[0]);
  opt->apply({&p});
  expect_values(p, {0.49, -0.99, 1.99}, "adam first step");
}

TEST(Optimizers, Adagrad) {
  auto opt = Adagrad({.learning_rate = 0.1f, .initial_accumulator_value = 0.1f});
  EXPECT_EQ(opt->name(), "Adagrad");
  Param p = make_param(kW0);
  std::vector<double> w(kW0.begin(), kW0.end()), a(3, 0.1);
  for (const auto& g : kG) {
    set_grad(p, g);
    opt->apply({&p});
    for (size_t i = 0; i < w.size(); ++i) {
      a[i] += static_cast<double>(g[i]) * g[i];
      w[i] -= 0.1 * g[i] / (std::sqrt(a[i]) + 1e-7);
    }
    expect_values(p, w, "adagrad");
  }
  // The accumulator started at initial_accumulator_value.
  opt->visit_state({&p}, [&](const Param&, const std::string& slot, Tensor& t) {
    EXPECT_EQ(slot, "accumulator");
    EXPECT_NEAR(t[0], a[0], 1e-6);
  });
}

TEST(Optimizers, ClipNorm) {
  // clipnorm scales each weight's gradient separately to norm <= clipnorm.
  auto opt = SGD({.learning_rate = 1.0f, .clipnorm = 1.0f});
  Param big = make_param({0, 0});
  Param small = make_param({0, 0});
  set_grad(big, {3, 4});      // norm 5 -> (0.6, 0.8)
  set_grad(small, {0.3f, 0.4f});  // norm 0.5, unchanged
  opt->apply({&big, &small});
  expect_values(big, {-0.6, -0.8}, "clipnorm big");
  expect_values(small, {-0.3, -0.4}, "clipnorm small");
  // Gradients are clipped in place.
  EXPECT_NEAR(big.grad[0], 0.6f, 1e-6f);
}

TEST(Optimizers, GlobalClipNorm) {
  // global_clipnorm scales all gradients together: joint norm sqrt(25 + 0.25) -> 1.
  auto opt = SGD({.learning_rate = 1.0f, .global_clipnorm = 1.0f});
  Param a = make_param({0, 0});
  Param b = make_param({0, 0});
  set_grad(a, {3, 4});
  set_grad(b, {0.3f, 0.4f});
  opt->apply({&a, &b});
  const double n = std::sqrt(25.0 + 0.25);
  expect_values(a, {-3 / n, -4 / n}, "global a");
  expect_values(b, {-0.3 / n, -0.4 / n}, "global b");
  // Below the threshold nothing changes.
  Param c = make_param({0});
  set_grad(c, {0.5f});
  opt->apply({&c});
  expect_values(c, {-0.5}, "global small");
}

TEST(Optimizers, ClipValueAfterClipNorm) {
  auto opt = SGD({.learning_rate = 1.0f, .clipvalue = 0.5f});
  Param p = make_param({0, 0, 0});
  set_grad(p, {2, -3, 0.25f});
  opt->apply({&p});
  expect_values(p, {-0.5, 0.5, -0.25}, "clipvalue");
  // clipnorm first (3,4) -> (0.6, 0.8), then clipvalue 0.7 -> (0.6, 0.7).
  auto both = SGD({.learning_rate = 1.0f, .clipnorm = 1.0f, .clipvalue = 0.7f});
  Param q = make_param({0, 0});
  set_grad(q, {3, 4});
  both->apply({&q});
  expect_values(q, {-0.6, -0.7}, "clipnorm + clipvalue");
}

TEST(Optimizers, FrozenParamsAreNotUpdated) {
  auto opt = Adam();
  Param p = make_param(kW0);
  p.trainable = false;
  set_grad(p, kG[0]);
  opt->apply({&p});
  expect_values(p, {0.5, -1.0, 2.0}, "frozen");
}

TEST(Optimizers, StateResetAndLearningRate) {
  auto opt = SGD({.learning_rate = 0.1f, .momentum = 0.9f});
  Param p = make_param({0});
  set_grad(p, {1});
  opt->apply({&p});
  opt->apply({&p});  // v = -0.1, then -0.19: w = -0.29
  expect_values(p, {-0.29}, "two steps");
  EXPECT_EQ(opt->iterations(), 2);
  opt->reset();
  EXPECT_EQ(opt->iterations(), 0);
  opt->apply({&p});  // fresh momentum: -0.1 more
  expect_values(p, {-0.39}, "after reset");
  opt->set_learning_rate(0.5f);
  EXPECT_EQ(opt->learning_rate(), 0.5f);
  expect_error<ValueError>([&] { opt->set_learning_rate(0.0f); }, {"SGD", "learning_rate", "0"});
  // visit_state can overwrite the state.
  opt->visit_state({&p}, [](const Param&, const std::string& slot, Tensor& t) {
    EXPECT_EQ(slot, "momentum");
    t.fill(0.0f);
  });
  set_grad(p, {0});
  opt->apply({&p});
  expect_values(p, {-0.39}, "zeroed momentum");
}

TEST(Optimizers, InvalidOptionsAndNames) {
  expect_error<ValueError>([] { SGD({.learning_rate = 0.0f}); }, {"learning_rate", "0"});
  expect_error<ValueError>([] { SGD({.learning_rate = -1.0f}); }, {"learning_rate", "-1"});
  expect_error<ValueError>([] { SGD({.momentum = 1.0f}); }, {"SGD", "momentum", "[0, 1)", "1"});
  expect_error<ValueError>([] { RMSprop({.rho = 1.5f}); }, {"RMSprop", "rho", "1.5"});
  expect_error<ValueError>([] { Adam({.beta_1 = -0.1f}); }, {"Adam", "beta_1", "-0.1"});
  expect_error<ValueError>([] { Adam({.beta_2 = 1.0f}); }, {"Adam", "beta_2"});
  expect_error<ValueError>([] { Adam({.epsilon = 0.0f}); }, {"Adam", "epsilon"});
  expect_error<ValueError>([] { SGD({.clipnorm = -1.0f}); }, {"clipnorm", "-1"});
  expect_error<ValueError>([] { SGD({.clipvalue = -0.5f}); }, {"clipvalue", "-0.5"});
  expect_error<ValueError>([] { SGD({.clipnorm = 1.0f, .global_clipnorm = 1.0f}); },
                           {"clipnorm", "global_clipnorm", "both"});
  expect_error<ValueError>([] { Adagrad({.initial_accumulator_value = -1.0f}); },
                           {"Adagrad", "initial_accumulator_value", "-1"});

  EXPECT_EQ(make_optimizer("sgd")->name(), "SGD");
  EXPECT_EQ(make_optimizer("RMSprop")->name(), "RMSprop");
  EXPECT_EQ(make_optimizer("ADAM")->name(), "Adam");
  EXPECT_EQ(make_optimizer("adagrad")->name(), "Adagrad");
  // Keras defaults.
  EXPECT_FLOAT_EQ(make_optimizer("sgd")->learning_rate(), 0.01f);
  EXPECT_FLOAT_EQ(make_optimizer("rmsprop")->learning_rate(), 0.001f);
  EXPECT_FLOAT_EQ(make_optimizer("adam")->learning_rate(), 0.001f);
  expect_error<ValueError>([] { make_optimizer("adamw"); }, {"unknown optimizer 'adamw'", "'sgd'", "'adagrad'"});
  // Unknown names given to compile() fail the same way.
  auto x = Input({2});
  Model m({x}, {Dense(1)(x)});
  expect_error<ValueError>([&] { m.compile({.optimizer = "nadam", .loss = "mse"}); }, {"unknown optimizer 'nadam'"});
}
