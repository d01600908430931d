#include "seqnet/layers/bidirectional.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <thread>

#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/error.hpp"
#include "seqnet/threads.hpp"

namespace seqnet::layers {

namespace {

struct BidirectionalCache : Cache {
  std::unique_ptr<Cache> fw, bw;
  Tensor y_fw, y_bw;  // direction outputs in input time order (for mul)
};

// (B, T, F) reversed along time.
Tensor reverse_time(const Tensor& x) {
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor y = Tensor::uninitialized(x.shape());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) std::copy_n(x.data() + (b * T + t) * F, F, y.data() + (b * T + (T - 1 - t)) * F);
  return y;
}

Bidirectional::MergeMode parse_merge_mode(const std::string& m, const std::string& context) {
  if (m == "concat") return Bidirectional::MergeMode::Concat;
  if (m == "sum") return Bidirectional::MergeMode::Sum;
  if (m == "mul") return Bidirectional::MergeMode::Mul;
  if (m == "ave") return Bidirectional::MergeMode::Ave;
  if (m == "none" || m == "None" || m.empty()) return Bidirectional::MergeMode::None;
  throw ValueError(fmt::format("{}: invalid merge_mode '{}'; expected one of 'concat', 'sum', 'mul', 'ave', 'none'",
                               context, m));
}

}  // namespace

Bidirectional::Bidirectional(const std::shared_ptr<Recurrent>& layer, BidirectionalOptions options)
    : Layer("Bidirectional", options.name), options_(std::move(options)) {
  mode_ = parse_merge_mode(options_.merge_mode, describe());
  if (!layer) fail_value("argument `layer` is null");
  const RecurrentConfig& fc = layer->config();
  const bool zero_out = options_.zero_output_for_mask.value_or(fc.return_sequences);
  forward_ = layer->clone_with("forward_" + layer->name(), fc.go_backwards, zero_out);
  if (options_.backward_layer) {
    const auto* bp = dynamic_cast<const Recurrent*>(options_.backward_layer.get());
    if (bp == nullptr) {
      fail_value(fmt::format("backward_layer must be a recurrent layer, got {}", options_.backward_layer->describe()));
    }
    const auto& b = *bp;
    const RecurrentConfig& bc = b.config();
    if (b.class_name() != layer->class_name() || bc.units != fc.units) {
      fail_value(fmt::format("backward_layer must be a {} with {} units like the forward layer, got {} with {} units",
                             layer->class_name(), fc.units, b.class_name(), bc.units));
    }
    if (bc.go_backwards == fc.go_backwards) {
      fail_value("forward layer and backward_layer must have different go_backwards values");
    }
    if (bc.return_sequences != fc.return_sequences || bc.return_state != fc.return_state ||
        bc.stateful != fc.stateful) {
      fail_value("backward_layer must have the same return_sequences, return_state and stateful as the forward layer");
    }
    backward_ = b.clone_with("backward_" + b.name(), bc.go_backwards, zero_out);
  } else {
    backward_ = layer->clone_with("backward_" + layer->name(), !fc.go_backwards, zero_out);
  }
}

int Bidirectional::num_outputs() const {
  const int states = forward_->config().return_state ? 2 * forward_->num_states() : 0;
  return (mode_ == MergeMode::None ? 2 : 1) + states;
}

void Bidirectional::reset_states() {
  forward_->reset_states();
  backward_->reset_states();
}

std::unique_ptr<Cache> Bidirectional::make_cache() const {
  auto c = std::make_unique<BidirectionalCache>();
  c->fw = forward_->make_cache();
  c->bw = backward_->make_cache();
  return c;
}

Tensor Bidirectional::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (forward_->config().return_sequences && !masks.empty()) return masks[0];
  return Tensor();
}

void Bidirectional::visit_params(const std::function<void(const std::string&, Param&)>& fn) {
  forward_->visit_params([&](const std::string& p, Param& w) { fn(forward_->name() + "/" + p, w); });
  backward_->visit_params([&](const std::string& p, Param& w) { fn(backward_->name() + "/" + p, w); });
}

double Bidirectional::working_bytes(const std::vector<Shape>& in, bool training) const {
  if (in.empty()) return 0.0;
  // Both directions, and the per-direction outputs before they are merged.
  const std::vector<Shape> x{in[0]};
  double out = 0.0;
  for (const Shape& s : forward_->output_shapes_for(x)) out += 4.0 * shape_elements(s);
  return forward_->working_bytes(x, training) + backward_->working_bytes(x, training) + 2.0 * out;
}

void Bidirectional::visit_sublayers(const std::function<void(const std::string&, Layer&)>& fn) {
  fn(forward_->name(), *forward_);
  fn(backward_->name(), *backward_);
}

template <class T>
void Bidirectional::split(const std::vector<T>& in, std::vector<T>& fw, std::vector<T>& bw) const {
  const size_t S = static_cast<size_t>(forward_->num_states());
  if (in.size() != 1 && in.size() != 1 + 2 * S) {
    fail_value(fmt::format("expected 1 input tensor, or 1 plus {} initial states ({} per direction), got {} tensors",
                           2 * S, S, in.size()));
  }
  fw = {in[0]};
  bw = {in[0]};
  if (in.size() > 1) {
    fw.insert(fw.end(), in.begin() + 1, in.begin() + 1 + S);
    bw.insert(bw.end(), in.begin() + 1 + S, in.end());
  }
}

void Bidirectional::split_inputs(const std::vector<Tensor>& in, std::vector<Tensor>& fw,
                                 std::vector<Tensor>& bw) const {
  split(in, fw, bw);
}

std::vector<Shape> Bidirectional::infer_shapes(const std::vector<Shape>& in) const {
  std::vector<Shape> fw, bw;
  split(in, fw, bw);
  // The directions validate their own inputs (and build on first use).
  const std::vector<Shape> of = forward_->compute_output_shapes(fw);
  backward_->compute_output_shapes(bw);
  std::vector<Shape> out;
  Shape y = of[0];
  if (mode_ == MergeMode::Concat) y.back() *= 2;
  out.push_back(y);
  if (mode_ == MergeMode::None) out.push_back(of[0]);
  for (int k = 0; k < 2; ++k)
    for (size_t i = 1; i < of.size(); ++i) out.push_back(of[i]);
  return out;
}

namespace {

// Runs a and b, b on a second thread when `parallel` and two threads are
// allowed, each direction's products then on its own thread. The two
// directions share no state, and products give the same bits on any
// number of threads, so the results are those of running a then b. An
// exception from either is rethrown (a's first).
void run_directions(bool parallel, const std::function<void()>& a, const std::function<void()>& b) {
  if (!parallel || num_threads() < 2) {
    a();
    b();
    return;
  }
  std::exception_ptr eb;
  std::thread t([&] {
    try {
      ops::ScopedProductThreads one(1);
      b();
    } catch (...) {
      eb = std::current_exception();
    }
  });
  std::exception_ptr ea;
  try {
    ops::ScopedProductThreads one(1);
    a();
  } catch (...) {
    ea = std::current_exception();
  }
  t.join();
  if (ea) std::rethrow_exception(ea);
  if (eb) std::rethrow_exception(eb);
}

// Whether a forward call may run the directions at once: both built (a
// first call builds, running initializers on the global generator) and no
// dropout masks to draw from it.
bool directions_independent(const Recurrent& f, const Recurrent& b, const CallArgs& args) {
  auto draws = [&](const Recurrent& r) {
    return args.training && (r.config().dropout > 0.0f || r.config().recurrent_dropout > 0.0f);
  };
  return f.built() && b.built() && !draws(f) && !draws(b);
}

}  // namespace

std::vector<Tensor> Bidirectional::forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) {
  std::vector<Tensor> fw_in, bw_in;
  split_inputs(in, fw_in, bw_in);
  auto* c = static_cast<BidirectionalCache*>(cache);
  std::vector<Tensor> fo, bo;
  run_directions(
      directions_independent(*forward_, *backward_, args),
      [&] { fo = forward_->forward(fw_in, args, c ? c->fw.get() : nullptr); },
      [&] { bo = backward_->forward(bw_in, args, c ? c->bw.get() : nullptr); });
  const bool seq = forward_->config().return_sequences;
  Tensor yf = fo[0];
  Tensor yb = seq ? reverse_time(bo[0]) : bo[0];
  if (c != nullptr) {
    c->y_fw = yf;
    c->y_bw = yb;
  }
  std::vector<Tensor> out;
  const int64_t H = yf.dim(-1);
  const int64_t rows = yf.size() / H;
  switch (mode_) {
    case MergeMode::Concat: {
      Shape s = yf.shape();
      s.back() = 2 * H;
      Tensor y = Tensor::uninitialized(s);
      for (int64_t r = 0; r < rows; ++r) {
        std::copy_n(yf.data() + r * H, H, y.data() + r * 2 * H);
        std::copy_n(yb.data() + r * H, H, y.data() + r * 2 * H + H);
      }
      out.push_back(y);
      break;
    }
    case MergeMode::Sum:
    case MergeMode::Ave:
    case MergeMode::Mul: {
      Tensor y = Tensor::uninitialized(yf.shape());
      for (int64_t i = 0; i < y.size(); ++i) {
        y[i] = mode_ == MergeMode::Sum   ? yf[i] + yb[i]
               : mode_ == MergeMode::Ave ? 0.5f * (yf[i] + yb[i])
                                         : yf[i] * yb[i];
      }
      out.push_back(y);
      break;
    }
    case MergeMode::None:
      out.push_back(yf);
      out.push_back(yb);
      break;
  }
  for (size_t i = 1; i < fo.size(); ++i) out.push_back(fo[i]);
  for (size_t i = 1; i < bo.size(); ++i) out.push_back(bo[i]);
  return out;
}

std::vector<Tensor> Bidirectional::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<BidirectionalCache&>(cache);
  const Tensor& yf = c.y_fw;
  const Tensor& yb = c.y_bw;
  const bool seq = forward_->config().return_sequences;
  const int64_t H = yf.dim(-1);
  const int64_t rows = yf.size() / H;
  Tensor dyf, dyb;  // in input time order
  const int n_merged = mode_ == MergeMode::None ? 2 : 1;
  if (mode_ == MergeMode::None) {
    if (has_grad(dout[0], yf.shape(), 0)) dyf = dout[0];
    if (has_grad(dout[1], yb.shape(), 1)) dyb = dout[1];
  } else {
    Shape s = yf.shape();
    if (mode_ == MergeMode::Concat) s.back() = 2 * H;
    if (has_grad(dout[0], s, 0)) {
      const Tensor& d = dout[0];
      dyf = Tensor::uninitialized(yf.shape());
      dyb = Tensor::uninitialized(yf.shape());
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < H; ++j) {
          const int64_t i = r * H + j;
          switch (mode_) {
            case MergeMode::Concat:
              dyf[i] = d[r * 2 * H + j];
              dyb[i] = d[r * 2 * H + H + j];
              break;
            case MergeMode::Sum:
              dyf[i] = dyb[i] = d[i];
              break;
            case MergeMode::Ave:
              dyf[i] = dyb[i] = 0.5f * d[i];
              break;
            case MergeMode::Mul:
              dyf[i] = d[i] * yb[i];
              dyb[i] = d[i] * yf[i];
              break;
            case MergeMode::None:
              break;
          }
        }
      }
    }
  }
  if (seq && !dyb.empty()) dyb = reverse_time(dyb);
  const int S = forward_->num_states();
  const bool rs = forward_->config().return_state;
  std::vector<Tensor> df{dyf}, db{dyb};
  if (rs) {
    for (int k = 0; k < S; ++k) df.push_back(dout[n_merged + k]);
    for (int k = 0; k < S; ++k) db.push_back(dout[n_merged + S + k]);
  }
  std::vector<Tensor> gf, gb;
  run_directions(
      true, [&] { gf = forward_->backward(df, *c.fw); }, [&] { gb = backward_->backward(db, *c.bw); });
  Tensor dx = gf[0];
  for (int64_t i = 0; i < dx.size(); ++i) dx[i] += gb[0][i];
  std::vector<Tensor> dinputs{dx};
  for (size_t i = 1; i < gf.size(); ++i) dinputs.push_back(gf[i]);
  for (size_t i = 1; i < gb.size(); ++i) dinputs.push_back(gb[i]);
  return dinputs;
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Bidirectional::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  // Keras keeps the wrapped layer as the user gave it: its own name, without
  // the zero_output_for_mask that the two directions get.
  nlohmann::json inner = forward_->get_config();
  const std::string& fname = forward_->name();
  inner["name"] = fname.rfind("forward_", 0) == 0 ? fname.substr(8) : fname;
  inner.erase("zero_output_for_mask");
  c["layer"] = {{"class_name", forward_->class_name()}, {"config", inner}};
  switch (mode_) {
    case MergeMode::Concat: c["merge_mode"] = "concat"; break;
    case MergeMode::Sum: c["merge_mode"] = "sum"; break;
    case MergeMode::Mul: c["merge_mode"] = "mul"; break;
    case MergeMode::Ave: c["merge_mode"] = "ave"; break;
    case MergeMode::None: c["merge_mode"] = nullptr; break;
  }
  if (options_.backward_layer) c["backward_layer"] = layer_to_keras(*options_.backward_layer);
  // Not a Keras key: written only where it differs from Keras 2.3's rule.
  const bool zero_out = forward_->config().zero_output_for_mask;
  if (zero_out != forward_->config().return_sequences) c["zero_output_for_mask"] = zero_out;
  return c;
}

std::shared_ptr<Layer> Bidirectional::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect("num_constants", 0, "seqnet's recurrent layers take no constants");
  auto inner = r.get_layer("layer");
  auto rnn = std::dynamic_pointer_cast<Recurrent>(inner);
  if (!rnn) {
    throw ValueError(fmt::format("{}: `layer` must be a recurrent layer (LSTM, GRU, SimpleRNN), got {}", r.context(),
                                 inner->class_name()));
  }
  BidirectionalOptions o;
  const auto it = r.json().find("merge_mode");
  if (it != r.json().end()) o.merge_mode = it->is_null() ? "none" : r.get_string("merge_mode");
  if (r.has("backward_layer")) o.backward_layer = r.get_layer("backward_layer");
  if (r.has("zero_output_for_mask")) o.zero_output_for_mask = r.get_bool("zero_output_for_mask", false);
  o.name = r.name();
  return std::make_shared<Bidirectional>(rnn, o);
}
SEQNET_REGISTER_LAYER(Bidirectional);

}  // namespace seqnet::layers
