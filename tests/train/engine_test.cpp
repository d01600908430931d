// The one training loop (src/train/engine.cpp) behind fit (shuffled and
// bucketed batches), fit_truncated_bptt (windows) and
// decode::fit_scheduled_sampling (sampled decoder inputs): every callback
// and every verbosity works the same with every batch source.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;
using seqnet::testing::TempDir;

namespace {

using Callbacks = std::vector<std::shared_ptr<Callback>>;

// One way of training, set up on fresh models and data: train(callbacks,
// verbose) runs 2 epochs; `batches` are the batch sizes of one epoch.
struct Source {
  std::string name;
  std::function<History(const Callbacks&, int verbose)> train;
  std::vector<int> batches;
  Model* model = nullptr;  // the model the callbacks see
};

// Owns the models of every source.
struct Sources {
  std::vector<std::unique_ptr<Model>> models;
  std::vector<Source> sources;

  Sources() {
    clear_session();
    set_seed(21);
    {  // fit, shuffled batches of rows, validation_split
      auto in = Input({None, 2});
      models.push_back(std::make_unique<Model>(
          std::vector<SymbolicTensor>{in},
          std::vector<SymbolicTensor>{TimeDistributed(Dense(1))(LSTM(3, {.return_sequences = true})(in))}, "rows"));
      Model* m = models.back().get();
      m->compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse"});
      const Tensor x = random_tensor({10, 5, 2}, 1), y = random_tensor({10, 5, 1}, 2);
      sources.push_back({"shuffled",
                         [m, x, y](const Callbacks& cb, int v) {
                           return m->fit(x, y, {.epochs = 2, .batch_size = 3, .validation_split = 0.2,
                                                .verbose = v, .callbacks = cb});
                         },
                         {3, 3, 2},
                         m});
    }
    {  // fit, batches bucketed by length
      auto in = Input({None});
      auto h = LSTM(4, {.return_sequences = true})(Embedding(6, 3, {.mask_zero = true})(in));
      models.push_back(std::make_unique<Model>(
          std::vector<SymbolicTensor>{in},
          std::vector<SymbolicTensor>{TimeDistributed(Dense(3, {.activation = "softmax"}))(h)}, "buckets"));
      Model* m = models.back().get();
      m->compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "sparse_categorical_crossentropy",
                  .metrics = {"accuracy"}});
      std::vector<std::vector<int64_t>> ids, labels;
      Generator g(3);
      for (int i = 0; i < 9; ++i) {
        std::vector<int64_t> s, t;
        for (int k = 0; k < 2 + i % 5; ++k) {
          s.push_back(1 + static_cast<int64_t>(g.below(5)));
          t.push_back(s.back() % 3);
        }
        ids.push_back(s);
        labels.push_back(t);
      }
      const Tensor x = data::pad_sequences(ids, {.maxlen = 7}), y = data::pad_sequences(labels, {.maxlen = 7});
      sources.push_back({"bucketed",
                         [m, x, y](const Callbacks& cb, int v) {
                           return m->fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = v, .callbacks = cb,
                                                .bucket_by_length = true});
                         },
                         {},  // sizes depend on the buckets: 4, 4 and 1 in some order
                         m});
    }
    {  // truncated BPTT, windows of 3 of 6 steps, validation_data
      auto in = Input({None, 2});
      models.push_back(std::make_unique<Model>(
          std::vector<SymbolicTensor>{in},
          std::vector<SymbolicTensor>{Dense(1)(SimpleRNN(3, {.return_sequences = true, .stateful = true})(in))},
          "windows"));
      Model* m = models.back().get();
      m->compile({.optimizer = SGD({.learning_rate = 0.05f}), .loss = "mse"});
      const Tensor x = random_tensor({8, 6, 2}, 4), y = random_tensor({8, 6, 1}, 5);
      const Tensor vx = random_tensor({4, 6, 2}, 6), vy = random_tensor({4, 6, 1}, 7);
      sources.push_back({"tbptt",
                         [m, x, y, vx, vy](const Callbacks& cb, int v) {
                           return fit_truncated_bptt(*m, x, y,
                                                     {.window = 3, .epochs = 2, .batch_size = 4, .verbose = v,
                                                      .callbacks = cb, .validation_data = {.x = vx, .y = vy}});
                         },
                         {4, 4},
                         m});
    }
    {  // scheduled sampling: eps 1 in epoch 0, 0 in epoch 1
      const int64_t U = 4;
      Generator g(8);
      const auto d = data::first_appearance(10, {.min_length = 3, .max_length = 4, .n_values = 4}, g);
      const auto ed = data::encoder_decoder_ids(d);
      const int64_t V = d.n_symbols;
      auto src = Input({None});
      auto enc = LSTM(U, {.return_state = true})(Embedding(V, 3, {.mask_zero = true})(src));
      auto tgt = Input({None});
      auto emb = Embedding(V, 3, {.mask_zero = true});
      auto lstm = LSTM(U, {.return_sequences = true, .return_state = true});
      auto dense = Dense(V, {.activation = "softmax"});
      auto dec = lstm(emb(tgt), {.initial_state = {enc[1], enc[2]}});
      models.push_back(std::make_unique<Model>(std::vector<SymbolicTensor>{src, tgt},
                                               std::vector<SymbolicTensor>{dense(dec[0])}, "sampled"));
      Model* train = models.back().get();
      models.push_back(std::make_unique<Model>(std::vector<SymbolicTensor>{src},
                                               std::vector<SymbolicTensor>{enc[1], enc[2]}));
      Model* encoder = models.back().get();
      auto sym = Input({1});
      auto h0 = Input({U}), c0 = Input({U});
      auto step = lstm(emb(sym), {.initial_state = {h0, c0}});
      models.push_back(std::make_unique<Model>(std::vector<SymbolicTensor>{sym, h0, c0},
                                               std::vector<SymbolicTensor>{dense(step[0]), step[1], step[2]}));
      Model* decoder = models.back().get();
      train->compile({.optimizer = Adam({.learning_rate = 0.01f}), .loss = "sparse_categorical_crossentropy"});
      sources.push_back({"sampling",
                         [train, encoder, decoder, ed](const Callbacks& cb, int v) {
                           return decode::fit_scheduled_sampling(
                               *train, *encoder, *decoder, {ed.encoder_input}, ed.decoder_input, ed.decoder_target,
                               {.schedule = decode::SamplingSchedule::linear(1.0, 1.0),
                                .epochs = 2,
                                .batch_size = 4,
                                .verbose = v,
                                .callbacks = cb});
                         },
                         {4, 4, 2},
                         train});
    }
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST(Engine, EveryCallbackWorksWithEverySource) {
  for (int verbose : {0, 1, 2}) {
    Sources setup;
    for (auto& s : setup.sources) {
      SCOPED_TRACE(s.name + ", verbose " + std::to_string(verbose));
      TempDir dir("engine");
      Model& model = *s.model;
      const float lr0 = model.optimizer().learning_rate();
      std::vector<std::string> events;
      std::vector<std::vector<Tensor>> weights_at;
      auto lambda = LambdaCallback({
          .on_epoch_begin = [&](int e, Logs&) { events.push_back("eb" + std::to_string(e)); },
          .on_epoch_end =
              [&](int e, Logs&) {
                events.push_back("ee" + std::to_string(e));
                weights_at.push_back(model.get_weights());
              },
          .on_batch_begin = [&](int b, Logs& l) {
            events.push_back("bb" + std::to_string(b) + " size " + std::to_string(static_cast<int>(l.at("size"))));
          },
          .on_batch_end =
              [&](int b, Logs& l) {
                events.push_back("be" + std::to_string(b) + (l.contains("loss") ? " loss" : ""));
              },
          .on_train_begin = [&](Logs&) { events.push_back("tb"); },
          .on_train_end = [&](Logs&) { events.push_back("te"); },
      });
      auto nan = TerminateOnNaN();
      auto es = EarlyStopping({.monitor = "loss", .patience = 100});
      // min_delta 10: only the first epoch improves, so the rate halves after the second.
      auto plateau = ReduceLROnPlateau({.monitor = "loss", .factor = 0.5, .patience = 0, .min_delta = 10});
      auto ckpt = ModelCheckpoint(dir.file("w{epoch}.safetensors"), {.monitor = "loss", .save_weights_only = true});
      auto csv = CSVLogger(dir.file("log.csv"));
      ::testing::internal::CaptureStdout();
      ::testing::internal::CaptureStderr();
      History h = s.train({lambda, nan, es, plateau, ckpt, csv}, verbose);
      const std::string out = ::testing::internal::GetCapturedStdout();
      EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // no warnings

      // History: two epochs, with what the callbacks added ("lr").
      EXPECT_EQ(h.epoch(), (std::vector<int>{0, 1}));
      ASSERT_TRUE(h.contains("loss"));
      ASSERT_TRUE(h.contains("lr"));
      EXPECT_FLOAT_EQ(static_cast<float>(h["lr"][1]), lr0);
      EXPECT_FLOAT_EQ(model.optimizer().learning_rate(), lr0 / 2);  // ReduceLROnPlateau
      if (s.name == "sampling") {
        EXPECT_EQ(h["teacher_forcing_probability"], (std::vector<double>{1.0, 0.0}));
        EXPECT_GT(h["sampled_fraction"][1], 0.0);
      } else if (s.name != "bucketed") {
        EXPECT_TRUE(h.contains("val_loss"));
      }
      EXPECT_FALSE(nan->terminated());
      EXPECT_EQ(es->stopped_epoch(), 0);

      // LambdaCallback: Keras's hook order, one batch_begin/end per batch.
      std::vector<std::string> want{"tb"};
      for (int e = 0; e < 2; ++e) {
        want.push_back("eb" + std::to_string(e));
        if (s.batches.empty()) {  // bucketed: check the count and the sizes' sum below
          for (int b = 0; b < 3; ++b) {
            want.push_back("bb" + std::to_string(b));
            want.push_back("be" + std::to_string(b) + " loss");
          }
        } else {
          for (size_t b = 0; b < s.batches.size(); ++b) {
            want.push_back("bb" + std::to_string(b) + " size " + std::to_string(s.batches[b]));
            want.push_back("be" + std::to_string(b) + " loss");
          }
        }
        want.push_back("ee" + std::to_string(e));
      }
      want.push_back("te");
      ASSERT_EQ(events.size(), want.size());
      int bucket_samples = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        if (s.batches.empty() && want[i].rfind("bb", 0) == 0) {
          EXPECT_EQ(events[i].substr(0, want[i].size() + 6), want[i] + " size ") << i;
          bucket_samples += std::stoi(events[i].substr(want[i].size() + 6));
        } else {
          EXPECT_EQ(events[i], want[i]) << i;
        }
      }
      if (s.batches.empty()) {
        EXPECT_EQ(bucket_samples, 2 * 9);
      }

      // ModelCheckpoint: one file per epoch, holding that epoch's weights.
      ASSERT_TRUE(std::filesystem::exists(dir.file("w1.safetensors")));
      ASSERT_TRUE(std::filesystem::exists(dir.file("w2.safetensors")));
      model.load_weights(dir.file("w1.safetensors"));
      const auto w1 = model.get_weights();
      ASSERT_EQ(weights_at.size(), 2u);
      for (size_t i = 0; i < w1.size(); ++i) seqnet::testing::expect_bit_equal(w1[i], weights_at[0][i], "weight");

      // CSVLogger: a header of the sorted keys (lr included) and a line per epoch.
      std::ifstream csv_in(dir.file("log.csv"));
      std::stringstream ss;
      ss << csv_in.rdbuf();
      const auto lines = lines_of(ss.str());
      ASSERT_EQ(lines.size(), 3u);
      EXPECT_EQ(lines[0].rfind("epoch,", 0), 0u) << lines[0];
      EXPECT_NE(lines[0].find(",lr"), std::string::npos) << lines[0];
      EXPECT_EQ(lines[1].rfind("0,", 0), 0u);
      EXPECT_EQ(lines[2].rfind("1,", 0), 0u);

      // The progress output of the verbosity.
      const auto printed = lines_of(out);
      if (verbose == 0) {
        EXPECT_EQ(out, "");
      } else {
        const size_t steps = s.batches.empty() ? 3 : s.batches.size();
        const std::string n = std::to_string(steps);
        ASSERT_EQ(printed.size(), 4u) << out;
        EXPECT_EQ(printed[0], "Epoch 1/2");
        EXPECT_EQ(printed[2], "Epoch 2/2");
        const std::string bar = R"( \[=+\] - \d+s \d+(us|ms|s)/step - loss: .*)";
        const std::string summary = R"( - \d+s - loss: .* - \d+(us|ms|s)/epoch - \d+(us|ms|s)/step)";
        const std::regex line(n + "/" + n + (verbose == 1 ? bar : summary));
        for (size_t i : {1u, 3u}) EXPECT_TRUE(std::regex_match(printed[i], line)) << printed[i];
      }
    }
  }
}

TEST(Engine, TerminateOnNaNStopsEverySourceAfterTheBatch) {
  Sources setup;
  for (auto& s : setup.sources) {
    SCOPED_TRACE(s.name);
    Model& model = *s.model;
    std::vector<std::string> events;
    // After batch 0 every weight becomes NaN, so batch 1's loss is NaN.
    auto poison = LambdaCallback({
        .on_epoch_begin = [&](int e, Logs&) { events.push_back("eb" + std::to_string(e)); },
        .on_batch_end =
            [&](int b, Logs&) {
              events.push_back("be" + std::to_string(b));
              if (b != 0) return;
              auto w = model.get_weights();
              for (auto& t : w) t.fill(std::numeric_limits<float>::quiet_NaN());
              model.set_weights(w);
            },
    });
    auto nan = TerminateOnNaN();
    ::testing::internal::CaptureStdout();
    History h = s.train({poison, nan}, 0);
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_TRUE(nan->terminated());
    EXPECT_NE(out.find("Batch 1: Invalid loss, terminating training"), std::string::npos) << out;
    EXPECT_EQ(events, (std::vector<std::string>{"eb0", "be0", "be1"}));
    EXPECT_EQ(h.epoch().size(), 1u);
    EXPECT_TRUE(std::isnan(h["loss"][0]));
  }
}

TEST(Engine, ANullCallbackIsAnErrorForEverySource) {
  Sources setup;
  for (auto& s : setup.sources) {
    SCOPED_TRACE(s.name);
    EXPECT_THROW_MSG(s.train({nullptr}, 0), ValueError, "callback is null");
  }
}
