#pragma once
// TimeDistributed(layer): applies a single-input, single-output layer to
// every time step of a (B, T, ...) input, by running it once on the
// (B*T, ...) reshaped input. The wrapped layer's weights are shared by all
// steps and keep their names (TimeDistributed(Dense) has kernel and bias).
// The input mask passes through.

#include <memory>
#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {
namespace layers {

class TimeDistributed : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError when `layer` is null.
  explicit TimeDistributed(std::shared_ptr<Layer> layer, std::string name = "");
  Layer& layer() { return *inner_; }
  const std::shared_ptr<Layer>& layer_ptr() const { return inner_; }

  std::unique_ptr<Cache> make_cache() const override;
  void visit_params(const std::function<void(const std::string&, Param&)>& fn) override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;
  void visit_sublayers(const std::function<void(const std::string& path, Layer&)>& fn) override;
  using Layer::reset_states;
  void reset_states() override { inner_->reset_states(); }
  bool is_stateful() const override { return inner_->is_stateful(); }
  // The inner layer's, for the (B * T, ...) batch it sees, and that batch.
  double working_bytes(const std::vector<Shape>& input_shapes, bool training) const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;
  bool mask_passes_through() const override { return true; }

 private:
  std::shared_ptr<Layer> inner_;
};

}  // namespace layers
}  // namespace seqnet
