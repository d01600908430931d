#include "seqnet/layers/merge.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "seqnet/error.hpp"

namespace seqnet::layers {

namespace {

bool dims_compatible(int64_t a, int64_t b) { return a == None || b == None || a == b; }

}  // namespace

Tensor combine_masks(const std::vector<Tensor>& masks, const std::string& context) {
  Tensor out;
  for (const Tensor& m : masks) {
    if (m.empty()) continue;
    if (out.empty()) {
      out = m.clone();
      continue;
    }
    if (m.shape() != out.shape()) {
      throw ShapeError(fmt::format("{}: input masks differ in shape: {} vs {}", context, shape_str(out.shape()),
                                   shape_str(m.shape())));
    }
    for (int64_t i = 0; i < out.size(); ++i) out[i] = (out[i] != 0.0f && m[i] != 0.0f) ? 1.0f : 0.0f;
  }
  return out;
}

Merge::Merge(Op op, std::string class_name, std::string name) : Layer(std::move(class_name), std::move(name)), op_(op) {}

Tensor Merge::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  return combine_masks(masks, describe());
}

std::vector<Shape> Merge::infer_shapes(const std::vector<Shape>& in) const {
  if (op_ == Op::Subtract) expect_input_count(in.size(), 2, 2);
  else if (in.size() < 2) fail_value(fmt::format("expected at least 2 input tensors, got {}", in.size()));
  Shape out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    bool ok = in[i].size() == out.size();
    for (size_t k = 0; ok && k < out.size(); ++k) {
      ok = dims_compatible(in[i][k], out[k]);
      if (ok && out[k] == None) out[k] = in[i][k];
    }
    if (!ok) {
      fail_shape(fmt::format("all inputs must have the same shape; input 0 has {}, input {} has {}",
                             shape_str(in[0]), i, shape_str(in[i])));
    }
  }
  return {out};
}

std::vector<Tensor> Merge::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  std::vector<Shape> shapes;
  for (const auto& t : in) shapes.push_back(t.shape());
  infer_shapes(shapes);
  Tensor y = in[0].clone();
  const int64_t n = y.size();
  for (size_t i = 1; i < in.size(); ++i) {
    const float* x = in[i].data();
    switch (op_) {
      case Op::Add:
      case Op::Average:
        for (int64_t k = 0; k < n; ++k) y[k] += x[k];
        break;
      case Op::Subtract:
        for (int64_t k = 0; k < n; ++k) y[k] -= x[k];
        break;
      case Op::Multiply:
        for (int64_t k = 0; k < n; ++k) y[k] *= x[k];
        break;
      case Op::Maximum:
        for (int64_t k = 0; k < n; ++k) y[k] = std::max(y[k], x[k]);
        break;
    }
  }
  if (op_ == Op::Average) {
    const float s = 1.0f / static_cast<float>(in.size());
    for (int64_t k = 0; k < n; ++k) y[k] *= s;
  }
  return {y};
}

std::vector<Tensor> Merge::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const auto& in = cache.inputs;
  const size_t m = in.size();
  std::vector<Tensor> dx;
  for (const auto& t : in) dx.emplace_back(t.shape());
  if (!has_grad(dout[0], in[0].shape(), 0)) return dx;
  const Tensor& d = dout[0];
  const int64_t n = d.size();
  switch (op_) {
    case Op::Add:
      for (auto& g : dx) g.copy_from(d);
      break;
    case Op::Subtract:
      dx[0].copy_from(d);
      for (int64_t k = 0; k < n; ++k) dx[1][k] = -d[k];
      break;
    case Op::Average: {
      const float s = 1.0f / static_cast<float>(m);
      for (auto& g : dx)
        for (int64_t k = 0; k < n; ++k) g[k] = s * d[k];
      break;
    }
    case Op::Multiply:
      for (size_t i = 0; i < m; ++i) {
        for (int64_t k = 0; k < n; ++k) {
          float p = d[k];
          for (size_t j = 0; j < m; ++j)
            if (j != i) p *= in[j][k];
          dx[i][k] = p;
        }
      }
      break;
    case Op::Maximum:
      // The gradient goes to the first input holding the maximum.
      for (int64_t k = 0; k < n; ++k) {
        size_t best = 0;
        for (size_t j = 1; j < m; ++j)
          if (in[j][k] > in[best][k]) best = j;
        dx[best][k] = d[k];
      }
      break;
  }
  return dx;
}

Concatenate::Concatenate(int axis, std::string name) : Layer("Concatenate", std::move(name)), axis_(axis) {}

int Concatenate::resolve_axis(size_t rank) const {
  const int r = static_cast<int>(rank);
  const int a = axis_ < 0 ? axis_ + r : axis_;
  if (a <= 0 || a >= r) {
    fail_value(fmt::format("argument `axis` = {} is invalid for inputs of rank {} (the batch axis 0 cannot be used)",
                           axis_, rank));
  }
  return a;
}

Tensor Concatenate::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  return combine_masks(masks, describe());
}

std::vector<Shape> Concatenate::infer_shapes(const std::vector<Shape>& in) const {
  if (in.size() < 2) fail_value(fmt::format("expected at least 2 input tensors, got {}", in.size()));
  const int a = resolve_axis(in[0].size());
  Shape out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    bool ok = in[i].size() == out.size();
    for (size_t k = 0; ok && k < out.size(); ++k) {
      if (static_cast<int>(k) == a) {
        out[k] = (out[k] == None || in[i][k] == None) ? None : out[k] + in[i][k];
      } else {
        ok = dims_compatible(in[i][k], out[k]);
        if (ok && out[k] == None) out[k] = in[i][k];
      }
    }
    if (!ok) {
      fail_shape(fmt::format("inputs must agree on every axis but {}; input 0 has {}, input {} has {}", a,
                             shape_str(in[0]), i, shape_str(in[i])));
    }
  }
  return {out};
}

std::vector<Tensor> Concatenate::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  std::vector<Shape> shapes;
  for (const auto& t : in) shapes.push_back(t.shape());
  const Shape out_shape = infer_shapes(shapes)[0];
  const int a = resolve_axis(out_shape.size());
  Tensor y = Tensor::uninitialized(out_shape);
  // outer = product of dims before the axis; each input contributes a block
  // of (its axis size * inner) floats per outer index.
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < a; ++k) outer *= out_shape[k];
  for (size_t k = a + 1; k < out_shape.size(); ++k) inner *= out_shape[k];
  const int64_t out_block = out_shape[a] * inner;
  int64_t offset = 0;
  for (const auto& t : in) {
    const int64_t block = t.dim(a) * inner;
    for (int64_t o = 0; o < outer; ++o) std::copy_n(t.data() + o * block, block, y.data() + o * out_block + offset);
    offset += block;
  }
  return {y};
}

std::vector<Tensor> Concatenate::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const auto& in = cache.inputs;
  std::vector<Shape> shapes;
  for (const auto& t : in) shapes.push_back(t.shape());
  const Shape out_shape = infer_shapes(shapes)[0];
  std::vector<Tensor> dx;
  for (const auto& t : in) dx.emplace_back(t.shape());
  if (!has_grad(dout[0], out_shape, 0)) return dx;
  const int a = resolve_axis(out_shape.size());
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < a; ++k) outer *= out_shape[k];
  for (size_t k = a + 1; k < out_shape.size(); ++k) inner *= out_shape[k];
  const int64_t out_block = out_shape[a] * inner;
  int64_t offset = 0;
  for (auto& g : dx) {
    const int64_t block = g.dim(a) * inner;
    for (int64_t o = 0; o < outer; ++o) std::copy_n(dout[0].data() + o * out_block + offset, block, g.data() + o * block);
    offset += block;
  }
  return dx;
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Merge::get_config() const { return base_layer_config(*this); }

namespace {

template <class M>
std::shared_ptr<Layer> merge_from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<M>(r.name());
}

}  // namespace

std::shared_ptr<Layer> Add::from_config(const ConfigReader& r) { return merge_from_config<Add>(r); }
std::shared_ptr<Layer> Subtract::from_config(const ConfigReader& r) { return merge_from_config<Subtract>(r); }
std::shared_ptr<Layer> Multiply::from_config(const ConfigReader& r) { return merge_from_config<Multiply>(r); }
std::shared_ptr<Layer> Average::from_config(const ConfigReader& r) { return merge_from_config<Average>(r); }
std::shared_ptr<Layer> Maximum::from_config(const ConfigReader& r) { return merge_from_config<Maximum>(r); }
SEQNET_REGISTER_LAYER(Add);
SEQNET_REGISTER_LAYER(Subtract);
SEQNET_REGISTER_LAYER(Multiply);
SEQNET_REGISTER_LAYER(Average);
SEQNET_REGISTER_LAYER(Maximum);

nlohmann::json Concatenate::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["axis"] = axis_;
  return c;
}

std::shared_ptr<Layer> Concatenate::from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<Concatenate>(static_cast<int>(r.get_int("axis", -1, -8, 8)), r.name());
}
SEQNET_REGISTER_LAYER(Concatenate);

}  // namespace seqnet::layers
