// Seed 01's closing problem (PART E): the output is the input reversed,
// keeping only the first appearance of each repeated number
// ([3, 2, 3, 5, 2] -> [2, 5, 3]), with input lengths varying from 4 to 10 and
// output lengths varying with them. The seed poses it and proposes padding
// plus an encoder-decoder, without a solution or a figure. Here: padded id
// sequences (0 = padding), Embedding(mask_zero) on both sides so padding is
// masked through the LSTMs, the attention and the loss, a stop symbol that
// ends every target, teacher-forced training, and open-loop decoding of new
// sequences with greedy search and with beam search (width 5). A test
// sequence counts only when the decoded output (up to the stop symbol)
// equals the target exactly.

#include <fmt/format.h>
#include <seqnet/data/problems.hpp>
#include <seqnet/plot.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <map>
#include <ostream>

#include "experiment.hpp"
#include "masked_seq2seq.hpp"

namespace seqnet::experiments {

Result variable_length(Context& ctx) {
  namespace ms = masked_seq2seq;
  const data::FirstAppearanceOptions problem{.min_length = 4, .max_length = 10, .n_values = 9};
  // Full: 12,000 training sequences, 12 epochs; quick: 6,000, 8 epochs.
  const int64_t n_train = ctx.quick ? 6000 : 12000, n_test = ctx.quick ? 500 : 1000;
  const int epochs = ctx.quick ? 8 : 12;
  const int64_t embed = 16, units = 64, beam_width = 5;
  Generator g(ctx.seed * 6007 + 17);
  const auto train = data::first_appearance(n_train, problem, g);
  const auto test = data::first_appearance(n_test, problem, g);
  const auto ed = data::encoder_decoder_ids(train);
  const auto ted = data::encoder_decoder_ids(test);
  ctx.out() << fmt::format("symbols: padding {}, values 1..{}, stop {}, start {}\n", train.pad_id, problem.n_values,
                           train.stop_id, train.start_id);
  for (int i = 0; i < 3; ++i) {
    ctx.out() << fmt::format("  {} -> {}\n", ms::show(train.inputs[i]), ms::show(train.targets[i]));
  }
  ctx.out() << fmt::format("encoder input {}, decoder input {}, decoder target {}\n", shape_str(ed.encoder_input.shape()),
                           shape_str(ed.decoder_input.shape()), shape_str(ed.decoder_target.shape()));

  ms::Models m = ms::build(train.n_symbols, embed, units);
  m.train.compile({.optimizer = Adam({.learning_rate = 0.003f}),
                   .loss = "sparse_categorical_crossentropy",
                   .metrics = {"accuracy"}});
  m.train.summary(ctx.out());
  History h = m.train.fit({ed.encoder_input, ed.decoder_input}, ed.decoder_target,
                          {.epochs = epochs, .batch_size = 64, .validation_split = 0.1, .verbose = ctx.verbose});

  const int64_t max_length = test.max_target_length() + 1;
  auto greedy = decode::greedy(m.encoder, m.decoder, ted.encoder_input,
                               {.start_id = test.start_id, .stop_id = test.stop_id, .max_length = max_length});
  auto beams = decode::beam_search(m.encoder, m.decoder, ted.encoder_input,
                                   {.beam_width = beam_width,
                                    .start_id = test.start_id,
                                    .stop_id = test.stop_id,
                                    .max_length = max_length});
  std::vector<std::vector<int64_t>> best;
  for (const auto& b : beams) best.push_back(b.empty() ? std::vector<int64_t>{} : b[0].symbols);
  const double greedy_acc = ms::exact(greedy.sequences, test.targets);
  const double beam_acc = ms::exact(best, test.targets);

  // Accuracy per input length, and a few examples.
  std::map<int64_t, std::pair<int64_t, int64_t>> by_length;  // length -> (greedy right, total)
  nlohmann::ordered_json examples = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < n_test; ++i) {
    auto& e = by_length[test.input_lengths[i]];
    e.first += greedy.sequences[i] == test.targets[i];
    ++e.second;
    if (i < 8) {
      ctx.out() << fmt::format("X={} y={} greedy={} beam={}\n", ms::show(test.inputs[i]), ms::show(test.targets[i]),
                               ms::show(greedy.sequences[i]), ms::show(best[i]));
      examples.push_back({{"x", test.inputs[i]}, {"y", test.targets[i]}, {"greedy", greedy.sequences[i]},
                          {"beam", best[i]}, {"beam_log_probability", beams[i][0].log_probability}});
    }
  }
  nlohmann::ordered_json per_length = nlohmann::ordered_json::object();
  for (const auto& [len, e] : by_length) {
    per_length[std::to_string(len)] = static_cast<double>(e.first) / static_cast<double>(e.second);
  }
  ctx.out() << fmt::format("Sequence accuracy: greedy {:.1f}%, beam search (width {}) {:.1f}%\n", 100.0 * greedy_acc,
                           beam_width, 100.0 * beam_acc);

  Result r;
  r.metrics["greedy_sequence_accuracy"] = greedy_acc;
  r.metrics["beam_sequence_accuracy"] = beam_acc;
  r.metrics["train_masked_accuracy"] = h["accuracy"].back();
  r.metrics["val_masked_accuracy"] = h["val_accuracy"].back();
  r.details["greedy_accuracy_by_input_length"] = per_length;
  r.details["examples"] = examples;
  r.details["train_sequences"] = n_train;
  r.details["test_sequences"] = n_test;
  r.tutorial = "poses the problem (padding plus an encoder-decoder), no solution or figure";
  r.ours = fmt::format("exact output on {:.1f}% of {} new sequences with greedy decoding, {:.1f}% with beam search "
                       "(width {})",
                       100.0 * greedy_acc, n_test, 100.0 * beam_acc, beam_width);
  r.notes = fmt::format(
      "Embedding({0}, {1}, mask_zero) + LSTM({2}) encoder and decoder with LuongAttention (general) over the masked "
      "encoder sequence; Adam (lr 0.003), batch 64, {3} training sequences (10% held out), {4} epochs; values 1..9, "
      "input lengths 4..10.{5}",
      train.n_symbols, embed, units, n_train, epochs, ctx.quick ? " Quick mode: fewer sequences and epochs." : "");
  save_chart(ctx, r, "variable_length_training",
             LineChart{.title = "Masked encoder-decoder on first appearances: per-step accuracy (real steps)",
                       .ylabel = "accuracy",
                       .series = {{"train", h["accuracy"]}, {"validation", h["val_accuracy"]}}});
  return r;
}

}  // namespace seqnet::experiments
