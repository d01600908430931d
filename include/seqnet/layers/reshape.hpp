#pragma once
// Flatten: (B, d1, d2, ...) -> (B, d1*d2*...).
// Reshape(target_shape): (B, ...) -> (B, target_shape...); the target
// excludes the batch axis and may hold one None (-1), inferred like Keras.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {
namespace layers {

class Flatten : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  explicit Flatten(std::string name = "");
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;
};

class Reshape : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError when the target has a dimension < -1 or == 0, or more
  // than one -1.
  explicit Reshape(Shape target_shape, std::string name = "");
  const Shape& target_shape() const { return target_; }
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  Shape target_;
};

}  // namespace layers
}  // namespace seqnet
