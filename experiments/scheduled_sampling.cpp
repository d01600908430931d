// Seed 02 ("What is Teacher Forcing for Recurrent Neural Networks?"): a
// decoder trained with teacher forcing always sees the true previous symbol,
// but in open-loop generation it is fed its own predictions; scheduled
// sampling (Bengio et al. 2015) feeds the model's own previous prediction
// with a probability that grows over the epochs, so it learns to recover
// from its mistakes. The same masked encoder-decoder as `variable-length`
// (seed 01's first-appearance problem, input lengths 4 to 10), from the same
// initial weights and data, is trained with pure teacher forcing and with
// scheduled sampling, and all are scored the way they will be used: greedy
// open-loop decoding of new sequences, exact whole outputs. Two schedules:
// inverse sigmoid and linear decay. The training set is kept small (and no
// attention is used) so the models still make mistakes and exposure to their
// own predictions can matter. The seed gives no figures.

#include <fmt/format.h>
#include <seqnet/data/problems.hpp>
#include <seqnet/plot.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <ostream>

#include "experiment.hpp"
#include "masked_seq2seq.hpp"

namespace seqnet::experiments {

namespace {

// Open-loop accuracy on held-out sequences.
double open_loop(masked_seq2seq::Models& m, const data::VariableLengthData& d, const Tensor& sources) {
  auto out = decode::greedy(m.encoder, m.decoder, sources,
                            {.start_id = d.start_id, .stop_id = d.stop_id, .max_length = d.max_target_length() + 1});
  return masked_seq2seq::exact(out.sequences, d.targets);
}

}  // namespace

Result scheduled_sampling(Context& ctx) {
  namespace ms = masked_seq2seq;
  const data::FirstAppearanceOptions problem{.min_length = 4, .max_length = 10, .n_values = 9};
  // Full: 2,000 training sequences, 30 epochs, 5 repeats (initial weights and
  // batch orders) per variant; quick: 1,500 sequences, 16 epochs, 1 repeat.
  const int64_t n_train = ctx.quick ? 1500 : 2000, n_val = 300, n_test = ctx.quick ? 500 : 1000;
  const int epochs = ctx.quick ? 16 : 30;
  const int repeats = ctx.quick ? 1 : 5;
  const int64_t embed = 16, units = 48;
  struct Variant {
    std::string name;
    decode::SamplingSchedule schedule;
  };
  const double k = ctx.quick ? 4.0 : 6.0;
  const std::vector<Variant> variants = {
      {"teacher_forcing", decode::SamplingSchedule::constant(1.0)},
      {"scheduled_sampling_inverse_sigmoid", decode::SamplingSchedule::inverse_sigmoid(k)},
      {"scheduled_sampling_linear", decode::SamplingSchedule::linear(1.0, 0.75 / (epochs - 1), 0.25)},
  };
  Generator g(ctx.seed * 3571 + 29);
  const auto train = data::first_appearance(n_train, problem, g);
  const auto val = data::first_appearance(n_val, problem, g);
  const auto test = data::first_appearance(n_test, problem, g);
  const auto ed = data::encoder_decoder_ids(train);
  const Tensor val_src = data::encoder_decoder_ids(val).encoder_input;
  const Tensor test_src = data::encoder_decoder_ids(test).encoder_input;

  Result r;
  LineChart acc_chart{.title = fmt::format("Open-loop (greedy) sequence accuracy, mean of {} run(s)", repeats),
                      .ylabel = fmt::format("exact outputs ({} held-out sequences)", n_val)};
  LineChart eps_chart{.title = "Teacher-forcing probability per epoch",
                      .ylabel = "probability of feeding the true previous symbol"};
  nlohmann::ordered_json table = nlohmann::ordered_json::object();
  std::string ours;
  for (const auto& v : variants) {
    const bool teacher = v.name == "teacher_forcing";
    std::vector<double> mean_curve(static_cast<size_t>(epochs), 0.0), eps, test_accs;
    for (int rep = 0; rep < repeats; ++rep) {
      set_seed(ctx.seed * 101 + 7 + static_cast<uint64_t>(rep));  // the same weights and batches for every variant
      ms::Models m = ms::build(train.n_symbols, embed, units, "none");
      m.train.compile({.optimizer = Adam({.learning_rate = 0.003f}),
                       .loss = "sparse_categorical_crossentropy",
                       .metrics = {"accuracy"}});
      eps.clear();
      for (int e = 0; e < epochs; ++e) {
        double loss = 0;
        if (teacher) {
          History h = m.train.fit({ed.encoder_input, ed.decoder_input}, ed.decoder_target,
                                  {.epochs = e + 1, .batch_size = 32, .verbose = 0, .initial_epoch = e});
          loss = h["loss"].back();
          eps.push_back(1.0);
        } else {
          History h = decode::fit_scheduled_sampling(m.train, m.encoder, m.decoder, {ed.encoder_input},
                                                     ed.decoder_input, ed.decoder_target,
                                                     {.schedule = v.schedule, .epochs = e + 1, .batch_size = 32,
                                                      .verbose = 0, .initial_epoch = e});
          loss = h["loss"].back();
          eps.push_back(h["teacher_forcing_probability"].back());
        }
        const double acc = open_loop(m, val, val_src);
        mean_curve[e] += acc / repeats;
        if (ctx.verbose > 1) {
          ctx.out() << fmt::format("{} run {} epoch {}/{}: loss {:.4f}, p {:.2f}, open-loop accuracy {:.1f}%\n", v.name,
                                   rep + 1, e + 1, epochs, loss, eps.back(), 100.0 * acc);
        }
      }
      test_accs.push_back(open_loop(m, test, test_src));
    }
    double mean = 0, var = 0;
    for (double a : test_accs) mean += a / repeats;
    for (double a : test_accs) var += (a - mean) * (a - mean) / repeats;
    ctx.out() << fmt::format("{}: open-loop sequence accuracy on {} new sequences {:.1f}% (+- {:.1f}, {} run{})\n",
                             v.name, n_test, 100.0 * mean, 100.0 * std::sqrt(var), repeats, repeats == 1 ? "" : "s");
    r.metrics[v.name + "_accuracy"] = mean;
    table[v.name] = {{"test_accuracy_per_run", test_accs},
                     {"mean", mean},
                     {"std", std::sqrt(var)},
                     {"open_loop_validation_accuracy_mean", mean_curve},
                     {"teacher_forcing_probability", eps}};
    acc_chart.series.push_back({v.name, mean_curve});
    eps_chart.series.push_back({v.name, eps});
    ours += fmt::format("{}{} {:.1f}%", ours.empty() ? "" : ", ", v.name, 100.0 * mean);
  }
  r.details["table"] = table;
  r.tutorial = "no figures: teacher forcing trains fast but can be fragile in open-loop generation; scheduled "
               "sampling is the proposed remedy";
  r.ours = fmt::format("open-loop exact outputs on {} new sequences (mean of {} run{}): {}", n_test, repeats,
                       repeats == 1 ? "" : "s", ours);
  r.notes = fmt::format(
      "Embedding({0}, {1}, mask_zero) + LSTM({2}) encoder-decoder without attention, {3} training sequences, {4} "
      "epochs, Adam (lr 0.003), batch 32, {5} run(s) per variant from the same initial weights. Scheduled sampling "
      "rebuilds each batch's decoder input step by step with the inference pair, keeping the true symbol with the "
      "schedule's probability (inverse sigmoid k/(k+exp(epoch/k)), k = {6}: {7:.2f} to {8:.2f}; linear 1 - 0.75 "
      "epoch/{9} floored at 0.25) and otherwise feeding the model's most likely symbol.{10}",
      train.n_symbols, embed, units, n_train, epochs, repeats, k, variants[1].schedule.teacher_forcing_probability(0),
      variants[1].schedule.teacher_forcing_probability(epochs - 1), epochs - 1,
      ctx.quick ? " Quick mode: fewer sequences, epochs and runs." : "");
  save_chart(ctx, r, "scheduled_sampling_open_loop", acc_chart);
  save_chart(ctx, r, "scheduled_sampling_probability", eps_chart);
  return r;
}

}  // namespace seqnet::experiments
