// Teacher-forcing inputs, sampling schedules and scheduled-sampling training
// (decode/teacher_forcing.hpp); scheduled sampling is a front-end to the
// training loop of train/engine.hpp, fed by batches whose decoder inputs are
// sampled from the model's predictions.

#include "seqnet/decode/teacher_forcing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "decode/step_decoder.hpp"
#include "seqnet/error.hpp"
#include "seqnet/random.hpp"
#include "train/engine.hpp"

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

// The batches of scheduled sampling: each batch's decoder input rebuilt step
// by step from the model's own predictions (with probability 1 - eps per
// real step), then one gradient update of `train` on it.
class SampledDecoderInputs : public seqnet::detail::BatchSource {
 public:
  SampledDecoderInputs(Model& train, Model& encoder, StepDecoder& dec, const Tensors& sources,
                       const Tensor& decoder_inputs, const Tensor& targets, const ScheduledSamplingOptions& o)
      : train_(train), encoder_(encoder), dec_(dec), sources_(sources), decoder_inputs_(decoder_inputs),
        targets_(targets), o_(o), N_(decoder_inputs.dim(0)), T_(decoder_inputs.dim(1)) {}

  int64_t begin_epoch(int epoch) override {
    eps_ = o_.schedule.teacher_forcing_probability(epoch);
    order_ = o_.shuffle ? global_generator().permutation(N_) : std::vector<int64_t>{};
    mean_ = LogsMean();
    real_ = sampled_ = 0;
    return (N_ + o_.batch_size - 1) / o_.batch_size;
  }
  int64_t batch_samples(int64_t s) const override {
    return std::min<int64_t>(N_, (s + 1) * o_.batch_size) - s * o_.batch_size;
  }
  Logs train_batch(int64_t s) override {
    Generator& g = global_generator();
    const int64_t V = dec_.vocabulary();
    const bool ids = dec_.ids();
    const int64_t T = T_;
    const int64_t b0 = s * o_.batch_size, b1 = std::min<int64_t>(N_, b0 + o_.batch_size), B = b1 - b0;
    std::vector<Tensor> src;
    for (const auto& x : sources_) src.push_back(rows_of(x, order_, b0, b1));
    Tensor mixed = rows_of(decoder_inputs_, order_, b0, b1);
    const Tensor y = rows_of(targets_, order_, b0, b1);
    // Rebuild the decoder input step by step with the inference pair.
    if (eps_ < 1.0 && T > 1) {
      Tensors initial = encoder_.predict(Tensors(src), {.batch_size = static_cast<int>(B)});
      dec_.check_initial(initial, true);
      std::vector<Tensor> states(initial.begin(), initial.begin() + static_cast<int64_t>(dec_.num_states()));
      const std::vector<Tensor> constants(initial.begin() + static_cast<int64_t>(dec_.num_states()), initial.end());
      for (int64_t t = 0; t + 1 < T; ++t) {
        Tensor sym = ids ? Tensor({B, 1}) : Tensor({B, 1, V});
        const int64_t w = ids ? 1 : V;
        for (int64_t b = 0; b < B; ++b) std::copy_n(mixed.data() + (b * T + t) * w, w, sym.data() + b * w);
        Tensors out = dec_.step(sym, states, constants);
        const Tensor p = dec_.probabilities(out);
        for (size_t k = 0; k < states.size(); ++k) states[k] = out[1 + k];
        for (int64_t b = 0; b < B; ++b) {
          if (!real_step(mixed, ids, b, t + 1, T, V, o_.pad_id)) continue;
          ++real_;
          if (g.uniform() < eps_) continue;  // teacher forcing: keep the truth
          const float* pb = p.data() + b * V;
          int64_t v = 0;
          if (o_.sample) {
            v = draw(pb, V, g);
          } else {
            for (int64_t u = 1; u < V; ++u)
              if (pb[u] > pb[v]) v = u;
          }
          if (ids) {
            if (v == o_.pad_id) continue;  // would turn the step into padding
            mixed[b * T + t + 1] = static_cast<float>(v);
          } else {
            float* row = mixed.data() + (b * T + t + 1) * V;
            std::fill_n(row, V, 0.0f);
            row[v] = 1.0f;
          }
          ++sampled_;
        }
      }
    }
    src.push_back(mixed);
    const Logs l = train_.train_on_batch(Tensors(src), y);
    mean_.add(l, static_cast<double>(B));
    return logs();
  }
  Logs end_epoch() override { return logs(); }
  Logs validate() override {
    if (o_.validation_data.x.empty() && o_.validation_data.y.empty()) return Logs();
    const Logs v = train_.evaluate(o_.validation_data.x, o_.validation_data.y, {.batch_size = o_.batch_size});
    Logs out;
    for (const auto& [k, value] : v.items()) out.set("val_" + k, value);
    return out;
  }

 private:
  Logs logs() const {
    Logs l = mean_.mean();
    l.set("teacher_forcing_probability", eps_);
    l.set("sampled_fraction", real_ > 0 ? sampled_ / real_ : 0.0);
    return l;
  }

  Model& train_;
  Model& encoder_;
  StepDecoder& dec_;
  const Tensors& sources_;
  const Tensor& decoder_inputs_;
  const Tensor& targets_;
  const ScheduledSamplingOptions& o_;
  const int64_t N_, T_;
  double eps_ = 1.0;
  std::vector<int64_t> order_;
  LogsMean mean_;
  double real_ = 0, sampled_ = 0;
};

}  // namespace

History fit_scheduled_sampling(Model& train, Model& encoder, Model& decoder, const Tensors& sources,
                               const Tensor& decoder_inputs, const Tensor& targets,
                               const ScheduledSamplingOptions& o) {
  const std::string ctx = "decode::fit_scheduled_sampling";
  o.schedule.validate();
  const seqnet::detail::LoopOptions loop{
      .epochs = o.epochs, .initial_epoch = o.initial_epoch, .verbose = o.verbose, .callbacks = o.callbacks};
  seqnet::detail::check_loop_options(loop, ctx);
  seqnet::detail::refuse_data_parallel(ctx);
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
  const int64_t N = decoder_inputs.dim(0);
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
  const bool have_val = !o.validation_data.x.empty() || !o.validation_data.y.empty();
  if (have_val && o.validation_data.x.size() != sources.size() + 1) {
    throw ValueError(fmt::format("{}: validation_data.x must hold the sources then the decoder input ({} arrays), "
                                 "got {}",
                                 ctx, sources.size() + 1, o.validation_data.x.size()));
  }

  SampledDecoderInputs source(train, encoder, dec, sources, decoder_inputs, targets, o);
  return seqnet::detail::run_epochs(train, source, loop);
}

}  // namespace seqnet::decode
