#pragma once
// LayerRef: the handle user code holds for a layer, and the Keras-style
// factory functions that make them.
//
//   auto lstm = LSTM(16, {.return_sequences = true, .return_state = true});
//   auto out = lstm(x);                       // [sequence, h, c]
//   auto y = LSTM(16, {.return_sequences = true})(out[0], {.initial_state = {out[1], out[2]}});
//   auto p = TimeDistributed(Dense(10, {.activation = "softmax"}))(y);
//
// A LayerRef is a shared handle: copies refer to the same layer and weights,
// so calling one LayerRef at several places of a graph (or in several
// models) shares its weights, as in Keras.

#include <concepts>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "seqnet/layers/activation.hpp"
#include "seqnet/layers/attention.hpp"
#include "seqnet/layers/attention_decoder.hpp"
#include "seqnet/layers/bidirectional.hpp"
#include "seqnet/layers/dense.hpp"
#include "seqnet/layers/dropout.hpp"
#include "seqnet/layers/embedding.hpp"
#include "seqnet/layers/gru.hpp"
#include "seqnet/layers/layer_normalization.hpp"
#include "seqnet/layers/lstm.hpp"
#include "seqnet/layers/luong_attention.hpp"
#include "seqnet/layers/masking.hpp"
#include "seqnet/layers/merge.hpp"
#include "seqnet/layers/repeat_vector.hpp"
#include "seqnet/layers/reshape.hpp"
#include "seqnet/layers/simple_rnn.hpp"
#include "seqnet/layers/time_distributed.hpp"
#include "seqnet/model/symbolic.hpp"

namespace seqnet {

// Keyword arguments of a symbolic layer call.
struct CallOptions {
  // Initial states of a recurrent layer (LSTM: {h, c}; GRU, SimpleRNN: {h};
  // Bidirectional: forward states then backward states). Default: none.
  std::vector<SymbolicTensor> initial_state{};
};

class LayerRef {
 public:
  LayerRef() = default;
  template <class L>
    requires std::derived_from<L, Layer>
  LayerRef(std::shared_ptr<L> layer) : layer_(std::move(layer)) {}  // NOLINT: implicit by design

  // Calls the layer on one tensor (plus initial states). Throws ShapeError /
  // ValueError when the shapes do not fit the layer.
  SymbolicTensors operator()(const SymbolicTensor& x, const CallOptions& options = {}) const;
  // Calls the layer on several tensors (merge layers: Add()({a, b})).
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& inputs, const CallOptions& options = {}) const;

  bool valid() const { return layer_ != nullptr; }
  Layer* operator->() const { return layer_.get(); }
  Layer& operator*() const { return *layer_; }
  const std::shared_ptr<Layer>& ptr() const { return layer_; }
  operator std::shared_ptr<Layer>() const { return layer_; }  // NOLINT
  const std::string& name() const { return layer_->name(); }

  // The concrete layer class; throws ValueError when it is another class.
  template <class L>
  L& as() const {
    auto* p = dynamic_cast<L*>(layer_.get());
    if (p == nullptr) throw_wrong_class(typeid(L).name());
    return *p;
  }

  // The outputs of the layer's only call (Keras's layer.output). Throws
  // ValueError when the layer was called zero or several times.
  SymbolicTensors output() const;
  // The inputs of the layer's only call (Keras's layer.input).
  SymbolicTensors input() const;
  // The outputs of call number `node_index`.
  SymbolicTensors get_output_at(int node_index) const;

  // Weights in Keras order (copies), and setting them (shapes must match).
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights) const;

  bool operator==(const LayerRef& o) const { return layer_ == o.layer_; }

 private:
  [[noreturn]] void throw_wrong_class(const char* wanted) const;
  std::shared_ptr<GraphNode> only_node(const char* what) const;
  std::shared_ptr<Layer> layer_;
};

// Keras-style layer factories.
LayerRef LSTM(int64_t units, const LSTMOptions& options = {});
LayerRef GRU(int64_t units, const GRUOptions& options = {});
LayerRef SimpleRNN(int64_t units, const SimpleRNNOptions& options = {});
LayerRef Dense(int64_t units, const DenseOptions& options = {});
LayerRef Embedding(int64_t input_dim, int64_t output_dim, const EmbeddingOptions& options = {});
LayerRef Activation(const std::string& activation, const std::string& name = "");
LayerRef Dropout(float rate, const std::string& name = "");
LayerRef RepeatVector(int64_t n, const std::string& name = "");
LayerRef Flatten(const std::string& name = "");
LayerRef Reshape(const Shape& target_shape, const std::string& name = "");
LayerRef Masking(float mask_value = 0.0f, const std::string& name = "");
// Throws ValueError when `layer` is not single-output.
LayerRef TimeDistributed(const LayerRef& layer, const std::string& name = "");
// Throws ValueError when `layer` is not a recurrent layer.
LayerRef Bidirectional(const LayerRef& layer, const BidirectionalOptions& options = {});
LayerRef Add(const std::string& name = "");
LayerRef Subtract(const std::string& name = "");
LayerRef Multiply(const std::string& name = "");
LayerRef Average(const std::string& name = "");
LayerRef Maximum(const std::string& name = "");
LayerRef Concatenate(int axis = -1, const std::string& name = "");
LayerRef AttentionDecoder(int64_t units, int64_t output_dim, const AttentionDecoderOptions& options = {});
// Keras's dot-product attention: Attention()({query, value}) or ({query, value, key}).
LayerRef Attention(const AttentionOptions& options = {});
// Keras's additive (Bahdanau-style) attention, called like Attention.
LayerRef AdditiveAttention(const AdditiveAttentionOptions& options = {});
// Layer normalization over the last axis (Keras's LayerNormalization).
LayerRef LayerNormalization(const LayerNormalizationOptions& options = {});
// Luong global attention: LuongAttention(units)({decoder_states, encoder_states}) -> [h~, context, weights].
LayerRef LuongAttention(int64_t units, const LuongAttentionOptions& options = {});

}  // namespace seqnet
