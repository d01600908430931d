#pragma once
// Bidirectional(layer, merge_mode): runs a recurrent layer forwards and a
// copy of it backwards over the same input and merges the two outputs.
//
// As in Keras, the wrapped layer's configuration is copied into two fresh
// layers named "forward_<name>" and "backward_<name>" (the backward one with
// go_backwards flipped), or the given backward_layer is used for the
// backward direction. With return_sequences the backward output is reversed
// back to input order before merging, and masked steps output zeros.
//
// merge_mode: "concat" (default, features doubled), "sum", "mul", "ave", or
// "none" (outputs returned separately: [out_fw, out_bw, ...]).
// Inputs:  [x, optional initial states: the forward layer's, then the
//          backward layer's (LSTM: h_fw, c_fw, h_bw, c_bw)].
// Outputs: [output] + (return_state ? [h_fw, c_fw, h_bw, c_bw] : []) for
//          LSTM; GRU/SimpleRNN have one state per direction.
// Weights: forward_<name>/kernel, ..., then backward_<name>/kernel, ...

#include <memory>
#include <optional>
#include <string>

#include "seqnet/layers/recurrent.hpp"

namespace seqnet {

struct BidirectionalOptions {
  // "concat", "sum", "mul", "ave" or "none". Default: "concat".
  std::string merge_mode = "concat";
  // Layer for the backward direction: a recurrent layer matching the
  // forward layer's class, units, return_sequences, return_state and
  // stateful, with the opposite go_backwards. Default: a copy of the
  // forward layer.
  std::shared_ptr<Layer> backward_layer{};
  // Whether the two directions output zeros at masked steps (Keras 2.3 and
  // later) or repeat their previous output there (Keras before 2.3).
  // Default: return_sequences, as Keras 2.3 and later.
  std::optional<bool> zero_output_for_mask{};
  // Default: unique "bidirectional", "bidirectional_1", ...
  std::string name{};
};

namespace layers {

class Bidirectional : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  enum class MergeMode { Concat, Sum, Mul, Ave, None };
  // Throws ValueError for an unknown merge_mode, a null layer, or a
  // backward_layer that does not match `layer`.
  Bidirectional(const std::shared_ptr<Recurrent>& layer, BidirectionalOptions options = {});

  Recurrent& forward_layer() { return *forward_; }
  Recurrent& backward_layer() { return *backward_; }
  MergeMode merge_mode() const { return mode_; }
  const BidirectionalOptions& options() const { return options_; }

  int num_outputs() const override;
  using Layer::reset_states;
  void reset_states() override;
  bool is_stateful() const override { return forward_->is_stateful(); }
  std::unique_ptr<Cache> make_cache() const override;
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  void visit_params(const std::function<void(const std::string&, Param&)>& fn) override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;
  void visit_sublayers(const std::function<void(const std::string& path, Layer&)>& fn) override;
  double working_bytes(const std::vector<Shape>& input_shapes, bool training) const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  // Splits [x, states...] into the inputs of each direction.
  void split_inputs(const std::vector<Tensor>& in, std::vector<Tensor>& fw, std::vector<Tensor>& bw) const;
  template <class T>
  void split(const std::vector<T>& in, std::vector<T>& fw, std::vector<T>& bw) const;

  BidirectionalOptions options_;
  MergeMode mode_;
  std::shared_ptr<Recurrent> forward_, backward_;
};

}  // namespace layers
}  // namespace seqnet
