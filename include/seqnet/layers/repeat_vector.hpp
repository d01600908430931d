#pragma once
// RepeatVector(n): (B, F) -> (B, n, F), the input repeated n times.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {
namespace layers {

class RepeatVector : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError when n <= 0.
  explicit RepeatVector(int64_t n, std::string name = "");
  int64_t n() const { return n_; }
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  int64_t n_;
};

}  // namespace layers
}  // namespace seqnet
