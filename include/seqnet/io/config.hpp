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
// Each layer class writes its own config (Layer::get_config) and reads it
// back (its static from_config, registered from the layer's own source file
// with SEQNET_REGISTER_LAYER); the registry, ConfigReader and
// layer_from_config live in seqnet/layers/serialization.hpp. This file holds
// only the model containers: Sequential and Functional graphs, and the
// training configuration.
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

#include "seqnet/layers/serialization.hpp"
#include "seqnet/model/model.hpp"

namespace seqnet {

struct ConfigOptions {
  // Most weight values all layers built from the config may hold together;
  // building stops with a ValueError before allocating beyond it. Default:
  // 2^28 (1 GiB of float32).
  int64_t max_params = int64_t{1} << 28;
  // Leave new weights zero instead of running their initializers (no random
  // draws): for weights about to be overwritten. Default: false.
  bool skip_initializers = false;
  // Why max_params is what it is, for the error message. Default: "the
  // limit is <max_params> weight values in all".
  std::string limit_reason{};
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

// optimizer_from_config and loss_from_config are declared beside the
// classes they make, in train/optimizers.hpp and train/losses.hpp.

}  // namespace seqnet
