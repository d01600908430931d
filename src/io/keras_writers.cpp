// Keras files written by seqnet: Keras 2 legacy HDF5 (model.save("x.h5"))
// and Keras 3 archives (model.save("x.keras")).

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>

#include "io/hdf5_writer.hpp"
#include "io/keras_internal.hpp"
#include "io/weight_matching.hpp"
#include "zip.hpp"
#include "seqnet/error.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/io/keras.hpp"
#include "seqnet/layers/bidirectional.hpp"
#include "seqnet/layers/recurrent.hpp"
#include "seqnet/layers/time_distributed.hpp"

namespace seqnet::io {

namespace {

using json = nlohmann::json;

// The Keras version whose format each writer follows.
constexpr const char* kKeras2Version = "2.13.1";
constexpr const char* kKeras3Version = "3.5.0";

// Layers seqnet has and Keras does not: written as custom objects of a
// "seqnet" package, which seqnet reads back and Keras reports as unknown.
bool seqnet_only(const std::string& cls) { return cls == "LuongAttention" || cls == "AttentionDecoder"; }

// A Keras 2 config that Keras cannot hold: say so, naming the layer.
void check_expressible(const json& entry, const std::string& what) {
  if (!entry.is_object() || !entry.contains("config") || !entry["config"].is_object()) return;
  const json& c = entry["config"];
  const std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "?";
  if (what == ".h5") {
    for (const char* k : {"activation", "recurrent_activation"}) {
      if (c.contains(k) && c[k] == "keras3_hard_sigmoid") {
        throw ValueError(fmt::format("{}: layer '{}' uses Keras 3's hard_sigmoid (relu6(x + 3) / 6), which Keras 2 "
                                     "does not have: save it as .keras or .safetensors",
                                     what, name));
      }
    }
  }
  if (c.contains("zero_output_for_mask") && entry.value("class_name", "") == "Bidirectional") {
    throw ValueError(fmt::format("{}: Bidirectional '{}' repeats previous outputs at masked steps (Keras before "
                                 "2.3); a {} file cannot say so: save it as .safetensors",
                                 what, name, what));
  }
  for (const char* k : {"layer", "backward_layer"})
    if (c.contains(k)) check_expressible(c[k], what);
}

// ---------------------------------------------------------------- Keras 2 .h5

// Datasets for the weights of `model` under `g` (a model_weights group or
// a weights file's root) in Keras 2's layout, with layer_names and each
// layer's weight_names.
void write_legacy_weights(hdf5::Writer& w, hdf5::Writer::GroupId g, const Model& model) {
  const bool sequential = dynamic_cast<const Sequential*>(&model) != nullptr;
  std::vector<std::string> layer_names;
  std::map<std::string, std::vector<NamedParam>> by_layer;
  for (const auto& np : named_params(model)) by_layer[np.name.substr(0, np.name.find('/'))].push_back(np);
  for (const auto& layer : model.unique_layers(!sequential)) {
    layer_names.push_back(layer->name());
    const hdf5::Writer::GroupId lg = w.group(g, layer->name());
    std::vector<std::string> weight_names;
    for (const auto& np : by_layer[layer->name()]) {
      // "<layer>/<path>:0", the path relative to the layer's group.
      const std::string rel = np.name + ":0";
      const size_t slash = rel.rfind('/');
      const hdf5::Writer::GroupId dg = w.group_path(lg, rel.substr(0, slash));
      const Tensor& t = np.param->value;
      w.dataset(dg, rel.substr(slash + 1), t.shape(), t.data());
      weight_names.push_back(rel);
    }
    w.attribute(lg, "weight_names", weight_names);
  }
  // Keras splits an attribute over 64,512 bytes into numbered parts.
  size_t longest = 1;
  for (const auto& n : layer_names) longest = std::max(longest, n.size());
  if (longest * layer_names.size() <= 64512) {
    w.attribute(g, "layer_names", layer_names);
  } else {
    const size_t per = std::max<size_t>(1, 64512 / longest);
    for (size_t k = 0; k * per < layer_names.size(); ++k) {
      const auto first = layer_names.begin() + static_cast<std::ptrdiff_t>(k * per);
      const auto last = layer_names.begin() + static_cast<std::ptrdiff_t>(std::min(layer_names.size(), (k + 1) * per));
      w.attribute(g, "layer_names" + std::to_string(k), std::vector<std::string>(first, last));
    }
  }
  w.attribute(g, "backend", std::string("seqnet"));
  w.attribute(g, "keras_version", std::string(kKeras2Version));
}

// ---------------------------------------------------------------- Keras 3 config

const char* module_for_key(const std::string& key) {
  auto ends = [&](const char* s) {
    const size_t n = std::char_traits<char>::length(s);
    return key.size() >= n && key.compare(key.size() - n, n, s) == 0;
  };
  if (ends("initializer")) return "keras.initializers";
  if (ends("regularizer")) return "keras.regularizers";
  if (ends("constraint")) return "keras.constraints";
  return nullptr;
}

json keras3_entry(const json& entry, const std::string& what);

json keras3_layer_config(const std::string& cls, const json& c, const std::string& what) {
  json out = json::object();
  const std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "?";
  for (auto it = c.begin(); it != c.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    // Keras 2 keys that Keras 3 no longer takes (none changes the math).
    if (k == "implementation" || k == "time_major" || k == "input_length") continue;
    if (k == "causal" && v.is_boolean() && !v.get<bool>()) continue;
    if (k == "dtype" && v.is_object() && v.contains("config")) {  // a mixed policy, in Keras 3's form
      out[k] = json{{"module", "keras"},
                    {"class_name", "DTypePolicy"},
                    {"config", v["config"]},
                    {"registered_name", nullptr}};
      continue;
    }
    if (cls == "InputLayer") {
      if (k == "batch_input_shape") out["batch_shape"] = v;
      else if (k == "dtype" || k == "sparse" || k == "name") out[k] = v;
      continue;
    }
    if ((k == "activation" || k == "recurrent_activation") && v.is_string()) {
      const std::string a = v.get<std::string>();
      if (a == "hard_sigmoid") {
        throw ValueError(fmt::format("{}: layer '{}' uses Keras 2's hard_sigmoid (clip(0.2 x + 0.5, 0, 1)), which "
                                     "Keras 3 does not have (its hard_sigmoid is relu6(x + 3) / 6): save it as .h5 "
                                     "or .safetensors",
                                     what, name));
      }
      out[k] = a == "keras3_hard_sigmoid" ? "hard_sigmoid" : a;
      continue;
    }
    if ((k == "layer" || k == "backward_layer") && v.is_object()) {
      out[k] = keras3_entry(v, what);
      continue;
    }
    const char* module = module_for_key(k);
    if (module != nullptr && v.is_object() && v.contains("class_name")) {
      out[k] = {{"module", module}, {"class_name", v["class_name"]}, {"config", v.value("config", json::object())},
                {"registered_name", nullptr}};
      continue;
    }
    out[k] = v;
  }
  return out;
}

json keras3_entry(const json& entry, const std::string& what) {
  const std::string cls = entry.value("class_name", "");
  json out = json::object();
  const bool own = seqnet_only(cls);
  out["module"] = own ? "seqnet.layers" : "keras.layers";
  out["class_name"] = cls;
  out["config"] = keras3_layer_config(cls, entry.value("config", json::object()), what);
  out["registered_name"] = own ? json("seqnet>" + cls) : json(nullptr);
  return out;
}

bool takes_list(const std::string& cls) {
  static const std::set<std::string> k{"Concatenate", "Add",       "Subtract",          "Multiply",
                                       "Average",     "Maximum",   "Minimum",           "Dot",
                                       "Attention",   "AdditiveAttention", "LuongAttention"};
  return k.count(cls) != 0;
}

// Keras 3's keras tensor for reference [layer, call, index] of `model`.
json keras_tensor(const json& ref, const std::map<std::pair<std::string, int64_t>, std::vector<Shape>>& shapes) {
  const auto it = shapes.find({ref[0].get<std::string>(), ref[1].get<int64_t>()});
  json shape = json::array();
  if (it != shapes.end() && ref[2].get<size_t>() < it->second.size()) {
    for (int64_t d : it->second[ref[2].get<size_t>()]) shape.push_back(d < 0 ? json(nullptr) : json(d));
  }
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", shape}, {"dtype", "float32"}, {"keras_history", json::array({ref[0], ref[1], ref[2]})}}}};
}

// The output shapes of every call of every layer of `model`, by (layer,
// call number among the model's calls of it).
std::map<std::pair<std::string, int64_t>, std::vector<Shape>> call_shapes(const Model& model) {
  std::map<std::string, std::vector<const GraphNode*>> calls;
  for (const auto& n : model.nodes()) calls[n->layer->name()].push_back(n.get());
  std::map<std::pair<std::string, int64_t>, std::vector<Shape>> out;
  for (auto& [name, ns] : calls) {
    std::sort(ns.begin(), ns.end(), [](const GraphNode* a, const GraphNode* b) { return a->node_index < b->node_index; });
    for (size_t k = 0; k < ns.size(); ++k) out[{name, static_cast<int64_t>(k)}] = ns[k]->output_shapes;
  }
  return out;
}

json keras3_model_config(const Model& model, const std::string& what) {
  const json k2 = model_to_config(model);
  const std::string cls = k2["class_name"].get<std::string>();
  const json& c = k2["config"];
  json layers = json::array();
  const auto shapes = call_shapes(model);
  for (const auto& e : c["layers"]) {
    check_expressible(e, what);
    json e3 = keras3_entry(e, what);
    if (cls != "Sequential") {
      e3["name"] = e["name"];
      json nodes = json::array();
      const std::string lc = e.value("class_name", "");
      for (const auto& node : e["inbound_nodes"]) {
        json args = json::array(), kwargs = json::object();
        std::vector<json> tensors;
        for (const auto& ref : node) tensors.push_back(keras_tensor(ref, shapes));
        if (tensors.size() > 1 && takes_list(lc)) {
          args.push_back(tensors);
        } else if (tensors.size() > 1 && (lc == "LSTM" || lc == "GRU" || lc == "SimpleRNN" || lc == "Bidirectional")) {
          args.push_back(tensors[0]);
          kwargs["initial_state"] = std::vector<json>(tensors.begin() + 1, tensors.end());
        } else {
          for (auto& t : tensors) args.push_back(t);
        }
        nodes.push_back({{"args", args}, {"kwargs", kwargs}});
      }
      e3["inbound_nodes"] = nodes;
    }
    layers.push_back(e3);
  }
  json config = {{"name", c["name"]}, {"trainable", true}, {"layers", layers}};
  if (cls != "Sequential") {
    auto endpoints = [](const json& list) {
      return list.size() == 1 ? list[0] : list;
    };
    config["input_layers"] = endpoints(c["input_layers"]);
    config["output_layers"] = endpoints(c["output_layers"]);
  }
  json out = {{"module", "keras"},
              {"class_name", cls == "Sequential" ? "Sequential" : "Functional"},
              {"config", config},
              {"registered_name", nullptr}};
  return out;
}

// Keras 3's compile_config from seqnet's training_config.
json keras3_compile_config(const Model& model) {
  const json tc = training_config(model);
  json opt = tc["optimizer_config"];
  static const std::map<std::string, std::set<std::string>> kKeys{
      {"Adam", {"beta_1", "beta_2", "epsilon", "amsgrad"}},
      {"RMSprop", {"rho", "momentum", "epsilon", "centered"}},
      {"SGD", {"momentum", "nesterov"}},
      {"Adagrad", {"initial_accumulator_value", "epsilon"}}};
  json oc = json::object();
  const std::string ocls = opt.value("class_name", "");
  const auto keys = kKeys.find(ocls);
  for (auto it = opt["config"].begin(); it != opt["config"].end(); ++it) {
    const std::string& k = it.key();
    const bool common = k == "learning_rate" || k == "clipnorm" || k == "clipvalue" || k == "global_clipnorm";
    if (common || (keys != kKeys.end() && keys->second.count(k))) oc[k] = it.value();
  }
  std::string lower = ocls;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  oc["name"] = lower;
  return {{"optimizer", {{"module", "keras.optimizers"}, {"class_name", ocls}, {"config", oc}, {"registered_name", nullptr}}},
          {"loss", tc["loss"]},
          {"loss_weights", tc["loss_weights"]},
          {"metrics", tc["metrics"]},
          {"weighted_metrics", nullptr},
          {"run_eagerly", false},
          {"steps_per_execution", 1},
          {"jit_compile", false}};
}

// ---------------------------------------------------------------- Keras 3 weights

// The groups Keras 3 writes for `layer` under `g` (own vars, a recurrent
// layer's cell, a wrapper's layers), with the weights in them.
void write_keras3_layer(hdf5::Writer& w, hdf5::Writer::GroupId g, Layer& layer) {
  if (auto* b = dynamic_cast<layers::Bidirectional*>(&layer)) {
    write_keras3_layer(w, w.group(g, "forward_layer"), b->forward_layer());
    write_keras3_layer(w, w.group(g, "backward_layer"), b->backward_layer());
    // Keras keeps the wrapped layer itself too, unbuilt: empty groups.
    const hdf5::Writer::GroupId inner = w.group(g, "layer");
    w.group(inner, "vars");
    if (dynamic_cast<layers::Recurrent*>(&b->forward_layer()) != nullptr) w.group_path(inner, "cell/vars");
    w.group(g, "vars");
    return;
  }
  if (auto* t = dynamic_cast<layers::TimeDistributed*>(&layer)) {
    write_keras3_layer(w, w.group(g, "layer"), t->layer());
    w.group(g, "vars");
    return;
  }
  const bool recurrent = dynamic_cast<layers::Recurrent*>(&layer) != nullptr;
  const hdf5::Writer::GroupId vars = recurrent ? w.group_path(g, "cell/vars") : w.group(g, "vars");
  if (recurrent) w.group(g, "vars");
  int n = 0;
  layer.visit_params([&](const std::string&, Param& p) {
    w.dataset(vars, std::to_string(n++), p.value.shape(), p.value.data());
  });
}

std::string keras3_weights_bytes(const Model& model, const std::string& what) {
  hdf5::Writer w;
  const hdf5::Writer::GroupId lg = w.group(hdf5::Writer::kRoot, "layers");
  const bool sequential = dynamic_cast<const Sequential*>(&model) != nullptr;
  std::map<std::string, int> count;
  for (const auto& layer : model.unique_layers(!sequential)) {
    const std::string base = to_snake_case(layer->class_name());
    const int n = count[base]++;
    write_keras3_layer(w, w.group(lg, n == 0 ? base : fmt::format("{}_{}", base, n)), *layer);
  }
  w.group(hdf5::Writer::kRoot, "vars");
  return w.build(what);
}

std::string now_stamp() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d@%H:%M:%S", &tm);
  return buf;
}

}  // namespace

std::string keras_h5_bytes(const Model& model, bool include_optimizer, bool weights_only) {
  const std::string what = weights_only ? "Keras .h5 weights" : "Keras .h5 model";
  hdf5::Writer w;
  if (weights_only) {
    write_legacy_weights(w, hdf5::Writer::kRoot, model);
    return w.build(what);
  }
  const json config = model_to_config(model);
  for (const auto& e : config["config"]["layers"]) check_expressible(e, ".h5");
  w.attribute(hdf5::Writer::kRoot, "backend", std::string("seqnet"));
  w.attribute(hdf5::Writer::kRoot, "keras_version", std::string(kKeras2Version));
  w.attribute(hdf5::Writer::kRoot, "model_config", config.dump());
  if (include_optimizer && model.compiled()) {
    w.attribute(hdf5::Writer::kRoot, "training_config", training_config(model).dump());
  }
  write_legacy_weights(w, w.group(hdf5::Writer::kRoot, "model_weights"), model);
  return w.build(what);
}

std::string keras_archive_bytes(const Model& model, bool include_optimizer) {
  json config = keras3_model_config(model, ".keras");
  if (include_optimizer && model.compiled()) config["compile_config"] = keras3_compile_config(model);
  const json metadata = {{"keras_version", kKeras3Version}, {"date_saved", now_stamp()}};
  const std::string meta = metadata.dump();
  const std::string cfg = config.dump();
  const std::string weights = keras3_weights_bytes(model, ".keras model.weights.h5");
  return zip::write({{"metadata.json", meta}, {"config.json", cfg}, {"model.weights.h5", weights}}, false,
                    "save .keras");
}

std::string keras3_weights_file_bytes(const Model& model) { return keras3_weights_bytes(model, ".weights.h5"); }

}  // namespace seqnet::io
