// An encoder-decoder LSTM in the Keras functional style (seed 02): train with
// teacher forcing, then decode new sequences step by step with separate
// inference models that share the trained layers.
//
// Problem: 6 random integers in [1, 51) -> the first 3 reversed.

#include <seqnet/data/encoding.hpp>
#include <seqnet/data/problems.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdio>

using namespace seqnet;

int main() {
  set_seed(1);
  const int64_t n_features = 51, n_in = 6, n_out = 3, n_units = 128;

  // Training model: encoder states initialise the decoder (teacher forcing).
  auto encoder_inputs = Input({None, n_features});
  auto encoder = LSTM(n_units, {.return_state = true})(encoder_inputs);  // [output, h, c]
  auto decoder_inputs = Input({None, n_features});
  auto decoder_lstm = LSTM(n_units, {.return_sequences = true, .return_state = true});
  auto decoder_dense = Dense(n_features, {.activation = "softmax"});
  auto decoded = decoder_lstm(decoder_inputs, {.initial_state = {encoder[1], encoder[2]}});
  Model train({encoder_inputs, decoder_inputs}, {decoder_dense(decoded[0])});
  train.compile({.optimizer = Adam(), .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  train.summary();

  // Inference models: the same layers, hence the same weights.
  Model encoder_model({encoder_inputs}, {encoder[1], encoder[2]});
  auto h_in = Input({n_units}), c_in = Input({n_units});
  auto step = decoder_lstm(decoder_inputs, {.initial_state = {h_in, c_in}});
  Model decoder_model({decoder_inputs, h_in, c_in}, {decoder_dense(step[0]), step[1], step[2]});

  Generator data(42);
  auto ds = data::subset_reversed(50000, n_in, n_out, n_features, data);
  train.fit({ds.x1, ds.x2}, ds.y, {.epochs = 1, .batch_size = 32});

  // Decode 5 new sequences at once, feeding each prediction back in.
  auto test = data::subset_reversed(5, n_in, n_out, n_features, data);
  Tensors state = encoder_model.predict(test.x1);
  Tensor target({5, 1, n_features});  // start symbol 0: all zeros
  std::vector<std::vector<int64_t>> decoded_ids(5);
  for (int64_t t = 0; t < n_out; ++t) {
    Tensors out = decoder_model.predict({target, state[0], state[1]});
    const auto ids = data::argmax_last(out[0]);
    for (int64_t b = 0; b < 5; ++b) decoded_ids[b].push_back(ids[b]);
    state = Tensors{out[1], out[2]};
    target = out[0];
  }
  const auto src = data::argmax_last(test.x1), want = data::argmax_last(test.y);
  for (int64_t b = 0; b < 5; ++b) {
    std::printf("X=[");
    for (int64_t i = 0; i < n_in; ++i) std::printf("%s%lld", i ? ", " : "", static_cast<long long>(src[b * n_in + i]));
    std::printf("] y=[");
    for (int64_t i = 0; i < n_out; ++i) std::printf("%s%lld", i ? ", " : "", static_cast<long long>(want[b * n_out + i]));
    std::printf("] yhat=[");
    for (int64_t i = 0; i < n_out; ++i) std::printf("%s%lld", i ? ", " : "", static_cast<long long>(decoded_ids[b][i]));
    std::printf("]\n");
  }
  return 0;
}
