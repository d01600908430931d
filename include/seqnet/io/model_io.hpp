#pragma once
// Model files: one .safetensors file (see seqnet/io/safetensors.hpp) that
// holds a whole model.
//
// Tensors (all F32):
//   <layer>/<weight>                  weights under Keras names: lstm_1/kernel,
//                                     lstm_1/recurrent_kernel, lstm_1/bias,
//                                     dense/kernel, embedding/embeddings,
//                                     time_distributed/kernel (the wrapped
//                                     layer's names pass through),
//                                     bidirectional/forward_lstm/kernel, ...
//   optimizer/<layer>/<weight>/<slot> optimizer state (Adam: m, v [, vhat];
//                                     RMSprop: rms [, momentum, mg]; SGD:
//                                     momentum; Adagrad: accumulator)
//   states/<layer>[/<direction>]/<k>  kept states of stateful recurrent layers
// __metadata__ (all values strings):
//   format           "seqnet"
//   version          "1" (this build reads versions <= 1; a newer file is a
//                    clear error)
//   content          "model" (save) or "weights" (save_weights)
//   model_config     Keras 2 model.to_json() of the architecture (content
//                    "model" only)
//   training_config  Keras 2 training_config JSON (compiled models saved with
//                    include_optimizer): loss, metrics, loss_weights,
//                    optimizer_config
//   training_state   {"optimizer_iterations": "<n>", "random_state": {"s":
//                    ["<u64>" x4], "have_spare": bool, "spare_bits":
//                    "<u64>"}} (with training_config)
//
// Reading treats the file as untrusted: the container is validated first,
// then the architecture is rebuilt with every weight allocation bounded by
// the weight values the file actually holds (and no initializers run), then
// every weight, state and slot is matched by name, dtype and shape; a
// missing or extra tensor, a mismatch, a malformed JSON or an unknown layer
// is a seqnet::Error with a one-line message naming the file.
//
// Model::save / save_weights / load_weights / to_json are declared in
// seqnet/model/model.hpp and implemented with this module.

#include <memory>
#include <string>
#include <string_view>

#include "seqnet/files.hpp"
#include "seqnet/model/model.hpp"

namespace seqnet {

// The format version this build writes (and the newest it reads).
inline constexpr int kModelFormatVersion = 1;

struct LoadOptions {
  // Compile the model as its training_config says and restore the
  // optimizer's state (iterations and slots). Default: true.
  bool compile = true;
  // Restore the global random generator (set_seed's generator) to the state
  // saved with the training state, so that fit(..., {.initial_epoch = ...})
  // continues exactly as the interrupted run would have (dropout masks and
  // shuffling included). Only files saved from a compiled model with
  // include_optimizer carry it. Default: true.
  bool restore_random_state = true;
  // Most bytes read from the file (read_file's limit). Default:
  // kDefaultMaxFileBytes (4 GiB).
  int64_t max_file_bytes = kDefaultMaxFileBytes;
};

// Loads a model written by Model::save. Returns a Sequential or a
// functional Model as saved, predicting bit-identically to the saved one.
// Throws IOError for an unreadable, malformed or inconsistent file (or one
// written by save_weights), ValueError / ShapeError for an architecture
// seqnet cannot build.
std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options = {});
// Puts the training state of a file written by Model::save into an existing
// model of the same architecture: every weight (matched by name, as the
// file names them), the kept states of stateful layers, and with
// options.compile (and a compiled model) the optimizer's iterations, slots
// and learning rate; with options.restore_random_state the global random
// generator. So `build(); compile(); load_training_state(m, file);
// fit(..., {.initial_epoch = e})` continues a run exactly as load_model
// would, keeping the caller's model object (and any inference models that
// share its layers). Everything is checked before anything is set: throws
// IOError for an unreadable or inconsistent file, a missing or extra
// tensor, an optimizer of another class than the model's, or (with compile)
// a file without optimizer state; ShapeError for a shape that differs.
void load_training_state(Model& model, const std::string& path, const LoadOptions& options = {});
// load_model from the file's bytes; `source` names it in messages.
std::unique_ptr<Model> load_model_from_bytes(std::string bytes, const std::string& source = "<memory>",
                                             const LoadOptions& options = {});
// The bytes Model::save writes (weights_only: what save_weights writes).
// Throws as Model::save.
std::string save_model_to_bytes(const Model& model, bool include_optimizer = true, bool weights_only = false);
// The bytes of a model file in `format`: "safetensors" (seqnet's own),
// "keras" (a Keras 3 archive) or "h5" (Keras 2 legacy HDF5); see
// seqnet/io/keras.hpp. Throws ValueError for an unknown format or a model
// the format cannot hold (naming the layer).
std::string save_model_bytes(const Model& model, std::string_view format, bool include_optimizer = true);

struct TfjsSaveOptions {
  // The name of the topology file in the directory. Default: "model.json".
  std::string model_json = "model.json";
  // Write the training configuration of a compiled model. Default: true.
  bool include_optimizer = true;
  // Most bytes per weight shard (TF.js's default: 4 MiB).
  int64_t shard_bytes = int64_t{4} << 20;
};

// Writes `model` as a TensorFlow.js Layers model into directory `dir`
// (created if missing): model.json ({"format": "layers-model",
// "modelTopology": {"model_config": <Keras 2 config>, ...},
// "weightsManifest": [...]}) and group1-shardKofN.bin files of float32
// weights named "<layer>/<weight>" as TF.js names them. Each file is
// written atomically, model.json last; load_model(dir + "/model.json")
// reads it back, and tf.loadLayersModel loads it. Throws ValueError /
// IOError.
void save_tfjs(const Model& model, const std::string& dir, const TfjsSaveOptions& options = {});

}  // namespace seqnet
