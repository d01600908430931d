// Seed 05 ("How to use an Encoder-Decoder LSTM to Echo Sequences of Random
// Integers"). Each epoch draws a new sequence of 25 random integers in
// [0, 100), one-hot encodes it and frames it into 21 windows of 5 steps
// (to_supervised); the models are stateful, fit once per sequence without
// shuffling, and reset their states after it.
//   echo-whole:   LSTM(20, stateful, batch 7, returning sequences) ->
//                 TimeDistributed(Dense(100, softmax)); 500 sequences;
//                 output = the whole window. Tutorial: 100%.
//   echo-partial: LSTM(150, stateful, batch 21) -> RepeatVector(2) ->
//                 LSTM(150, stateful, returning sequences) -> TD(Dense softmax);
//                 5000 sequences; output = the first 2 steps of each window.
//                 Tutorial: 100% "pretty much every time".
// Accuracy: per step on new sequences (the tutorial shows one sequence).

#include <fmt/format.h>
#include <seqnet/data/encoding.hpp>
#include <seqnet/data/problems.hpp>
#include <seqnet/plot.hpp>
#include <seqnet/seqnet.hpp>

#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

std::string show(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Per-step accuracy over `n` new sequences, printing the windows of the first.
double evaluate_echo(Sequential& model, int64_t n_in, int64_t n_out, int batch, int n, Generator& g, Context& ctx) {
  int64_t correct = 0, total = 0;
  for (int k = 0; k < n; ++k) {
    auto d = data::echo_sequence(n_in, n_out, g);
    Tensor yhat = model.predict(d.x, {.batch_size = batch});
    model.reset_states();
    const auto want = data::argmax_last(d.y), got = data::argmax_last(yhat);
    for (size_t i = 0; i < want.size(); ++i) correct += want[i] == got[i];
    total += static_cast<int64_t>(want.size());
    if (k == 0) {
      for (int64_t i = 0; i < std::min<int64_t>(5, d.y.dim(0)); ++i) {
        std::vector<int64_t> e(want.begin() + i * n_out, want.begin() + (i + 1) * n_out);
        std::vector<int64_t> p(got.begin() + i * n_out, got.begin() + (i + 1) * n_out);
        ctx.out() << "Expected: " << show(e) << " Predicted " << show(p) << "\n";
      }
    }
  }
  return static_cast<double>(correct) / static_cast<double>(total);
}

}  // namespace

Result echo(Context& ctx) {
  const int64_t n_in = 5, F = 100;
  Generator g(ctx.seed * 1000003 + 17);
  Result r;
  {
    const int batch = 7, epochs = ctx.quick ? 200 : 500;
    Sequential model("echo_whole");
    model.add(Input({n_in, F}, {.batch_size = batch}));
    model.add(LSTM(20, {.return_sequences = true, .stateful = true}));
    model.add(TimeDistributed(Dense(F, {.activation = "softmax"})));
    model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
    model.summary(ctx.out());
    std::vector<double> loss;
    for (int e = 0; e < epochs; ++e) {
      auto d = data::echo_sequence(n_in, n_in, g);
      History h = model.fit(d.x, d.y, {.epochs = 1, .batch_size = batch, .shuffle = false, .verbose = 0});
      model.reset_states();
      loss.push_back(h["loss"][0]);
    }
    const double acc = evaluate_echo(model, n_in, n_in, batch, 20, g, ctx);
    ctx.out() << fmt::format("echo-whole: accuracy {:.2f}% on 20 new sequences (tutorial: 100%)\n", 100.0 * acc);
    r.metrics["whole_accuracy"] = acc;
    r.details["whole_loss"] = loss;
  }
  {
    const int batch = 21, epochs = ctx.quick ? 1500 : 5000;
    const int64_t n_out = 2;
    Sequential model("echo_partial");
    model.add(Input({n_in, F}, {.batch_size = batch}));
    model.add(LSTM(150, {.stateful = true}));
    model.add(RepeatVector(n_out));
    model.add(LSTM(150, {.return_sequences = true, .stateful = true}));
    model.add(TimeDistributed(Dense(F, {.activation = "softmax"})));
    model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
    model.summary(ctx.out());
    std::vector<double> loss;
    for (int e = 0; e < epochs; ++e) {
      auto d = data::echo_sequence(n_in, n_out, g);
      History h = model.fit(d.x, d.y, {.epochs = 1, .batch_size = batch, .shuffle = false, .verbose = 0});
      model.reset_states();
      loss.push_back(h["loss"][0]);
    }
    const double acc = evaluate_echo(model, n_in, n_out, batch, 20, g, ctx);
    ctx.out() << fmt::format("echo-partial: accuracy {:.2f}% on 20 new sequences (tutorial: about 100%)\n",
                             100.0 * acc);
    r.metrics["partial_accuracy"] = acc;
    r.details["partial_loss"] = loss;
  }
  save_chart(ctx, r, "echo_loss",
             {.title = "echo: loss per training sequence", .xlabel = "sequence", .ylabel = "categorical cross-entropy",
              .series = {{"echo-whole", r.details["whole_loss"].get<std::vector<double>>()},
                         {"echo-partial", r.details["partial_loss"].get<std::vector<double>>()}},
              .log_y = true});
  r.tutorial = "echo-whole 100%, echo-partial about 100%";
  r.ours = fmt::format("echo-whole {:.1f}%, echo-partial {:.1f}% (per step, 20 new sequences)",
                       100.0 * r.metrics["whole_accuracy"].get<double>(),
                       100.0 * r.metrics["partial_accuracy"].get<double>());
  if (ctx.quick) r.notes = "Quick mode: 200 and 1500 training sequences instead of 500 and 5000.";
  return r;
}

}  // namespace seqnet::experiments
