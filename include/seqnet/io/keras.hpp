#pragma once
// Keras's own model files, read by load_model and Model::load_weights
// (told apart by their bytes, never by the file name):
//
//   Keras 2 legacy HDF5   model.save("x.h5") from Keras 2.0 to 2.15 and
//                         tf.keras: root attributes model_config,
//                         training_config, keras_version; weights under
//                         /model_weights/<layer>/ as its weight_names say
//   Keras 3 legacy HDF5   the same layout with a Keras 3 model_config
//   Keras 3 archive       model.save("x.keras"): a zip of config.json,
//                         metadata.json and model.weights.h5 (weights under
//                         layers/<snake_case class>[_N]/.../vars/<k>)
//   weights files         save_weights("x.weights.h5") (Keras 3) and
//                         legacy save_weights("x.h5") (Keras 2), for
//                         Model::load_weights
//
// The architecture is read with each Keras version's definitions where they
// differ: Keras 3's hard_sigmoid is relu6(x + 3) / 6 (seqnet's
// "keras3_hard_sigmoid"), Keras 2's clip(0.2 x + 0.5, 0, 1); a GRU config
// without reset_after is Keras 2.0's reset-before GRU; Keras before 2.3
// emits the previous output (states[0]) at masked steps inside
// Bidirectional, later versions zeros. Keras 3's config forms (batch_shape,
// DTypePolicy dicts, {"args", "kwargs"} inbound nodes with keras_history,
// module / registered_name keys) are translated to the Keras 2 forms that
// model_from_config reads. Keys that do not change the math are accepted;
// layers and options seqnet does not have (a Lambda or custom layer, a
// non-float32 dtype policy) are a ValueError naming the layer.
//
// The training configuration is honoured when LoadOptions::compile is set
// and seqnet has everything it names; otherwise the model loads
// uncompiled, with a warning on stderr that says why. Keras's optimizer
// state is not restored (a compiled model starts with fresh slots).
//
// All of it is untrusted input: the HDF5 subset is read by seqnet's own
// bounded parser (no HDF5 library), zip archives through libzip with the
// inflation limits of zip::Limits, and every error is a seqnet::Error that
// names the file and the object at fault.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace seqnet::io {

enum class ModelFileFormat { Safetensors, KerasHdf5, KerasArchive, TfjsJson, Unknown };

// The format of a model file from its bytes: HDF5's signature, a zip local
// header, an 8-byte little-endian safetensors header length that fits the
// file followed by '{', or else a JSON object (a TF.js model.json).
ModelFileFormat detect_model_file_format(std::string_view bytes);
// "seqnet .safetensors", "Keras HDF5", "Keras 3 .keras archive", ...
std::string_view format_name(ModelFileFormat f);

// A Keras version "2.2.4", "3.9.2", "2.4.0-tf": its first three numbers.
struct KerasVersion {
  int major = 2, minor = 0, patch = 0;
  static KerasVersion parse(std::string_view text);
  bool before(int ma, int mi) const { return major < ma || (major == ma && minor < mi); }
};

// A Keras 2 or Keras 3 model config (model.to_json(), config.json) in the
// Keras 2 form model_from_config reads, with the version's definitions
// made explicit (see above). `source` names the file in messages.
nlohmann::json keras_model_config(const nlohmann::json& config, KerasVersion version, const std::string& source);

}  // namespace seqnet::io
