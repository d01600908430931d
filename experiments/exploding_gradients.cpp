// Seeds 02 ("A Gentle Introduction to Exploding Gradients") and 04 (BPTT):
// a SimpleRNN(32, relu) over long sequences whose recurrent weights start
// with a spectral radius above 1, trained with plain SGD on a regression
// target that needs information from the start of the sequence. Without
// clipping the gradients explode and the loss diverges (NaN or huge); with
// clipnorm = 1.0 or clipvalue = 0.5 (the tutorial's "good default values")
// the same model trains. Then the effect of an L2 kernel regularizer on the
// weight norm, the tutorial's other remedy.

#include <fmt/format.h>
#include <seqnet/plot.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <limits>
#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

struct Data {
  Tensor x, y;
};

// x uniform in [0, 1), y = the mean over all steps: a relu RNN with an
// identity recurrent kernel (Le et al.'s IRNN) can represent it, but it
// accumulates its input over every step and so do its gradients.
Data make_data(int64_t n, int64_t T, Generator& g) {
  Data d{Tensor({n, T, 1}), Tensor({n, 1})};
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t t = 0; t < T; ++t) {
      const float v = g.uniform(0.0f, 1.0f);
      d.x[i * T + t] = v;
      s += v;
    }
    d.y[i] = static_cast<float>(s / static_cast<double>(T));
  }
  return d;
}

double frobenius(const Tensor& w) {
  double s = 0;
  for (float v : w) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

struct Run {
  std::vector<double> loss;
  bool diverged = false;
  double final_loss = 0;
  double kernel_norm = 0, recurrent_norm = 0;
};

Run train(const Data& d, int64_t T, int epochs, uint64_t seed, const SGDOptions& sgd, const Regularizer& kernel_reg) {
  set_seed(seed);  // the same initial weights for every variant
  auto input = Input({T, 1});
  auto rnn = SimpleRNN(32, {.activation = "relu",
                            .recurrent_initializer = "identity",
                            .kernel_regularizer = kernel_reg});
  Model model({input}, {Dense(1)(rnn(input))});
  model.compile({.optimizer = SGD(sgd), .loss = "mse"});
  auto nan = TerminateOnNaN();
  History h = model.fit(d.x, d.y, {.epochs = epochs, .batch_size = 32, .shuffle = false, .verbose = 0,
                                   .callbacks = {nan}});
  Run r;
  r.loss = h["loss"];
  r.final_loss = r.loss.back();
  r.diverged = nan->terminated() || !std::isfinite(r.final_loss) || r.final_loss > 100.0 * r.loss.front();
  std::vector<Param*> ps = rnn->params();
  r.kernel_norm = frobenius(ps[0]->value);
  r.recurrent_norm = frobenius(ps[1]->value);
  return r;
}

nlohmann::ordered_json finite_or_null(const std::vector<double>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (double x : v) {
    if (std::isfinite(x)) a.push_back(x);
    else a.push_back(nullptr);
  }
  return a;
}

}  // namespace

Result exploding_gradients(Context& ctx) {
  const int64_t T = 100, n = ctx.quick ? 512 : 2048;
  const int epochs = ctx.quick ? 10 : 30;
  Generator g(ctx.seed * 31337 + 11);
  const Data d = make_data(n, T, g);
  const uint64_t init_seed = ctx.seed * 7 + 1;
  const float lr = 0.01f;
  struct Variant {
    const char* name;
    SGDOptions sgd;
    Regularizer reg;
  };
  const std::vector<Variant> variants = {
      {"no_clipping", {.learning_rate = lr, .momentum = 0.9f}, {}},
      {"clipnorm_1.0", {.learning_rate = lr, .momentum = 0.9f, .clipnorm = 1.0f}, {}},
      {"clipvalue_0.5", {.learning_rate = lr, .momentum = 0.9f, .clipvalue = 0.5f}, {}},
      {"clipnorm_1.0_l2_0.01", {.learning_rate = lr, .momentum = 0.9f, .clipnorm = 1.0f}, Regularizer::L2(0.01f)},
  };
  Result r;
  nlohmann::ordered_json curves;
  ctx.out() << fmt::format("SimpleRNN(32, relu) over {} steps, SGD(lr={}, momentum=0.9), mse\n", T, lr);
  for (const auto& v : variants) {
    const Run run = train(d, T, epochs, init_seed, v.sgd, v.reg);
    ctx.out() << fmt::format("{:<22} epochs run {:>3}  first loss {:>12.4g}  last loss {:>12.4g}  {}  |W| {:.3f}  |U| {:.3f}\n",
                             v.name, run.loss.size(), run.loss.front(), run.final_loss,
                             run.diverged ? "DIVERGED" : "trained ", run.kernel_norm, run.recurrent_norm);
    curves[v.name] = finite_or_null(run.loss);
    r.metrics[std::string(v.name) + "_diverged"] = run.diverged;
    r.metrics[std::string(v.name) + "_final_loss"] = std::isfinite(run.final_loss) ? nlohmann::ordered_json(run.final_loss)
                                                                                   : nlohmann::ordered_json(nullptr);
    r.metrics[std::string(v.name) + "_kernel_norm"] = run.kernel_norm;
  }
  r.details["loss_curves"] = curves;
  r.details["timesteps"] = T;
  std::vector<PlotSeries> series;
  for (const auto& [k, v] : curves.items()) {
    std::vector<double> y;
    for (const auto& e : v) y.push_back(e.is_null() ? std::numeric_limits<double>::quiet_NaN() : e.get<double>());
    series.push_back({k, y});
  }
  save_chart(ctx, r, "exploding_gradients_loss",
             {.title = "SimpleRNN(relu) over 100 steps: loss per epoch (missing = NaN)", .ylabel = "mse",
              .series = series, .log_y = true});
  r.tutorial = "no figures: unclipped gradients explode (NaN loss); clipnorm=1.0 / clipvalue=0.5 and L2 penalties help";
  auto loss_str = [&](const char* k) {
    const auto& v = r.metrics[std::string(k) + "_final_loss"];
    return v.is_null() ? std::string("NaN") : fmt::format("{:.2e}", v.get<double>());
  };
  r.ours = fmt::format("no clipping: {} (loss {}); clipnorm 1.0: loss {}; clipvalue 0.5: loss {}; "
                       "L2(0.01) kernel norm {:.3f} vs {:.3f} without",
                       r.metrics["no_clipping_diverged"].get<bool>() ? "diverged" : "did not diverge",
                       loss_str("no_clipping"), loss_str("clipnorm_1.0"), loss_str("clipvalue_0.5"),
                       r.metrics["clipnorm_1.0_l2_0.01_kernel_norm"].get<double>(),
                       r.metrics["clipnorm_1.0_kernel_norm"].get<double>());
  return r;
}

}  // namespace seqnet::experiments
