// Truncated BPTT over a stateful model (train/truncated_bptt.hpp).

#include "seqnet/train/truncated_bptt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "seqnet/error.hpp"
#include "seqnet/random.hpp"

namespace seqnet {

namespace {

// Rows order[b0..b1) (all rows in order when `order` is empty), steps
// [t0, t1) of a (N, T, ...) array.
Tensor window_of(const Tensor& a, const std::vector<int64_t>& order, int64_t b0, int64_t b1, int64_t t0, int64_t t1) {
  Shape s = a.shape();
  const int64_t T = s[1];
  const int64_t step = a.size() / (s[0] * T);  // floats per time step
  s[0] = b1 - b0;
  s[1] = t1 - t0;
  Tensor out = Tensor::uninitialized(s);
  for (int64_t i = b0; i < b1; ++i) {
    const int64_t r = order.empty() ? i : order[i];
    std::memcpy(out.data() + (i - b0) * (t1 - t0) * step, a.data() + (r * T + t0) * step,
                static_cast<size_t>((t1 - t0) * step) * sizeof(float));
  }
  return out;
}

}  // namespace

History fit_truncated_bptt(Model& model, const Tensors& x, const Tensors& y, const TruncatedBPTTOptions& o) {
  const std::string ctx = fmt::format("fit_truncated_bptt (model \"{}\")", model.name());
  if (o.window <= 0) throw ValueError(fmt::format("{}: window must be a positive number of steps, got {}", ctx, o.window));
  if (o.epochs < 0) throw ValueError(fmt::format("{}: epochs must be >= 0, got {}", ctx, o.epochs));
  if (o.batch_size <= 0) throw ValueError(fmt::format("{}: batch_size must be a positive integer, got {}", ctx, o.batch_size));
  if (!model.compiled()) throw ValueError(fmt::format("{}: compile the model first", ctx));
  if (!model.stateful()) {
    throw ValueError(fmt::format("{}: truncated BPTT needs a stateful model (recurrent layers with stateful = true) to "
                                 "carry the states from one window to the next",
                                 ctx));
  }
  if (x.size() != model.inputs().size() || y.size() != model.outputs().size()) {
    throw ValueError(fmt::format("{}: expected {} input array(s) and {} target array(s), got {} and {}", ctx,
                                 model.inputs().size(), model.outputs().size(), x.size(), y.size()));
  }
  if (x.empty() || x[0].rank() < 2) {
    throw ShapeError(fmt::format("{}: input 0 must be (samples, time, ...), got {}", ctx,
                                 x.empty() ? std::string("nothing") : shape_str(x[0].shape())));
  }
  const int64_t N = x[0].dim(0), T = x[0].dim(1);
  auto check = [&](const Tensor& a, const char* what, size_t i) {
    if (a.rank() < 2 || a.dim(0) != N || a.dim(1) != T) {
      throw ShapeError(fmt::format("{}: {} {} must be (samples, time, ...) = ({}, {}, ...) like input 0, got {}", ctx,
                                   what, i, N, T, shape_str(a.shape())));
    }
  };
  for (size_t i = 0; i < x.size(); ++i) check(x[i], "input", i);
  for (size_t k = 0; k < y.size(); ++k) check(y[k], "target", k);
  for (size_t i = 0; i < x.size(); ++i) {
    const Shape& s = model.inputs()[i].shape();
    if (s.size() < 2) throw ShapeError(fmt::format("{}: model input {} has no time axis: {}", ctx, i, shape_str(s)));
    const int64_t last = T % o.window == 0 ? o.window : T % o.window;
    if (s[1] != None && (s[1] != o.window || last != o.window)) {
      throw ShapeError(fmt::format("{}: model input {} takes {} steps, but the windows have {} steps{} (use a window "
                                   "that divides the length, or a None time axis)",
                                   ctx, i, s[1], o.window,
                                   last != o.window ? fmt::format(" and the last one {}", last) : std::string()));
    }
    if (s[0] != None && s[0] != o.batch_size) {
      throw ValueError(fmt::format("{}: model input {} has a fixed batch size of {}, got batch_size {}", ctx, i, s[0],
                                   o.batch_size));
    }
    if (s[0] != None && N % s[0] != 0) {
      throw ValueError(fmt::format("{}: the fixed batch size {} does not divide the {} sequences", ctx, s[0], N));
    }
  }
  if (N == 0 || T == 0) throw ValueError(fmt::format("{}: no training data", ctx));

  History history;
  Logs none;
  history.on_train_begin(none);
  const int64_t batches = (N + o.batch_size - 1) / o.batch_size;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int64_t> order = o.shuffle ? global_generator().permutation(N) : std::vector<int64_t>{};
    LogsMean epoch_mean;
    for (int64_t bi = 0; bi < batches && !model.stop_training; ++bi) {
      const int64_t b0 = bi * o.batch_size, b1 = std::min<int64_t>(N, b0 + o.batch_size);
      model.reset_states();
      for (int64_t s = 0; s < T; s += o.window) {
        const int64_t s1 = std::min<int64_t>(T, s + o.window);
        std::vector<Tensor> xs, ys;
        for (const auto& a : x) xs.push_back(window_of(a, order, b0, b1, s, s1));
        for (const auto& a : y) ys.push_back(window_of(a, order, b0, b1, s, s1));
        const Logs l = model.train_on_batch(Tensors(xs), Tensors(ys));
        epoch_mean.add(l, static_cast<double>((b1 - b0) * (s1 - s)));
      }
    }
    model.reset_states();
    Logs epoch_logs = epoch_mean.mean();
    history.on_epoch_end(epoch, epoch_logs);
    if (o.verbose > 0) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("Epoch %d/%d - %.1fs - %s\n", epoch + 1, o.epochs, secs, epoch_logs.format().c_str());
      std::fflush(stdout);
    }
    if (model.stop_training) break;
  }
  return history;
}

}  // namespace seqnet
