#pragma once
// Internal: the Keras file readers behind load_model and load_weights
// (seqnet/io/keras.hpp describes the formats).

#include <memory>
#include <string>

#include "seqnet/io/model_io.hpp"
#include "seqnet/model/model.hpp"

namespace seqnet::io {

// A model from a Keras HDF5 model file (legacy model.save, Keras 2 or 3).
std::unique_ptr<Model> load_keras_hdf5_model(std::string bytes, const std::string& source, const LoadOptions& options);
// A model from a Keras 3 .keras archive.
std::unique_ptr<Model> load_keras_archive(std::string bytes, const std::string& source, const LoadOptions& options);
// A model from a TF.js Layers model.json; `source` is its path (the weight
// shards are read from its directory).
std::unique_ptr<Model> load_tfjs_model(std::string bytes, const std::string& source, const LoadOptions& options);
// Sets the model's weights from a Keras HDF5 weights or model file
// (legacy layer_names layout, or Keras 3's layers/... layout).
void load_keras_weights(Model& model, std::string bytes, const std::string& source, const LoadWeightsOptions& options);

// The bytes of a Keras 2 legacy HDF5 model file (model_config,
// training_config when compiled and include_optimizer, model_weights), or
// with weights_only of a legacy save_weights file. Throws ValueError for a
// model Keras cannot describe.
std::string keras_h5_bytes(const Model& model, bool include_optimizer, bool weights_only);
// The bytes of a Keras 3 .keras archive (config.json with compile_config
// when compiled and include_optimizer, metadata.json, model.weights.h5).
std::string keras_archive_bytes(const Model& model, bool include_optimizer);
// The bytes of a Keras 3 .weights.h5 file.
std::string keras3_weights_file_bytes(const Model& model);

}  // namespace seqnet::io
