#pragma once
// Helpers for Layer::get_config(): the pieces of a Keras 2 layer config that
// every layer writes the same way. The reverse direction (config -> layer)
// is the registry in seqnet/io/config.hpp.

#include <nlohmann/json.hpp>

#include "seqnet/layers/initializers.hpp"
#include "seqnet/layers/layer.hpp"
#include "seqnet/layers/regularizers.hpp"

namespace seqnet {

// A float32 value as the shortest decimal that reads back as the same float
// (0.001f is written 0.001, not 0.0010000000474974513), so configs match
// Keras's and survive a round trip exactly. Non-finite values become null.
nlohmann::json json_float(float v);

// Keras 2 serialization of an initializer: {"class_name": "GlorotUniform",
// "config": {"seed": null}}, {"class_name": "RandomUniform", "config":
// {"minval": -0.05, "maxval": 0.05, "seed": null}}, ... Throws ValueError for
// an initializer name seqnet does not know.
nlohmann::json initializer_to_keras(const Initializer& init);

// Keras 2 serialization of a regularizer: null when inactive, else
// {"class_name": "L1" | "L2" | "L1L2", "config": {"l1": ..., "l2": ...}}.
nlohmann::json regularizer_to_keras(const Regularizer& reg);

// The keys every Keras layer config starts with: {"name": layer.name(),
// "trainable": true, "dtype": "float32"}. (Savers overwrite "trainable" from
// the weights' flags.)
nlohmann::json base_layer_config(const Layer& layer);

// {"class_name": layer.class_name(), "config": layer.get_config()}: how
// wrappers nest their inner layer. Throws as get_config().
nlohmann::json layer_to_keras(const Layer& layer);

}  // namespace seqnet
