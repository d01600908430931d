#include "seqnet/layers/attention.hpp"
#include "seqnet/detail/attention_cache.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "layers/attention_common.hpp"
#include "seqnet/layers/serialization.hpp"
#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/random.hpp"

namespace seqnet::layers {

using namespace attention_detail;

namespace {

const char* const kInputNames[3] = {"query", "value", "key"};

bool known(int64_t d) { return d != None; }

void check_rate(const Layer& l, float rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) {
    throw ValueError(fmt::format("{}: received an invalid value for argument `dropout`, expected a number in [0, 1), "
                                 "got {}",
                                 l.describe(), rate));
  }
}

}  // namespace

// ---------------------------------------------------------------- BaseDenseAttention

BaseDenseAttention::BaseDenseAttention(std::string class_name, std::string name, float dropout,
                                       bool return_attention_scores, bool use_causal_mask)
    : Layer(std::move(class_name), std::move(name)),
      dropout_(dropout),
      return_attention_scores_(return_attention_scores),
      use_causal_mask_(use_causal_mask) {
  check_rate(*this, dropout);
}

std::unique_ptr<Cache> BaseDenseAttention::make_cache() const { return std::make_unique<DenseAttentionCache>(); }

Tensor BaseDenseAttention::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (masks.empty()) return Tensor();
  return masks[0];
}

nlohmann::json BaseDenseAttention::base_config() const {
  nlohmann::json j = base_layer_config(*this);
  j["dropout"] = json_float(dropout_);
  return j;
}

std::vector<Shape> BaseDenseAttention::infer_shapes(const std::vector<Shape>& in) const {
  if (in.size() != 2 && in.size() != 3) {
    fail_value(fmt::format("expected 2 or 3 input tensors [query, value] or [query, value, key], got {}", in.size()));
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].size() != 3) {
      fail_shape(fmt::format("expected the {} (input {}) to have shape (batch, time, features), got {}",
                             kInputNames[i], i, shape_str(in[i])));
    }
    if (!known(in[i][2])) {
      fail_shape(fmt::format("the feature dimension of the {} (input {}) must be known, got {}", kInputNames[i], i,
                             shape_str(in[i])));
    }
  }
  const Shape& q = in[0];
  const Shape& v = in[1];
  const Shape& k = in.size() > 2 ? in[2] : in[1];
  for (size_t i = 1; i < in.size(); ++i) {
    if (known(q[0]) && known(in[i][0]) && q[0] != in[i][0]) {
      fail_shape(fmt::format("the query and the {} must have the same batch size; query {}, {} {}", kInputNames[i],
                             shape_str(q), kInputNames[i], shape_str(in[i])));
    }
  }
  if (in.size() > 2) {
    if ((known(k[0]) && known(v[0]) && k[0] != v[0]) || (known(k[1]) && known(v[1]) && k[1] != v[1])) {
      fail_shape(fmt::format("the key and the value must have the same batch size and number of steps; value {}, "
                             "key {}",
                             shape_str(v), shape_str(k)));
    }
  }
  if (q[2] != k[2]) {
    fail_shape(fmt::format("the query and the {} must have the same feature size; query {}, {} {}",
                           in.size() > 2 ? "key" : "value (used as the key)", shape_str(q),
                           in.size() > 2 ? "key" : "value", shape_str(k)));
  }
  const int64_t B = known(q[0]) ? q[0] : v[0];
  std::vector<Shape> out{{B, q[1], v[2]}};
  if (return_attention_scores_) out.push_back({B, q[1], v[1]});
  return out;
}

double BaseDenseAttention::working_bytes(const std::vector<Shape>& in, bool training) const {
  if (in.size() < 2 || in[0].size() != 3 || in[1].size() != 3) return 0.0;
  const double scores = shape_elements({in[0][0], in[0][1], in[1][1]});
  return 4.0 * scores * (training ? 4.0 : 2.0);
}

std::vector<Tensor> BaseDenseAttention::forward_impl(const std::vector<Tensor>& in, const CallArgs& args,
                                                     Cache* cache) {
  const Tensor& q = in[0];
  const Tensor& v = in[1];
  const Tensor& k = in.size() > 2 ? in[2] : in[1];
  if (cache == nullptr) {
    if (!inference_cache_) inference_cache_ = make_cache();
    cache = inference_cache_.get();
  }
  auto& c = static_cast<DenseAttentionCache&>(*cache);
  const int64_t B = q.dim(0), Tq = q.dim(1), Tv = v.dim(1), D = q.dim(2), Dv = v.dim(2);
  c.B = B;
  c.Tq = Tq;
  c.Tv = Tv;
  c.D = D;
  c.Dv = Dv;
  // Masks: the query's (output rows) and the value's / key's (allowed steps).
  const Tensor qmask = !args.masks.empty() ? args.masks[0] : args.mask;
  Tensor vmask;
  if (args.masks.size() > 1) vmask = and_masks(args.masks[1], args.masks.size() > 2 ? args.masks[2] : Tensor());
  c.has_qmask = !qmask.empty();
  if (c.has_qmask) c.qmask = qmask;
  fill_allowed(c.allowed, vmask, use_causal_mask_, B, Tq, Tv);

  ensure_shape(c.S, {B, Tq, Tv});
  scores(q, k, c);
  ensure_shape(c.A, {B, Tq, Tv});
  for (int64_t r = 0; r < B * Tq; ++r) {
    masked_softmax_row(c.S.data() + r * Tv, c.allowed.data() + r * Tv, c.A.data() + r * Tv, Tv);
  }
  c.has_drop = args.training && dropout_ > 0.0f;
  if (c.has_drop) {
    ensure_shape(c.drop, {B, Tq, Tv});
    ensure_shape(c.Ad, {B, Tq, Tv});
    Generator& g = global_generator();
    const float keep = 1.0f / (1.0f - dropout_);
    for (int64_t i = 0; i < c.A.size(); ++i) {
      c.drop[i] = g.uniform() >= dropout_ ? keep : 0.0f;
      c.Ad[i] = c.A[i] * c.drop[i];
    }
  }
  const Tensor& Ad = c.has_drop ? c.Ad : c.A;

  // out_b (Tq, Dv) = Ad_b (Tq, Tv) . v_b (Tv, Dv)
  Tensor out = Tensor::uninitialized({B, Tq, Dv});
  for (int64_t b = 0; b < B; ++b) {
    ops::gemm(false, false, Tq, Dv, Tv, 1.0f, Ad.data() + b * Tq * Tv, Tv, v.data() + b * Tv * Dv, Dv, 0.0f,
              out.data() + b * Tq * Dv, Dv);
  }
  if (c.has_qmask) {
    for (int64_t r = 0; r < B * Tq; ++r)
      if (c.qmask[r] == 0.0f) std::fill_n(out.data() + r * Dv, Dv, 0.0f);
  }
  if (return_attention_scores_) return {out, Ad.clone()};
  return {out};
}

std::vector<Tensor> BaseDenseAttention::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<DenseAttentionCache&>(cache);
  const Tensor& q = c.inputs[0];
  const Tensor& v = c.inputs[1];
  const bool has_key = c.inputs.size() > 2;
  const Tensor& k = has_key ? c.inputs[2] : v;
  const int64_t B = c.B, Tq = c.Tq, Tv = c.Tv, Dv = c.Dv;
  Tensor dq(q.shape()), dv(v.shape()), dk;
  if (has_key) dk = Tensor(k.shape());
  const bool has_dout = has_grad(dout[0], {B, Tq, Dv}, 0);
  const bool has_dscores = return_attention_scores_ && has_grad(dout[1], {B, Tq, Tv}, 1);
  std::vector<Tensor> result{dq, dv};
  if (has_key) result.push_back(dk);
  if (!has_dout && !has_dscores) return result;

  const Tensor& Ad = c.has_drop ? c.Ad : c.A;
  // dAd (B, Tq, Tv): from the weighted sum and from the returned scores. It
  // lives in S (the raw scores are not needed any more).
  Tensor& dA = c.S;
  if (has_dscores) {
    std::copy(dout[1].begin(), dout[1].end(), dA.data());
  } else {
    dA.fill(0.0f);
  }
  if (has_dout) {
    Tensor dO = dout[0];
    if (c.has_qmask) {
      dO = dO.clone();
      for (int64_t r = 0; r < B * Tq; ++r)
        if (c.qmask[r] == 0.0f) std::fill_n(dO.data() + r * Dv, Dv, 0.0f);
    }
    for (int64_t b = 0; b < B; ++b) {
      const float* dOb = dO.data() + b * Tq * Dv;
      // dAd_b += dO_b (Tq, Dv) . v_b^T ; dv_b += Ad_b^T (Tv, Tq) . dO_b
      ops::gemm(false, true, Tq, Tv, Dv, 1.0f, dOb, Dv, v.data() + b * Tv * Dv, Dv, 1.0f, dA.data() + b * Tq * Tv,
                Tv);
      ops::gemm(true, false, Tv, Dv, Tq, 1.0f, Ad.data() + b * Tq * Tv, Tv, dOb, Dv, 1.0f, dv.data() + b * Tv * Dv,
                Dv);
    }
  }
  if (c.has_drop) {
    for (int64_t i = 0; i < dA.size(); ++i) dA[i] *= c.drop[i];
  }
  // dS = softmax backward, in place.
  for (int64_t r = 0; r < B * Tq; ++r) softmax_backward_row(c.A.data() + r * Tv, dA.data() + r * Tv, dA.data() + r * Tv, Tv);
  score_backward(q, k, c, dq, has_key ? dk : dv);
  return result;
}

// ---------------------------------------------------------------- Attention

Attention::Attention(AttentionOptions options)
    : BaseDenseAttention("Attention", options.name, options.dropout, options.return_attention_scores,
                         options.use_causal_mask),
      options_(std::move(options)) {
  if (options_.score_mode != "dot" && options_.score_mode != "concat") {
    fail_value(fmt::format("received an invalid value for argument `score_mode`, expected one of \"dot\", "
                           "\"concat\", got \"{}\"",
                           options_.score_mode));
  }
  concat_ = options_.score_mode == "concat";
}

nlohmann::json Attention::get_config() const {
  nlohmann::json j = base_config();
  j["use_scale"] = options_.use_scale;
  j["score_mode"] = options_.score_mode;
  return j;
}

// Older Keras 2 wrote the causal mask as the constructor argument `causal`.
std::shared_ptr<Layer> Attention::from_config(const ConfigReader& r) {
  r.expect_common();
  AttentionOptions o;
  o.use_scale = r.get_bool("use_scale", o.use_scale);
  o.score_mode = r.get_string("score_mode", o.score_mode);
  o.dropout = r.get_float("dropout", o.dropout, 0.0, 1.0);
  o.use_causal_mask = r.get_bool("causal", o.use_causal_mask);
  o.name = r.name();
  return std::make_shared<Attention>(o);
}
SEQNET_REGISTER_LAYER(Attention);

void Attention::build(const std::vector<Shape>&) {
  if (options_.use_scale) scale_ = &add_param("scale", {}, "ones");
  if (concat_) concat_weight_ = &add_param("concat_score_weight", {}, "ones");
}

void Attention::scores(const Tensor& q, const Tensor& k, DenseAttentionCache& c) const {
  const int64_t B = c.B, Tq = c.Tq, Tv = c.Tv, D = c.D;
  const float sc = scale_ != nullptr ? scale_->value[0] : 1.0f;
  if (!concat_) {
    // S_b (Tq, Tv) = q_b (Tq, D) . k_b^T
    for (int64_t b = 0; b < B; ++b) {
      ops::gemm(false, true, Tq, Tv, D, 1.0f, q.data() + b * Tq * D, D, k.data() + b * Tv * D, D, 0.0f,
                c.S.data() + b * Tq * Tv, Tv);
    }
    if (scale_ != nullptr) {
      ensure_shape(c.QK, {B, Tq, Tv});
      std::copy(c.S.begin(), c.S.end(), c.QK.data());
      for (float& s : c.S) s *= sc;
    }
    return;
  }
  // S_ij = w * sum_d tanh(sc * (q_id + k_jd))
  const float w = concat_weight_->value[0];
  ensure_shape(c.Th, {B, Tq, Tv, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      const float* qi = q.data() + (b * Tq + i) * D;
      for (int64_t j = 0; j < Tv; ++j) {
        const float* kj = k.data() + (b * Tv + j) * D;
        float* th = c.Th.data() + ((b * Tq + i) * Tv + j) * D;
        float s = 0;
        for (int64_t d = 0; d < D; ++d) {
          th[d] = std::tanh(sc * (qi[d] + kj[d]));
          s += th[d];
        }
        c.S[(b * Tq + i) * Tv + j] = w * s;
      }
    }
}

void Attention::score_backward(const Tensor& q, const Tensor& k, DenseAttentionCache& c, Tensor& dq, Tensor& dk) {
  const int64_t B = c.B, Tq = c.Tq, Tv = c.Tv, D = c.D;
  Tensor& dS = c.S;
  const float sc = scale_ != nullptr ? scale_->value[0] : 1.0f;
  if (!concat_) {
    if (scale_ != nullptr) {
      double ds = 0;
      for (int64_t i = 0; i < dS.size(); ++i) ds += static_cast<double>(dS[i]) * c.QK[i];
      scale_->grad[0] += static_cast<float>(ds);
      for (float& g : dS) g *= sc;
    }
    for (int64_t b = 0; b < B; ++b) {
      const float* dSb = dS.data() + b * Tq * Tv;
      // dq_b += dS_b (Tq, Tv) . k_b (Tv, D); dk_b += dS_b^T (Tv, Tq) . q_b (Tq, D)
      ops::gemm(false, false, Tq, D, Tv, 1.0f, dSb, Tv, k.data() + b * Tv * D, D, 1.0f, dq.data() + b * Tq * D, D);
      ops::gemm(true, false, Tv, D, Tq, 1.0f, dSb, Tv, q.data() + b * Tq * D, D, 1.0f, dk.data() + b * Tv * D, D);
    }
    return;
  }
  const float w = concat_weight_->value[0];
  double dw = 0, dsc = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      const float* qi = q.data() + (b * Tq + i) * D;
      float* dqi = dq.data() + (b * Tq + i) * D;
      for (int64_t j = 0; j < Tv; ++j) {
        const float g = dS[(b * Tq + i) * Tv + j];
        if (g == 0.0f) continue;
        const float* kj = k.data() + (b * Tv + j) * D;
        float* dkj = dk.data() + (b * Tv + j) * D;
        const float* th = c.Th.data() + ((b * Tq + i) * Tv + j) * D;
        float sum_th = 0;
        for (int64_t d = 0; d < D; ++d) {
          sum_th += th[d];
          const float G = g * w * (1.0f - th[d] * th[d]);  // d/d(pre-tanh)
          dqi[d] += sc * G;
          dkj[d] += sc * G;
          dsc += static_cast<double>(G) * (qi[d] + kj[d]);
        }
        dw += static_cast<double>(g) * sum_th;
      }
    }
  concat_weight_->grad[0] += static_cast<float>(dw);
  if (scale_ != nullptr) scale_->grad[0] += static_cast<float>(dsc);
}

// ---------------------------------------------------------------- AdditiveAttention

AdditiveAttention::AdditiveAttention(AdditiveAttentionOptions options)
    : BaseDenseAttention("AdditiveAttention", options.name, options.dropout, options.return_attention_scores,
                         options.use_causal_mask),
      options_(std::move(options)) {}

nlohmann::json AdditiveAttention::get_config() const {
  nlohmann::json j = base_config();
  j["use_scale"] = options_.use_scale;
  return j;
}

std::shared_ptr<Layer> AdditiveAttention::from_config(const ConfigReader& r) {
  r.expect_common();
  AdditiveAttentionOptions o;
  o.use_scale = r.get_bool("use_scale", o.use_scale);
  o.dropout = r.get_float("dropout", o.dropout, 0.0, 1.0);
  o.use_causal_mask = r.get_bool("causal", o.use_causal_mask);
  o.name = r.name();
  return std::make_shared<AdditiveAttention>(o);
}
SEQNET_REGISTER_LAYER(AdditiveAttention);

void AdditiveAttention::build(const std::vector<Shape>& in) {
  if (options_.use_scale) scale_ = &add_param("scale", {in[0][2]}, "glorot_uniform");
}

void AdditiveAttention::scores(const Tensor& q, const Tensor& k, DenseAttentionCache& c) const {
  const int64_t B = c.B, Tq = c.Tq, Tv = c.Tv, D = c.D;
  if (scale_ != nullptr && scale_->value.size() != D) {
    fail_shape(fmt::format("the layer was built for query features {}, got {}", scale_->value.size(), D));
  }
  const float* sc = scale_ != nullptr ? scale_->value.data() : nullptr;
  ensure_shape(c.Th, {B, Tq, Tv, D});
  // S_ij = sum_d scale_d * tanh(q_id + k_jd)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      const float* qi = q.data() + (b * Tq + i) * D;
      for (int64_t j = 0; j < Tv; ++j) {
        const float* kj = k.data() + (b * Tv + j) * D;
        float* th = c.Th.data() + ((b * Tq + i) * Tv + j) * D;
        float s = 0;
        for (int64_t d = 0; d < D; ++d) {
          th[d] = std::tanh(qi[d] + kj[d]);
          s += sc != nullptr ? sc[d] * th[d] : th[d];
        }
        c.S[(b * Tq + i) * Tv + j] = s;
      }
    }
}

void AdditiveAttention::score_backward(const Tensor&, const Tensor&, DenseAttentionCache& c, Tensor& dq,
                                       Tensor& dk) {
  const int64_t B = c.B, Tq = c.Tq, Tv = c.Tv, D = c.D;
  const Tensor& dS = c.S;
  const float* sc = scale_ != nullptr ? scale_->value.data() : nullptr;
  float* dsc = scale_ != nullptr ? scale_->grad.data() : nullptr;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      float* dqi = dq.data() + (b * Tq + i) * D;
      for (int64_t j = 0; j < Tv; ++j) {
        const float g = dS[(b * Tq + i) * Tv + j];
        if (g == 0.0f) continue;
        float* dkj = dk.data() + (b * Tv + j) * D;
        const float* th = c.Th.data() + ((b * Tq + i) * Tv + j) * D;
        for (int64_t d = 0; d < D; ++d) {
          const float s = sc != nullptr ? sc[d] : 1.0f;
          if (dsc != nullptr) dsc[d] += g * th[d];
          const float G = g * s * (1.0f - th[d] * th[d]);
          dqi[d] += G;
          dkj[d] += G;
        }
      }
    }
}

}  // namespace seqnet::layers
