// compile / fit / evaluate / predict of Model. fit() is a front-end to the
// training loop of train/engine.hpp, fed by the batch sources defined here:
// shuffled (or ordered) batches of rows, and batches bucketed by length.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <string>

#include "dist/comm.hpp"
#include "model/model_impl.hpp"
#include "seqnet/distributed.hpp"
#include "seqnet/data/sequences.hpp"
#include "seqnet/error.hpp"
#include "seqnet/memory.hpp"
#include "seqnet/random.hpp"
#include "train/engine.hpp"
#include "train/progbar.hpp"

namespace seqnet {

namespace {

using Impl = Model::Impl;

bool dims_match(const Shape& data, const Shape& symbolic) {
  if (data.size() != symbolic.size()) return false;
  for (size_t i = 1; i < data.size(); ++i)
    if (symbolic[i] != None && symbolic[i] != data[i]) return false;
  return true;
}

std::string input_label(const Impl& m, size_t i) {
  return fmt::format("input {} ('{}')", i, m.inputs[i].node()->layer->name());
}

// Checks the input arrays against the model's inputs; returns the sample count.
int64_t check_inputs(const Impl& m, const Tensors& x, const char* what) {
  if (x.size() != m.inputs.size()) {
    throw ValueError(fmt::format("{}: {} expected {} input array{} (one per model input), got {}", m.describe(), what,
                                 m.inputs.size(), m.inputs.size() == 1 ? "" : "s", x.size()));
  }
  int64_t n = -1;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].empty() || x[i].rank() < 1) {
      throw ValueError(fmt::format("{}: {} got an empty array for {}", m.describe(), what, input_label(m, i)));
    }
    const Shape& want = m.inputs[i].shape();
    if (!dims_match(x[i].shape(), want)) {
      throw ShapeError(fmt::format("{}: {} expected {} of shape {}, got {}", m.describe(), what, input_label(m, i),
                                   shape_str(want), shape_str(x[i].shape())));
    }
    if (want[0] != None && x[i].dim(0) % want[0] != 0) {
      throw ValueError(fmt::format("{}: {}: {} has a fixed batch size of {}, which does not divide the {} samples",
                                   m.describe(), what, input_label(m, i), want[0], x[i].dim(0)));
    }
    if (n >= 0 && x[i].dim(0) != n) {
      throw ShapeError(fmt::format("{}: {}: all input arrays need the same number of samples; input 0 has {}, input "
                                   "{} has {}",
                                   m.describe(), what, n, i, x[i].dim(0)));
    }
    n = x[i].dim(0);
  }
  return n;
}

void check_targets(const Impl& m, const Tensors& y, int64_t n, const char* what) {
  if (y.size() != m.outputs.size()) {
    throw ValueError(fmt::format("{}: {} expected {} target array{} (one per model output), got {}", m.describe(),
                                 what, m.outputs.size(), m.outputs.size() == 1 ? "" : "s", y.size()));
  }
  for (size_t k = 0; k < y.size(); ++k) {
    const Shape& out = m.outputs[k].shape();
    const Shape& got = y[k].shape();
    bool ok;
    std::string want;
    if (m.losses[k]->sparse()) {
      Shape ids(out.begin(), out.end() - 1);
      Shape ids1 = ids;
      ids1.push_back(1);
      ok = dims_match(got, ids) || dims_match(got, ids1);
      want = shape_str(ids) + " (class ids)";
    } else {
      ok = dims_match(got, out);
      want = shape_str(out);
    }
    if (!ok) {
      throw ShapeError(fmt::format("{}: {} expected target {} (for output '{}') of shape {}, got {}", m.describe(),
                                   what, k, m.output_names[k], want, shape_str(got)));
    }
    if (got[0] != n) {
      throw ShapeError(fmt::format("{}: {}: target {} has {} samples but the inputs have {}", m.describe(), what, k,
                                   got[0], n));
    }
  }
}

// Rows [b0, b1) of t in the order `idx` (a view when idx is empty).
Tensor batch_rows(const Tensor& t, const std::vector<int64_t>& idx, int64_t b0, int64_t b1) {
  if (idx.empty()) return t.rows(b0, b1);
  Shape s = t.shape();
  s[0] = b1 - b0;
  Tensor out = Tensor::uninitialized(s);
  const int64_t row = t.dim(0) == 0 ? 0 : t.size() / t.dim(0);
  for (int64_t i = b0; i < b1; ++i) {
    std::memcpy(out.data() + (i - b0) * row, t.data() + idx[i] * row, static_cast<size_t>(row) * sizeof(float));
  }
  return out;
}

std::vector<Tensor> batch_of(const Tensors& all, const std::vector<int64_t>& idx, int64_t b0, int64_t b1) {
  std::vector<Tensor> out;
  for (const auto& t : all) out.push_back(batch_rows(t, idx, b0, b1));
  return out;
}

Tensor concat_rows(const std::vector<Tensor>& parts) {
  Shape s = parts.at(0).shape();
  int64_t n = 0;
  for (const auto& p : parts) n += p.dim(0);
  s[0] = n;
  Tensor out = Tensor::uninitialized(s);
  int64_t off = 0;
  for (const auto& p : parts) {
    std::copy(p.begin(), p.end(), out.data() + off);
    off += p.size();
  }
  return out;
}

// Weighted running means of one pass (epoch or evaluation).
struct Tally {
  double total_loss = 0;
  std::vector<double> output_loss;
  double samples = 0;

  void reset(Impl& m) {
    total_loss = 0;
    samples = 0;
    output_loss.assign(m.outputs.size(), 0.0);
    for (auto& ms : m.metrics)
      for (auto& metric : ms) metric->reset();
  }
  Logs logs(const Impl& m, const std::string& prefix = "") const {
    Logs l;
    const double n = std::max(samples, 1.0);
    l.set(prefix + "loss", total_loss / n);
    const bool multi = m.outputs.size() > 1;
    if (multi) {
      for (size_t k = 0; k < m.outputs.size(); ++k) l.set(prefix + m.output_names[k] + "_loss", output_loss[k] / n);
    }
    for (size_t k = 0; k < m.metrics.size(); ++k) {
      for (const auto& metric : m.metrics[k]) {
        l.set(prefix + (multi ? m.output_names[k] + "_" : "") + metric->name(), metric->result());
      }
    }
    return l;
  }
};

// Whether the losses and metrics of an output of this rank take its mask:
// masks apply to sequence outputs (batch, time, ...) only.
bool loss_takes_mask(size_t output_rank) { return output_rank >= 3; }

// Forward (+ backward and update when training) of one batch; adds to the tally.
void run_batch(Impl& m, const std::vector<Tensor>& xb, const std::vector<Tensor>& yb, bool train, Tally& tally) {
  m.forward(xb, train);
  const size_t K = m.outputs.size();
  std::vector<Tensor> douts(K);
  double total = 0;
  const double bs = static_cast<double>(xb.at(0).dim(0));
  for (size_t k = 0; k < K; ++k) {
    const Tensor& pred = m.values[m.output_slots[k]];
    Tensor mask = m.masks[m.output_slots[k]];
    if (!loss_takes_mask(static_cast<size_t>(pred.rank()))) mask = Tensor();
    const double lk = m.losses[k]->compute(yb[k], pred, mask, train ? &douts[k] : nullptr);
    if (train && m.loss_weights[k] != 1.0f) {
      for (float& v : douts[k]) v *= m.loss_weights[k];
    }
    total += m.loss_weights[k] * lk;
    tally.output_loss[k] += lk * bs;
    for (auto& metric : m.metrics[k]) metric->update(yb[k], pred, mask);
  }
  total += m.regularization_penalty();
  tally.total_loss += total * bs;
  tally.samples += bs;
  if (!train) return;
  const std::vector<Param*> params = m.params();
  for (Param* p : params) p->grad.fill(0.0f);
  m.backward(douts);
  m.add_regularization_gradients();
  std::vector<Param*> trainable;
  for (Param* p : params)
    if (p->trainable) trainable.push_back(p);
  m.optimizer->apply(trainable);
}

// Data-parallel training (seqnet/distributed.hpp): this rank's slice of
// every batch, the gradient buckets, and the epoch order shared by all
// ranks. Built by fit (and evaluate) when distributed::active().
struct DataParallel {
  int N = 1, rank = 0;
  std::unique_ptr<dist::GradientBuckets> buckets;  // training only
  // start_after[i]: the buckets whose weights are final once the backward
  // pass is through step i.
  std::vector<std::vector<size_t>> start_after;

  // Rows [lo, hi) of a batch of n rows that this rank takes.
  std::pair<int64_t, int64_t> slice(int64_t n) const { return {n * rank / N, n * (rank + 1) / N}; }
  // Rank 0's `ids` on every rank (the epoch's order, drawn on rank 0 from
  // its global generator as one process draws it: a checkpoint's random
  // state continues the same orders on any number of ranks).
  void share(std::vector<int64_t>& ids) const {
    double n = static_cast<double>(ids.size());
    dist::broadcast(&n, sizeof n, "the epoch's order (length)");
    ids.resize(static_cast<size_t>(n));
    dist::broadcast(ids.data(), ids.size() * sizeof(int64_t), "the epoch's order");
  }
};

constexpr size_t kBucketBytes = size_t{4} << 20;

// Sends rank 0's weights, optimizer state and random state to the other
// ranks and prepares the buckets: every rank then starts from the same
// model, and draws the same epoch orders.
std::unique_ptr<DataParallel> make_data_parallel(Impl& m, bool train) {
  auto dp = std::make_unique<DataParallel>();
  dp->N = distributed::world_size();
  dp->rank = distributed::rank();
  const std::vector<Param*> params = m.params();
  for (Param* p : params) {
    dist::broadcast(p->value.data(), static_cast<size_t>(p->value.size()) * sizeof(float),
                    fmt::format("the weights ('{}')", p->name));
  }
  if (!train) return dp;
  std::vector<Param*> trainable;
  for (Param* p : params)
    if (p->trainable) trainable.push_back(p);
  m.optimizer->visit_state(trainable, [](const Param& p, const std::string& slot, Tensor& t) {
    dist::broadcast(t.data(), static_cast<size_t>(t.size()) * sizeof(float),
                    fmt::format("the optimizer state ('{}' of '{}')", slot, p.name));
  });
  double iterations = static_cast<double>(m.optimizer->iterations());
  dist::broadcast(&iterations, sizeof iterations, "the optimizer's iteration count");
  m.optimizer->set_iterations(static_cast<int64_t>(iterations));
  GeneratorState rs = global_generator().state();
  dist::broadcast(&rs, sizeof rs, "the random state");
  if (dp->rank != 0) {
    // Rank 0 draws as one process would; every other rank its own dropout
    // masks, from rank 0's state and its rank.
    Generator g;
    g.set_state(rs);
    global_generator().seed_with(g.next_u64() ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(dp->rank)));
  }
  // A weight's gradient is final once the backward pass is through the
  // first step that uses it; buckets follow that order.
  std::vector<size_t> first_use(trainable.size(), 0);
  for (size_t i = m.steps.size(); i-- > 0;) {
    for (Param* p : m.steps[i].node->layer->params()) {
      const auto it = std::find(trainable.begin(), trainable.end(), p);
      if (it != trainable.end()) first_use[static_cast<size_t>(it - trainable.begin())] = i;
    }
  }
  std::vector<size_t> order(trainable.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return first_use[a] > first_use[b]; });
  std::vector<Param*> ready;
  for (size_t k : order) ready.push_back(trainable[k]);
  dp->buckets = std::make_unique<dist::GradientBuckets>(ready, kBucketBytes);
  std::vector<size_t> bucket_step(dp->buckets->size(), m.steps.size());
  for (size_t k = 0; k < ready.size(); ++k) {
    size_t& at = bucket_step[dp->buckets->bucket_of(k)];
    at = std::min(at, first_use[order[k]]);
  }
  dp->start_after.assign(m.steps.size(), {});
  for (size_t b = 0; b < bucket_step.size(); ++b)
    if (bucket_step[b] < m.steps.size()) dp->start_after[bucket_step[b]].push_back(b);
  return dp;
}

// run_batch for one rank's slice (xb, yb; possibly no rows) of a batch of
// `global_rows` rows: the losses' and metrics' sums and counts are added
// across ranks (with whether each rank's forward pass failed), each rank's
// output gradients divided by the global counts, and the weights'
// gradients summed across ranks before the update. The tally and the
// update are those of one process running the whole batch.
void run_batch_parallel(Impl& m, DataParallel& dp, const std::vector<Tensor>& xb, const std::vector<Tensor>& yb,
                        int64_t global_rows, bool train, Tally& tally) {
  const size_t K = m.outputs.size();
  const int64_t rows = xb.empty() ? 0 : xb[0].dim(0);
  std::vector<Tensor> douts(K);
  // [failed, per output: loss sum, count; per metric: sum, count]
  std::vector<double> mine{0.0};
  std::exception_ptr error;
  try {
    if (rows > 0) m.forward(xb, train);
    for (size_t k = 0; k < K; ++k) {
      Loss::Sum ls;
      std::vector<Metric::Sum> ms(m.metrics[k].size());
      if (rows > 0) {
        const Tensor& pred = m.values[m.output_slots[k]];
        Tensor mask = m.masks[m.output_slots[k]];
        if (!loss_takes_mask(static_cast<size_t>(pred.rank()))) mask = Tensor();
        ls = m.losses[k]->compute_sum(yb[k], pred, mask, train ? &douts[k] : nullptr);
        for (size_t j = 0; j < ms.size(); ++j) ms[j] = m.metrics[k][j]->accumulate(yb[k], pred, mask);
      }
      mine.push_back(ls.total);
      mine.push_back(ls.count);
      for (const auto& s : ms) {
        mine.push_back(s.total);
        mine.push_back(s.count);
      }
    }
  } catch (...) {
    error = std::current_exception();
    mine.assign(mine.size(), 0.0);
    mine[0] = 1.0;
  }
  // A failed rank sends a short vector padded to the common length.
  size_t width = 1;
  for (size_t k = 0; k < K; ++k) width += 2 + 2 * m.metrics[k].size();
  mine.resize(width, 0.0);
  const std::vector<double> all = dist::allgather(mine.data(), width, "the batch's losses and metrics");
  std::vector<double> sum(width, 0.0);
  std::string failed;
  for (int r = 0; r < dp.N; ++r) {
    const double* v = all.data() + static_cast<size_t>(r) * width;
    if (v[0] != 0.0) failed += (failed.empty() ? "" : ", ") + std::to_string(r);
    for (size_t i = 0; i < width; ++i) sum[i] += v[i];
  }
  if (error) std::rethrow_exception(error);
  if (!failed.empty()) {
    throw DistributedError(fmt::format("{}: data-parallel training stopped on rank {}: rank {} failed in this batch "
                                       "(its error is in its own output)",
                                       m.describe(), dp.rank, failed));
  }
  const double bs = static_cast<double>(global_rows);
  double total = 0;
  size_t at = 1;
  std::vector<double> counts(K);
  for (size_t k = 0; k < K; ++k) {
    counts[k] = sum[at + 1];
    const double lk = counts[k] > 0 ? sum[at] / counts[k] : 0.0;
    at += 2;
    total += m.loss_weights[k] * lk;
    tally.output_loss[k] += lk * bs;
    for (auto& metric : m.metrics[k]) {
      metric->add(Metric::Sum{sum[at], sum[at + 1]});
      at += 2;
    }
  }
  total += m.regularization_penalty();
  tally.total_loss += total * bs;
  tally.samples += bs;
  if (!train) return;
  for (size_t k = 0; k < K; ++k) {
    if (douts[k].empty()) continue;
    if (counts[k] > 0) Loss::scale_gradient(douts[k], counts[k]);
    if (m.loss_weights[k] != 1.0f) {
      for (float& v : douts[k]) v *= m.loss_weights[k];
    }
  }
  const std::vector<Param*> params = m.params();
  for (Param* p : params) p->grad.fill(0.0f);
  if (rows > 0) {
    m.backward(douts, [&](size_t step) {
      for (size_t b : dp.start_after[step]) dp.buckets->start(b);
      dp.buckets->progress();
    });
  }
  dp.buckets->finish();
  m.add_regularization_gradients();
  std::vector<Param*> trainable;
  for (Param* p : params)
    if (p->trainable) trainable.push_back(p);
  m.optimizer->apply(trainable);
}

void check_batch_size(const Impl& m, int batch_size, const char* what) {
  if (batch_size <= 0) {
    throw ValueError(fmt::format("{}: {}: batch_size must be a positive integer, got {}", m.describe(), what,
                                 batch_size));
  }
}

void check_stateful(const Model& model, const Impl& m, int64_t n, int batch_size, const char* what) {
  if (model.stateful() && n % batch_size != 0) {
    throw ValueError(fmt::format("{}: {}: a stateful model needs every batch to have the same size, but batch_size "
                                 "{} does not divide the {} samples",
                                 m.describe(), what, batch_size, n));
  }
}

// Refuses a call whose batches would need more memory than `limit` (0: the
// default limit; negative: no check), before anything runs. The call also
// keeps `outputs_kept` copies of the model's outputs for all n samples
// (predict: the batches' outputs, then the joined arrays).
void check_memory(const Impl& m, const Tensors& x, int64_t n, int batch_size, bool training, double outputs_kept,
                  int64_t limit, const char* what, const char* option) {
  if (limit < 0 || n <= 0) return;
  const bool by_default = limit == 0;
  if (by_default) limit = default_memory_limit();
  const int64_t batch = std::min<int64_t>(n, batch_size);
  const Impl::MemoryPlan plan = m.plan_memory(x.items(), batch, training);
  const double kept = outputs_kept * plan.per_sample_outputs * static_cast<double>(n);
  const double need = plan.bytes + kept;
  if (need <= static_cast<double>(limit)) return;
  std::string part = fmt::format("{} alone needs {} for inputs {}", plan.biggest, format_bytes(plan.biggest_bytes),
                                 shape_str(plan.biggest_input));
  if (kept > plan.biggest_bytes) {
    part = fmt::format("the outputs of all {} samples alone take {}", n, format_bytes(kept));
  }
  throw ResourceError(fmt::format("{}: {}: a batch of {} sample{} would need at least {} of activations{}, more than "
                                  "the limit of {} ({}{}); {}. Use a smaller batch_size or raise the limit",
                                  m.describe(), what, batch, batch == 1 ? "" : "s", format_bytes(need),
                                  kept > 0 ? " and outputs" : "", format_bytes(static_cast<double>(limit)), option,
                                  by_default ? "; by default half of this machine's memory" : "", part));
}

Logs evaluate_impl(Model& model, Impl& m, const Tensors& x, const Tensors& y, int batch_size, int verbose,
                   const std::string& prefix, int64_t max_memory_bytes, DataParallel* dp) {
  const int64_t n = check_inputs(m, x, "evaluate");
  check_targets(m, y, n, "evaluate");
  check_batch_size(m, batch_size, "evaluate");
  check_memory(m, x, n, batch_size, false, 0.0, max_memory_bytes, "evaluate", "EvaluateOptions::max_memory_bytes");
  detail::check_stateful_batch_size(model, batch_size, m.describe() + ": evaluate",
                                    fmt::format("batch_size {} for {} samples", batch_size, n));
  check_stateful(model, m, n, batch_size, "evaluate");
  Tally tally;
  tally.reset(m);
  const int64_t steps = (n + batch_size - 1) / batch_size;
  Progbar bar(steps, verbose);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t b0 = s * batch_size, b1 = std::min<int64_t>(n, b0 + batch_size);
    if (dp != nullptr) {
      const auto [lo, hi] = dp->slice(b1 - b0);
      run_batch_parallel(m, *dp, batch_of(x, {}, b0 + lo, b0 + hi), batch_of(y, {}, b0 + lo, b0 + hi), b1 - b0,
                         false, tally);
    } else {
      run_batch(m, batch_of(x, {}, b0, b1), batch_of(y, {}, b0, b1), false, tally);
    }
    bar.update(s + 1, tally.logs(m));
  }
  Logs l = tally.logs(m, prefix);
  bar.finish(l);
  return l;
}

// FitOptions::bucket_by_length: the arrays whose time axis may be cut,
// grouped by time length (arrays of one length are step-aligned and cut
// together), each sample's span of real steps per group, and its length.
struct Buckets {
  struct Group {
    std::vector<size_t> xs, ys;
    std::vector<data::StepSpan> spans;  // per sample: the union over the group's arrays
  };
  std::vector<Group> groups;
  std::vector<int64_t> lengths;  // per sample: real steps summed over the groups

  // The batch of samples `idx`, each group's arrays cut to the steps where
  // any of these samples has real data.
  std::pair<std::vector<Tensor>, std::vector<Tensor>> batch(const Tensors& x, const Tensors& y,
                                                            const std::vector<int64_t>& idx) const {
    std::vector<Tensor> xb, yb;
    std::vector<std::pair<int64_t, int64_t>> x_cut(x.size(), {-1, -1}), y_cut(y.size(), {-1, -1});
    for (const auto& g : groups) {
      int64_t lo = std::numeric_limits<int64_t>::max(), hi = -1;
      for (int64_t i : idx) {
        lo = std::min(lo, g.spans[static_cast<size_t>(i)].first);
        hi = std::max(hi, g.spans[static_cast<size_t>(i)].last);
      }
      if (hi < lo) lo = hi = 0;  // padding only: keep one step
      for (size_t a : g.xs) x_cut[a] = {lo, hi + 1};
      for (size_t a : g.ys) y_cut[a] = {lo, hi + 1};
    }
    for (size_t a = 0; a < x.size(); ++a) xb.push_back(gather(x[a], idx, x_cut[a]));
    for (size_t a = 0; a < y.size(); ++a) yb.push_back(gather(y[a], idx, y_cut[a]));
    return {std::move(xb), std::move(yb)};
  }

  // Rows `idx` of t, and of each row the steps [cut.first, cut.second) (the
  // whole row when cut.first is -1).
  static Tensor gather(const Tensor& t, const std::vector<int64_t>& idx, std::pair<int64_t, int64_t> cut) {
    const int64_t n = t.dim(0), row = n == 0 ? 0 : t.size() / n;
    Shape s = t.shape();
    s[0] = static_cast<int64_t>(idx.size());
    int64_t offset = 0, len = row;
    if (cut.first >= 0) {
      const int64_t step = row / t.dim(1);
      s[1] = cut.second - cut.first;
      offset = cut.first * step;
      len = s[1] * step;
    }
    Tensor out = Tensor::uninitialized(s);
    for (size_t r = 0; r < idx.size(); ++r) {
      std::memcpy(out.data() + static_cast<int64_t>(r) * len, t.data() + idx[r] * row + offset,
                  static_cast<size_t>(len) * sizeof(float));
    }
    return out;
  }
};

Buckets plan_buckets(const Impl& m, const Tensors& x, const Tensors& y) {
  Buckets b;
  std::vector<int64_t> group_T;
  auto add = [&](const Tensor& t, const SymbolicTensor& sym, size_t a, bool is_x) {
    if (sym.rank() < 2 || sym.shape()[1] != None || t.rank() < 2) return;
    const int64_t T = t.dim(1);
    auto it = std::find(group_T.begin(), group_T.end(), T);
    const auto g = static_cast<size_t>(it - group_T.begin());
    if (it == group_T.end()) {
      group_T.push_back(T);
      b.groups.emplace_back();
    }
    auto& grp = b.groups[g];
    (is_x ? grp.xs : grp.ys).push_back(a);
    const std::vector<data::StepSpan> spans = data::real_step_spans(t);
    if (grp.spans.empty()) {
      grp.spans = spans;
    } else {
      for (size_t i = 0; i < spans.size(); ++i) {
        grp.spans[i].first = std::min(grp.spans[i].first, spans[i].first);
        grp.spans[i].last = std::max(grp.spans[i].last, spans[i].last);
      }
    }
  };
  for (size_t a = 0; a < x.size(); ++a) add(x[a], m.inputs[a], a, true);
  for (size_t a = 0; a < y.size(); ++a) add(y[a], m.outputs[a], a, false);
  if (b.groups.empty()) {
    throw ValueError(fmt::format("{}: fit: bucket_by_length needs an input or output with a None time axis "
                                 "(Input({{None, ...}})); this model's time axes are all fixed",
                                 m.describe()));
  }
  // The cut steps must not count: the graph says where masks can flow.
  // Every cut input must have its padding masked somewhere, and every cut
  // target's output must carry a mask into its loss.
  const std::vector<std::vector<bool>> sources = m.mask_sources();
  const char* how = "a Masking layer or Embedding(mask_zero) on the path";
  for (const auto& g : b.groups) {
    for (size_t a : g.xs) {
      bool masked = false;
      for (const auto& s : sources) masked = masked || s[a];
      if (!masked) {
        throw ValueError(fmt::format("{}: fit: bucket_by_length cuts {} to its real steps, but no mask is made from "
                                     "its padding ({}); without a mask the padding steps change the results",
                                     m.describe(), input_label(m, a), how));
      }
    }
    for (size_t k : g.ys) {
      const auto& s = sources[static_cast<size_t>(m.output_slots[k])];
      const bool masked = std::find(s.begin(), s.end(), true) != s.end() &&
                          loss_takes_mask(m.outputs[k].shape().size());
      if (!masked) {
        throw ValueError(fmt::format("{}: fit: bucket_by_length cuts target {} to its real steps, but no mask "
                                     "reaches the loss of output '{}' ({}, and a sequence output); without a mask "
                                     "the padding steps change the results",
                                     m.describe(), k, m.output_names[k], how));
      }
    }
  }
  b.lengths.assign(static_cast<size_t>(x[0].dim(0)), 0);
  for (const auto& g : b.groups)
    for (size_t i = 0; i < g.spans.size(); ++i) b.lengths[i] += g.spans[i].length();
  return b;
}

}  // namespace

// ---------------------------------------------------------------- compile

void Model::compile(const CompileOptions& options) {
  Impl& m = *impl_;
  // A Sequential model may be compiled before it is built: it has one output.
  const size_t K = has_graph() ? m.outputs.size() : 1;
  if (options.loss.items.empty()) throw ValueError(fmt::format("{}: compile() needs a loss", m.describe()));
  if (options.loss.items.size() != 1 && options.loss.items.size() != K) {
    throw ValueError(fmt::format("{}: compile() got {} losses for {} outputs; give one, or one per output",
                                 m.describe(), options.loss.items.size(), K));
  }
  if (!options.loss_weights.empty() && options.loss_weights.size() != K) {
    throw ValueError(fmt::format("{}: compile() got {} loss_weights for {} outputs", m.describe(),
                                 options.loss_weights.size(), K));
  }
  for (float w : options.loss_weights) {
    if (!std::isfinite(w) || w < 0) {
      throw ValueError(fmt::format("{}: loss_weights must be finite and >= 0, got {}", m.describe(), w));
    }
  }
  if (!options.optimizer.optimizer) throw ValueError(fmt::format("{}: compile() got a null optimizer", m.describe()));
  m.losses.clear();
  for (size_t k = 0; k < K; ++k) {
    const auto& spec = options.loss.items.size() == 1 ? options.loss.items[0] : options.loss.items[k];
    if (!spec.loss) throw ValueError(fmt::format("{}: compile() got a null loss", m.describe()));
    m.losses.push_back(spec.loss);
  }
  m.loss_weights = options.loss_weights.empty() ? std::vector<float>(K, 1.0f) : options.loss_weights;
  m.metric_names = options.metrics;
  m.metrics.clear();
  m.metrics.resize(K);
  for (size_t k = 0; k < K; ++k)
    for (const auto& name : options.metrics) m.metrics[k].push_back(make_metric(name, m.losses[k]->name()));
  m.optimizer = options.optimizer.optimizer;
  m.compiled = true;
}

bool Model::compiled() const { return impl_->compiled; }

Optimizer& Model::optimizer() const {
  if (!impl_->optimizer) throw ValueError(fmt::format("{}: the model is not compiled", impl_->describe()));
  return *impl_->optimizer;
}

// ---------------------------------------------------------------- fit

namespace {

// Batches of rows of (x, y): trained with run_batch, logged with a Tally
// (sample-weighted means, metrics over the whole epoch), validated with
// evaluate_impl.
class RowBatches : public detail::BatchSource {
 public:
  RowBatches(Model& model, Impl& m, Tensors x, Tensors y, Tensors vx, Tensors vy, int batch_size, DataParallel* dp)
      : model_(model), m_(m), x_(std::move(x)), y_(std::move(y)), vx_(std::move(vx)), vy_(std::move(vy)),
        batch_size_(batch_size), n_(x_[0].dim(0)), dp_(dp) {}

  Logs train_batch(int64_t b) override {
    const auto [xb, yb] = batch(b);
    if (dp_ != nullptr) {
      run_batch_parallel(m_, *dp_, xb, yb, batch_samples(b), true, tally_);
    } else {
      run_batch(m_, xb, yb, true, tally_);
    }
    return tally_.logs(m_);
  }
  Logs end_epoch() override { return tally_.logs(m_); }
  Logs validate() override {
    if (vx_.empty()) return Logs();
    // fit checked the validation batches' memory already.
    return evaluate_impl(model_, m_, vx_, vy_, batch_size_, 0, "val_", -1, dp_);
  }

 protected:
  // The arrays of batch `b` of this epoch (in data-parallel training, this
  // rank's slice of it).
  virtual std::pair<std::vector<Tensor>, std::vector<Tensor>> batch(int64_t b) const = 0;
  int64_t steps() const { return (n_ + batch_size_ - 1) / batch_size_; }

  Model& model_;
  Impl& m_;
  Tensors x_, y_, vx_, vy_;
  int batch_size_;
  int64_t n_;
  DataParallel* dp_;
  Tally tally_;
};

// Consecutive batches of batch_size rows (the last one may be smaller), in
// a new random order every epoch when shuffling.
class ShuffledBatches : public RowBatches {
 public:
  ShuffledBatches(Model& model, Impl& m, Tensors x, Tensors y, Tensors vx, Tensors vy, int batch_size, bool shuffle,
                  DataParallel* dp)
      : RowBatches(model, m, std::move(x), std::move(y), std::move(vx), std::move(vy), batch_size, dp),
        shuffle_(shuffle) {}

  int64_t begin_epoch(int) override {
    if (shuffle_) {
      if (dp_ == nullptr || dp_->rank == 0) order_ = global_generator().permutation(n_);
      if (dp_ != nullptr) dp_->share(order_);
    }
    tally_.reset(m_);
    return steps();
  }
  int64_t batch_samples(int64_t b) const override {
    return std::min<int64_t>(n_, (b + 1) * batch_size_) - b * batch_size_;
  }

 protected:
  std::pair<std::vector<Tensor>, std::vector<Tensor>> batch(int64_t b) const override {
    int64_t b0 = b * batch_size_, b1 = std::min<int64_t>(n_, b0 + batch_size_);
    if (dp_ != nullptr) {
      const auto [lo, hi] = dp_->slice(b1 - b0);
      b1 = b0 + hi;
      b0 += lo;
    }
    return {batch_of(x_, order_, b0, b1), batch_of(y_, order_, b0, b1)};
  }

 private:
  bool shuffle_;
  std::vector<int64_t> order_;
};

// FitOptions::bucket_by_length: batches of samples of similar lengths, each
// cut to its real steps.
class BucketedBatches : public RowBatches {
 public:
  BucketedBatches(Model& model, Impl& m, Tensors x, Tensors y, Tensors vx, Tensors vy, int batch_size, bool shuffle,
                  DataParallel* dp)
      : RowBatches(model, m, std::move(x), std::move(y), std::move(vx), std::move(vy), batch_size, dp),
        shuffle_(shuffle), buckets_(plan_buckets(m, x_, y_)) {}

  int64_t begin_epoch(int) override {
    if (dp_ == nullptr || dp_->rank == 0) {
      batches_ = data::length_buckets(buckets_.lengths, batch_size_, shuffle_ ? &global_generator() : nullptr);
    }
    if (dp_ != nullptr) {
      // Rank 0's batches: their sizes, then their samples.
      std::vector<int64_t> sizes, ids;
      for (const auto& b : batches_) {
        sizes.push_back(static_cast<int64_t>(b.size()));
        ids.insert(ids.end(), b.begin(), b.end());
      }
      dp_->share(sizes);
      dp_->share(ids);
      batches_.clear();
      size_t at = 0;
      for (int64_t k : sizes) {
        batches_.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(at),
                              ids.begin() + static_cast<std::ptrdiff_t>(at + static_cast<size_t>(k)));
        at += static_cast<size_t>(k);
      }
    }
    tally_.reset(m_);
    return static_cast<int64_t>(batches_.size());
  }
  int64_t batch_samples(int64_t b) const override {
    return static_cast<int64_t>(batches_.at(static_cast<size_t>(b)).size());
  }

 protected:
  std::pair<std::vector<Tensor>, std::vector<Tensor>> batch(int64_t b) const override {
    const std::vector<int64_t>& all = batches_.at(static_cast<size_t>(b));
    if (dp_ == nullptr) return buckets_.batch(x_, y_, all);
    const auto [lo, hi] = dp_->slice(static_cast<int64_t>(all.size()));
    return buckets_.batch(x_, y_, std::vector<int64_t>(all.begin() + lo, all.begin() + hi));
  }

 private:
  bool shuffle_;
  Buckets buckets_;
  std::vector<std::vector<int64_t>> batches_;
};

}  // namespace

History Model::fit(const Tensors& x_in, const Tensors& y_in, const FitOptions& o) {
  ensure_graph(x_in);
  Impl& m = *impl_;
  const std::string ctx = m.describe() + ": fit";
  if (!m.compiled) throw ValueError(fmt::format("{}: call compile() before fit()", m.describe()));
  check_batch_size(m, o.batch_size, "fit");
  const detail::LoopOptions loop{
      .epochs = o.epochs, .initial_epoch = o.initial_epoch, .verbose = o.verbose, .callbacks = o.callbacks};
  detail::check_loop_options(loop, ctx);
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0)) {
    throw ValueError(fmt::format("{}: fit: validation_split must be in [0, 1), got {}", m.describe(),
                                 o.validation_split));
  }
  const int64_t n_all = check_inputs(m, x_in, "fit");
  check_targets(m, y_in, n_all, "fit");

  Tensors x = x_in, y = y_in, vx, vy;
  const bool have_val_data = !o.validation_data.x.empty() || !o.validation_data.y.empty();
  if (have_val_data) {
    vx = o.validation_data.x;
    vy = o.validation_data.y;
    const int64_t nv = check_inputs(m, vx, "fit (validation_data)");
    check_targets(m, vy, nv, "fit (validation_data)");
  } else if (o.validation_split > 0) {
    const auto split_at = static_cast<int64_t>(static_cast<double>(n_all) * (1.0 - o.validation_split));
    if (split_at <= 0 || split_at >= n_all) {
      throw ValueError(fmt::format("{}: fit: validation_split {} of {} samples leaves no training or no validation "
                                   "samples",
                                   m.describe(), o.validation_split, n_all));
    }
    Tensors tx, ty;
    for (const auto& t : x_in) {
      tx.push_back(t.rows(0, split_at));
      vx.push_back(t.rows(split_at, n_all));
    }
    for (const auto& t : y_in) {
      ty.push_back(t.rows(0, split_at));
      vy.push_back(t.rows(split_at, n_all));
    }
    x = tx;
    y = ty;
  }
  const int64_t n = x[0].dim(0);
  if (n == 0) throw ValueError(fmt::format("{}: fit: no training samples", m.describe()));
  if (stateful()) {
    if (o.shuffle) {
      throw ValueError(fmt::format("{}: fit: a stateful model must be trained with shuffle = false (its states carry "
                                   "over from one batch to the next)",
                                   m.describe()));
    }
    detail::check_stateful_batch_size(*this, o.batch_size, ctx,
                                      fmt::format("batch_size {} for {} samples", o.batch_size, n));
    check_stateful(*this, m, n, o.batch_size, "fit");
    if (!vx.empty()) check_stateful(*this, m, vx[0].dim(0), o.batch_size, "fit (validation)");
    if (o.bucket_by_length) {
      throw ValueError(fmt::format("{}: fit: bucket_by_length reorders the samples; a stateful model needs them in "
                                   "order",
                                   m.describe()));
    }
  }

  check_memory(m, x, n, o.batch_size, true, 0.0, o.max_memory_bytes, "fit", "FitOptions::max_memory_bytes");
  if (!vx.empty()) {
    check_memory(m, vx, vx[0].dim(0), o.batch_size, false, 0.0, o.max_memory_bytes, "fit (validation)",
                 "FitOptions::max_memory_bytes");
  }
  std::unique_ptr<DataParallel> dp;
  detail::LoopOptions run = loop;
  if (o.distribute) distributed::init();
  if (o.distribute && distributed::active()) {
    if (stateful() && o.batch_size % distributed::world_size() != 0) {
      throw ValueError(fmt::format("{}: fit: a stateful model trained on {} ranks needs a batch_size divisible by {} "
                                   "(each rank keeps the states of its rows), got {}",
                                   m.describe(), distributed::world_size(), distributed::world_size(), o.batch_size));
    }
    dp = make_data_parallel(m, true);
    if (distributed::rank() != 0) run.verbose = 0;
  }
  if (o.bucket_by_length) {
    BucketedBatches source(*this, m, x, y, vx, vy, o.batch_size, o.shuffle, dp.get());
    return detail::run_epochs(*this, source, run);
  }
  ShuffledBatches source(*this, m, x, y, vx, vy, o.batch_size, o.shuffle, dp.get());
  return detail::run_epochs(*this, source, run);
}

History Model::fit(const Tensors& x, const Tensors& y, int epochs, int batch_size, const FitOptions& rest) {
  const FitOptions defaults;
  if ((rest.epochs != defaults.epochs && rest.epochs != epochs) ||
      (rest.batch_size != defaults.batch_size && rest.batch_size != batch_size)) {
    throw ValueError(fmt::format("{}: fit(x, y, epochs = {}, batch_size = {}, options) got other values in the "
                                 "options too (epochs {}, batch_size {}); give each once",
                                 impl_->describe(), epochs, batch_size, rest.epochs, rest.batch_size));
  }
  FitOptions o = rest;
  o.epochs = epochs;
  o.batch_size = batch_size;
  return fit(x, y, o);
}

// ---------------------------------------------------------------- evaluate / predict

Logs Model::evaluate(const Tensors& x, const Tensors& y, const EvaluateOptions& options) {
  ensure_graph(x);
  if (!impl_->compiled) throw ValueError(fmt::format("{}: call compile() before evaluate()", impl_->describe()));
  std::unique_ptr<DataParallel> dp;
  int verbose = options.verbose;
  if (options.distribute) distributed::init();
  if (options.distribute && distributed::active()) {
    if (stateful() && options.batch_size % distributed::world_size() != 0) {
      throw ValueError(fmt::format("{}: evaluate: a stateful model evaluated on {} ranks needs a batch_size "
                                   "divisible by {}, got {}",
                                   impl_->describe(), distributed::world_size(), distributed::world_size(),
                                   options.batch_size));
    }
    dp = make_data_parallel(*impl_, false);
    if (distributed::rank() != 0) verbose = 0;
  }
  return evaluate_impl(*this, *impl_, x, y, options.batch_size, verbose, "", options.max_memory_bytes, dp.get());
}

Tensors Model::predict(const Tensors& x, const PredictOptions& options) {
  ensure_graph(x);
  Impl& m = *impl_;
  const int64_t n = check_inputs(m, x, "predict");
  check_batch_size(m, options.batch_size, "predict");
  detail::check_stateful_batch_size(*this, options.batch_size, m.describe() + ": predict",
                                    fmt::format("batch_size {} for {} samples", options.batch_size, n));
  check_stateful(*this, m, n, options.batch_size, "predict");
  // Each batch's outputs are kept, then joined into one array per output.
  check_memory(m, x, n, options.batch_size, false, 2.0, options.max_memory_bytes, "predict",
               "PredictOptions::max_memory_bytes");
  const size_t K = m.outputs.size();
  std::vector<std::vector<Tensor>> parts(K);
  const int64_t steps = (n + options.batch_size - 1) / options.batch_size;
  Progbar bar(steps, options.verbose);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t b0 = s * options.batch_size, b1 = std::min<int64_t>(n, b0 + options.batch_size);
    m.forward(batch_of(x, {}, b0, b1), false);
    for (size_t k = 0; k < K; ++k) parts[k].push_back(m.values[m.output_slots[k]]);
    bar.update(s + 1, Logs());
  }
  bar.finish(Logs());
  Tensors out;
  for (size_t k = 0; k < K; ++k) {
    if (parts[k].empty()) {
      Shape s = m.outputs[k].shape();
      s[0] = 0;
      for (auto& d : s)
        if (d == None) d = 0;
      out.push_back(Tensor(s));
    } else {
      out.push_back(parts[k].size() == 1 ? parts[k][0] : concat_rows(parts[k]));
    }
  }
  return out;
}

Logs Model::train_on_batch(const Tensors& x, const Tensors& y) {
  ensure_graph(x);
  Impl& m = *impl_;
  if (!m.compiled) throw ValueError(fmt::format("{}: call compile() before train_on_batch()", m.describe()));
  const int64_t n = check_inputs(m, x, "train_on_batch");
  check_targets(m, y, n, "train_on_batch");
  detail::check_stateful_batch_size(*this, n, m.describe() + ": train_on_batch",
                                    fmt::format("a batch of {} samples", n));
  Tally tally;
  tally.reset(m);
  run_batch(m, x.items(), y.items(), true, tally);
  return tally.logs(m);
}

Logs Model::test_on_batch(const Tensors& x, const Tensors& y) {
  ensure_graph(x);
  Impl& m = *impl_;
  if (!m.compiled) throw ValueError(fmt::format("{}: call compile() before test_on_batch()", m.describe()));
  const int64_t n = check_inputs(m, x, "test_on_batch");
  check_targets(m, y, n, "test_on_batch");
  detail::check_stateful_batch_size(*this, n, m.describe() + ": test_on_batch",
                                    fmt::format("a batch of {} samples", n));
  Tally tally;
  tally.reset(m);
  run_batch(m, x.items(), y.items(), false, tally);
  return tally.logs(m);
}

Tensors Model::predict_on_batch(const Tensors& x) {
  ensure_graph(x);
  Impl& m = *impl_;
  const int64_t n = check_inputs(m, x, "predict_on_batch");
  detail::check_stateful_batch_size(*this, n, m.describe() + ": predict_on_batch",
                                    fmt::format("a batch of {} samples", n));
  m.forward(x.items(), false);
  Tensors out;
  for (int slot : m.output_slots) out.push_back(m.values[slot]);
  return out;
}

}  // namespace seqnet
