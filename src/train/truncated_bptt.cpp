// Truncated BPTT over a stateful model (train/truncated_bptt.hpp): a front-end
// to the training loop of train/engine.hpp, fed by batches of sequences that
// are trained window by window.

#include "seqnet/train/truncated_bptt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "seqnet/error.hpp"
#include "seqnet/random.hpp"
#include "train/engine.hpp"

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

struct Extent {
  int64_t N = 0, T = 0;
};

// Checks x and y (one array per model input / output, all (N, T, ...))
// against the model and the window. `what` names the arrays in messages
// ("training" or "validation").
Extent check_arrays(const Model& model, const Tensors& x, const Tensors& y, const TruncatedBPTTOptions& o,
                    const std::string& context, const std::string& what) {
  const std::string ctx = what == "training" ? context : context + " (validation_data)";
  if (x.size() != model.inputs().size() || y.size() != model.outputs().size()) {
    throw ValueError(fmt::format("{}: expected {} input array(s) and {} target array(s), got {} and {}", ctx,
                                 model.inputs().size(), model.outputs().size(), x.size(), y.size()));
  }
  if (x.empty() || x[0].rank() < 2) {
    throw ShapeError(fmt::format("{}: input 0 must be (samples, time, ...), got {}", ctx,
                                 x.empty() ? std::string("nothing") : shape_str(x[0].shape())));
  }
  const int64_t N = x[0].dim(0), T = x[0].dim(1);
  auto check = [&](const Tensor& a, const char* kind, size_t i) {
    if (a.rank() < 2 || a.dim(0) != N || a.dim(1) != T) {
      throw ShapeError(fmt::format("{}: {} {} must be (samples, time, ...) = ({}, {}, ...) like input 0, got {}", ctx,
                                   kind, i, N, T, shape_str(a.shape())));
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
    if (s[0] != None && N % s[0] != 0) {
      throw ValueError(fmt::format("{}: the fixed batch size {} does not divide the {} sequences", ctx, s[0], N));
    }
  }
  if (N == 0 || T == 0) throw ValueError(fmt::format("{}: no {} data", ctx, what));
  return {N, T};
}

// The windows of rows order[b0, b1) in order, from reset states: one
// train_on_batch (or test_on_batch) each, its logs added to `mean` weighted
// by samples x steps.
void run_windows(Model& model, const Tensors& x, const Tensors& y, const std::vector<int64_t>& order, int64_t b0,
                 int64_t b1, int64_t T, int64_t window, bool train, LogsMean& mean) {
  model.reset_states();
  for (int64_t s = 0; s < T; s += window) {
    const int64_t s1 = std::min<int64_t>(T, s + window);
    std::vector<Tensor> xs, ys;
    for (const auto& a : x) xs.push_back(window_of(a, order, b0, b1, s, s1));
    for (const auto& a : y) ys.push_back(window_of(a, order, b0, b1, s, s1));
    const Logs l =
        train ? model.train_on_batch(Tensors(xs), Tensors(ys)) : model.test_on_batch(Tensors(xs), Tensors(ys));
    mean.add(l, static_cast<double>((b1 - b0) * (s1 - s)));
  }
}

// Batches of batch_size sequences (in a new random order every epoch when
// shuffling), each trained window by window with its states carried across
// the windows and reset before the next batch.
class Windows : public detail::BatchSource {
 public:
  Windows(Model& model, const Tensors& x, const Tensors& y, const TruncatedBPTTOptions& o, Extent train, Extent val)
      : model_(model), x_(x), y_(y), o_(o), train_(train), val_(val) {}

  int64_t begin_epoch(int) override {
    order_ = o_.shuffle ? global_generator().permutation(train_.N) : std::vector<int64_t>{};
    mean_ = LogsMean();
    return (train_.N + o_.batch_size - 1) / o_.batch_size;
  }
  int64_t batch_samples(int64_t b) const override {
    return std::min<int64_t>(train_.N, (b + 1) * o_.batch_size) - b * o_.batch_size;
  }
  Logs train_batch(int64_t b) override {
    const int64_t b0 = b * o_.batch_size, b1 = std::min<int64_t>(train_.N, b0 + o_.batch_size);
    run_windows(model_, x_, y_, order_, b0, b1, train_.T, o_.window, true, mean_);
    return mean_.mean();
  }
  Logs end_epoch() override {
    model_.reset_states();
    return mean_.mean();
  }
  Logs validate() override {
    if (val_.N == 0) return Logs();
    LogsMean mean;
    for (int64_t b0 = 0; b0 < val_.N; b0 += o_.batch_size) {
      const int64_t b1 = std::min<int64_t>(val_.N, b0 + o_.batch_size);
      run_windows(model_, o_.validation_data.x, o_.validation_data.y, {}, b0, b1, val_.T, o_.window, false, mean);
    }
    model_.reset_states();
    Logs out;
    const Logs means = mean.mean();
    for (const auto& [k, v] : means.items()) out.set("val_" + k, v);
    return out;
  }

 private:
  Model& model_;
  const Tensors& x_;
  const Tensors& y_;
  const TruncatedBPTTOptions& o_;
  Extent train_, val_;
  std::vector<int64_t> order_;
  LogsMean mean_;
};

}  // namespace

History fit_truncated_bptt(Model& model, const Tensors& x, const Tensors& y, const TruncatedBPTTOptions& o) {
  const std::string ctx = fmt::format("fit_truncated_bptt (model \"{}\")", model.name());
  const detail::LoopOptions loop{
      .epochs = o.epochs, .initial_epoch = o.initial_epoch, .verbose = o.verbose, .callbacks = o.callbacks};
  if (o.window <= 0) throw ValueError(fmt::format("{}: window must be a positive number of steps, got {}", ctx, o.window));
  detail::check_loop_options(loop, ctx);
  detail::refuse_data_parallel(ctx);
  if (o.batch_size <= 0) throw ValueError(fmt::format("{}: batch_size must be a positive integer, got {}", ctx, o.batch_size));
  if (!model.compiled()) throw ValueError(fmt::format("{}: compile the model first", ctx));
  if (!model.stateful()) {
    throw ValueError(fmt::format("{}: truncated BPTT needs a stateful model (recurrent layers with stateful = true) to "
                                 "carry the states from one window to the next",
                                 ctx));
  }
  detail::check_stateful_batch_size(model, o.batch_size, ctx, fmt::format("batch_size {}", o.batch_size));
  const Extent train = check_arrays(model, x, y, o, ctx, "training");
  Extent val;
  if (!o.validation_data.x.empty() || !o.validation_data.y.empty()) {
    val = check_arrays(model, o.validation_data.x, o.validation_data.y, o, ctx, "validation");
  }
  Windows source(model, x, y, o, train, val);
  return detail::run_epochs(model, source, loop);
}

}  // namespace seqnet
