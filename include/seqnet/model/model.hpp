#pragma once
// Model and Sequential: a graph of layer calls from symbolic inputs to
// outputs, with Keras's compile / fit / evaluate / predict.
//
//   auto input = Input({4, 10});
//   auto enc = LSTM(16, {.return_sequences = true, .return_state = true})(input);
//   auto seq = LSTM(16, {.return_sequences = true})(enc[0], {.initial_state = {enc[1], enc[2]}});
//   auto out = TimeDistributed(Dense(10, {.activation = "softmax"}))(seq);
//   Model model({input}, {out}, "model_LSTM_all_state_h_return_state");
//   model.compile({.optimizer = Adam(), .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
//   History h = model.fit(x, y, {.epochs = 100, .batch_size = 32, .validation_split = 0.1,
//                                .callbacks = {EarlyStopping({.monitor = "val_loss", .patience = 5})}});
//   Tensor y_pred = model.predict(x_test);
//
// Models share layers (and so weights) with the graphs they were cut from:
// Model(model.inputs(), model.layers()[0].output()) keeps a trained encoder.
// Execution reuses per-call workspaces across batches. A model is movable,
// not copyable. Thread safety: one thread at a time per model.

#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/model/layer_ref.hpp"
#include "seqnet/model/symbolic.hpp"
#include "seqnet/train/callbacks.hpp"
#include "seqnet/train/losses.hpp"
#include "seqnet/train/metrics.hpp"
#include "seqnet/train/optimizers.hpp"

namespace seqnet {

// A list of concrete tensors: one per model input or output. Converts from
// a single Tensor and from a braced list, and back to a single Tensor
// (throws ValueError unless it holds exactly one).
class Tensors {
 public:
  Tensors() = default;
  Tensors(const Tensor& t) : items_{t} {}                          // NOLINT: implicit by design
  Tensors(std::vector<Tensor> ts) : items_(std::move(ts)) {}       // NOLINT
  Tensors(std::initializer_list<Tensor> ts) : items_(ts) {}        // NOLINT
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const Tensor& operator[](size_t i) const;
  Tensor& operator[](size_t i);
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  void push_back(const Tensor& t) { items_.push_back(t); }
  const std::vector<Tensor>& items() const { return items_; }
  operator Tensor() const;  // NOLINT: implicit by design

 private:
  std::vector<Tensor> items_;
};

// A loss given by Keras name or as an object.
struct LossSpec {
  std::shared_ptr<Loss> loss;
  LossSpec(const char* name);                                  // NOLINT: implicit by design
  LossSpec(const std::string& name);                           // NOLINT
  LossSpec(std::shared_ptr<Loss> l) : loss(std::move(l)) {}    // NOLINT
};

// One loss for every output, or one per output.
struct Losses {
  std::vector<LossSpec> items;
  Losses() = default;
  Losses(const char* name) : items{LossSpec(name)} {}                // NOLINT: implicit by design
  Losses(const std::string& name) : items{LossSpec(name)} {}         // NOLINT
  Losses(std::shared_ptr<Loss> l) : items{LossSpec(std::move(l))} {}  // NOLINT
  Losses(std::initializer_list<LossSpec> l) : items(l) {}            // NOLINT
};

// An optimizer given by Keras name or as an object.
struct OptimizerSpec {
  std::shared_ptr<Optimizer> optimizer;
  OptimizerSpec(const char* name);                                          // NOLINT: implicit by design
  OptimizerSpec(const std::string& name);                                   // NOLINT
  OptimizerSpec(std::shared_ptr<Optimizer> o) : optimizer(std::move(o)) {}  // NOLINT
};

// Example: {.optimizer = Adam(), .loss = "categorical_crossentropy", .metrics = {"accuracy"}}
struct CompileOptions {
  // Default: "rmsprop" (Keras's default).
  OptimizerSpec optimizer = "rmsprop";
  // One loss for all outputs or one per output. Required.
  Losses loss{};
  // Weights of the outputs' losses in the total loss. Default: all 1.
  std::vector<float> loss_weights{};
  // Metric names, computed for every output. Default: none.
  std::vector<std::string> metrics{};
};

struct ValidationData {
  Tensors x{};
  Tensors y{};
};

// Keras fit()'s keyword arguments, with Keras's names and meanings, in
// this struct's order (not Keras's: its signature starts batch_size,
// epochs). Designated initializers must follow the declaration order, so
// {.batch_size = 32, .epochs = 10} does not compile (GCC: "designator order
// for field 'seqnet::FitOptions::epochs' does not match declaration order");
// write {.epochs = 10, .batch_size = 32}, or fit(x, y, 10, 32, {...}) with
// the other options after. README.md, "Options in Keras order", lists the
// order of every options struct.
// Example: {.epochs = 100, .batch_size = 32, .validation_split = 0.1}
struct FitOptions {
  // Default: 1.
  int epochs = 1;
  // Samples per gradient update. Default: 32.
  int batch_size = 32;
  // Fraction of the samples, taken from the end before shuffling, held out
  // for validation. Default: 0.
  double validation_split = 0.0;
  // Explicit validation data (overrides validation_split). Default: none.
  ValidationData validation_data{};
  // Shuffle the samples every epoch. Must be false for stateful models.
  // Default: true.
  bool shuffle = true;
  // 0 silent, 1 progress bar, 2 one line per epoch. Default: 1.
  int verbose = 1;
  // Default: none (a History is always recorded).
  std::vector<std::shared_ptr<Callback>> callbacks{};
  // Epoch to start from (for resuming). Default: 0.
  int initial_epoch = 0;
  // Bucketing for zero-padded variable-length data: every epoch the samples
  // are sorted by their number of real steps (data::real_step_spans) and
  // cut into batches of similar lengths (data::length_buckets; ties and
  // the batch order random when shuffle is on), and each batch's time axis
  // is cut to the steps where any of its samples has real data, which
  // saves the work of the padding steps. Arrays cut: the inputs whose model
  // Input has a None time axis and the targets of outputs with a None time
  // axis; arrays with the same time length are cut together (they are
  // step-aligned). Only where the cut steps would be masked anyway, as the
  // graph says: every cut input must have a mask made from its padding (a
  // Masking layer or Embedding(mask_zero) on its path), and every cut
  // target's output a mask reaching its loss (a sequence output); throws
  // ValueError naming the array otherwise, for stateful models, and when no
  // array has a None time axis. Validation is not bucketed. Default: false.
  bool bucket_by_length = false;
  // Most bytes of activations one training batch may need, estimated from
  // the graph and the input shapes before anything runs: beyond it fit
  // throws ResourceError naming the layer needing the most and the size.
  // 0: default_memory_limit() (half of this machine's memory); negative:
  // no check. Default: 0.
  int64_t max_memory_bytes = 0;
  // Data-parallel training when the process runs under an MPI launcher with
  // more than one rank (seqnet/distributed.hpp): batch_size is the global
  // batch, each rank trains on its slice of every batch, gradients, losses,
  // metrics and validation are reduced across ranks, only rank 0 prints and
  // writes. Stateful models need batch_size divisible by the number of
  // ranks (each rank keeps the streams of its rows). false: every rank
  // trains on its own. Without MPI nothing changes. Default: true.
  bool distribute = true;
};

struct EvaluateOptions {
  // Default: 32.
  int batch_size = 32;
  // 0 silent, 1 progress bar. Default: 0.
  int verbose = 0;
  // As FitOptions::max_memory_bytes, for one batch. Default: 0.
  int64_t max_memory_bytes = 0;
  // Under an MPI launcher with more than one rank, each rank evaluates its
  // slice of every batch and the results are reduced: every rank returns
  // the logs of the whole data, as one process would. Default: true.
  bool distribute = true;
};

struct PredictOptions {
  // Default: 32.
  int batch_size = 32;
  // 0 silent, 1 progress bar. Default: 0.
  int verbose = 0;
  // As FitOptions::max_memory_bytes, for one batch and the outputs of all
  // samples together. Default: 0.
  int64_t max_memory_bytes = 0;
};

// Example: model.load_weights("w.safetensors", {.by_name = true})
struct LoadWeightsOptions {
  // Match layers by name instead of by order (Keras's by_name): a layer of
  // the model takes the weights of the file's layer of the same name, and
  // layers that only one side has are skipped (fine-tuning, transfer
  // learning); no matching layer at all is an error. Default: false (by
  // order, Keras's default).
  bool by_name = false;
  // With by_name: skip a layer whose weights differ in number or shape
  // instead of throwing (Keras's skip_mismatch). Default: false.
  bool skip_mismatch = false;
};

class Model {
 public:
  // A model from its input and output tensors. Throws ValueError when an
  // output does not depend on the inputs ("graph disconnected"), when an
  // input is listed twice, or when a list is empty.
  Model(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs,
        const std::string& name = "");
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  virtual ~Model();

  const std::string& name() const;
  const std::vector<SymbolicTensor>& inputs() const;
  const std::vector<SymbolicTensor>& outputs() const;
  // Layers in graph order (functional models include their InputLayers;
  // Sequential models do not, as in Keras).
  std::vector<LayerRef> layers() const;
  // The layers of the graph, each once, in execution order; with
  // include_inputs the InputLayers too (whatever kind the model is).
  std::vector<std::shared_ptr<Layer>> unique_layers(bool include_inputs = false) const;
  // The layer calls of the graph in execution order, Input placeholders
  // included (Keras's model._nodes). Empty before a Sequential model is
  // built.
  const std::vector<std::shared_ptr<GraphNode>>& nodes() const;
  // Throws ValueError naming the layer and listing the model's layers.
  LayerRef get_layer(const std::string& name) const;
  LayerRef get_layer(int index) const;

  // All weights, each once (shared layers count once), in layer order.
  std::vector<Param*> params() const;
  int64_t count_params() const;
  // Copies of the weights in Keras's get_weights() order: the trainable ones
  // in layer order, then the frozen ones (Param::trainable = false).
  std::vector<Tensor> get_weights() const;
  // Sets the weights from a list in get_weights() order. Throws ValueError /
  // ShapeError when the list does not match.
  void set_weights(const std::vector<Tensor>& weights) const;

  // Keras's summary table (Layer (type), Output Shape, Param #, and
  // Connected to for functional models; totals with thousands separators).
  void summary(std::ostream& out) const;
  void summary() const;  // to standard output
  std::string summary_string() const;

  // Throws ValueError for unknown names, a loss count that is neither 1 nor
  // the number of outputs, or loss_weights of the wrong length.
  void compile(const CompileOptions& options);
  bool compiled() const;
  // REQUIRES: compiled(). Throws ValueError otherwise.
  Optimizer& optimizer() const;
  // What compile() was given, one entry per output (empty before compile):
  // the losses, their weights in the total loss, and the outputs' names as
  // they prefix the logs ("dense_loss"); and the metric names.
  const std::vector<std::shared_ptr<Loss>>& losses() const;
  const std::vector<float>& loss_weights() const;
  const std::vector<std::string>& output_names() const;
  const std::vector<std::string>& metric_names() const;

  // Trains. x: one array per input, y: one per output, samples on axis 0.
  // Throws ValueError / ShapeError when the data do not match the model
  // (naming the input or output and both shapes), when called before
  // compile(), or for a stateful model whose batch size does not divide the
  // sample count. Keras's stateful rule holds for fit, evaluate, predict and
  // the *_on_batch calls: a stateful model whose Input has a fixed
  // batch_size takes batches of exactly that size (ValueError naming the
  // fixed and the given size otherwise), and a sample count the fixed size
  // does not divide is a ValueError for every model.
  History fit(const Tensors& x, const Tensors& y, const FitOptions& options = {});
  // fit() with epochs and batch_size first, in FitOptions's order (not
  // Keras's positional order, batch_size then epochs), so Keras code written
  // `epochs=10, batch_size=32, verbose=0` reads fit(x, y, 10, 32,
  // {.verbose = 0}). `rest` gives the other options; its epochs and
  // batch_size must be left at their defaults or agree with the arguments
  // (ValueError otherwise). Throws as fit(x, y, options).
  History fit(const Tensors& x, const Tensors& y, int epochs, int batch_size, const FitOptions& rest = {});
  // Loss (with regularization penalties) and metrics over the data.
  Logs evaluate(const Tensors& x, const Tensors& y, const EvaluateOptions& options = {});
  // Outputs for the inputs, batch by batch, in inference mode.
  Tensors predict(const Tensors& x, const PredictOptions& options = {});
  // One gradient update on one batch; returns that batch's loss and metrics.
  Logs train_on_batch(const Tensors& x, const Tensors& y);
  Logs test_on_batch(const Tensors& x, const Tensors& y);
  Tensors predict_on_batch(const Tensors& x);

  // Resets the states of every stateful layer.
  void reset_states();
  // Whether any layer is stateful.
  bool stateful() const;

  // Model files and architecture JSON (implemented in src/io/; see
  // seqnet/io/model_io.hpp for load_model and the file format, and
  // seqnet/io/config.hpp for model_from_json).
  //
  // The architecture as Keras 2's model.to_json() (indent < 0: one line).
  // Throws ValueError for a model that cannot be described (see
  // model_to_config).
  std::string to_json(int indent = -1) const;
  // Writes the whole model to one .safetensors file, atomically (temporary
  // file, then rename): architecture, weights, stateful layers' states and,
  // when compiled and include_optimizer, the training configuration, the
  // optimizer state and the global random generator's state, so that fit()
  // resumes exactly. Throws ValueError when the model cannot be described,
  // IOError when the file cannot be written.
  void save(const std::string& path, bool include_optimizer = true) const;
  // Writes only the weights (named "<layer>/<weight>") to a .safetensors
  // file, atomically. Throws ValueError / IOError as save().
  void save_weights(const std::string& path) const;
  // Sets every weight from a file written by save() or save_weights(); the
  // model is unchanged when it throws. As Keras's load_weights, layers are
  // matched by their order (the i-th layer with weights in the file gives
  // the i-th layer with weights of the model its weights, whatever their
  // names), or by layer name with {.by_name = true} (see
  // LoadWeightsOptions). Files written before the order was kept are
  // matched by name, every weight required. Throws IOError for an
  // unreadable or malformed file; ValueError when the layer or weight
  // counts differ (naming both sides' layers) or, by name, no layer
  // matches; ShapeError when a shape differs (naming both weights).
  void load_weights(const std::string& path, const LoadWeightsOptions& options = {});

  // Set by callbacks to end fit() after the current batch.
  bool stop_training = false;

  // The model's inside (graph, plan, training state); opaque to users and
  // to the rest of the library, which uses the accessors above. Only the
  // model's own members (model/, and train/fit.cpp, which implements
  // compile/fit/evaluate/predict) see it.
  struct Impl;

 protected:
  explicit Model(const std::string& name);  // Sequential
  void set_graph(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs);
  bool has_graph() const;
  virtual void ensure_graph(const Tensors& x);  // Sequential builds lazily from data
  virtual bool is_sequential() const { return false; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A linear stack of single-input, single-output layers.
class Sequential : public Model {
 public:
  explicit Sequential(const std::string& name = "");
  Sequential(const std::vector<LayerRef>& layers, const std::string& name = "");
  // Adds a layer on top. Throws ShapeError / ValueError when it does not fit
  // the previous output or has several outputs.
  void add(const LayerRef& layer);
  // Sets the input: model.add(Input({n_timesteps, n_features})). Must come
  // before any layer.
  void add(const SymbolicTensor& input);

 protected:
  void ensure_graph(const Tensors& x) override;
  bool is_sequential() const override { return true; }

 private:
  void connect(const LayerRef& layer);
  std::vector<LayerRef> pending_;
  SymbolicTensor input_;
  SymbolicTensor last_;
};

}  // namespace seqnet
