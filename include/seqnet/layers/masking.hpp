#pragma once
// Masking(mask_value): marks the time steps of a (B, T, F) input whose
// features all equal mask_value as padding. Its output is the input with
// those steps zeroed, and its output mask (B, T) is 1 where any feature
// differs from mask_value; recurrent layers downstream skip masked steps.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {
namespace layers {

class Masking : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  explicit Masking(float mask_value = 0.0f, std::string name = "");
  float mask_value() const { return mask_value_; }
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  float mask_value_;
};

}  // namespace layers
}  // namespace seqnet
