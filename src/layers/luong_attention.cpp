#include "seqnet/layers/luong_attention.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "layers/attention_common.hpp"
#include "seqnet/layers/serialization.hpp"
#include "seqnet/detail/ops/activations.hpp"
#include "seqnet/detail/ops/gemm.hpp"

namespace seqnet::layers {

using namespace attention_detail;

namespace {

// Buffers of one call. Letters: B batch, Tq decoder steps, Ts encoder steps,
// Dq decoder features, Ds encoder features, U units.
struct LuongCache : Cache {
  int64_t B = 0, Tq = 0, Ts = 0, Dq = 0, Ds = 0, U = 0;
  bool has_qmask = false;
  Tensor qmask;    // (B, Tq)
  Tensor allowed;  // (B, Tq, Ts) 1 for an unmasked encoder step
  Tensor HW;       // (B, Tq, Ds) general: h W_a;  (B, Tq, U) concat: h W_a[:Dq]
  Tensor SW;       // (B, Ts, U) concat: h_s W_a[Dq:]
  Tensor Th;       // (B, Tq, Ts, U) concat: tanh terms
  Tensor E;        // (B, Tq, Ts) scores -> their gradient in backward
  Tensor A;        // (B, Tq, Ts) alignment weights
  Tensor CH;       // (B, Tq, Ds + Dq) [c; h]
  Tensor Ht;       // (B, Tq, U) h~
  // backward
  Tensor dPre, dCH, dHW, dSW;
};

void zero_masked_rows(float* x, const Tensor& qmask, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; ++r)
    if (qmask[r] == 0.0f) std::fill_n(x + r * width, width, 0.0f);
}

}  // namespace

LuongAttention::LuongAttention(int64_t units, LuongAttentionOptions options)
    : Layer("LuongAttention", options.name), units_(units), options_(std::move(options)) {
  if (units <= 0) {
    fail_value(fmt::format("received an invalid value for argument `units`, expected a positive integer, got {}",
                           units));
  }
  const std::string& s = options_.score;
  if (s == "dot") {
    score_ = Score::Dot;
  } else if (s == "general") {
    score_ = Score::General;
  } else if (s == "concat") {
    score_ = Score::Concat;
  } else if (s == "location") {
    score_ = Score::Location;
  } else {
    fail_value(fmt::format("received an invalid value for argument `score`, expected one of \"dot\", \"general\", "
                           "\"concat\", \"location\", got \"{}\"",
                           s));
  }
  options_.kernel_initializer.validate(describe() + ": argument `kernel_initializer`");
  options_.kernel_regularizer.validate(describe() + ": argument `kernel_regularizer`");
}

std::unique_ptr<Cache> LuongAttention::make_cache() const { return std::make_unique<LuongCache>(); }

Tensor LuongAttention::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (masks.empty()) return Tensor();
  return masks[0];
}

nlohmann::json LuongAttention::get_config() const {
  nlohmann::json j = base_layer_config(*this);
  j["units"] = units_;
  j["score"] = options_.score;
  j["kernel_initializer"] = initializer_to_keras(options_.kernel_initializer);
  j["kernel_regularizer"] = regularizer_to_keras(options_.kernel_regularizer);
  return j;
}

std::shared_ptr<Layer> LuongAttention::from_config(const ConfigReader& r) {
  r.expect_common();
  LuongAttentionOptions o;
  o.score = r.get_string("score", o.score);
  o.kernel_initializer = r.get_initializer("kernel_initializer", o.kernel_initializer);
  o.kernel_regularizer = r.get_regularizer("kernel_regularizer");
  o.name = r.name();
  return std::make_shared<LuongAttention>(r.get_int("units", 1, kMaxConfigDim), o);
}
SEQNET_REGISTER_LAYER(LuongAttention);

std::vector<Shape> LuongAttention::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 2, 2);
  const char* names[2] = {"decoder states h_t", "encoder states h_s"};
  for (size_t i = 0; i < 2; ++i) {
    if (in[i].size() != 3) {
      fail_shape(fmt::format("expected the {} (input {}) to have shape (batch, time, features), got {}", names[i], i,
                             shape_str(in[i])));
    }
    if (in[i][2] == None) {
      fail_shape(fmt::format("the feature dimension of the {} (input {}) must be known, got {}", names[i], i,
                             shape_str(in[i])));
    }
  }
  const Shape& h = in[0];
  const Shape& s = in[1];
  if (h[0] != None && s[0] != None && h[0] != s[0]) {
    fail_shape(fmt::format("the decoder and encoder states must have the same batch size; h_t {}, h_s {}",
                           shape_str(h), shape_str(s)));
  }
  if (score_ == Score::Dot && h[2] != s[2]) {
    fail_shape(fmt::format("score \"dot\" needs decoder and encoder states of the same feature size; h_t {}, h_s {}",
                           shape_str(h), shape_str(s)));
  }
  if (score_ == Score::Location && s[1] == None) {
    fail_shape(fmt::format("score \"location\" needs a fixed number of encoder steps, got h_s {}", shape_str(s)));
  }
  if (built_dq_ > 0) {
    // Built: the feature sizes (and, for location, Ts) are fixed.
    if (h[2] != built_dq_ || s[2] != built_ds_) {
      fail_shape(fmt::format("the layer was built for h_t (batch, time, {}) and h_s (batch, time, {}); got h_t {}, "
                             "h_s {}",
                             built_dq_, built_ds_, shape_str(h), shape_str(s)));
    }
    if (score_ == Score::Location && s[1] != built_ts_) {
      fail_shape(fmt::format("score \"location\": the layer was built for {} encoder steps, got h_s {}", built_ts_,
                             shape_str(s)));
    }
  }
  const int64_t B = h[0] != None ? h[0] : s[0];
  return {{B, h[1], units_}, {B, h[1], s[2]}, {B, h[1], s[1]}};
}

void LuongAttention::build(const std::vector<Shape>& in) {
  const int64_t Dq = in[0][2], Ds = in[1][2], Ts = in[1][1], U = units_;
  const auto& k = options_.kernel_initializer;
  const auto& r = options_.kernel_regularizer;
  if (score_ == Score::General) W_a_ = &add_param("W_a", {Dq, Ds}, k, r);
  if (score_ == Score::Concat) {
    W_a_ = &add_param("W_a", {Dq + Ds, U}, k, r);
    V_a_ = &add_param("V_a", {U}, k, r);
  }
  if (score_ == Score::Location) W_a_ = &add_param("W_a", {Dq, Ts}, k, r);
  W_c_ = &add_param("W_c", {Ds + Dq, U}, k, r);
  built_dq_ = Dq;
  built_ds_ = Ds;
  built_ts_ = Ts;
}

std::vector<Tensor> LuongAttention::forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) {
  const Tensor& h = in[0];
  const Tensor& s = in[1];
  if (cache == nullptr) {
    if (!inference_cache_) inference_cache_ = make_cache();
    cache = inference_cache_.get();
  }
  auto& c = static_cast<LuongCache&>(*cache);
  const int64_t B = h.dim(0), Tq = h.dim(1), Ts = s.dim(1), Dq = h.dim(2), Ds = s.dim(2), U = units_;
  c.B = B;
  c.Tq = Tq;
  c.Ts = Ts;
  c.Dq = Dq;
  c.Ds = Ds;
  c.U = U;
  const Tensor qmask = !args.masks.empty() ? args.masks[0] : args.mask;
  const Tensor smask = args.masks.size() > 1 ? args.masks[1] : Tensor();
  c.has_qmask = !qmask.empty();
  if (c.has_qmask) c.qmask = qmask;
  fill_allowed(c.allowed, smask, false, B, Tq, Ts);
  ensure_shape(c.E, {B, Tq, Ts});
  ensure_shape(c.A, {B, Tq, Ts});
  ensure_shape(c.CH, {B, Tq, Ds + Dq});
  ensure_shape(c.Ht, {B, Tq, U});

  // Scores E (B, Tq, Ts).
  switch (score_) {
    case Score::Dot:
      for (int64_t b = 0; b < B; ++b) {
        ops::gemm(false, true, Tq, Ts, Ds, 1.0f, h.data() + b * Tq * Dq, Dq, s.data() + b * Ts * Ds, Ds, 0.0f,
                  c.E.data() + b * Tq * Ts, Ts);
      }
      break;
    case Score::General:
      ensure_shape(c.HW, {B, Tq, Ds});
      ops::gemm(false, false, B * Tq, Ds, Dq, 1.0f, h.data(), Dq, W_a_->value.data(), Ds, 0.0f, c.HW.data(), Ds);
      for (int64_t b = 0; b < B; ++b) {
        ops::gemm(false, true, Tq, Ts, Ds, 1.0f, c.HW.data() + b * Tq * Ds, Ds, s.data() + b * Ts * Ds, Ds, 0.0f,
                  c.E.data() + b * Tq * Ts, Ts);
      }
      break;
    case Score::Concat: {
      // [h; s] W_a = h W_a[:Dq] + s W_a[Dq:]
      ensure_shape(c.HW, {B, Tq, U});
      ensure_shape(c.SW, {B, Ts, U});
      ensure_shape(c.Th, {B, Tq, Ts, U});
      const float* Wq = W_a_->value.data();
      const float* Ws = Wq + Dq * U;
      ops::gemm(false, false, B * Tq, U, Dq, 1.0f, h.data(), Dq, Wq, U, 0.0f, c.HW.data(), U);
      ops::gemm(false, false, B * Ts, U, Ds, 1.0f, s.data(), Ds, Ws, U, 0.0f, c.SW.data(), U);
      const float* v = V_a_->value.data();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < Tq; ++i) {
          const float* p = c.HW.data() + (b * Tq + i) * U;
          for (int64_t j = 0; j < Ts; ++j) {
            const float* r = c.SW.data() + (b * Ts + j) * U;
            float* th = c.Th.data() + ((b * Tq + i) * Ts + j) * U;
            float e = 0;
            for (int64_t k = 0; k < U; ++k) {
              th[k] = std::tanh(p[k] + r[k]);
              e += v[k] * th[k];
            }
            c.E[(b * Tq + i) * Ts + j] = e;
          }
        }
      break;
    }
    case Score::Location:
      ops::gemm(false, false, B * Tq, Ts, Dq, 1.0f, h.data(), Dq, W_a_->value.data(), Ts, 0.0f, c.E.data(), Ts);
      break;
  }
  for (int64_t r = 0; r < B * Tq; ++r) {
    masked_softmax_row(c.E.data() + r * Ts, c.allowed.data() + r * Ts, c.A.data() + r * Ts, Ts);
  }
  // Context c_b (Tq, Ds) = A_b (Tq, Ts) . s_b (Ts, Ds), written into CH[:, :Ds];
  // CH[:, Ds:] = h.
  for (int64_t b = 0; b < B; ++b) {
    ops::gemm(false, false, Tq, Ds, Ts, 1.0f, c.A.data() + b * Tq * Ts, Ts, s.data() + b * Ts * Ds, Ds, 0.0f,
              c.CH.data() + b * Tq * (Ds + Dq), Ds + Dq);
  }
  for (int64_t r = 0; r < B * Tq; ++r) std::copy_n(h.data() + r * Dq, Dq, c.CH.data() + r * (Ds + Dq) + Ds);
  // h~ = tanh(CH W_c)
  ops::gemm(false, false, B * Tq, U, Ds + Dq, 1.0f, c.CH.data(), Ds + Dq, W_c_->value.data(), U, 0.0f, c.Ht.data(),
            U);
  ops::activate(ops::Act::Tanh, c.Ht.data(), c.Ht.data(), B * Tq * U);

  Tensor ht = c.Ht.clone();
  Tensor ctx = Tensor::uninitialized({B, Tq, Ds});
  for (int64_t r = 0; r < B * Tq; ++r) std::copy_n(c.CH.data() + r * (Ds + Dq), Ds, ctx.data() + r * Ds);
  if (c.has_qmask) {
    zero_masked_rows(ht.data(), c.qmask, B * Tq, U);
    zero_masked_rows(ctx.data(), c.qmask, B * Tq, Ds);
  }
  return {ht, ctx, c.A.clone()};
}

std::vector<Tensor> LuongAttention::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<LuongCache&>(cache);
  const Tensor& h = c.inputs[0];
  const Tensor& s = c.inputs[1];
  const int64_t B = c.B, Tq = c.Tq, Ts = c.Ts, Dq = c.Dq, Ds = c.Ds, U = c.U;
  Tensor dh(h.shape()), ds(s.shape());
  const bool g_ht = has_grad(dout[0], {B, Tq, U}, 0);
  const bool g_ctx = has_grad(dout[1], {B, Tq, Ds}, 1);
  const bool g_a = has_grad(dout[2], {B, Tq, Ts}, 2);
  if (!g_ht && !g_ctx && !g_a) return {dh, ds};

  // dCH (B*Tq, Ds + Dq): from h~ through tanh and W_c, plus the context's own gradient.
  ensure_shape(c.dCH, {B, Tq, Ds + Dq});
  c.dCH.fill(0.0f);
  if (g_ht) {
    ensure_shape(c.dPre, {B, Tq, U});
    std::copy(dout[0].begin(), dout[0].end(), c.dPre.data());
    if (c.has_qmask) zero_masked_rows(c.dPre.data(), c.qmask, B * Tq, U);
    ops::activate_backward(ops::Act::Tanh, c.Ht.data(), c.dPre.data(), c.dPre.data(), B * Tq * U);
    // dW_c += CH^T dPre; dCH = dPre W_c^T
    ops::gemm(true, false, Ds + Dq, U, B * Tq, 1.0f, c.CH.data(), Ds + Dq, c.dPre.data(), U, 1.0f,
              W_c_->grad.data(), U);
    ops::gemm(false, true, B * Tq, Ds + Dq, U, 1.0f, c.dPre.data(), U, W_c_->value.data(), U, 0.0f, c.dCH.data(),
              Ds + Dq);
  }
  for (int64_t r = 0; r < B * Tq; ++r) {
    float* dchr = c.dCH.data() + r * (Ds + Dq);
    if (g_ctx && (!c.has_qmask || c.qmask[r] != 0.0f)) {
      const float* dc = dout[1].data() + r * Ds;
      for (int64_t k = 0; k < Ds; ++k) dchr[k] += dc[k];
    }
    // The h part of [c; h] goes straight to dh.
    float* dhr = dh.data() + r * Dq;
    for (int64_t k = 0; k < Dq; ++k) dhr[k] += dchr[Ds + k];
  }
  // Context: dA_b = dc_b (Tq, Ds) . s_b^T (+ the weights' own gradient); ds_b += A_b^T dc_b.
  Tensor& dE = c.E;  // the scores are not needed any more
  if (g_a) {
    std::copy(dout[2].begin(), dout[2].end(), dE.data());
  } else {
    dE.fill(0.0f);
  }
  for (int64_t b = 0; b < B; ++b) {
    const float* dcb = c.dCH.data() + b * Tq * (Ds + Dq);
    ops::gemm(false, true, Tq, Ts, Ds, 1.0f, dcb, Ds + Dq, s.data() + b * Ts * Ds, Ds, 1.0f, dE.data() + b * Tq * Ts,
              Ts);
    ops::gemm(true, false, Ts, Ds, Tq, 1.0f, c.A.data() + b * Tq * Ts, Ts, dcb, Ds + Dq, 1.0f,
              ds.data() + b * Ts * Ds, Ds);
  }
  for (int64_t r = 0; r < B * Tq; ++r) softmax_backward_row(c.A.data() + r * Ts, dE.data() + r * Ts, dE.data() + r * Ts, Ts);

  // Scores.
  switch (score_) {
    case Score::Dot:
      for (int64_t b = 0; b < B; ++b) {
        const float* dEb = dE.data() + b * Tq * Ts;
        ops::gemm(false, false, Tq, Dq, Ts, 1.0f, dEb, Ts, s.data() + b * Ts * Ds, Ds, 1.0f, dh.data() + b * Tq * Dq,
                  Dq);
        ops::gemm(true, false, Ts, Ds, Tq, 1.0f, dEb, Ts, h.data() + b * Tq * Dq, Dq, 1.0f, ds.data() + b * Ts * Ds,
                  Ds);
      }
      break;
    case Score::General: {
      ensure_shape(c.dHW, {B, Tq, Ds});
      for (int64_t b = 0; b < B; ++b) {
        const float* dEb = dE.data() + b * Tq * Ts;
        // dHW_b = dE_b (Tq, Ts) . s_b (Ts, Ds); ds_b += dE_b^T . HW_b
        ops::gemm(false, false, Tq, Ds, Ts, 1.0f, dEb, Ts, s.data() + b * Ts * Ds, Ds, 0.0f,
                  c.dHW.data() + b * Tq * Ds, Ds);
        ops::gemm(true, false, Ts, Ds, Tq, 1.0f, dEb, Ts, c.HW.data() + b * Tq * Ds, Ds, 1.0f,
                  ds.data() + b * Ts * Ds, Ds);
      }
      // dW_a += h^T dHW; dh += dHW W_a^T
      ops::gemm(true, false, Dq, Ds, B * Tq, 1.0f, h.data(), Dq, c.dHW.data(), Ds, 1.0f, W_a_->grad.data(), Ds);
      ops::gemm(false, true, B * Tq, Dq, Ds, 1.0f, c.dHW.data(), Ds, W_a_->value.data(), Ds, 1.0f, dh.data(), Dq);
      break;
    }
    case Score::Concat: {
      ensure_shape(c.dHW, {B, Tq, U});
      ensure_shape(c.dSW, {B, Ts, U});
      c.dHW.fill(0.0f);
      c.dSW.fill(0.0f);
      const float* v = V_a_->value.data();
      float* dv = V_a_->grad.data();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < Tq; ++i) {
          float* dp = c.dHW.data() + (b * Tq + i) * U;
          for (int64_t j = 0; j < Ts; ++j) {
            const float g = dE[(b * Tq + i) * Ts + j];
            if (g == 0.0f) continue;
            const float* th = c.Th.data() + ((b * Tq + i) * Ts + j) * U;
            float* dr = c.dSW.data() + (b * Ts + j) * U;
            for (int64_t k = 0; k < U; ++k) {
              dv[k] += g * th[k];
              const float G = g * v[k] * (1.0f - th[k] * th[k]);
              dp[k] += G;
              dr[k] += G;
            }
          }
        }
      const float* Wq = W_a_->value.data();
      const float* Ws = Wq + Dq * U;
      float* dWq = W_a_->grad.data();
      float* dWs = dWq + Dq * U;
      ops::gemm(true, false, Dq, U, B * Tq, 1.0f, h.data(), Dq, c.dHW.data(), U, 1.0f, dWq, U);
      ops::gemm(true, false, Ds, U, B * Ts, 1.0f, s.data(), Ds, c.dSW.data(), U, 1.0f, dWs, U);
      ops::gemm(false, true, B * Tq, Dq, U, 1.0f, c.dHW.data(), U, Wq, U, 1.0f, dh.data(), Dq);
      ops::gemm(false, true, B * Ts, Ds, U, 1.0f, c.dSW.data(), U, Ws, U, 1.0f, ds.data(), Ds);
      break;
    }
    case Score::Location:
      ops::gemm(true, false, Dq, Ts, B * Tq, 1.0f, h.data(), Dq, dE.data(), Ts, 1.0f, W_a_->grad.data(), Ts);
      ops::gemm(false, true, B * Tq, Dq, Ts, 1.0f, dE.data(), Ts, W_a_->value.data(), Ts, 1.0f, dh.data(), Dq);
      break;
  }
  return {dh, ds};
}

}  // namespace seqnet::layers
