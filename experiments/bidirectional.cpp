// Seed 03 ("How to Develop a Bidirectional LSTM For Sequence
// Classification"): 10 random values in [0, 1); the label of each step flips
// from 0 to 1 once the cumulative sum passes a quarter of the length. Every
// epoch draws 100 new sequences and fits them once with batch size 10;
// LSTM(20) returning sequences into TimeDistributed(Dense(1, sigmoid)),
// binary cross-entropy, Adam, 250 epochs. First: LSTM, LSTM with
// go_backwards (whose outputs come out in reversed order, as in Keras, so
// they are scored against the forward labels exactly as the tutorial does)
// and Bidirectional LSTM, loss per epoch in one chart; then Bidirectional's
// four merge modes in a second chart. The tutorial reports only the charts:
// the bidirectional model's loss goes down sooner and stays lower; sum and
// concat look best among the merge modes.

#include <fmt/format.h>
#include <seqnet/data/problems.hpp>
#include <seqnet/plot.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <filesystem>
#include <numeric>
#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

Sequential lstm_model(int64_t T, bool backwards) {
  Sequential m;
  m.add(Input({T, 1}));
  m.add(LSTM(20, {.return_sequences = true, .go_backwards = backwards}));
  m.add(TimeDistributed(Dense(1, {.activation = "sigmoid"})));
  m.compile({.optimizer = "adam", .loss = "binary_crossentropy", .metrics = {"acc"}});
  return m;
}

Sequential bi_lstm_model(int64_t T, const std::string& mode) {
  Sequential m;
  m.add(Input({T, 1}));
  m.add(Bidirectional(LSTM(20, {.return_sequences = true}), {.merge_mode = mode}));
  m.add(TimeDistributed(Dense(1, {.activation = "sigmoid"})));
  m.compile({.optimizer = "adam", .loss = "binary_crossentropy", .metrics = {"acc"}});
  return m;
}

struct Curve {
  std::vector<double> loss;
  double test_accuracy = 0;
};

Curve train_model(Sequential& model, int64_t T, int epochs, Generator& g) {
  Curve c;
  for (int e = 0; e < epochs; ++e) {
    auto d = data::cumulative_sum_classification(100, T, g);
    History h = model.fit(d.x, d.y, {.epochs = 1, .batch_size = 10, .verbose = 0});
    c.loss.push_back(h["loss"][0]);
  }
  auto test = data::cumulative_sum_classification(100, T, g);
  c.test_accuracy = model.evaluate(test.x, test.y).at("acc");
  return c;
}

double tail_mean(const std::vector<double>& v, size_t n) {
  n = std::min(n, v.size());
  return std::accumulate(v.end() - static_cast<std::ptrdiff_t>(n), v.end(), 0.0) / static_cast<double>(n);
}

}  // namespace

Result bidirectional(Context& ctx) {
  const int64_t T = 10;
  const int epochs = ctx.quick ? 60 : 250;
  Generator g(ctx.seed * 2654435761ULL + 13);
  Result r;
  nlohmann::ordered_json curves, modes;

  auto run = [&](const std::string& name, Sequential model, nlohmann::ordered_json& into) {
    if (ctx.verbose > 0 && into.empty()) model.summary(ctx.out());
    Curve c = train_model(model, T, epochs, g);
    ctx.out() << fmt::format("{:<22} loss: first {:.4f}  last-10-mean {:.4f}  test accuracy {:.3f}\n", name,
                             c.loss.front(), tail_mean(c.loss, 10), c.test_accuracy);
    into[name] = c.loss;
    r.metrics[name + "_final_loss"] = tail_mean(c.loss, 10);
    r.metrics[name + "_test_accuracy"] = c.test_accuracy;
  };
  run("lstm_forward", lstm_model(T, false), curves);
  run("lstm_backward", lstm_model(T, true), curves);
  run("bilstm_concat", bi_lstm_model(T, "concat"), curves);
  for (const char* mode : {"sum", "mul", "ave", "concat"}) {
    run(std::string("bilstm_") + mode + "_merge", bi_lstm_model(T, mode), modes);
  }
  r.details["loss_curves"] = curves;
  r.details["merge_mode_loss_curves"] = modes;
  auto series = [](const nlohmann::ordered_json& c) {
    std::vector<PlotSeries> s;
    for (const auto& [k, v] : c.items()) s.push_back({k, v.get<std::vector<double>>()});
    return s;
  };
  save_chart(ctx, r, "bidirectional_directions",
             {.title = "LSTM, reversed LSTM and Bidirectional LSTM: log loss per epoch", .ylabel = "log loss",
              .series = series(curves)});
  save_chart(ctx, r, "bidirectional_merge_modes",
             {.title = "Bidirectional LSTM merge modes: log loss per epoch", .ylabel = "log loss",
              .series = series(modes)});
  r.tutorial = "charts only: the bidirectional loss falls sooner and stays lower; sum and concat merge best";
  r.ours = fmt::format("final loss (mean of last 10 epochs): forward {:.3f}, backward {:.3f}, bidirectional {:.3f}; "
                       "merge sum {:.3f}, mul {:.3f}, ave {:.3f}, concat {:.3f}",
                       r.metrics["lstm_forward_final_loss"].get<double>(),
                       r.metrics["lstm_backward_final_loss"].get<double>(),
                       r.metrics["bilstm_concat_final_loss"].get<double>(),
                       r.metrics["bilstm_sum_merge_final_loss"].get<double>(),
                       r.metrics["bilstm_mul_merge_final_loss"].get<double>(),
                       r.metrics["bilstm_ave_merge_final_loss"].get<double>(),
                       r.metrics["bilstm_concat_merge_final_loss"].get<double>());
  if (ctx.quick) r.notes = fmt::format("Quick mode: {} epochs instead of 250.", epochs);
  return r;
}

}  // namespace seqnet::experiments
