#pragma once
// Layer: the base of every layer. A layer owns its weights (Params), infers
// its output shapes from its input shapes, and has a forward pass and a
// hand-written backward pass side by side in one source file.
//
// Calling protocol (what the model graph does for every node, and what
// tests do directly):
//   auto cache = layer.make_cache();
//   auto outputs = layer.forward(inputs, {.training = true, .mask = m}, cache.get());
//   layer.zero_grad();                                  // separate, explicit
//   auto dinputs = layer.backward(doutputs, *cache);     // adds into param grads
//
// Caches hold what backward needs (inputs, activations) and the workspaces
// of one call site; keeping a cache alive across batches reuses its buffers.
// A layer called at several places of a graph (shared weights) gets one
// cache per place, and backward of each adds into the same gradients.
//
// forward() returns freshly allocated outputs; inputs are never modified.
// backward() returns one gradient per input, in input order; an input that
// is not differentiable (Embedding ids) gets an empty Tensor. An empty
// Tensor among `doutputs` means "no gradient flows into this output" (zero).
//
// Thread safety: a layer must not be used from two threads at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "seqnet/layers/initializers.hpp"
#include "seqnet/layers/regularizers.hpp"
#include "seqnet/mixed_precision.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet {

struct GraphNode;     // a symbolic call of a layer (model/symbolic.hpp)
class ConfigReader;  // reads untrusted layer configs (layers/serialization.hpp)

// A weight: its Keras name ("kernel", "recurrent_kernel", "bias",
// "embeddings"), its value, its gradient (same shape), and its regularizer.
struct Param {
  std::string name{};
  Tensor value;
  Tensor grad;
  Regularizer regularizer{};
  bool trainable = true;
  // The initializer the layer created it with (run at creation, unless the
  // model was built with ConfigOptions::skip_initializers; run it later
  // with initializer.fill(value, ...)).
  Initializer initializer{};
};

// Per-call arguments of forward().
struct CallArgs {
  // Training mode: dropout active, caches filled for backward. Default: false.
  bool training = false;
  // Mask of the first input's time steps, (B, T), 1 for a real step and 0 for
  // padding; empty for none. Default: none.
  Tensor mask{};
  // The masks of all inputs, one per input (an empty Tensor where an input
  // has none), for layers that read more than the first input's mask
  // (attention layers: the value's mask). The model fills it; an empty list
  // means only `mask` is known. Each given mask must be (B_i, T_i) of its
  // input. Default: none.
  std::vector<Tensor> masks{};
};

// What one call of a layer keeps for its backward pass. Layers derive their
// own caches from it.
struct Cache {
  virtual ~Cache() = default;
  std::vector<Tensor> inputs;  // the inputs of the last forward
  bool training = false;
  bool filled = false;  // set by forward() when backward can follow
};

class Layer {
 public:
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // Keras class name ("LSTM", "Dense", ...).
  const std::string& class_name() const { return class_name_; }
  // Unique layer name ("lstm", "lstm_1", ... unless given).
  const std::string& name() const { return name_; }
  // `LSTM "lstm_2"`, the prefix of every error message about this layer.
  std::string describe() const;

  // The layer's dtype policy (Keras's layer.dtype_policy): the global policy
  // when the layer was made (mixed_precision::set_global_policy), or its
  // config's "dtype". A wrapper and the layer it wraps each keep their own.
  // forward() and backward() run the layer's products in its compute dtype.
  const mixed_precision::Policy& dtype_policy() const { return policy_; }
  void set_dtype_policy(const mixed_precision::Policy& policy) { policy_ = policy; }

  // Symbolic shape inference: checks the input shapes (None allowed for
  // batch and time) against the layer's configuration, builds the weights on
  // the first call, checks them against the weights on later calls, and
  // returns one shape per output. Throws ShapeError / ValueError naming the
  // layer, the expected and the received shapes.
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes);
  // The same checks and shapes, without building the layer.
  std::vector<Shape> output_shapes_for(const std::vector<Shape>& input_shapes) const {
    return infer_shapes(input_shapes);
  }
  bool built() const { return built_; }

  // Runs the layer. Builds it on first use from the inputs' shapes. With a
  // cache and args.training, the cache is filled for backward(); a null cache
  // runs inference (no backward possible). Throws ShapeError when the inputs
  // disagree with the layer.
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs, const CallArgs& args = {}, Cache* cache = nullptr);
  // Convenience for single-input, single-output use: forward({x})[0].
  Tensor forward(const Tensor& x, bool training = false);

  // Gradients of the inputs from gradients of the outputs; adds the weight
  // gradients into each Param's grad. REQUIRES: `cache` was filled by a
  // forward() with training = true. Throws Error when it was not, and
  // ShapeError when doutputs do not match the outputs.
  std::vector<Tensor> backward(const std::vector<Tensor>& doutputs, Cache& cache);

  // A new cache for this layer's calls.
  virtual std::unique_ptr<Cache> make_cache() const { return std::make_unique<Cache>(); }

  // The (B, T) mask of the outputs given the inputs and one mask per input
  // (empty where an input has none): Keras's compute_mask. Default: the
  // first input's mask when mask_passes_through(), else none.
  virtual Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const;

  // Visits every weight with its path inside this layer ("kernel";
  // "forward_lstm/kernel" in a Bidirectional), in Keras's weight order.
  virtual void visit_params(const std::function<void(const std::string& path, Param&)>& fn);
  std::vector<Param*> params();
  int64_t count_params();
  void zero_grad();
  // Runs the initializers of the layer's weights again, with fresh draws
  // from the global generator, and those of the layers it wraps (PyTorch's
  // reset_parameters): for a model built with
  // ConfigOptions::skip_initializers. Layers whose initial weights are more
  // than their initializers' output override it (LSTM's unit_forget_bias).
  virtual void initialize_weights();
  // Bytes of the buffers one call with inputs of these (concrete) shapes
  // allocates and keeps besides its outputs: workspaces and, in training,
  // what backward() needs. A lower estimate, from which Model refuses a
  // call before it runs when the whole graph would need more memory than
  // the call's limit (PredictOptions::max_memory_bytes). Default: 0.
  virtual double working_bytes(const std::vector<Shape>& input_shapes, bool training) const;
  // Sum of the regularization penalties of this layer's weights.
  double regularization_penalty();
  // Adds the regularizers' gradients into the weights' gradients.
  void add_regularization_gradients();

  // Stateful recurrent layers forget their states; others do nothing.
  virtual void reset_states() {}
  // Whether the layer keeps state across calls (stateful recurrent layers).
  virtual bool is_stateful() const { return false; }
  // The states a stateful layer keeps itself (not those of its
  // sublayers): empty before its first call and for other layers.
  virtual const std::vector<Tensor>& states() const;
  // Number of state tensors a stateful layer keeps. Default: 0.
  virtual int num_states() const { return 0; }
  // Sets the kept states. Throws ValueError for a layer that keeps none
  // (the default), or as the layer's own override says.
  virtual void reset_states(const std::vector<Tensor>& states);

  // Visits the layers this one wraps, each with its path inside this layer
  // (the prefix of its weights' paths; Bidirectional: "forward_lstm" and
  // "backward_lstm"; TimeDistributed: "", as Keras names the inner weights
  // without a prefix). Wrappers override it, so that savers, summaries and
  // importers walk any wrapper without knowing its class. Default: none.
  virtual void visit_sublayers(const std::function<void(const std::string& path, Layer&)>& fn);

  // Number of outputs for the current configuration (return_state adds some).
  virtual int num_outputs() const { return 1; }

  // The layer's Keras 2 configuration: the "config" object that Keras's
  // model.to_json() writes for this layer (name, trainable, dtype and the
  // constructor arguments under their Keras names; wrappers nest their inner
  // layer as {"class_name", "config"}). No weights. The reverse, config ->
  // layer, is the registry in seqnet/io/config.hpp. Include
  // <nlohmann/json.hpp> to use the result. Default: throws ValueError
  // "<describe()> is not serializable (no get_config)".
  virtual nlohmann::json get_config() const;

  // The symbolic calls of this layer (model/), in call order; Keras's
  // inbound nodes. Held weakly: the graph owns its nodes.
  std::vector<std::weak_ptr<GraphNode>>& inbound_nodes() { return inbound_nodes_; }

 protected:
  // `class_name` is the Keras class; `name` empty picks a unique default
  // from the class name in snake case ("SimpleRNN" -> "simple_rnn",
  // "simple_rnn_1", ...).
  Layer(std::string class_name, std::string name);

  // Implementations. infer_shapes validates and returns the output shapes;
  // build creates the weights (called once, with validated shapes).
  virtual std::vector<Shape> infer_shapes(const std::vector<Shape>& input_shapes) const = 0;
  virtual void build(const std::vector<Shape>& input_shapes) { (void)input_shapes; }
  virtual std::vector<Tensor> forward_impl(const std::vector<Tensor>& inputs, const CallArgs& args,
                                           Cache* cache) = 0;
  virtual std::vector<Tensor> backward_impl(const std::vector<Tensor>& doutputs, Cache& cache) = 0;
  // Whether a (B, T) mask on the input is also the mask of the output.
  virtual bool mask_passes_through() const { return false; }

  // Adds a weight initialized by `init`; returns it. Called from build().
  Param& add_param(const std::string& name, const Shape& shape, const Initializer& init,
                   const Regularizer& reg = {});

  // Error helpers that prefix the message with describe().
  [[noreturn]] void fail_shape(std::string_view what) const;
  [[noreturn]] void fail_value(std::string_view what) const;
  // Checks that `inputs` has between lo and hi tensors.
  void expect_input_count(size_t n, size_t lo, size_t hi) const;
  // Whether output gradient number `i` is present (not empty); throws
  // ShapeError when it is present with a shape other than `expected`.
  bool has_grad(const Tensor& d, const Shape& expected, size_t i) const;

  std::vector<std::unique_ptr<Param>> params_;

 private:
  std::string class_name_;
  std::string name_;
  mixed_precision::Policy policy_;
  bool built_ = false;
  std::vector<std::weak_ptr<GraphNode>> inbound_nodes_;
};

// The snake-case form Keras derives layer names from ("TimeDistributed" ->
// "time_distributed", "SimpleRNN" -> "simple_rnn", "LSTM" -> "lstm").
std::string to_snake_case(std::string_view class_name);
// A unique name for a new object with this prefix: "lstm", then "lstm_1", ...
std::string unique_name(const std::string& prefix);
// Forget all names handed out (Keras's clear_session): the next LSTM is
// "lstm" again.
void clear_session();

}  // namespace seqnet
