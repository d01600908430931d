// Seed 01 (Part B): the four ways of connecting two LSTM(16) layers on the
// reversed-sequence problem, at sequence lengths 4, 8 and 16 (10 features,
// 2000 training and 200 test sequences, Adam, batch 32, up to 100 epochs
// with EarlyStopping(val_loss, patience 5) on a 10% validation split).
//   1 default output:      LSTM -> RepeatVector -> LSTM -> RepeatVector -> Dense
//   2 return_sequences:    LSTM(seq) -> LSTM(seq) -> TimeDistributed(Dense)
//   3 return_state:        LSTM(state) -> RepeatVector -> LSTM(seq, initial_state) -> TD(Dense)
//   4 sequences + states:  LSTM(seq, state) -> LSTM(seq, initial_state) -> TD(Dense)
// Tutorial test accuracy (per time step): T=4 38.6/54.9/91.6/97.3,
// T=8 29.6/34.7/50.4/56.4, T=16 23.3/23.3/33.3/37.5.

#include <fmt/format.h>
#include <seqnet/data/problems.hpp>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

Model make_model(int which, int64_t T, int64_t F, int64_t units) {
  auto softmax_dense = [&] { return Dense(F, {.activation = "softmax"}); };
  if (which == 1) {
    Sequential m("model_LSTM_default_output");
    m.add(Input({T, F}));
    m.add(LSTM(units));
    m.add(RepeatVector(T));
    m.add(LSTM(units));
    m.add(RepeatVector(T));
    m.add(softmax_dense());
    return m;
  }
  if (which == 2) {
    Sequential m("model_LSTM_return_sequences");
    m.add(Input({T, F}));
    m.add(LSTM(units, {.return_sequences = true}));
    m.add(LSTM(units, {.return_sequences = true}));
    m.add(TimeDistributed(softmax_dense()));
    return m;
  }
  auto input = Input({T, F});
  if (which == 3) {
    auto enc = LSTM(units, {.return_state = true})(input);
    auto repeated = RepeatVector(T)(enc[0]);
    auto seq = LSTM(units, {.return_sequences = true})(repeated, {.initial_state = {enc[1], enc[2]}});
    return Model({input}, {TimeDistributed(softmax_dense())(seq)}, "model_LSTM_return_state");
  }
  auto enc = LSTM(units, {.return_sequences = true, .return_state = true})(input);
  auto seq = LSTM(units, {.return_sequences = true})(enc[0], {.initial_state = {enc[1], enc[2]}});
  return Model({input}, {TimeDistributed(softmax_dense())(seq)}, "model_LSTM_all_state_h_return_state");
}

}  // namespace

Result reverse_patterns(Context& ctx) {
  const int64_t F = 10, units = 16;
  const int64_t n_train = ctx.quick ? 1000 : 2000, n_test = 200;
  const int epochs = ctx.quick ? 20 : 100;
  const std::vector<int64_t> lengths = ctx.quick ? std::vector<int64_t>{4} : std::vector<int64_t>{4, 8, 16};
  const char* names[] = {"default_output", "return_sequences", "return_state", "sequences_and_states"};
  const double tutorial[3][4] = {{38.625, 54.875, 91.625, 97.250}, {29.625, 34.688, 50.375, 56.437},
                                 {23.344, 23.281, 33.344, 37.469}};
  Result r;
  nlohmann::ordered_json table = nlohmann::ordered_json::array();
  ctx.out() << "PREDICTION ACCURACY AT TEST DATA (%), tutorial in brackets\n";
  for (size_t li = 0; li < lengths.size(); ++li) {
    const int64_t T = lengths[li];
    Generator data(ctx.seed * 7919 + static_cast<uint64_t>(T));
    auto train = data::reversed_sequences(n_train, T, F, data);
    auto test = data::reversed_sequences(n_test, T, F, data);
    std::string line = fmt::format("T={:<3}", T);
    for (int which = 1; which <= 4; ++which) {
      Model model = make_model(which, T, F, units);
      model.compile({.optimizer = Adam(), .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
      if (T == lengths[0]) model.summary(ctx.out());
      History h = model.fit(train.x, train.y,
                            {.epochs = epochs, .batch_size = 32, .validation_split = 0.1, .verbose = 0,
                             .callbacks = {EarlyStopping({.monitor = "val_loss", .patience = 5})}});
      const double acc = model.evaluate(test.x, test.y).at("accuracy");
      line += fmt::format("  {}: {:6.2f} ({:6.2f})", which, 100.0 * acc, tutorial[li][which - 1]);
      table.push_back({{"timesteps", T},
                       {"model", names[which - 1]},
                       {"test_accuracy", acc},
                       {"tutorial_test_accuracy", tutorial[li][which - 1] / 100.0},
                       {"epochs_trained", h.epoch().size()}});
      r.metrics[fmt::format("T{}_{}", T, names[which - 1])] = acc;
    }
    ctx.out() << line << "\n" << std::flush;
  }
  r.details["table"] = table;
  r.tutorial = "T=4 38.6/54.9/91.6/97.3; T=8 29.6/34.7/50.4/56.4; T=16 23.3/23.3/33.3/37.5";
  std::string ours;
  for (size_t li = 0; li < lengths.size(); ++li) {
    ours += fmt::format("{}T={} ", li ? "; " : "", lengths[li]);
    for (int which = 1; which <= 4; ++which) {
      ours += fmt::format("{}{:.1f}", which > 1 ? "/" : "",
                          100.0 * r.metrics[fmt::format("T{}_{}", lengths[li], names[which - 1])].get<double>());
    }
  }
  r.ours = ours;
  r.notes = "Test accuracy per time step (%) of the four connection patterns, in the tutorial's order.";
  return r;
}

}  // namespace seqnet::experiments
