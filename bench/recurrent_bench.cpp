// seqnet_bench: times the recurrent layers on the workloads of the PyTorch
// peer comparison (bench/torch_peer.py, bench/compare.py).
//
// Benchmarks are named <cell>/<mode>/<B>x<T>x<I>x<H>:
//   LSTM|GRU    the layer (GRU with reset_after = true, PyTorch's GRU)
//   train       one training step: forward(training = true) into a cache kept
//               across iterations, zero_grad(), backward() with a fixed
//               output gradient (return_sequences = true, so the gradient is
//               (B, T, H)); includes the input gradient, as PyTorch computes
//               it when the input requires grad
//   infer       forward only, training = false, no cache (inference)
//   train_bf16  train under the mixed_bfloat16 policy (bfloat16 products,
//               float32 variables), on the larger shapes
// Times are wall-clock (UseRealTime), per iteration; items are B*T sequence
// steps. The counter process_cpu_s is the CPU time of the whole process (all
// threads, BLAS workers included) per iteration: on a busy machine it is the
// steadier measure of single-threaded runs.
//
// Threads: --threads=N (before or among the Google Benchmark flags) sets the
// BLAS threads; default: all cores. compare.py passes the same N to PyTorch.
//
// Examples:
//   seqnet_bench --threads=2
//   seqnet_bench --threads=1 --benchmark_filter='LSTM/train'
//   seqnet_bench --benchmark_format=json --benchmark_repetitions=3

#include <benchmark/benchmark.h>

#include <ctime>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "seqnet/seqnet.hpp"

namespace {

using namespace seqnet;

enum class Cell { LSTM, GRU };

struct Workload {
  int64_t B, T, I, H;
};

// Training shapes (and forward-only inference at the same shapes).
constexpr Workload kShapes[] = {
    {32, 4, 10, 16}, {21, 5, 100, 150}, {128, 500, 32, 32}, {64, 100, 256, 256}, {64, 50, 512, 512},
};
// Single-step inference (a decoder step at batch 1; the larger one shares
// its weights between the cores).
constexpr Workload kSingleSteps[] = {{1, 1, 128, 128}, {1, 1, 512, 512}};

const char* cell_name(Cell c) { return c == Cell::LSTM ? "LSTM" : "GRU"; }

std::string workload_name(Cell c, const char* mode, const Workload& w) {
  return std::string(cell_name(c)) + "/" + mode + "/" + std::to_string(w.B) + "x" + std::to_string(w.T) + "x" +
         std::to_string(w.I) + "x" + std::to_string(w.H);
}

Tensor random_tensor(const Shape& shape) {
  Tensor t = Tensor::uninitialized(shape);
  Generator& g = global_generator();
  for (float& v : t) v = g.uniform(-1.0f, 1.0f);
  return t;
}

std::unique_ptr<layers::Recurrent> make_layer(Cell c, int64_t units) {
  if (c == Cell::LSTM) return std::make_unique<layers::LSTM>(units, LSTMOptions{.return_sequences = true});
  return std::make_unique<layers::GRU>(units, GRUOptions{.return_sequences = true, .reset_after = true});
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void set_counters(benchmark::State& state, const Workload& w, double cpu_seconds) {
  state.SetItemsProcessed(state.iterations() * w.B * w.T);
  state.counters["process_cpu_s"] = benchmark::Counter(cpu_seconds, benchmark::Counter::kAvgIterations);
  state.counters["B"] = static_cast<double>(w.B);
  state.counters["T"] = static_cast<double>(w.T);
  state.counters["I"] = static_cast<double>(w.I);
  state.counters["H"] = static_cast<double>(w.H);
}

void bm_train(benchmark::State& state, Cell cell, Workload w, bool bf16) {
  set_seed(1234);
  mixed_precision::set_global_policy(bf16 ? "mixed_bfloat16" : "float32");
  auto layer = make_layer(cell, w.H);
  mixed_precision::set_global_policy("float32");
  const std::vector<Tensor> inputs{random_tensor({w.B, w.T, w.I})};
  const std::vector<Tensor> doutputs{random_tensor({w.B, w.T, w.H})};
  auto cache = layer->make_cache();
  const CallArgs args{.training = true};
  // One untimed step builds the weights and sizes the cache's workspaces.
  layer->forward(inputs, args, cache.get());
  layer->zero_grad();
  layer->backward(doutputs, *cache);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    std::vector<Tensor> out = layer->forward(inputs, args, cache.get());
    layer->zero_grad();
    std::vector<Tensor> din = layer->backward(doutputs, *cache);
    benchmark::DoNotOptimize(out[0].data());
    benchmark::DoNotOptimize(din[0].data());
    benchmark::ClobberMemory();
  }
  set_counters(state, w, process_cpu_seconds() - cpu0);
}

void bm_infer(benchmark::State& state, Cell cell, Workload w) {
  set_seed(1234);
  auto layer = make_layer(cell, w.H);
  const std::vector<Tensor> inputs{random_tensor({w.B, w.T, w.I})};
  layer->forward(inputs);  // builds the weights
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    std::vector<Tensor> out = layer->forward(inputs);
    benchmark::DoNotOptimize(out[0].data());
    benchmark::ClobberMemory();
  }
  set_counters(state, w, process_cpu_seconds() - cpu0);
}

void register_all() {
  for (Cell c : {Cell::LSTM, Cell::GRU}) {
    for (const Workload& w : kShapes) {
      benchmark::RegisterBenchmark(workload_name(c, "train", w).c_str(), bm_train, c, w, false)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (Cell c : {Cell::LSTM, Cell::GRU}) {
    for (const Workload& w : kShapes) {
      if (w.I * w.H < 256 * 256) continue;
      benchmark::RegisterBenchmark(workload_name(c, "train_bf16", w).c_str(), bm_train, c, w, true)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (Cell c : {Cell::LSTM, Cell::GRU}) {
    for (const Workload& w : kSingleSteps) {
      benchmark::RegisterBenchmark(workload_name(c, "infer", w).c_str(), bm_infer, c, w)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
    for (const Workload& w : kShapes) {
      benchmark::RegisterBenchmark(workload_name(c, "infer", w).c_str(), bm_infer, c, w)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

// Removes --threads=N from argv (Google Benchmark rejects unknown flags) and
// returns N; 0 when absent.
int take_threads_flag(int& argc, char** argv) {
  int threads = 0;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--threads=", 10) == 0) {
      threads = std::atoi(a + 10);
      if (threads <= 0) {
        std::fprintf(stderr, "seqnet_bench: --threads expects a positive integer, got '%s'\n", a + 10);
        std::exit(2);
      }
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  return threads;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = take_threads_flag(argc, argv);
  if (threads == 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  set_num_threads(threads);
  benchmark::AddCustomContext("seqnet_threads", std::to_string(num_threads()));
  benchmark::AddCustomContext("seqnet_bf16", mixed_precision::hardware_bfloat16() ? "AVX512_BF16" : "emulated");
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
