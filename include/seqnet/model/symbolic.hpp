#pragma once
// Symbolic tensors and graph nodes: what `Input(...)` returns and what
// calling a layer on symbolic tensors produces, as in the Keras functional
// API. A GraphNode records one call of a layer (its layer, its inbound
// tensors and its output shapes); a SymbolicTensor is one output of a node.
//
// Shapes include the batch axis; None (-1) marks an unknown batch or time
// dimension: Input({4, 10}) has shape (None, 4, 10).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/layers/layer.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet {

class SymbolicTensor;

// One symbolic call of a layer.
struct GraphNode {
  std::shared_ptr<Layer> layer;
  std::vector<SymbolicTensor> inputs;  // inbound tensors, in call order
  std::vector<Shape> output_shapes;
  int node_index = 0;  // position in layer->inbound_nodes()
  uint64_t id = 0;     // global creation order (topological tie-break)
  bool is_input = false;  // an Input() placeholder
};

class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  SymbolicTensor(std::shared_ptr<GraphNode> node, int index) : node_(std::move(node)), index_(index) {}

  bool valid() const { return node_ != nullptr; }
  // The symbolic shape, batch axis first. REQUIRES: valid().
  const Shape& shape() const { return node_->output_shapes.at(static_cast<size_t>(index_)); }
  int rank() const { return static_cast<int>(shape().size()); }
  const std::shared_ptr<GraphNode>& node() const { return node_; }
  int index() const { return index_; }
  // The layer that produced this tensor.
  Layer& layer() const { return *node_->layer; }
  // Keras's "layer_name[node_index][tensor_index]", e.g. "lstm_6[0][1]".
  std::string describe() const;

  bool operator==(const SymbolicTensor& o) const { return node_ == o.node_ && index_ == o.index_; }

 private:
  std::shared_ptr<GraphNode> node_;
  int index_ = 0;
};

// The outputs of one layer call: [output] or [output, h, c] with
// return_state. Converts to a single SymbolicTensor when it holds exactly
// one (throws ValueError otherwise), so `auto y = Dense(10)(x);` can be fed
// straight into the next layer.
class SymbolicTensors {
 public:
  SymbolicTensors() = default;
  explicit SymbolicTensors(std::vector<SymbolicTensor> items) : items_(std::move(items)) {}

  size_t size() const { return items_.size(); }
  const SymbolicTensor& operator[](size_t i) const;
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  const std::vector<SymbolicTensor>& items() const { return items_; }
  operator SymbolicTensor() const;  // NOLINT: implicit by design
  // Shape of the single tensor (throws as the conversion does).
  const Shape& shape() const { return static_cast<SymbolicTensor>(*this).shape(); }

 private:
  std::vector<SymbolicTensor> items_;
};

// Options of Input().
struct InputOptions {
  // A fixed batch size (stateful models). Default: 0 = None.
  int64_t batch_size = 0;
  // Default: unique "input_1", "input_2", ... (Keras numbers inputs from 1).
  std::string name{};
};

// A model input of per-sample shape `shape` (without the batch axis; None
// allowed for the time axis): Input({None, 51}) is (None, None, 51).
// Throws ValueError for dimensions < -1 or == 0.
SymbolicTensor Input(const Shape& shape, const InputOptions& options = {});

namespace layers {

// The layer behind Input(): passes its input through. Weights: none.
class InputLayer : public Layer {
 public:
  InputLayer(Shape batch_shape, std::string name);
  const Shape& batch_shape() const { return batch_shape_; }
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  Shape batch_shape_;
};

}  // namespace layers

// Records a call of `layer` on `inputs` (shape inference, weight building on
// the first call) and returns its outputs. Used by LayerRef::operator().
SymbolicTensors call_layer(const std::shared_ptr<Layer>& layer, const std::vector<SymbolicTensor>& inputs);

}  // namespace seqnet
