#pragma once
// Keras-compatible architecture JSON: model.to_json() and model_from_json(),
// following Keras 2's schema, so an architecture written by Keras 2
// (tf.keras 2.x) for the layers seqnet has loads here, and seqnet's loads in
// Keras.
//
//   {"class_name": "Sequential", "config": {"name": ..., "layers": [
//       {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 10], ...}},
//       {"class_name": "LSTM", "config": {"name": "lstm", "units": 16, ...}}, ...]},
//    "keras_version": "2.13.1", "backend": "seqnet"}
//   {"class_name": "Functional", "config": {"name": ..., "layers": [
//       {"class_name": "LSTM", "config": {...}, "name": "lstm",
//        "inbound_nodes": [[["input_1", 0, 0, {}], ["lstm_2", 0, 1, {}], ...]]}, ...],
//     "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}
//
// Layers write their own config (Layer::get_config); the reverse, config ->
// layer, is a registry keyed by Keras class name that holds every built-in
// layer and takes more with register_layer().
//
// Reading rules: keys that do not change the computation are accepted and
// ignored (unroll, implementation, seed, trainable, unknown keys); keys that
// would change it unless left at their default are checked and a clear
// ValueError names the layer and the key (time_major = true, constraints,
// activity regularizers, dropout noise_shape, a dtype other than float32, an
// unknown activation or initializer). Configs are untrusted: every number is
// type- and range-checked (dimensions <= 2^24, shapes <= 8 axes), and
// building is bounded (ConfigOptions::max_params).

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seqnet/layers/initializers.hpp"
#include "seqnet/layers/layer.hpp"
#include "seqnet/layers/regularizers.hpp"
#include "seqnet/model/model.hpp"

namespace seqnet {

// Largest dimension (units, sizes, shape entries) a config may hold.
inline constexpr int64_t kMaxConfigDim = int64_t{1} << 24;

// Typed, range-checked access to one layer's config object. Every getter
// throws ValueError "<context>: ..." naming the key, what was expected and
// what was found.
class ConfigReader {
 public:
  // Throws ValueError when `config` is not a JSON object.
  ConfigReader(const nlohmann::json& config, std::string context);

  const std::string& context() const { return context_; }
  const nlohmann::json& json() const { return *j_; }
  // Whether `key` is present with a non-null value.
  bool has(const std::string& key) const;

  // The layer name ("name"): non-empty, at most 256 bytes, no '/'. Returns
  // "" when absent (a default name is then chosen).
  std::string name() const;
  // A required string / one with a default when absent or null.
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& def) const;
  // A required integer in [lo, hi] / one with a default (a float with an
  // integral value counts as an integer).
  int64_t get_int(const std::string& key, int64_t lo, int64_t hi) const;
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) const;
  // A finite number in [lo, hi], with a default, as float32.
  float get_float(const std::string& key, float def, double lo, double hi) const;
  bool get_bool(const std::string& key, bool def) const;
  // A Keras activation name, validated. Default when absent.
  std::string get_activation(const std::string& key, const std::string& def) const;
  // An initializer: a name ("glorot_uniform") or Keras's {"class_name",
  // "config"} (Keras 2 classes and the VarianceScaling forms older Keras
  // wrote). Seeds are accepted and ignored. Default when absent or null.
  Initializer get_initializer(const std::string& key, const Initializer& def) const;
  // A regularizer: null, or {"class_name": "L1" | "L2" | "L1L2", "config"}.
  Regularizer get_regularizer(const std::string& key) const;
  // A shape: an array of at most 8 integers in [1, 2^24] (null or -1 allowed
  // as None where `allow_none`), whose known dimensions multiply to at most
  // 2^40.
  Shape get_shape(const std::string& key, bool allow_none) const;
  // Requires the key to be absent, null, or equal to `allowed`; `why` ends
  // the message ("seqnet has no constraints").
  void expect(const std::string& key, const nlohmann::json& allowed, std::string_view why) const;
  void expect_null(const std::string& key, std::string_view why) const;
  // Checks "dtype": absent, null, "float32", or a float32 Policy.
  void expect_float32() const;

 private:
  const nlohmann::json* j_;
  std::string context_;
  [[noreturn]] void fail(const std::string& key, std::string_view what) const;
};

// Makes a layer from its config. Throws ValueError for an invalid config.
using LayerFactory = std::function<std::shared_ptr<Layer>(const ConfigReader& config)>;

// Registers (or replaces) the factory of a Keras class name, so that
// layer_from_config and model_from_json can make layers of that class.
// Throws ValueError for an empty class name or a null factory.
void register_layer(const std::string& class_name, LayerFactory factory);
// The registered class names, sorted (the built-in ones: Activation, Add,
// AttentionDecoder, Average, Bidirectional, Concatenate, Dense, Dropout,
// Embedding, Flatten, GRU, LSTM, Masking, Maximum, Multiply, RepeatVector,
// Reshape, SimpleRNN, Subtract, TimeDistributed; InputLayer is handled by
// the model readers).
std::vector<std::string> registered_layers();

// {"class_name": ..., "config": layer.get_config()} (Keras's
// layers.serialize). Throws ValueError for a layer without get_config.
nlohmann::json layer_to_config(const Layer& layer);
// A new layer from {"class_name": ..., "config": {...}} (Keras's
// layers.deserialize). Throws ValueError for an unknown class (listing the
// known ones) or an invalid config.
std::shared_ptr<Layer> layer_from_config(const nlohmann::json& class_and_config);

struct ConfigOptions {
  // Most weight values all layers built from the config may hold together;
  // building stops with a ValueError before allocating beyond it. Default:
  // 2^28 (1 GiB of float32).
  int64_t max_params = int64_t{1} << 28;
  // Leave new weights zero instead of running their initializers (no random
  // draws): for weights about to be overwritten. Default: false.
  bool skip_initializers = false;
};

// The model's architecture as Keras 2's model.to_json() object. Throws
// ValueError for a model that cannot be described: a Sequential model not
// yet built, inputs that are not Input() tensors, two layers with one name,
// a name containing '/', or a layer without get_config.
nlohmann::json model_to_config(const Model& model);
// model_to_config(model).dump(indent) (indent < 0: one line).
std::string model_to_json(const Model& model, int indent = -1);

// A new model (Sequential or Functional, as the config says) with freshly
// initialized weights. Throws IOError for text that is not valid JSON within
// the limits of io::parse_untrusted_json, ValueError for a config seqnet
// cannot build (naming the layer and key), ShapeError when the layers do not
// connect.
std::unique_ptr<Model> model_from_json(std::string_view json, const ConfigOptions& options = {});
std::unique_ptr<Model> model_from_config(const nlohmann::json& config, const ConfigOptions& options = {});

// Keras 2's training_config of a compiled model: {"loss": ..., "metrics":
// [...], "weighted_metrics": null, "loss_weights": null | [...],
// "optimizer_config": {"class_name": "Adam", "config": {...}}}. Throws
// ValueError when the model is not compiled or its optimizer cannot be
// serialized.
nlohmann::json training_config(const Model& model);
// Compiles `model` as `config` (a training_config) says. Throws ValueError
// for unknown losses, metrics or optimizers, or options that change the
// math and that seqnet lacks (learning-rate schedules, weight decay, EMA,
// from_logits, label smoothing).
void compile_from_training_config(Model& model, const nlohmann::json& config);

// An optimizer from {"class_name": "Adam", "config": {...}} (Keras 2.11+ and
// legacy keys: "lr", "decay" = 0). Throws ValueError as above.
std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& class_and_config);
// A loss from a name or {"class_name": ..., "config": ...}. Throws
// ValueError for an unknown loss or options that change the math.
std::shared_ptr<Loss> loss_from_config(const nlohmann::json& config);

}  // namespace seqnet
