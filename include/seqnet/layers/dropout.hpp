#pragma once
// Dropout: in training, zeroes each element with probability `rate` and
// scales the others by 1 / (1 - rate) (inverted dropout); in inference it is
// the identity. The mask comes from the global generator (set_seed).

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {
namespace layers {

class Dropout : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError unless 0 <= rate < 1.
  explicit Dropout(float rate, std::string name = "");
  float rate() const { return rate_; }
  std::unique_ptr<Cache> make_cache() const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;
  bool mask_passes_through() const override { return true; }

 private:
  float rate_;
};

}  // namespace layers
}  // namespace seqnet
