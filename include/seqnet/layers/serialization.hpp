#pragma once
// Layer configurations in Keras 2's form, both ways, and the registry that
// makes layers from them.
//
// A layer class owns its configuration: `get_config()` writes it, a static
// `from_config(const ConfigReader&)` beside it reads it back, and one line
// in the layer's source file registers the class under its Keras name:
//
//   nlohmann::json Dense::get_config() const { ... }
//   std::shared_ptr<Layer> Dense::from_config(const ConfigReader& r) { ... }
//   SEQNET_REGISTER_LAYER(Dense);          // in namespace seqnet::layers
//
// Defaults come from the layer's options struct: from_config starts from
// `DenseOptions{}` and overwrites only the keys the config holds.
// Configs are untrusted input: ConfigReader type- and range-checks every
// value and names the layer and key in its errors.
//
// The model containers (Sequential, Functional), model_from_json and the
// training configuration are in seqnet/io/config.hpp. Include
// <nlohmann/json.hpp> (this header does) to use the JSON values.

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seqnet/layers/initializers.hpp"
#include "seqnet/layers/layer.hpp"
#include "seqnet/layers/regularizers.hpp"

namespace seqnet {

// ---------------------------------------------------------------- writing

// A float32 value as the shortest decimal that reads back as the same float
// (0.001f is written 0.001, not 0.0010000000474974513), so configs match
// Keras's and survive a round trip exactly. Non-finite values become null.
nlohmann::json json_float(float v);

// Keras 2 serialization of an initializer: {"class_name": "GlorotUniform",
// "config": {"seed": null}}, {"class_name": "RandomUniform", "config":
// {"minval": -0.05, "maxval": 0.05, "seed": null}}, ... Throws ValueError for
// an initializer name seqnet does not know. The reverse is
// ConfigReader::get_initializer.
nlohmann::json initializer_to_keras(const Initializer& init);

// Keras 2 serialization of a regularizer: null when inactive, else
// {"class_name": "L1" | "L2" | "L1L2", "config": {"l1": ..., "l2": ...}}.
// The reverse is ConfigReader::get_regularizer.
nlohmann::json regularizer_to_keras(const Regularizer& reg);

// The keys every Keras layer config starts with: {"name": layer.name(),
// "trainable": true, "dtype": dtype_policy_config(layer.dtype_policy())}.
// (Savers overwrite "trainable" from the weights' flags.)
nlohmann::json base_layer_config(const Layer& layer);
// A policy as a layer config's "dtype": "float32", or Keras 2's
// {"class_name": "Policy", "config": {"name": "mixed_bfloat16"}}.
nlohmann::json dtype_policy_config(const mixed_precision::Policy& policy);

// {"class_name": layer.class_name(), "config": layer.get_config()}: how
// wrappers nest their inner layer (Keras's layers.serialize). Throws as
// get_config().
nlohmann::json layer_to_keras(const Layer& layer);
nlohmann::json layer_to_config(const Layer& layer);

// ---------------------------------------------------------------- reading

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
  // "dtype": absent or null (nullopt: the global policy), or "float32" /
  // "mixed_bfloat16" as a name or a Keras Policy object; anything else
  // throws ValueError naming it.
  std::optional<mixed_precision::Policy> dtype_policy() const;
  // The checks every layer config shares: a dtype policy seqnet has and no
  // activity regularizer.
  void expect_common() const;
  // Requires each key to be absent or null ("seqnet has no weight
  // constraints").
  void expect_no_constraints(std::initializer_list<const char*> keys) const;
  // The layer config {"class_name", "config"} under `key`, made into a
  // layer through the registry (wrappers' inner layers). Throws ValueError
  // when it is absent or invalid.
  std::shared_ptr<Layer> get_layer(const std::string& key) const;

 private:
  const nlohmann::json* j_;
  std::string context_;
  [[noreturn]] void fail(const std::string& key, std::string_view what) const;
};

// The "config" object of {"class_name": ..., "config": {...}}: an empty
// object when absent or null. Throws ValueError "<what>: `config` must be
// an object" otherwise. For readers of other Keras objects (losses,
// optimizers).
const nlohmann::json& config_object(const nlohmann::json& class_and_config, const std::string& what);

// Makes a layer from its config. Throws ValueError for an invalid config.
using LayerFactory = std::function<std::shared_ptr<Layer>(const ConfigReader& config)>;

// Registers (or replaces) the factory of a Keras class name, so that
// layer_from_config and model_from_json can make layers of that class.
// Built-in layers register themselves (SEQNET_REGISTER_LAYER); user code
// calls this for its own layer classes. Throws ValueError for an empty class
// name or a null factory. Thread-safe.
void register_layer(const std::string& class_name, LayerFactory factory);
// The registered class names, sorted. InputLayer is not among them: it is
// handled by the model readers.
std::vector<std::string> registered_layers();

// A new layer from {"class_name": ..., "config": {...}} (Keras's
// layers.deserialize; "Custom>Name" finds "Name"). Throws ValueError for an
// unknown class (listing the known ones) or an invalid config.
std::shared_ptr<Layer> layer_from_config(const nlohmann::json& class_and_config);

namespace detail {
// Registers at static-initialization time; returns 0. Used by
// SEQNET_REGISTER_LAYER.
int register_builtin_layer(const char* class_name, LayerFactory factory);
}  // namespace detail

}  // namespace seqnet

// Registers layer class `Type` (in the current namespace) under its own name
// as Keras class name, with Type::from_config as its factory. Put it in the
// layer's source file, at namespace scope. It also defines the link anchor
// `seqnet_layer_anchor_<Type>`, which the build asks the linker to keep, so
// that a program linking the static library finds every built-in layer even
// when it never names one in its code (it only loads a model file).
#define SEQNET_REGISTER_LAYER(Type)                                                                         \
  extern "C" {                                                                                              \
  [[maybe_unused]] extern const int seqnet_layer_anchor_##Type;                                            \
  const int seqnet_layer_anchor_##Type = ::seqnet::detail::register_builtin_layer(#Type, &Type::from_config); \
  }                                                                                                         \
  static_assert(true, "")
