// Luong's input-feeding decoder: the recursive implementation pattern of
// seed 02 ("Implementation Patterns for the Encoder-Decoder RNN
// Architecture with Attention"). At every decoder step the attentional
// vector of the previous step, h~_{t-1} = tanh(W_c [c_{t-1}; h_{t-1}]), is fed
// to the decoder LSTM together with the previous symbol, so the decoder knows
// what it attended to before:
//
//   x_t = [embed(y_{t-1}); h~_{t-1}]      h_t, c_t = LSTM(x_t, h_{t-1}, c_{t-1})
//   h~_t, c_t, a_t = LuongAttention(h_t, encoder sequence)
//   p_t = softmax(h~_t W_s)
//
// A step depends on the previous step's attention, so the training model is
// unrolled over the T decoder steps with shared layers (one graph node per
// step, one set of weights), and the inference decoder is the same step as a
// model whose states are h, c and h~. The problem is seed 02's: 6 random
// integers in [1, 21), output the first 3 reversed.

#include <seqnet/data/encoding.hpp>
#include <seqnet/data/problems.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdio>

using namespace seqnet;

int main() {
  constexpr int64_t kIn = 6, kOut = 3, kSymbols = 21, kEmbed = 16, kUnits = 48, kSamples = 10000;
  set_seed(1);
  Generator g(7);
  // Symbol ids: 0 is the start symbol, values are 1..20.
  auto train_data = data::subset_reversed(kSamples, kIn, kOut, kSymbols, g);
  auto test = data::subset_reversed(500, kIn, kOut, kSymbols, g);
  auto ids = [](const Tensor& one_hot) {
    const auto v = data::argmax_last(one_hot);
    Tensor t({one_hot.dim(0), one_hot.dim(1)});
    for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(v[i]);
    return t;
  };
  const Tensor src = ids(train_data.x1), dec_in = ids(train_data.x2), target = ids(train_data.y);

  // Shared layers.
  auto embed_src = Embedding(kSymbols, kEmbed);
  auto embed_tgt = Embedding(kSymbols, kEmbed);
  auto encoder_lstm = LSTM(kUnits, {.return_sequences = true, .return_state = true});
  auto decoder_lstm = LSTM(kUnits, {.return_sequences = true, .return_state = true});
  auto attention = LuongAttention(kUnits, {.score = "general"});
  auto output = Dense(kSymbols, {.activation = "softmax"});

  // One decoder step: [symbol (B, 1), h, c, h~ (B, 1, U), encoder sequence] -> [p, h, c, h~].
  auto step = [&](const SymbolicTensor& symbol, const SymbolicTensor& h, const SymbolicTensor& c,
                  const SymbolicTensor& feed, const SymbolicTensor& enc_seq) {
    auto x = Concatenate()({embed_tgt(symbol), feed});
    auto d = decoder_lstm(x, {.initial_state = {h, c}});
    auto att = attention({d[0], enc_seq});
    return std::vector<SymbolicTensor>{output(att[0]), d[1], d[2], att[0]};
  };

  // Training model, unrolled over the kOut decoder steps.
  auto source = Input({kIn});
  auto enc = encoder_lstm(embed_src(source));  // [seq, h, c]
  auto feed0 = Input({1, kUnits});             // h~_0: zeros
  std::vector<SymbolicTensor> inputs{source, feed0}, probs;
  SymbolicTensor h = enc[1], c = enc[2], feed = feed0;
  for (int64_t t = 0; t < kOut; ++t) {
    auto symbol = Input({1});
    inputs.push_back(symbol);
    auto s = step(symbol, h, c, feed, enc[0]);
    probs.push_back(s[0]);
    h = s[1];
    c = s[2];
    feed = s[3];
  }
  Model model(inputs, {Concatenate(1)(probs)}, "input_feeding");
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  model.summary();

  // Inference pair: states (h, c, h~) first, then the encoder sequence.
  Model encoder({source}, {enc[1], enc[2], enc[0]});
  auto symbol = Input({1}), h_in = Input({kUnits}), c_in = Input({kUnits}), feed_in = Input({1, kUnits});
  auto enc_seq = Input({kIn, kUnits});
  auto s = step(symbol, h_in, c_in, feed_in, enc_seq);
  Model decoder({symbol, h_in, c_in, feed_in, enc_seq}, {s[0], s[1], s[2], s[3]});

  // Teacher forcing: the decoder step inputs are the shifted target's columns.
  auto column = [](const Tensor& t, int64_t j) {
    Tensor col({t.dim(0), 1});
    for (int64_t i = 0; i < t.dim(0); ++i) col[i] = t.at(i, j);
    return col;
  };
  Tensors x{src, Tensor({kSamples, 1, kUnits})};
  for (int64_t t = 0; t < kOut; ++t) x.push_back(column(dec_in, t));
  model.fit(x, target, {.epochs = 8, .batch_size = 32, .verbose = 2});

  // Open-loop greedy decoding with the input-feeding states.
  const Tensor test_src = ids(test.x1);
  Tensors st = encoder.predict(test_src);
  const Tensors initial{st[0], st[1], Tensor({test_src.dim(0), 1, kUnits}), st[2]};
  auto out = decode::greedy(decoder, initial, {.start_id = 0, .max_length = kOut});
  const auto want = data::argmax_last(test.y);
  int64_t right = 0;
  for (size_t i = 0; i < out.sequences.size(); ++i) {
    right += out.sequences[i] == std::vector<int64_t>(want.begin() + static_cast<int64_t>(i) * kOut,
                                                      want.begin() + static_cast<int64_t>(i + 1) * kOut);
  }
  std::printf("input feeding, greedy open-loop decoding: %lld of %zu new sequences exactly right (%.1f%%)\n",
              static_cast<long long>(right), out.sequences.size(),
              100.0 * static_cast<double>(right) / static_cast<double>(out.sequences.size()));
  return 0;
}
