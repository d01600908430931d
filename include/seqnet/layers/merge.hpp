#pragma once
// Merge layers over several inputs of the same shape: Add, Subtract (exactly
// two: a - b), Multiply, Average, Maximum; and Concatenate(axis), whose
// inputs agree on every axis but `axis`. The output mask is the AND of the
// inputs' masks.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {
namespace layers {

class Merge : public Layer {
 public:
  enum class Op { Add, Subtract, Multiply, Average, Maximum };
  Op op() const { return op_; }
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  Merge(Op op, std::string class_name, std::string name);
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  Op op_;
};

class Add : public Merge {
 public:
  explicit Add(std::string name = "") : Merge(Op::Add, "Add", std::move(name)) {}
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
};
class Subtract : public Merge {
 public:
  explicit Subtract(std::string name = "") : Merge(Op::Subtract, "Subtract", std::move(name)) {}
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
};
class Multiply : public Merge {
 public:
  explicit Multiply(std::string name = "") : Merge(Op::Multiply, "Multiply", std::move(name)) {}
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
};
class Average : public Merge {
 public:
  explicit Average(std::string name = "") : Merge(Op::Average, "Average", std::move(name)) {}
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
};
class Maximum : public Merge {
 public:
  explicit Maximum(std::string name = "") : Merge(Op::Maximum, "Maximum", std::move(name)) {}
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
};

class Concatenate : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // axis counts from the front (0 is the batch axis, which cannot be used)
  // or, when negative, from the end. Default: -1.
  explicit Concatenate(int axis = -1, std::string name = "");
  int axis() const { return axis_; }
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  int resolve_axis(size_t rank) const;
  int axis_;
};

// AND of the non-empty masks (empty when all are empty). Throws ShapeError
// when two masks differ in shape.
Tensor combine_masks(const std::vector<Tensor>& masks, const std::string& context);

}  // namespace layers
}  // namespace seqnet
