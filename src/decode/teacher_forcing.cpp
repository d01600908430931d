// Teacher-forcing inputs, sampling schedules and scheduled-sampling training
// (decode/teacher_forcing.hpp).

#include "seqnet/decode/teacher_forcing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "decode/step_decoder.hpp"
#include "seqnet/error.hpp"
#include "seqnet/random.hpp"

namespace seqnet::decode {

Tensor teacher_forcing_inputs(const Tensor& targets, const TeacherForcingOptions& o) {
  const char* ctx = "decode::teacher_forcing_inputs";
  if (targets.rank() != 2 && targets.rank() != 3) {
    throw ValueError(fmt::format("{}: expected targets of shape (samples, time) ids or (samples, time, vocabulary) "
                                 "one-hot, got {}",
                                 ctx, shape_str(targets.shape())));
  }
  const int64_t N = targets.dim(0), T = targets.dim(1);
  if (targets.rank() == 2) {
    if (o.start_id < 0) {
      throw ValueError(fmt::format("{}: argument `start_id` must be a symbol id >= 0 for id targets, got {}", ctx,
                                   o.start_id));
    }
    Tensor in({N, T});
    for (int64_t n = 0; n < N; ++n) {
      in[n * T] = static_cast<float>(o.start_id);
      for (int64_t t = 1; t < T; ++t) {
        const float v = targets[n * T + t - 1];
        in[n * T + t] = (o.stop_id >= 0 && v == static_cast<float>(o.stop_id)) ? static_cast<float>(o.pad_id) : v;
      }
    }
    return in;
  }
  const int64_t V = targets.dim(2);
  if (o.start_id < -1 || o.start_id >= V) {
    throw ValueError(fmt::format("{}: argument `start_id` must be in [0, {}) or -1 (an all-zero vector), got {}", ctx,
                                 V, o.start_id));
  }
  if (o.stop_id < -1 || o.stop_id >= V) {
    throw ValueError(fmt::format("{}: argument `stop_id` must be in [0, {}) or -1 (none), got {}", ctx, V, o.stop_id));
  }
  Tensor in({N, T, V});
  for (int64_t n = 0; n < N; ++n) {
    if (o.start_id >= 0) in[n * T * V + o.start_id] = 1.0f;
    for (int64_t t = 1; t < T; ++t) {
      const float* src = targets.data() + (n * T + t - 1) * V;
      if (o.stop_id >= 0 && src[o.stop_id] != 0.0f) continue;  // the stop symbol becomes padding
      std::copy_n(src, V, in.data() + (n * T + t) * V);
    }
  }
  return in;
}

// ---------------------------------------------------------------- schedules

SamplingSchedule SamplingSchedule::constant(double p) { return {"constant", p, 0.0, 0.0}; }
SamplingSchedule SamplingSchedule::linear(double k, double c, double minimum) { return {"linear", k, c, minimum}; }
SamplingSchedule SamplingSchedule::exponential(double k, double minimum) { return {"exponential", k, 0.0, minimum}; }
SamplingSchedule SamplingSchedule::inverse_sigmoid(double k, double minimum) {
  return {"inverse_sigmoid", k, 0.0, minimum};
}

void SamplingSchedule::validate() const {
  const char* ctx = "SamplingSchedule";
  if (!std::isfinite(k) || !std::isfinite(c) || !std::isfinite(minimum)) {
    throw ValueError(fmt::format("{}: k, c and minimum must be finite, got k {}, c {}, minimum {}", ctx, k, c,
                                 minimum));
  }
  if (minimum < 0 || minimum > 1) {
    throw ValueError(fmt::format("{}: argument `minimum` must be in [0, 1], got {}", ctx, minimum));
  }
  if (kind == "constant") {
    if (k < 0 || k > 1) throw ValueError(fmt::format("{} \"constant\": k must be a probability in [0, 1], got {}", ctx, k));
  } else if (kind == "linear") {
    if (c < 0) throw ValueError(fmt::format("{} \"linear\": the slope c must be >= 0, got {}", ctx, c));
  } else if (kind == "exponential") {
    if (!(k > 0 && k < 1)) throw ValueError(fmt::format("{} \"exponential\": k must be in (0, 1), got {}", ctx, k));
  } else if (kind == "inverse_sigmoid") {
    if (k < 1) throw ValueError(fmt::format("{} \"inverse_sigmoid\": k must be >= 1, got {}", ctx, k));
  } else {
    throw ValueError(fmt::format("{}: unknown kind \"{}\"; expected \"constant\", \"linear\", \"exponential\" or "
                                 "\"inverse_sigmoid\"",
                                 ctx, kind));
  }
}

double SamplingSchedule::teacher_forcing_probability(int epoch) const {
  validate();
  if (epoch < 0) throw ValueError(fmt::format("SamplingSchedule: epoch must be >= 0, got {}", epoch));
  const double i = epoch;
  double eps = k;
  if (kind == "linear") {
    eps = k - c * i;
  } else if (kind == "exponential") {
    eps = std::pow(k, i);
  } else if (kind == "inverse_sigmoid") {
    eps = k / (k + std::exp(i / k));
  }
  return std::clamp(std::max(eps, minimum), 0.0, 1.0);
}

// ---------------------------------------------------------------- scheduled sampling

namespace {

using detail::StepDecoder;

Tensor rows_of(const Tensor& t, const std::vector<int64_t>& idx, int64_t b0, int64_t b1) {
  std::vector<int64_t> rows;
  for (int64_t i = b0; i < b1; ++i) rows.push_back(idx.empty() ? i : idx[i]);
  return detail::gather_rows(t, rows);
}

// Whether step t of sample n of the decoder input is a real step.
bool real_step(const Tensor& in, bool ids, int64_t n, int64_t t, int64_t T, int64_t V, int64_t pad_id) {
  if (ids) return in[n * T + t] != static_cast<float>(pad_id);
  const float* row = in.data() + (n * T + t) * V;
  for (int64_t v = 0; v < V; ++v)
    if (row[v] != 0.0f) return true;
  return false;
}

int64_t draw(const float* p, int64_t V, Generator& g) {
  double total = 0;
  for (int64_t v = 0; v < V; ++v) total += p[v];
  double u = static_cast<double>(g.uniform()) * total;
  for (int64_t v = 0; v < V; ++v) {
    u -= p[v];
    if (u < 0) return v;
  }
  return V - 1;
}

}  // namespace

History fit_scheduled_sampling(Model& train, Model& encoder, Model& decoder, const Tensors& sources,
                               const Tensor& decoder_inputs, const Tensor& targets,
                               const ScheduledSamplingOptions& o) {
  const std::string ctx = "decode::fit_scheduled_sampling";
  o.schedule.validate();
  if (o.epochs < 0) throw ValueError(fmt::format("{}: epochs must be >= 0, got {}", ctx, o.epochs));
  if (o.initial_epoch < 0) {
    throw ValueError(fmt::format("{}: initial_epoch must be >= 0, got {}", ctx, o.initial_epoch));
  }
  if (o.batch_size <= 0) {
    throw ValueError(fmt::format("{}: batch_size must be a positive integer, got {}", ctx, o.batch_size));
  }
  if (!train.compiled()) throw ValueError(fmt::format("{}: compile the training model first", ctx));
  StepDecoder dec(decoder, ctx);
  const int64_t V = dec.vocabulary();
  const bool ids = dec.ids();
  if (ids ? decoder_inputs.rank() != 2 : (decoder_inputs.rank() != 3 || decoder_inputs.dim(2) != V)) {
    throw ShapeError(fmt::format("{}: the decoder takes {} symbols, so decoder_inputs must be {}, got {}", ctx,
                                 ids ? "id" : "one-hot", ids ? "(samples, time)" : fmt::format("(samples, time, {})", V),
                                 shape_str(decoder_inputs.shape())));
  }
  if (train.inputs().size() != sources.size() + 1) {
    throw ValueError(fmt::format("{}: the training model must take the sources then the decoder input ({} inputs), "
                                 "it has {}",
                                 ctx, sources.size() + 1, train.inputs().size()));
  }
  const int64_t N = decoder_inputs.dim(0), T = decoder_inputs.dim(1);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].rank() < 1 || sources[i].dim(0) != N) {
      throw ShapeError(fmt::format("{}: source {} has shape {}, but decoder_inputs has {} samples", ctx, i,
                                   shape_str(sources[i].shape()), N));
    }
  }
  if (targets.rank() < 1 || targets.dim(0) != N) {
    throw ShapeError(fmt::format("{}: targets have shape {}, but decoder_inputs has {} samples", ctx,
                                 shape_str(targets.shape()), N));
  }
  if (N == 0) throw ValueError(fmt::format("{}: no training samples", ctx));

  History history;
  Logs none;
  history.on_train_begin(none);
  Generator& g = global_generator();
  const int64_t steps = (N + o.batch_size - 1) / o.batch_size;
  for (int epoch = o.initial_epoch; epoch < o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const double eps = o.schedule.teacher_forcing_probability(epoch);
    const std::vector<int64_t> order = o.shuffle ? g.permutation(N) : std::vector<int64_t>{};
    LogsMean epoch_mean;
    double real = 0, sampled = 0;
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t b0 = s * o.batch_size, b1 = std::min<int64_t>(N, b0 + o.batch_size), B = b1 - b0;
      std::vector<Tensor> src;
      for (const auto& x : sources) src.push_back(rows_of(x, order, b0, b1));
      Tensor mixed = rows_of(decoder_inputs, order, b0, b1);
      const Tensor y = rows_of(targets, order, b0, b1);
      // Rebuild the decoder input step by step with the inference pair.
      if (eps < 1.0 && T > 1) {
        Tensors initial = encoder.predict(Tensors(src), {.batch_size = static_cast<int>(B)});
        dec.check_initial(initial, true);
        std::vector<Tensor> states(initial.begin(), initial.begin() + static_cast<int64_t>(dec.num_states()));
        const std::vector<Tensor> constants(initial.begin() + static_cast<int64_t>(dec.num_states()), initial.end());
        for (int64_t t = 0; t + 1 < T; ++t) {
          Tensor sym = ids ? Tensor({B, 1}) : Tensor({B, 1, V});
          const int64_t w = ids ? 1 : V;
          for (int64_t b = 0; b < B; ++b) std::copy_n(mixed.data() + (b * T + t) * w, w, sym.data() + b * w);
          Tensors out = dec.step(sym, states, constants);
          const Tensor p = dec.probabilities(out);
          for (size_t k = 0; k < states.size(); ++k) states[k] = out[1 + k];
          for (int64_t b = 0; b < B; ++b) {
            if (!real_step(mixed, ids, b, t + 1, T, V, o.pad_id)) continue;
            ++real;
            if (g.uniform() < eps) continue;  // teacher forcing: keep the truth
            const float* pb = p.data() + b * V;
            int64_t v = 0;
            if (o.sample) {
              v = draw(pb, V, g);
            } else {
              for (int64_t u = 1; u < V; ++u)
                if (pb[u] > pb[v]) v = u;
            }
            if (ids) {
              if (v == o.pad_id) continue;  // would turn the step into padding
              mixed[b * T + t + 1] = static_cast<float>(v);
            } else {
              float* row = mixed.data() + (b * T + t + 1) * V;
              std::fill_n(row, V, 0.0f);
              row[v] = 1.0f;
            }
            ++sampled;
          }
        }
      }
      src.push_back(mixed);
      const Logs l = train.train_on_batch(Tensors(src), y);
      epoch_mean.add(l, static_cast<double>(B));
      if (train.stop_training) break;
    }
    Logs epoch_logs = epoch_mean.mean();
    epoch_logs.set("teacher_forcing_probability", eps);
    epoch_logs.set("sampled_fraction", real > 0 ? sampled / real : 0.0);
    history.on_epoch_end(epoch, epoch_logs);
    if (o.verbose > 0) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("Epoch %d/%d - %.1fs - %s\n", epoch + 1, o.epochs, secs, epoch_logs.format().c_str());
      std::fflush(stdout);
    }
  }
  return history;
}

}  // namespace seqnet::decode
