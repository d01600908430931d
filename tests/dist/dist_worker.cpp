// One rank of the data-parallel tests (tests/dist/dist_test.py runs it under
// mpirun with 2 ranks, and as a plain process for the single-process
// reference). Trains one scenario and writes, per rank, the final weights
// (raw float32, every weight after the other) and the History:
//
//   dist_worker SCENARIO OUT [--epochs N] [--optimizer NAME] [--bucket]
//               [--shuffle] [--checkpoint DIR] [--resume FILE --initial-epoch K]
//
// Scenarios:
//   seq       Embedding(mask_zero) -> LSTM -> TimeDistributed(Dense softmax) on
//             zero-padded sequences of varied lengths (masked loss and metric)
//   cls       LSTM -> Dense(sigmoid), validation data, accuracy, EarlyStopping,
//             CSVLogger and ModelCheckpoint
//   stateful  a stateful GRU on streams cut into consecutive windows
//   dropout   GRU with dropout and recurrent dropout (ranks must still agree)
//   die       as cls, but rank 1 kills itself (SIGKILL) in epoch 2
//   hang      as cls, but rank 1 stops answering in epoch 2
//   throw     as seq, but rank 1's copy of the data has a token id the
//             Embedding refuses, in a batch of epoch 1
//   comm      a large LSTM (64 x 50 x 256 x 256): writes the exchange figures

#include <seqnet/distributed.hpp>
#include <seqnet/seqnet.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace seqnet;

namespace {

struct Args {
  std::string scenario, out;
  int epochs = 3;
  std::string optimizer = "adam";
  bool bucket = false, shuffle = false;
  std::string checkpoint, resume;
  int initial_epoch = 0;
};

Args parse(int argc, char** argv) {
  if (argc < 3) throw ValueError("usage: dist_worker SCENARIO OUT [options]");
  Args a;
  a.scenario = argv[1];
  a.out = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw ValueError("missing value after " + k);
      return argv[++i];
    };
    if (k == "--epochs") a.epochs = std::stoi(next());
    else if (k == "--optimizer") a.optimizer = next();
    else if (k == "--bucket") a.bucket = true;
    else if (k == "--shuffle") a.shuffle = true;
    else if (k == "--checkpoint") a.checkpoint = next();
    else if (k == "--resume") a.resume = next();
    else if (k == "--initial-epoch") a.initial_epoch = std::stoi(next());
    else throw ValueError("unknown option " + k);
  }
  return a;
}

// Zero-padded token sequences of lengths 2..T (post-padding) over tokens
// 1..V-1; the target of each step is the token seen two steps earlier (0 at
// the first two steps), so the model must remember.
struct SeqData {
  Tensor x, y;
};

SeqData sequences(int64_t n, int64_t T, int64_t V, uint64_t seed) {
  Generator g(seed);
  SeqData d{Tensor({n, T}), Tensor({n, T})};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len = 2 + static_cast<int64_t>(g.below(static_cast<uint64_t>(T - 1)));
    for (int64_t t = 0; t < len; ++t) {
      d.x.data()[i * T + t] = static_cast<float>(1 + g.below(static_cast<uint64_t>(V - 1)));
      d.y.data()[i * T + t] = t >= 2 ? d.x.data()[i * T + t - 2] : 0.0f;
    }
  }
  return d;
}

Tensor uniform(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor t(s);
  for (float& v : t) v = g.uniform(-1.0f, 1.0f);
  return t;
}

void write_weights(const Model& m, const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  for (const Tensor& w : m.get_weights()) {
    f.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * sizeof(float)));
  }
  if (!f) throw IOError("cannot write " + path);
}

int run(const Args& a) {
  distributed::init();
  const int rank = distributed::rank();
  const std::string tag = fmt::format("{}/rank{}", a.out, rank);
  set_seed(7);
  std::unique_ptr<Model> model;
  Tensors x, y, vx, vy;
  std::vector<std::shared_ptr<Callback>> callbacks;
  int batch_size = 16;
  bool shuffle = a.shuffle;
  const std::string s = a.scenario;

  if (s == "seq" || s == "throw") {
    const SeqData d = sequences(100, 12, 10, 3);
    x = {d.x};
    y = {d.y};
    if (s == "throw" && rank == 1) x[0].data()[(16 * 2 + 12) * 12] = 99.0f;  // row 44: rank 1's part of batch 2
    auto in = Input({None});
    auto h = LSTM(16, {.return_sequences = true})(Embedding(10, 8, {.mask_zero = true})(in));
    model = std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                    std::vector<SymbolicTensor>{TimeDistributed(Dense(10, {.activation = "softmax"}))(h)});
    model->compile({.optimizer = a.optimizer, .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  } else if (s == "cls" || s == "die" || s == "hang") {
    // Label: whether the sum of the first feature over the steps is positive.
    auto make = [](int64_t n, uint64_t seed) {
      Tensor xs = uniform({n, 10, 3}, seed), ys({n, 1});
      for (int64_t i = 0; i < n; ++i) {
        float sum = 0;
        for (int64_t t = 0; t < 10; ++t) sum += xs.data()[(i * 10 + t) * 3];
        ys.data()[i] = sum > 0 ? 1.0f : 0.0f;
      }
      return std::pair{xs, ys};
    };
    auto [tx, ty] = make(120, 5);
    auto [ux, uy] = make(40, 6);
    x = {tx};
    y = {ty};
    vx = {ux};
    vy = {uy};
    auto in = Input({10, 3});
    model = std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                    std::vector<SymbolicTensor>{Dense(1, {.activation = "sigmoid"})(LSTM(12)(in))});
    model->compile({.optimizer = a.optimizer, .loss = "binary_crossentropy", .metrics = {"accuracy"}});
    callbacks.push_back(EarlyStopping({.monitor = "val_accuracy", .patience = 3}));
    callbacks.push_back(CSVLogger(a.out + "/log.csv"));
    if (s == "die" || s == "hang") {
      callbacks.push_back(LambdaCallback({.on_batch_begin = [rank, s, epoch = 0](int batch, Logs&) mutable {
                                            if (batch == 0) ++epoch;
                                            if (rank != 1 || epoch != 2 || batch != 3) return;
                                            std::fflush(stdout);
                                            if (s == "die") std::raise(SIGKILL);
                                            std::this_thread::sleep_for(std::chrono::hours(1));
                                          }}));
    }
  } else if (s == "stateful") {
    // 8 streams of 12 windows of 5 steps; predict the next value of a sine.
    const int64_t streams = 8, windows = 12, T = 5;
    Tensor xs({streams * windows, T, 1}), ys({streams * windows, 1});
    for (int64_t w = 0; w < windows; ++w) {
      for (int64_t st = 0; st < streams; ++st) {
        const int64_t row = w * streams + st;
        for (int64_t t = 0; t < T; ++t) {
          xs.data()[row * T + t] = std::sin(0.3f * static_cast<float>(w * T + t) + static_cast<float>(st));
        }
        ys.data()[row] = std::sin(0.3f * static_cast<float>(w * T + T) + static_cast<float>(st));
      }
    }
    x = {xs};
    y = {ys};
    batch_size = static_cast<int>(streams);
    shuffle = false;
    auto in = Input({T, 1}, {.batch_size = streams});
    model = std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                    std::vector<SymbolicTensor>{Dense(1)(GRU(8, {.stateful = true})(in))});
    model->compile({.optimizer = a.optimizer, .loss = "mse", .metrics = {"mae"}});
    callbacks.push_back(LambdaCallback({.on_epoch_begin = [&model](int, Logs&) { model->reset_states(); }}));
  } else if (s == "dropout") {
    x = {uniform({64, 8, 4}, 8)};
    y = {uniform({64, 1}, 9)};
    auto in = Input({8, 4});
    model = std::make_unique<Model>(
        std::vector<SymbolicTensor>{in},
        std::vector<SymbolicTensor>{Dense(1)(GRU(8, {.dropout = 0.3f, .recurrent_dropout = 0.2f})(in))});
    model->compile({.optimizer = a.optimizer, .loss = "mse"});
  } else if (s == "comm") {
    x = {uniform({64, 50, 256}, 10)};
    y = {uniform({64, 1}, 11)};
    batch_size = 64;
    auto in = Input({50, 256});
    model = std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                    std::vector<SymbolicTensor>{Dense(1)(LSTM(256)(in))});
    model->compile({.optimizer = a.optimizer, .loss = "mse"});
  } else {
    throw ValueError("unknown scenario " + s);
  }

  if (!a.checkpoint.empty()) callbacks.push_back(ModelCheckpoint(a.checkpoint + "/ckpt-{epoch:02d}.seqnet"));
  // (The stateful scenario's callback reaches the model through `model`.)
  if (!a.resume.empty()) model = load_model(a.resume);
  distributed::reset_stats();
  const auto t0 = std::chrono::steady_clock::now();
  const History h = model->fit(x, y,
                               {.epochs = a.epochs, .batch_size = batch_size,
                                .validation_data = {vx, vy}, .shuffle = shuffle, .verbose = 2,
                                .callbacks = callbacks, .initial_epoch = a.initial_epoch, .bucket_by_length = a.bucket});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_weights(*model, tag + ".weights");
  h.save_json(tag + ".history.json");
  if (s == "comm") {
    const distributed::CommStats st = distributed::stats();
    std::ofstream f(tag + ".comm.json");
    f << fmt::format(R"({{"world_size": {}, "params": {}, "steps": {}, "gradient_bytes_per_step": {}, )"
                     R"("exposed_ms_per_step": {}, "exchange_ms_per_step": {}, "step_ms": {}}})",
                     distributed::world_size(), model->count_params(), st.gradient_exchanges,
                     st.gradient_exchanges > 0 ? st.gradient_bytes / st.gradient_exchanges : 0,
                     st.gradient_exchanges > 0 ? 1e3 * st.exposed_seconds / st.gradient_exchanges : 0.0,
                     st.gradient_exchanges > 0 ? 1e3 * st.total_seconds / st.gradient_exchanges : 0.0,
                     1e3 * seconds / a.epochs)
      << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dist_worker (rank %d): %s\n", distributed::rank(), e.what());
    return 1;
  }
}
