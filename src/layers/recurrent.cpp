#include "seqnet/layers/recurrent.hpp"
#include "seqnet/detail/ops/activations.hpp"
#include "seqnet/detail/recurrent_cache.hpp"

#include "layers/recurrent_config.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "seqnet/detail/ops/elementwise.hpp"
#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/detail/ops/step_product.hpp"
#include "seqnet/random.hpp"

namespace seqnet::layers {

namespace {

// At most this many rows (T * B) of inputs: the input projection runs inside
// the time loop (Recurrent::forward_impl). ops::gemm takes the time loop's
// kernel for so few rows too, so the sums are the same.
constexpr int64_t kFusedProjectionRows = 4;

// Whether step s of sequence b outputs zeros instead of its state Hs[s+1].
// Keras: a masked step outputs the previous *output* (zeros with
// zero_output_for_mask), and the previous output before a sequence's first
// real step is zero, not the initial state. `seen_real` tracks, for steps
// visited in processing order, whether a real step has occurred.
bool zero_output_at(const RecurrentCache& c, bool zero_output_for_mask, int64_t b, int64_t s, bool& seen_real) {
  if (!c.has_mask) return false;
  const bool real = c.M[s * c.B + b] != 0.0f;
  seen_real = seen_real || real;
  return !seen_real || (zero_output_for_mask && !real);
}

Tensor dropout_mask(int64_t rows, int64_t cols, float rate) {
  Tensor m = Tensor::uninitialized({rows, cols});
  Generator& g = global_generator();
  const float scale = 1.0f / (1.0f - rate);
  for (float& v : m) v = g.uniform() >= rate ? scale : 0.0f;
  return m;
}

}  // namespace

Recurrent::Recurrent(std::string class_name, RecurrentConfig config, const std::string& name)
    : Layer(std::move(class_name), name), config_(std::move(config)) {
  const auto& c = config_;
  if (c.units <= 0) {
    fail_value(fmt::format("received an invalid value for argument `units`, expected a positive integer, got {}",
                           c.units));
  }
  if (!(c.dropout >= 0.0f && c.dropout < 1.0f)) {
    fail_value(fmt::format("received an invalid value for argument `dropout`, expected a number in [0, 1), got {}",
                           c.dropout));
  }
  if (!(c.recurrent_dropout >= 0.0f && c.recurrent_dropout < 1.0f)) {
    fail_value(fmt::format(
        "received an invalid value for argument `recurrent_dropout`, expected a number in [0, 1), got {}",
        c.recurrent_dropout));
  }
  act_ = ops::parse_activation(c.activation, describe() + ": argument `activation`");
  rec_act_ = ops::parse_activation(c.recurrent_activation, describe() + ": argument `recurrent_activation`");
  if (!ops::is_elementwise(act_) || !ops::is_elementwise(rec_act_)) {
    fail_value("softmax cannot be used as a recurrent cell activation");
  }
  c.kernel_initializer.validate(describe() + ": argument `kernel_initializer`");
  c.recurrent_initializer.validate(describe() + ": argument `recurrent_initializer`");
  c.bias_initializer.validate(describe() + ": argument `bias_initializer`");
  c.kernel_regularizer.validate(describe() + ": argument `kernel_regularizer`");
  c.recurrent_regularizer.validate(describe() + ": argument `recurrent_regularizer`");
  c.bias_regularizer.validate(describe() + ": argument `bias_regularizer`");
}

Shape Recurrent::bias_shape() const { return {gates() * config_.units}; }

std::unique_ptr<Cache> Recurrent::make_cache() const { return std::make_unique<RecurrentCache>(); }

Tensor Recurrent::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (config_.return_sequences && !masks.empty()) return masks[0];
  return Tensor();
}

double Recurrent::working_bytes(const std::vector<Shape>& in, bool training) const {
  if (in.empty() || in[0].size() != 3) return 0.0;
  const double B = static_cast<double>(in[0][0]), T = static_cast<double>(in[0][1]), I = static_cast<double>(in[0][2]);
  const double H = static_cast<double>(config_.units), G = gates();
  // X (T, B, I), Z (T, B, G*H), Hs (T + 1, B, H), and per cell: LSTM its
  // cell states and act(c), GRU its inner_h (T, B, H); backward: dZ, dX.
  const double per_cell = num_states() == 2 ? 2.0 : (gates() == 3 ? 1.0 : 0.0);
  const double forward = T * B * (I + G * H + (1.0 + per_cell) * H);
  return 4.0 * (training ? forward + T * B * (G * H + I) : forward);
}

std::vector<Shape> Recurrent::infer_shapes(const std::vector<Shape>& in) const {
  const int S = num_states();
  const int64_t H = config_.units;
  if (in.size() != 1 && in.size() != static_cast<size_t>(1 + S)) {
    fail_value(fmt::format("expected 1 input tensor, or 1 plus {} initial state{}, got {} tensors", S,
                           S == 1 ? "" : "s", in.size()));
  }
  const Shape& x = in[0];
  const int64_t I = kernel_ != nullptr ? kernel_->value.dim(0) : None;
  const std::string want_i = I == None ? "features" : std::to_string(I);
  if (x.size() != 3) {
    fail_shape(fmt::format("expected input of shape (batch, time, {}), got {}", want_i, shape_str(x)));
  }
  if (x[2] == None) fail_shape(fmt::format("the feature dimension of the input must be known, got {}", shape_str(x)));
  if (I != None && x[2] != I) {
    fail_shape(fmt::format("expected input of shape (batch, time, {}), got {}", I, shape_str(x)));
  }
  for (int k = 0; k < static_cast<int>(in.size()) - 1; ++k) {
    const Shape& s = in[k + 1];
    const bool ok = s.size() == 2 && s[1] == H && (s[0] == None || x[0] == None || s[0] == x[0]);
    if (!ok) {
      fail_shape(fmt::format("initial state {} must have shape ({}, {}), got {}", k,
                             x[0] == None ? std::string("batch") : std::to_string(x[0]), H, shape_str(s)));
    }
  }
  std::vector<Shape> out;
  out.push_back(config_.return_sequences ? Shape{x[0], x[1], H} : Shape{x[0], H});
  if (config_.return_state) {
    for (int k = 0; k < S; ++k) out.push_back({x[0], H});
  }
  return out;
}

void Recurrent::build(const std::vector<Shape>& in) {
  const int64_t I = in[0][2], H = config_.units, G = gates();
  kernel_ = &add_param("kernel", {I, G * H}, config_.kernel_initializer, config_.kernel_regularizer);
  recurrent_kernel_ =
      &add_param("recurrent_kernel", {H, G * H}, config_.recurrent_initializer, config_.recurrent_regularizer);
  if (config_.use_bias) bias_ = &add_param("bias", bias_shape(), config_.bias_initializer, config_.bias_regularizer);
}

void Recurrent::reset_states() { states_.clear(); }

void Recurrent::reset_states(const std::vector<Tensor>& states) {
  if (!config_.stateful) fail_value("reset_states(states) needs a stateful layer (stateful = true)");
  if (static_cast<int>(states.size()) != num_states()) {
    fail_value(fmt::format("reset_states expected {} state tensors, got {}", num_states(), states.size()));
  }
  for (size_t k = 0; k < states.size(); ++k) {
    if (states[k].rank() != 2 || states[k].dim(1) != config_.units || states[k].dim(0) != states[0].dim(0)) {
      fail_shape(fmt::format("state {} must have shape (batch, {}), got {}", k, config_.units,
                             shape_str(states[k].shape())));
    }
  }
  states_.clear();
  for (const auto& s : states) states_.push_back(s.clone());
}

std::vector<Tensor> Recurrent::forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) {
  std::vector<Shape> shapes;
  for (const auto& t : in) shapes.push_back(t.shape());
  infer_shapes(shapes);
  if (cache == nullptr) {
    if (!inference_cache_) inference_cache_ = make_cache();
    cache = inference_cache_.get();
  }
  auto& c = static_cast<RecurrentCache&>(*cache);
  const Tensor& x = in[0];
  const int S = num_states();
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = config_.units, G = gates();
  c.B = B;
  c.T = T;
  c.I = I;
  c.H = H;
  c.G = G;
  c.num_state_inputs = static_cast<int>(in.size()) - 1;
  c.has_mask = !args.mask.empty();
  c.in_drop = args.training && config_.dropout > 0.0f;
  c.rec_drop = args.training && config_.recurrent_dropout > 0.0f;

  // Initial states: given, kept (stateful), or zeros.
  if (config_.stateful && c.num_state_inputs == 0 && !states_.empty() && states_[0].dim(0) != B) {
    fail_shape(fmt::format("stateful layer holds states for batch size {}, got a batch of {}; use the same batch "
                           "size for every call or call reset_states()",
                           states_[0].dim(0), B));
  }

  ensure_shape(c.X, {T, B, I});
  ensure_shape(c.Z, {T, B, G * H});
  ensure_shape(c.Hs, {T + 1, B, H});
  if (S == 2) ensure_shape(c.Cs, {T + 1, B, H});
  if (c.has_mask) ensure_shape(c.M, {T, B});
  if (c.rec_drop) ensure_shape(c.Hop, {T + 1, B, H});
  prepare(c);

  c.in_mask = c.in_drop ? dropout_mask(B, I, config_.dropout) : Tensor();
  c.rec_mask = c.rec_drop ? dropout_mask(B, H, config_.recurrent_dropout) : Tensor();

  // Inputs to time-major processing order, with the input dropout mask.
  ops::swap_axes01(x.data(), c.X.data(), B, T, I, false);  // (B, T, I) -> (T, B, I)
  if (config_.go_backwards) {
    // Reverse the time axis in place: swap slabs s and T-1-s.
    for (int64_t s = 0; s < T / 2; ++s) {
      std::swap_ranges(c.X.data() + s * B * I, c.X.data() + (s + 1) * B * I, c.X.data() + (T - 1 - s) * B * I);
    }
  }
  if (c.in_drop) {
    for (int64_t s = 0; s < T; ++s)
      for (int64_t i = 0; i < B * I; ++i) c.X[s * B * I + i] *= c.in_mask[i];
  }
  if (c.has_mask) {
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = config_.go_backwards ? T - 1 - s : s;
      for (int64_t b = 0; b < B; ++b) c.M[s * B + b] = args.mask[b * T + t] != 0.0f ? 1.0f : 0.0f;
    }
  }

  // All input projections in one GEMM: Z = X . kernel (+ input bias). With
  // few rows in all (single steps of streaming inference), each thread
  // projects its own unit blocks inside the time loop instead, so that the
  // threads share the reading of the kernel as they share the recurrent
  // kernel's; the same kernel and the same sums as ops::gemm's for so few rows.
  c.fused_projection = T * B <= kFusedProjectionRows;
  if (c.fused_projection) {
    c.Wk.resize(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) c.Wk[g].view_columns(kernel_->value.data(), G * H, I, g * H, H);
  } else {
    ops::gemm(false, false, T * B, G * H, I, 1.0f, c.X.data(), I, kernel_->value.data(), G * H, 0.0f, c.Z.data(),
              G * H);
    if (const float* ib = input_bias()) ops::add_row_vector(c.Z.data(), T * B, G * H, G * H, ib);
  }

  for (int k = 0; k < S; ++k) {
    Tensor& dst = k == 0 ? c.Hs : c.Cs;
    float* d0 = dst.data();  // slot 0
    if (c.num_state_inputs > 0) {
      std::copy_n(in[1 + k].data(), B * H, d0);
    } else if (config_.stateful && !states_.empty()) {
      std::copy_n(states_[k].data(), B * H, d0);
    } else {
      std::fill_n(d0, B * H, 0.0f);
    }
  }
  if (c.rec_drop) {
    for (int64_t i = 0; i < B * H; ++i) c.Hop[i] = c.Hs[i] * c.rec_mask[i];
  }

  pack_weights(c, false);
  const int phases = forward_phases();
  const double step_flops = ops::step_work(B, c.fused_projection ? I + H : H, G * H);
  const float* ib = input_bias();
  ops::run_blocked_steps(T, phases, ops::panel_count(H), step_flops, [&](int64_t s, int phase, int64_t b0, int64_t b1) {
    const int64_t u0 = b0 * ops::kPanelWidth, u1 = std::min(H, b1 * ops::kPanelWidth);
    if (c.fused_projection && phase == 0) project_step(c, s, u0, u1, ib);
    step_forward(c, s, phase, u0, u1);
  });

  // Outputs.
  std::vector<Tensor> out;
  const bool zero_masked = config_.zero_output_for_mask;
  if (config_.return_sequences) {
    Tensor y = Tensor::uninitialized({B, T, H});
    ops::swap_axes01(c.Hs.data() + B * H, y.data(), T, B, H, false);  // (T, B, H) -> (B, T, H)
    for (int64_t b = 0; b < B && c.has_mask; ++b) {
      bool seen_real = false;
      for (int64_t s = 0; s < T; ++s)
        if (zero_output_at(c, zero_masked, b, s, seen_real)) std::fill_n(y.data() + (b * T + s) * H, H, 0.0f);
    }
    out.push_back(y);
  } else {
    Tensor y = Tensor::uninitialized({B, H});
    std::copy_n(c.Hs.data() + T * B * H, B * H, y.data());
    for (int64_t b = 0; b < B && c.has_mask; ++b) {
      bool seen_real = false, zero = false;
      for (int64_t s = 0; s < T; ++s) zero = zero_output_at(c, zero_masked, b, s, seen_real);
      if (zero) std::fill_n(y.data() + b * H, H, 0.0f);
    }
    out.push_back(y);
  }
  std::vector<Tensor> final_states;
  for (int k = 0; k < S; ++k) {
    const Tensor& src = k == 0 ? c.Hs : c.Cs;
    Tensor st = Tensor::uninitialized({B, H});
    std::copy_n(src.data() + T * B * H, B * H, st.data());
    final_states.push_back(st);
  }
  if (config_.return_state) {
    for (const auto& st : final_states) out.push_back(st);
  }
  if (config_.stateful) {
    states_.clear();
    for (const auto& st : final_states) states_.push_back(st.clone());
  }
  return out;
}

void Recurrent::project_step(RecurrentCache& c, int64_t s, int64_t u0, int64_t u1, const float* input_bias) {
  const int64_t B = c.B, H = c.H, G = c.G, GH = G * H;
  float* z = c.Z.data() + s * B * GH;
  const float* x = c.X.data() + s * B * c.I;
  for (int64_t g = 0; g < G; ++g) {
    ops::panel_product(B, x, c.I, c.Wk[g], u0, u1, z + g * H + u0, GH, false);
    if (input_bias == nullptr) continue;
    for (int64_t b = 0; b < B; ++b) {
      float* row = z + b * GH + g * H;
      for (int64_t j = u0; j < u1; ++j) row[j] += input_bias[g * H + j];
    }
  }
}

void Recurrent::pack_weights(RecurrentCache& c, bool backward) const {
  const int64_t H = c.H, G = c.G, GH = G * H;
  const float* U = recurrent_kernel_->value.data();
  if (backward) {
    c.Wb.resize(1);
    c.Wb[0].pack_transposed(U, GH, H, 0, GH);
    return;
  }
  c.Wf.resize(static_cast<size_t>(G));
  for (int64_t g = 0; g < G; ++g) {
    // Rows that fit one register tile read each panel once: no need to pack.
    if (c.B <= ops::kTileRows) {
      c.Wf[g].view_columns(U, GH, H, g * H, H);
    } else {
      c.Wf[g].pack_columns(U, GH, H, g * H, H);
    }
  }
}

void Recurrent::add_recurrent_grad(RecurrentCache& c, const float* dg, int64_t ldg, const ops::PanelMatrix& W,
                                   int64_t u0, int64_t u1) {
  const int64_t B = c.B, H = c.H;
  if (!c.rec_drop) {
    ops::panel_product(B, dg, ldg, W, u0, u1, c.dh.data() + u0, H, true);
    return;
  }
  ops::panel_product(B, dg, ldg, W, u0, u1, c.dtmp.data() + u0, H, false);
  for (int64_t b = 0; b < B; ++b) {
    float* dh = c.dh.data() + b * H;
    const float* d = c.dtmp.data() + b * H;
    const float* m = c.rec_mask.data() + b * H;
    for (int64_t j = u0; j < u1; ++j) dh[j] += d[j] * m[j];
  }
}

std::vector<Tensor> Recurrent::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<RecurrentCache&>(cache);
  const int S = num_states();
  const int64_t B = c.B, T = c.T, I = c.I, H = c.H, G = c.G;
  const Shape out_shape = config_.return_sequences ? Shape{B, T, H} : Shape{B, H};
  const bool have_dout = has_grad(dout[0], out_shape, 0);
  ensure_shape(c.dZ, {T, B, G * H});
  ensure_shape(c.dh, {B, H});
  ensure_shape(c.dtmp, {B, H});
  if (S == 2) ensure_shape(c.dc, {B, H});
  c.dh.fill(0.0f);
  if (S == 2) c.dc.fill(0.0f);
  // Gradients of the final states (return_state outputs).
  if (config_.return_state) {
    for (int k = 0; k < S; ++k) {
      if (has_grad(dout[1 + k], {B, H}, 1 + k)) {
        Tensor& d = k == 0 ? c.dh : c.dc;
        ops::axpy(B * H, 1.0f, dout[1 + k].data(), d.data());
      }
    }
  }
  const bool zero_masked = config_.zero_output_for_mask;
  Tensor dseq;  // (B, T, H) gradient of the sequence output, masked when needed
  if (have_dout && config_.return_sequences) {
    dseq = dout[0];
    if (c.has_mask) {
      dseq = dout[0].clone();
      for (int64_t b = 0; b < B; ++b) {
        bool seen_real = false;
        for (int64_t s = 0; s < T; ++s)
          if (zero_output_at(c, zero_masked, b, s, seen_real)) std::fill_n(dseq.data() + (b * T + s) * H, H, 0.0f);
      }
    }
  } else if (have_dout && T > 0) {
    // Last output only: the state after the last step, unless it is zero.
    for (int64_t b = 0; b < B; ++b) {
      bool seen_real = false, zero = false;
      for (int64_t s = 0; s < T && c.has_mask; ++s) zero = zero_output_at(c, zero_masked, b, s, seen_real);
      if (zero) continue;
      ops::axpy(H, 1.0f, dout[0].data() + b * H, c.dh.data() + b * H);
    }
  }

  pack_weights(c, true);
  ops::run_blocked_steps(T + 1, backward_phases(), ops::panel_count(H), ops::step_work(B, G * H, H),
                         [&](int64_t i, int phase, int64_t b0, int64_t b1) {
                           const int64_t s = T - 1 - i;  // T-1 down to -1
                           const float* d = dseq.empty() || s < 0 ? nullptr : dseq.data() + s * H;
                           step_backward(c, s, phase, b0 * ops::kPanelWidth, std::min(H, b1 * ops::kPanelWidth), d,
                                         T * H);
                         });

  weight_gradients(c);

  // Input gradient: dX = dZ . kernel^T in processing order, then back to
  // (B, T, I) in input order with the input dropout mask.
  ensure_shape(c.dX, {T, B, I});
  Tensor& dXtm = c.dX;
  ops::gemm(false, true, T * B, I, G * H, 1.0f, c.dZ.data(), G * H, kernel_->value.data(), G * H, 0.0f, dXtm.data(), I);
  if (c.in_drop) {
    for (int64_t s = 0; s < T; ++s)
      for (int64_t i = 0; i < B * I; ++i) dXtm[s * B * I + i] *= c.in_mask[i];
  }
  Tensor dx = Tensor::uninitialized({B, T, I});
  ops::swap_axes01(dXtm.data(), dx.data(), T, B, I, config_.go_backwards);

  std::vector<Tensor> dinputs{dx};
  for (int k = 0; k < c.num_state_inputs; ++k) dinputs.push_back((k == 0 ? c.dh : c.dc).clone());
  return dinputs;
}

void Recurrent::weight_gradients(RecurrentCache& c) {
  const int64_t B = c.B, T = c.T, I = c.I, H = c.H, GH = c.G * c.H;
  // dkernel += X^T dZ: (I, T*B) x (T*B, G*H)
  ops::gemm(true, false, I, GH, T * B, 1.0f, c.X.data(), I, c.dZ.data(), GH, 1.0f, kernel_->grad.data(), GH);
  // drecurrent += Hop^T dZ: (H, T*B) x (T*B, G*H), Hop = operands of steps 0..T-1
  ops::gemm(true, false, H, GH, T * B, 1.0f, c.h_operand(0), H, c.dZ.data(), GH, 1.0f, recurrent_kernel_->grad.data(),
            GH);
  if (bias_ != nullptr) ops::add_column_sums(c.dZ.data(), T * B, GH, GH, bias_->grad.data());
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

void Recurrent::add_gate_config(nlohmann::json& c) const {
  c["recurrent_activation"] = ops::activation_name(rec_act_);
  c["implementation"] = 2;
}

nlohmann::json Recurrent::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["units"] = config_.units;
  visit_recurrent_options(config_, config_, [&](const char* key, const auto& v, const auto&) {
    c[key] = recurrent_option_to_json(v);
  });
  c["activation"] = ops::activation_name(act_);
  c["unroll"] = false;
  c["time_major"] = false;
  c["activity_regularizer"] = nullptr;
  c["kernel_constraint"] = nullptr;
  c["recurrent_constraint"] = nullptr;
  c["bias_constraint"] = nullptr;
  // Keras writes this hidden argument only when it is set (Bidirectional).
  if (!config_.zero_output_for_mask) c.erase("zero_output_for_mask");
  add_cell_config(c);
  return c;
}

}  // namespace seqnet::layers
