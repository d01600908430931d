// Seed 02 ("Difference Between Return Sequences and Return States for LSTMs
// in Keras"): a one-unit LSTM on the single sequence [0.1, 0.2, 0.3] in its
// four output configurations, printed, with the checks the tutorial makes in
// words: the default output is the last hidden state; with return_sequences
// the last element of the sequence is that same hidden state; with
// return_state the first two outputs are equal (h twice) and c follows.

#include <fmt/format.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

std::string values(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.size(); ++i) s += fmt::format("{}{:.8f}", i ? " " : "", t[i]);
  return s + "]";
}

}  // namespace

Result return_states(Context& ctx) {
  Tensor data({1, 3, 1}, {0.1f, 0.2f, 0.3f});
  // One LSTM layer's weights, shared by the four configurations so they can
  // be compared value for value.
  auto make = [&](bool seq, bool state, const std::vector<Tensor>& weights) {
    auto inputs1 = Input({3, 1});
    auto lstm = LSTM(1, {.return_sequences = seq, .return_state = state});
    auto out = lstm(inputs1);
    if (!weights.empty()) lstm.set_weights(weights);
    return std::pair<Model, LayerRef>(Model({inputs1}, out.items()), lstm);
  };
  auto [m_default, lstm0] = make(false, false, {});
  const std::vector<Tensor> weights = lstm0.get_weights();
  auto [m_seq, l1] = make(true, false, weights);
  auto [m_state, l2] = make(false, true, weights);
  auto [m_both, l3] = make(true, true, weights);

  Tensor h = m_default.predict(data);
  Tensor seq = m_seq.predict(data);
  Tensors st = m_state.predict(data);
  Tensors both = m_both.predict(data);
  ctx.out() << "LSTM(1):                                     " << values(h) << "\n";
  ctx.out() << "LSTM(1, return_sequences):                   " << values(seq) << "\n";
  ctx.out() << "LSTM(1, return_state):                       " << values(st[0]) << " " << values(st[1]) << " "
            << values(st[2]) << "\n";
  ctx.out() << "LSTM(1, return_sequences, return_state):     " << values(both[0]) << " " << values(both[1]) << " "
            << values(both[2]) << "\n";

  const float last = seq[2];
  const bool last_is_h = last == h[0] && both[0][2] == both[1][0];
  const bool state_h_is_output = st[0][0] == st[1][0] && st[0][0] == h[0];
  const bool same_cell = st[2][0] == both[2][0];
  ctx.out() << "last sequence element == state_h: " << (last_is_h ? "yes" : "NO") << "\n";
  ctx.out() << "output == state_h (return_state): " << (state_h_is_output ? "yes" : "NO") << "\n";

  Result r;
  r.metrics["last_element_equals_state_h"] = last_is_h;
  r.metrics["output_equals_state_h"] = state_h_is_output;
  r.metrics["cell_state_consistent"] = same_cell;
  r.details["default"] = h.to_vector();
  r.details["return_sequences"] = seq.to_vector();
  r.details["return_state"] = {st[0].to_vector(), st[1].to_vector(), st[2].to_vector()};
  r.details["return_sequences_and_state"] = {both[0].to_vector(), both[1].to_vector(), both[2].to_vector()};
  r.tutorial = "the last element of the sequence equals state_h; return_state gives [h, h, c]";
  r.ours = fmt::format("last element == state_h: {}; output == state_h: {}; same c in both: {}",
                       last_is_h ? "yes" : "no", state_h_is_output ? "yes" : "no", same_cell ? "yes" : "no");
  return r;
}

}  // namespace seqnet::experiments
