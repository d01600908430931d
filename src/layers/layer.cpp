#include "seqnet/layers/layer.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "layers/param_guard.hpp"
#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/error.hpp"

namespace seqnet {

namespace {

std::map<std::string, int>& name_counts() {
  static std::map<std::string, int> counts;
  return counts;
}

}  // namespace

std::string to_snake_case(std::string_view s) {
  // Keras: '(.)([A-Z][a-z]+)' -> '\1_\2', then '([a-z])([A-Z])' -> '\1_\2', lower.
  std::string a;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool upper_then_lower =
        std::isupper(static_cast<unsigned char>(s[i])) && i + 1 < s.size() &&
        std::islower(static_cast<unsigned char>(s[i + 1]));
    if (i > 0 && upper_then_lower) a += '_';
    a += s[i];
  }
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0 && std::islower(static_cast<unsigned char>(a[i - 1])) && std::isupper(static_cast<unsigned char>(a[i])))
      b += '_';
    b += static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
  }
  return b;
}

std::string unique_name(const std::string& prefix) {
  int& n = name_counts()[prefix];
  const std::string name = n == 0 ? prefix : fmt::format("{}_{}", prefix, n);
  ++n;
  return name;
}

void clear_session() { name_counts().clear(); }

Layer::Layer(std::string class_name, std::string name)
    : class_name_(std::move(class_name)),
      name_(name.empty() ? unique_name(to_snake_case(class_name_)) : std::move(name)),
      policy_(mixed_precision::global_policy()) {}

namespace {

ops::Precision precision_of(const mixed_precision::Policy& p) {
  return p.bfloat16() ? ops::Precision::BFloat16 : ops::Precision::Float32;
}

}  // namespace

std::string Layer::describe() const { return fmt::format("{} \"{}\"", class_name_, name_); }

void Layer::fail_shape(std::string_view what) const { throw ShapeError(fmt::format("{}: {}", describe(), what)); }

void Layer::fail_value(std::string_view what) const { throw ValueError(fmt::format("{}: {}", describe(), what)); }

void Layer::expect_input_count(size_t n, size_t lo, size_t hi) const {
  if (n < lo || n > hi) {
    if (lo == hi) fail_value(fmt::format("expected {} input tensor{}, got {}", lo, lo == 1 ? "" : "s", n));
    fail_value(fmt::format("expected {} to {} input tensors, got {}", lo, hi, n));
  }
}

bool Layer::has_grad(const Tensor& d, const Shape& expected, size_t i) const {
  if (d.empty()) return false;
  if (d.shape() != expected) {
    fail_shape(fmt::format("expected the gradient of output {} to have shape {}, got {}", i, shape_str(expected),
                           shape_str(d.shape())));
  }
  return true;
}

std::vector<Shape> Layer::compute_output_shapes(const std::vector<Shape>& input_shapes) {
  std::vector<Shape> out = infer_shapes(input_shapes);
  if (!built_) {
    build(input_shapes);
    built_ = true;
  }
  return out;
}

std::vector<Tensor> Layer::forward(const std::vector<Tensor>& inputs, const CallArgs& args, Cache* cache) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) fail_value(fmt::format("input {} is an empty tensor", i));
  }
  {
    // Validate the inputs on every call, not only the first (which also
    // builds): a built layer must still reject a wrong input count or rank
    // with a message naming it, before forward_impl indexes anything.
    std::vector<Shape> shapes;
    shapes.reserve(inputs.size());
    for (const auto& t : inputs) shapes.push_back(t.shape());
    if (!built_) {
      compute_output_shapes(shapes);
    } else {
      infer_shapes(shapes);
    }
  }
  if (!args.mask.empty()) {
    const Shape& s0 = inputs.at(0).shape();
    if (args.mask.rank() != 2 || s0.size() < 2 || args.mask.dim(0) != s0[0] || args.mask.dim(1) != s0[1]) {
      fail_shape(fmt::format("expected a mask of shape (batch, time) = ({}, {}), got {}", s0.empty() ? 0 : s0[0],
                             s0.size() < 2 ? 0 : s0[1], shape_str(args.mask.shape())));
    }
  }
  if (!args.masks.empty()) {
    if (args.masks.size() != inputs.size()) {
      fail_value(fmt::format("expected one mask per input ({} inputs), got {} masks", inputs.size(),
                             args.masks.size()));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& m = args.masks[i];
      if (m.empty()) continue;
      const Shape& si = inputs[i].shape();
      if (m.rank() != 2 || si.size() < 2 || m.dim(0) != si[0] || m.dim(1) != si[1]) {
        fail_shape(fmt::format("expected the mask of input {} to have shape (batch, time) = ({}, {}), got {}", i,
                               si.empty() ? 0 : si[0], si.size() < 2 ? 0 : si[1], shape_str(m.shape())));
      }
    }
  }
  if (cache != nullptr) {
    cache->filled = false;
    cache->training = args.training;
  }
  std::vector<Tensor> out;
  {
    const ops::ScopedPrecision precision(precision_of(policy_));
    out = forward_impl(inputs, args, cache);
  }
  if (cache != nullptr) {
    cache->inputs = inputs;
    cache->filled = args.training;
  }
  return out;
}

Tensor Layer::forward(const Tensor& x, bool training) {
  CallArgs args;
  args.training = training;
  return forward(std::vector<Tensor>{x}, args, nullptr).at(0);
}

std::vector<Tensor> Layer::backward(const std::vector<Tensor>& doutputs, Cache& cache) {
  if (!cache.filled) {
    throw Error(fmt::format("{}: backward() needs a cache filled by forward() with training = true", describe()));
  }
  if (static_cast<int>(doutputs.size()) != num_outputs()) {
    fail_value(fmt::format("backward() expected {} output gradient{}, got {}", num_outputs(),
                           num_outputs() == 1 ? "" : "s", doutputs.size()));
  }
  const ops::ScopedPrecision precision(precision_of(policy_));
  return backward_impl(doutputs, cache);
}

Tensor Layer::compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const {
  (void)inputs;
  if (mask_passes_through() && !masks.empty()) return masks[0];
  return Tensor();
}

const std::vector<Tensor>& Layer::states() const {
  static const std::vector<Tensor> kNone;
  return kNone;
}

void Layer::reset_states(const std::vector<Tensor>&) {
  fail_value("reset_states(states) needs a stateful layer that keeps states");
}

void Layer::visit_sublayers(const std::function<void(const std::string&, Layer&)>&) {}

nlohmann::json Layer::get_config() const {
  throw ValueError(fmt::format("{} is not serializable (no get_config)", describe()));
}

double Layer::working_bytes(const std::vector<Shape>&, bool) const { return 0.0; }

void Layer::initialize_weights() {
  for (auto& p : params_) p->initializer.fill(p->value, fmt::format("{}: {} initializer", describe(), p->name));
  visit_sublayers([](const std::string&, Layer& sub) { sub.initialize_weights(); });
}

void Layer::visit_params(const std::function<void(const std::string&, Param&)>& fn) {
  for (auto& p : params_) fn(p->name, *p);
}

std::vector<Param*> Layer::params() {
  std::vector<Param*> out;
  visit_params([&](const std::string&, Param& p) { out.push_back(&p); });
  return out;
}

int64_t Layer::count_params() {
  int64_t n = 0;
  visit_params([&](const std::string&, Param& p) { n += p.value.size(); });
  return n;
}

void Layer::zero_grad() {
  visit_params([](const std::string&, Param& p) { p.grad.fill(0.0f); });
}

double Layer::regularization_penalty() {
  double s = 0;
  visit_params([&](const std::string&, Param& p) {
    if (p.regularizer.active()) s += p.regularizer.penalty(p.value);
  });
  return s;
}

void Layer::add_regularization_gradients() {
  visit_params([](const std::string&, Param& p) {
    if (p.regularizer.active()) p.regularizer.add_gradient(p.value, p.grad);
  });
}

Param& Layer::add_param(const std::string& name, const Shape& shape, const Initializer& init,
                        const Regularizer& reg) {
  // Bounded and initializer-free while a model is rebuilt from a file.
  const bool run_init = detail::charge_new_param(shape, describe(), name);
  auto p = std::make_unique<Param>();
  p->name = name;
  p->value = Tensor(shape);
  if (run_init) init.fill(p->value, fmt::format("{}: {} initializer", describe(), name));
  p->grad = Tensor(shape);
  p->regularizer = reg;
  p->initializer = init;
  params_.push_back(std::move(p));
  return *params_.back();
}

}  // namespace seqnet
