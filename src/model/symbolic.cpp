#include "seqnet/model/symbolic.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <atomic>

#include "seqnet/error.hpp"

namespace seqnet {

namespace {

uint64_t next_node_id() {
  static std::atomic<uint64_t> id{0};
  return ++id;
}

}  // namespace

std::string SymbolicTensor::describe() const {
  if (!valid()) return "<empty>";
  return fmt::format("{}[{}][{}]", node_->layer->name(), node_->node_index, index_);
}

const SymbolicTensor& SymbolicTensors::operator[](size_t i) const {
  if (i >= items_.size()) {
    throw ValueError(fmt::format("layer outputs: index {} is out of range, the call has {} output{}", i,
                                 items_.size(), items_.size() == 1 ? "" : "s"));
  }
  return items_[i];
}

SymbolicTensors::operator SymbolicTensor() const {
  if (items_.size() != 1) {
    std::string names;
    for (const auto& t : items_) names += (names.empty() ? "" : ", ") + t.describe();
    throw ValueError(fmt::format("expected a single tensor but the layer call has {} outputs ({}); pick one with "
                                 "[i]",
                                 items_.size(), names));
  }
  return items_[0];
}

namespace layers {

InputLayer::InputLayer(Shape batch_shape, std::string name)
    : Layer("InputLayer", std::move(name)), batch_shape_(std::move(batch_shape)) {}

std::vector<Shape> InputLayer::infer_shapes(const std::vector<Shape>&) const { return {batch_shape_}; }

std::vector<Tensor> InputLayer::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  return {in.at(0)};
}

std::vector<Tensor> InputLayer::backward_impl(const std::vector<Tensor>& dout, Cache&) { return {dout.at(0)}; }

}  // namespace layers

SymbolicTensor Input(const Shape& shape, const InputOptions& options) {
  for (int64_t d : shape) {
    if (d == 0 || d < None) {
      throw ValueError(fmt::format("Input: invalid shape {}: dimensions must be positive or None", shape_str(shape)));
    }
  }
  if (options.batch_size < 0) {
    throw ValueError(fmt::format("Input: batch_size must be positive (or 0 for None), got {}", options.batch_size));
  }
  Shape batch_shape{options.batch_size > 0 ? options.batch_size : None};
  batch_shape.insert(batch_shape.end(), shape.begin(), shape.end());
  // Keras numbers inputs from 1 ("input_1"), unlike other layers.
  std::string name = options.name;
  if (name.empty()) {
    // Only the first call hands out "input" itself: skip it, so the first
    // is input_1 (reserving it on every call numbered input_1, input_3, ...).
    name = unique_name("input");
    if (name == "input") name = unique_name("input");
  }
  auto layer = std::make_shared<layers::InputLayer>(batch_shape, name);
  layer->compute_output_shapes({});
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->output_shapes = {batch_shape};
  node->id = next_node_id();
  node->is_input = true;
  node->node_index = 0;
  layer->inbound_nodes().push_back(node);
  return SymbolicTensor(node, 0);
}

SymbolicTensors call_layer(const std::shared_ptr<Layer>& layer, const std::vector<SymbolicTensor>& inputs) {
  if (!layer) throw ValueError("calling a null layer");
  if (inputs.empty()) throw ValueError(fmt::format("{}: called without input tensors", layer->describe()));
  std::vector<Shape> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].valid()) throw ValueError(fmt::format("{}: input {} is an empty symbolic tensor", layer->describe(), i));
    shapes.push_back(inputs[i].shape());
  }
  if (dynamic_cast<layers::InputLayer*>(layer.get()) != nullptr) {
    throw ValueError(fmt::format("{}: an input layer cannot be called on tensors", layer->describe()));
  }
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->inputs = inputs;
  node->output_shapes = layer->compute_output_shapes(shapes);
  node->id = next_node_id();
  auto& nodes = layer->inbound_nodes();
  node->node_index = static_cast<int>(nodes.size());
  nodes.push_back(node);
  std::vector<SymbolicTensor> out;
  for (size_t i = 0; i < node->output_shapes.size(); ++i) out.emplace_back(node, static_cast<int>(i));
  return SymbolicTensors(std::move(out));
}

}  // namespace seqnet

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json InputLayer::get_config() const {
  nlohmann::json shape = nlohmann::json::array();
  for (int64_t d : batch_shape_) shape.push_back(d == None ? nlohmann::json(nullptr) : nlohmann::json(d));
  return nlohmann::json{{"batch_input_shape", shape},
                        {"dtype", "float32"},
                        {"sparse", false},
                        {"ragged", false},
                        {"name", name()}};
}

}  // namespace seqnet::layers
