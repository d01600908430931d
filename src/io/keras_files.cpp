// Keras model and weights files: legacy HDF5 (Keras 2 and 3), Keras 3
// .keras archives and .weights.h5 files (formats in seqnet/io/keras.hpp).

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <set>

#include "io/hdf5.hpp"
#include "io/keras_internal.hpp"
#include "io/weight_matching.hpp"
#include "zip.hpp"
#include "seqnet/error.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/io/json.hpp"
#include "seqnet/io/keras.hpp"
#include "seqnet/layers/bidirectional.hpp"
#include "seqnet/layers/recurrent.hpp"
#include "seqnet/layers/time_distributed.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::io {

namespace {

using json = nlohmann::json;

// An attribute Keras may split into name0, name1, ... when it is over 64 KB
// (layer_names, weight_names): the strings of all parts, in order. Absent:
// empty.
std::vector<std::string> string_list_attribute(const hdf5::Object& o, const std::string& name) {
  if (o.has_attribute(name)) return o.attribute(name).strings();
  std::vector<std::string> out;
  for (int k = 0; o.has_attribute(name + std::to_string(k)); ++k) {
    for (auto& s : o.attribute(name + std::to_string(k)).strings()) out.push_back(std::move(s));
  }
  return out;
}

std::string string_attribute(const hdf5::Object& o, const std::string& name) {
  return o.has_attribute(name) ? o.attribute(name).string() : std::string();
}

Shape dataset_shape(const hdf5::Dataset& d) {
  Shape s;
  for (uint64_t n : d.shape()) s.push_back(static_cast<int64_t>(n));  // the parser bounds every extent
  return s;
}

FileWeight file_weight(std::string name, const hdf5::Dataset& d) {
  if (d.dtype().cls != hdf5::TypeClass::Float) {
    throw IOError(fmt::format("{}: weight '{}' is {}, not floating point", d.path(), printable(name),
                              d.dtype().describe()));
  }
  return {std::move(name), dataset_shape(d), [d](Tensor& dst) {
            const std::vector<float> v = d.read_float32();
            std::copy(v.begin(), v.end(), dst.data());
          }};
}

// Element count of every dataset under `g`: the most weight values a model
// rebuilt from the file's config may allocate.
int64_t dataset_values(const hdf5::Group& g) {
  int64_t n = 0;
  for (const auto& [name, o] : g.members()) {
    if (o.is_group()) {
      n += dataset_values(o.as_group());
    } else if (o.is_dataset()) {
      n += static_cast<int64_t>(o.as_dataset().size());
    }
  }
  return n;
}

// ---------------------------------------------------------------- legacy layout

// The layers of a legacy weights group (model_weights, or the root of a
// legacy save_weights file): layer_names, each a group whose weight_names
// are paths relative to it, opened exactly as written.
std::vector<FileLayer> legacy_layers(const hdf5::Group& g) {
  if (!g.has_attribute("layer_names") && !g.has_attribute("layer_names0")) {
    throw IOError(fmt::format("{}: no layer_names attribute; not a Keras weights group", g.path()));
  }
  std::vector<FileLayer> out;
  for (const std::string& layer : string_list_attribute(g, "layer_names")) {
    const hdf5::Group lg = g.group(layer);
    FileLayer fl{layer, {}};
    for (const std::string& wn : string_list_attribute(lg, "weight_names")) {
      fl.weights.push_back(file_weight(layer + "/" + wn, lg.dataset(wn)));
    }
    if (!fl.weights.empty()) out.push_back(std::move(fl));
  }
  return out;
}

// ---------------------------------------------------------------- Keras 3 layout

// Where Keras 3 keeps the weights of `layer`, relative to its group, in the
// layer's weight order: recurrent layers in cell/vars, wrappers under the
// attribute that holds the wrapped layer, everything else in vars.
std::vector<std::string> keras3_paths(Layer& layer) {
  std::vector<std::string> out;
  if (auto* b = dynamic_cast<layers::Bidirectional*>(&layer)) {
    for (auto& p : keras3_paths(b->forward_layer())) out.push_back("forward_layer/" + p);
    for (auto& p : keras3_paths(b->backward_layer())) out.push_back("backward_layer/" + p);
    return out;
  }
  if (auto* t = dynamic_cast<layers::TimeDistributed*>(&layer)) {
    for (auto& p : keras3_paths(t->layer())) out.push_back("layer/" + p);
    return out;
  }
  const std::string prefix = dynamic_cast<layers::Recurrent*>(&layer) != nullptr ? "cell/vars/" : "vars/";
  size_t n = 0;
  layer.visit_params([&](const std::string&, Param&) { out.push_back(prefix + std::to_string(n++)); });
  return out;
}

// Every dataset under `g`, as paths relative to it.
void list_datasets(const hdf5::Group& g, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& [name, o] : g.members()) {
    if (o.is_group()) {
      list_datasets(o.as_group(), prefix + name + "/", out);
    } else if (o.is_dataset()) {
      out.push_back(prefix + name);
    }
  }
}

// A layer in Keras 3's numbering: its class, and the model's layer (null
// for an InputLayer the model does not keep as a layer).
struct Keras3Entry {
  std::string class_name;
  std::shared_ptr<Layer> layer;
};

// The file's weights for `entries` (the model's layers in Keras's order,
// InputLayers included for functional models), each file layer named as
// the model's layer. Keras 3 names each layer's group by its snake_case
// class, numbered _1, _2, ... by order within the class. Every dataset
// under layers/ must belong to a layer.
std::vector<FileLayer> keras3_layers(const hdf5::Group& root, const std::vector<Keras3Entry>& entries,
                                     const std::string& source) {
  if (!root.contains("layers")) {
    throw IOError(fmt::format("{}: no 'layers' group; not a Keras 3 weights file", source));
  }
  const hdf5::Group lg = root.group("layers");
  std::map<std::string, int> count;
  std::set<std::string> claimed;
  std::vector<FileLayer> out;
  for (const Keras3Entry& e : entries) {
    const std::string base = to_snake_case(e.class_name);
    const int n = count[base]++;
    const std::string group = n == 0 ? base : fmt::format("{}_{}", base, n);
    if (!e.layer) continue;
    Layer& layer = *e.layer;
    const std::vector<std::string> paths = keras3_paths(layer);
    if (paths.empty()) continue;
    if (!lg.contains(group)) {
      throw IOError(fmt::format("{}: the weights of layer '{}' ({}) should be under layers/{} but there is no such "
                                "group",
                                source, layer.name(), layer.class_name(), group));
    }
    const hdf5::Group g = lg.group(group);
    FileLayer fl{layer.name(), {}};
    for (const auto& p : paths) fl.weights.push_back(file_weight("layers/" + group + "/" + p, g.dataset(p)));
    std::vector<std::string> present;
    list_datasets(g, "", present);
    if (present.size() != paths.size()) {
      throw IOError(fmt::format("{}: layers/{} holds {} weight(s) but layer '{}' ({}) has {}", source, group,
                                present.size(), layer.name(), layer.class_name(), paths.size()));
    }
    claimed.insert(group);
    out.push_back(std::move(fl));
  }
  for (const auto& [name, o] : lg.members()) {
    if (claimed.count(name) || !o.is_group()) continue;
    std::vector<std::string> present;
    list_datasets(o.as_group(), "", present);
    if (!present.empty()) {
      throw IOError(fmt::format("{}: layers/{} holds {} weight(s) that no layer of the model has", source,
                                printable(name), present.size()));
    }
  }
  return out;
}

// The layers of `model` in the order Keras 3 numbers them: the order of the
// config's layer list (Sequential models leave their InputLayer out), or
// the model's own order when there is no config.
std::vector<Keras3Entry> keras3_layer_order(const Model& model, const json* config) {
  const bool sequential = dynamic_cast<const Sequential*>(&model) != nullptr;
  std::vector<Keras3Entry> out;
  const json* list = nullptr;
  if (config != nullptr && config->contains("config") && (*config)["config"].is_object() &&
      (*config)["config"].contains("layers") && (*config)["config"]["layers"].is_array()) {
    list = &(*config)["config"]["layers"];
  }
  if (list == nullptr) {
    for (const auto& l : model.unique_layers(!sequential)) out.push_back({l->class_name(), l});
    return out;
  }
  std::map<std::string, std::shared_ptr<Layer>> by_name;
  for (const auto& l : model.unique_layers(true)) by_name[l->name()] = l;
  for (const auto& e : *list) {
    const std::string cls =
        e.contains("class_name") && e["class_name"].is_string() ? e["class_name"].get<std::string>() : "";
    if (sequential && cls == "InputLayer") continue;
    std::string name;
    if (e.contains("name") && e["name"].is_string()) {
      name = e["name"].get<std::string>();
    } else if (e.contains("config") && e["config"].is_object() && e["config"].contains("name") &&
               e["config"]["name"].is_string()) {
      name = e["config"]["name"].get<std::string>();
    }
    const auto it = by_name.find(name);
    out.push_back({cls, it == by_name.end() ? nullptr : it->second});
  }
  return out;
}

// ---------------------------------------------------------------- compile

void warn_uncompiled(const std::string& source, const std::string& why) {
  std::fprintf(stderr, "Warning: %s: the model is loaded uncompiled: %s\n", source.c_str(), why.c_str());
  std::fflush(stderr);
}

// Compiles `model` from a Keras 2 training_config, or warns why not.
void compile_or_warn(Model& model, const json& training, const std::string& source) {
  try {
    compile_from_training_config(model, training);
  } catch (const Error& e) {
    warn_uncompiled(source, fmt::format("its training config: {}", e.what()));
  }
}

json strip_keras3_keys(const json& v) {
  if (!v.is_object()) return v;
  json out = json::object();
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() == "module" || it.key() == "registered_name" || it.key() == "shared_object_id") continue;
    out[it.key()] = strip_keras3_keys(it.value());
  }
  return out;
}

// Keras 3's compile_config as a Keras 2 training_config.
json training_config_from_compile_config(const json& c) {
  json out = json::object();
  if (!c.is_object()) return out;
  for (const char* k : {"loss", "metrics", "loss_weights", "weighted_metrics"}) {
    if (c.contains(k)) out[k] = strip_keras3_keys(c[k]);
  }
  if (c.contains("optimizer")) {
    json opt = strip_keras3_keys(c["optimizer"]);
    if (opt.is_string()) opt = json{{"class_name", opt}, {"config", json::object()}};
    out["optimizer_config"] = opt;
  }
  return out;
}

// A model from a (normalized) config, its weight allocation bounded by
// `budget` values; the config's errors name the file.
std::unique_ptr<Model> build(const json& config, int64_t budget, const std::string& source,
                             const std::string& why = "") {
  try {
    return model_from_config(config, {.max_params = budget,
                                      .skip_initializers = true,
                                      .limit_reason = fmt::format("the file holds {} weight values{}", budget, why)});
  } catch (const Error& e) {
    throw ValueError(fmt::format("{}: model config: {}", source, e.what()));
  }
}

json parse_config_text(const std::string& text, const std::string& what) { return parse_untrusted_json(text, what); }

}  // namespace

// ---------------------------------------------------------------- entry points

std::unique_ptr<Model> load_keras_hdf5_model(std::string bytes, const std::string& source, const LoadOptions& options) {
  const hdf5::File f = hdf5::File::parse(std::move(bytes), source);
  const hdf5::Group root = f.root();
  if (!root.has_attribute("model_config")) {
    throw IOError(fmt::format("{}: a Keras HDF5 file without model_config holds only weights (save_weights); build "
                              "the model and call load_weights",
                              source));
  }
  const KerasVersion version = KerasVersion::parse(string_attribute(root, "keras_version"));
  const json raw = parse_config_text(root.attribute("model_config").string(), source + ": model_config");
  const json config = keras_model_config(raw, version, source);
  if (!root.contains("model_weights")) throw IOError(fmt::format("{}: no model_weights group", source));
  const hdf5::Group weights = root.group("model_weights");
  auto model = build(config, dataset_values(weights), source);
  const std::vector<FileLayer> in_file = legacy_layers(weights);
  const auto layers = model_weight_layers(*model);
  copy_matched(layers, match_all_by_name(layers, in_file, source));
  if (options.compile && root.has_attribute("training_config")) {
    json training;
    try {
      training = parse_config_text(root.attribute("training_config").string(), source + ": training_config");
    } catch (const Error& e) {
      warn_uncompiled(source, e.what());
      return model;
    }
    compile_or_warn(*model, strip_keras3_keys(training), source);
  }
  return model;
}

std::unique_ptr<Model> load_keras_archive(std::string bytes, const std::string& source, const LoadOptions& options) {
  const zip::Reader z(bytes, source, ".keras archive", {.limits_name = "the .keras reader's limits"});
  const zip::Member* cm = z.find("config.json");
  if (cm == nullptr) {
    z.fail("no config.json (a zip archive, but not one Keras wrote: an .npz, or a PyTorch .pt file? export a state "
           "dict with tools/export_torch_state_dict.py and use import-torch)");
  }
  KerasVersion version{3, 0, 0};
  if (const zip::Member* mm = z.find("metadata.json")) {
    const json meta = parse_config_text(z.read(*mm), source + ": metadata.json");
    if (meta.is_object() && meta.contains("keras_version") && meta["keras_version"].is_string()) {
      version = KerasVersion::parse(meta["keras_version"].get<std::string>());
    }
  }
  const json raw = parse_config_text(z.read(*cm), source + ": config.json");
  const json config = keras_model_config(raw, version, source);
  const zip::Member* wm = z.find("model.weights.h5");
  std::unique_ptr<Model> model;
  if (wm == nullptr) {
    model = build(config, 0, source, ": it has no model.weights.h5");
  } else {
    const hdf5::File wf = hdf5::File::parse(z.read(*wm), source + ": model.weights.h5");
    model = build(config, dataset_values(wf.root()), source);
    const std::vector<FileLayer> in_file =
        keras3_layers(wf.root(), keras3_layer_order(*model, &config), source + ": model.weights.h5");
    const auto layers = model_weight_layers(*model);
    copy_matched(layers, match_all_by_name(layers, in_file, source + ": model.weights.h5"));
  }
  if (options.compile && raw.is_object() && raw.contains("compile_config") && raw["compile_config"].is_object()) {
    compile_or_warn(*model, training_config_from_compile_config(raw["compile_config"]), source);
  }
  return model;
}

void load_keras_weights(Model& model, std::string bytes, const std::string& source,
                        const LoadWeightsOptions& options) {
  const hdf5::File f = hdf5::File::parse(std::move(bytes), source);
  const hdf5::Group root = f.root();
  const auto layers = model_weight_layers(model);
  std::vector<FileLayer> in_file;
  if (root.contains("layers") && !root.has_attribute("layer_names") && !root.contains("model_weights")) {
    if (options.by_name) {
      throw ValueError(fmt::format("{}: a Keras 3 weights file is matched by the model's structure; by_name applies "
                                   "to legacy HDF5 weights only",
                                   source));
    }
    in_file = keras3_layers(root, keras3_layer_order(model, nullptr), source);
    copy_matched(layers, match_all_by_name(layers, in_file, source));
    return;
  }
  in_file = legacy_layers(root.contains("model_weights") ? root.group("model_weights") : root);
  const auto found = options.by_name ? match_by_name(layers, model.name(), in_file, source, options.skip_mismatch)
                                     : match_by_order(layers, model.name(), in_file, source);
  copy_matched(layers, found);
}

}  // namespace seqnet::io
