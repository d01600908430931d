#pragma once
// Activation: applies a Keras activation to its input (softmax along the last
// axis). No weights.

#include <string>

#include "seqnet/layers/layer.hpp"
#include "seqnet/activations.hpp"

namespace seqnet {
namespace layers {

class Activation : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError for an unknown activation name.
  explicit Activation(const std::string& activation, std::string name = "");
  ops::Act activation() const { return act_; }
  std::unique_ptr<Cache> make_cache() const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;
  bool mask_passes_through() const override { return true; }

 private:
  ops::Act act_;
};

}  // namespace layers
}  // namespace seqnet
