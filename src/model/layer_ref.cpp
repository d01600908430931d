#include "seqnet/model/layer_ref.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "seqnet/error.hpp"

namespace seqnet {

SymbolicTensors LayerRef::operator()(const SymbolicTensor& x, const CallOptions& options) const {
  return (*this)(std::vector<SymbolicTensor>{x}, options);
}

SymbolicTensors LayerRef::operator()(const std::vector<SymbolicTensor>& inputs, const CallOptions& options) const {
  if (!layer_) throw ValueError("calling an empty LayerRef");
  std::vector<SymbolicTensor> all = inputs;
  if (!options.initial_state.empty()) {
    if (dynamic_cast<layers::Recurrent*>(layer_.get()) == nullptr &&
        dynamic_cast<layers::Bidirectional*>(layer_.get()) == nullptr) {
      throw ValueError(fmt::format("{}: only recurrent layers take an initial_state", layer_->describe()));
    }
    if (inputs.size() != 1) {
      throw ValueError(fmt::format("{}: initial_state needs exactly one input sequence, got {} inputs",
                                   layer_->describe(), inputs.size()));
    }
    all.insert(all.end(), options.initial_state.begin(), options.initial_state.end());
  }
  return call_layer(layer_, all);
}

void LayerRef::throw_wrong_class(const char* wanted) const {
  throw ValueError(fmt::format("{} is not of the requested layer class ({})", layer_ ? layer_->describe() : "<empty>",
                               wanted));
}

std::shared_ptr<GraphNode> LayerRef::only_node(const char* what) const {
  if (!layer_) throw ValueError("empty LayerRef");
  std::vector<std::shared_ptr<GraphNode>> live;
  for (const auto& w : layer_->inbound_nodes())
    if (auto n = w.lock()) live.push_back(n);
  if (live.empty()) {
    throw ValueError(fmt::format("{}: the layer has not been called on a tensor, so it has no {}", layer_->describe(),
                                 what));
  }
  if (live.size() > 1) {
    throw ValueError(fmt::format("{}: the layer has been called {} times, so its {} is ambiguous; use "
                                 "get_output_at(node_index)",
                                 layer_->describe(), live.size(), what));
  }
  return live[0];
}

SymbolicTensors LayerRef::output() const {
  auto node = only_node("output");
  std::vector<SymbolicTensor> out;
  for (size_t i = 0; i < node->output_shapes.size(); ++i) out.emplace_back(node, static_cast<int>(i));
  return SymbolicTensors(out);
}

SymbolicTensors LayerRef::input() const {
  auto node = only_node("input");
  if (node->is_input) return SymbolicTensors({SymbolicTensor(node, 0)});
  return SymbolicTensors(node->inputs);
}

SymbolicTensors LayerRef::get_output_at(int node_index) const {
  if (!layer_) throw ValueError("empty LayerRef");
  auto& nodes = layer_->inbound_nodes();
  if (node_index < 0 || node_index >= static_cast<int>(nodes.size())) {
    throw ValueError(fmt::format("{}: node index {} is out of range ({} calls)", layer_->describe(), node_index,
                                 nodes.size()));
  }
  auto node = nodes[node_index].lock();
  if (!node) throw ValueError(fmt::format("{}: call {} no longer exists", layer_->describe(), node_index));
  std::vector<SymbolicTensor> out;
  for (size_t i = 0; i < node->output_shapes.size(); ++i) out.emplace_back(node, static_cast<int>(i));
  return SymbolicTensors(out);
}

namespace {

// Keras's get_weights order: trainable weights first, then frozen ones.
std::vector<Param*> keras_weight_order(std::vector<Param*> ps) {
  std::stable_partition(ps.begin(), ps.end(), [](const Param* p) { return p->trainable; });
  return ps;
}

}  // namespace

std::vector<Tensor> LayerRef::get_weights() const {
  std::vector<Tensor> w;
  for (Param* p : keras_weight_order(layer_->params())) w.push_back(p->value.clone());
  return w;
}

void LayerRef::set_weights(const std::vector<Tensor>& weights) const {
  std::vector<Param*> ps = keras_weight_order(layer_->params());
  if (ps.size() != weights.size()) {
    throw ValueError(fmt::format("{}: set_weights expected {} arrays, got {}", layer_->describe(), ps.size(),
                                 weights.size()));
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i]->value.shape() != weights[i].shape()) {
      throw ShapeError(fmt::format("{}: weight {} ({}) has shape {}, got {}", layer_->describe(), i, ps[i]->name,
                                   shape_str(ps[i]->value.shape()), shape_str(weights[i].shape())));
    }
  }
  for (size_t i = 0; i < ps.size(); ++i) ps[i]->value.copy_from(weights[i]);
}

LayerRef LSTM(int64_t units, const LSTMOptions& options) { return std::make_shared<layers::LSTM>(units, options); }
LayerRef GRU(int64_t units, const GRUOptions& options) { return std::make_shared<layers::GRU>(units, options); }
LayerRef SimpleRNN(int64_t units, const SimpleRNNOptions& options) {
  return std::make_shared<layers::SimpleRNN>(units, options);
}
LayerRef Dense(int64_t units, const DenseOptions& options) { return std::make_shared<layers::Dense>(units, options); }
LayerRef Embedding(int64_t input_dim, int64_t output_dim, const EmbeddingOptions& options) {
  return std::make_shared<layers::Embedding>(input_dim, output_dim, options);
}
LayerRef Activation(const std::string& activation, const std::string& name) {
  return std::make_shared<layers::Activation>(activation, name);
}
LayerRef Dropout(float rate, const std::string& name) { return std::make_shared<layers::Dropout>(rate, name); }
LayerRef RepeatVector(int64_t n, const std::string& name) { return std::make_shared<layers::RepeatVector>(n, name); }
LayerRef Flatten(const std::string& name) { return std::make_shared<layers::Flatten>(name); }
LayerRef Reshape(const Shape& target_shape, const std::string& name) {
  return std::make_shared<layers::Reshape>(target_shape, name);
}
LayerRef Masking(float mask_value, const std::string& name) {
  return std::make_shared<layers::Masking>(mask_value, name);
}
LayerRef TimeDistributed(const LayerRef& layer, const std::string& name) {
  return std::make_shared<layers::TimeDistributed>(layer.ptr(), name);
}
LayerRef Bidirectional(const LayerRef& layer, const BidirectionalOptions& options) {
  auto rnn = std::dynamic_pointer_cast<layers::Recurrent>(layer.ptr());
  if (!rnn) {
    throw ValueError(fmt::format("Bidirectional: argument `layer` must be a recurrent layer (LSTM, GRU, SimpleRNN), "
                                 "got {}",
                                 layer.valid() ? layer->describe() : "an empty LayerRef"));
  }
  return std::make_shared<layers::Bidirectional>(rnn, options);
}
LayerRef Add(const std::string& name) { return std::make_shared<layers::Add>(name); }
LayerRef Subtract(const std::string& name) { return std::make_shared<layers::Subtract>(name); }
LayerRef Multiply(const std::string& name) { return std::make_shared<layers::Multiply>(name); }
LayerRef Average(const std::string& name) { return std::make_shared<layers::Average>(name); }
LayerRef Maximum(const std::string& name) { return std::make_shared<layers::Maximum>(name); }
LayerRef Concatenate(int axis, const std::string& name) { return std::make_shared<layers::Concatenate>(axis, name); }
LayerRef AttentionDecoder(int64_t units, int64_t output_dim, const AttentionDecoderOptions& options) {
  return std::make_shared<layers::AttentionDecoder>(units, output_dim, options);
}
LayerRef Attention(const AttentionOptions& options) { return std::make_shared<layers::Attention>(options); }
LayerRef AdditiveAttention(const AdditiveAttentionOptions& options) {
  return std::make_shared<layers::AdditiveAttention>(options);
}
LayerRef LayerNormalization(const LayerNormalizationOptions& options) {
  return std::make_shared<layers::LayerNormalization>(options);
}
LayerRef LuongAttention(int64_t units, const LuongAttentionOptions& options) {
  return std::make_shared<layers::LuongAttention>(units, options);
}

}  // namespace seqnet
