// The registry that makes layers from Keras configs: class name -> factory.
// Every layer class registers itself from its own source file
// (SEQNET_REGISTER_LAYER); this file knows no concrete layer.

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet {

namespace {

using json = nlohmann::json;

struct Registry {
  std::mutex mutex;
  std::map<std::string, LayerFactory> factories;
};

// Constructed on first use, so registrations from any translation unit's
// static initializers find it ready.
Registry& registry() {
  static Registry r;
  return r;
}

LayerFactory find_factory(const std::string& cls) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.factories.find(cls);
  if (it == r.factories.end()) return nullptr;
  return it->second;
}

}  // namespace

void register_layer(const std::string& class_name, LayerFactory factory) {
  if (class_name.empty()) throw ValueError("register_layer: empty class name");
  if (!factory) throw ValueError(fmt::format("register_layer: null factory for '{}'", class_name));
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.factories[class_name] = std::move(factory);
}

int detail::register_builtin_layer(const char* class_name, LayerFactory factory) {
  register_layer(class_name, std::move(factory));
  return 0;
}

std::vector<std::string> registered_layers() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& [k, v] : r.factories) out.push_back(k);
  return out;
}

std::shared_ptr<Layer> layer_from_config(const json& cc) {
  if (!cc.is_object() || !cc.contains("class_name") || !cc["class_name"].is_string()) {
    throw ValueError("layer config: expected {\"class_name\": ..., \"config\": {...}}");
  }
  std::string cls = cc["class_name"].get<std::string>();
  LayerFactory f = find_factory(cls);
  if (!f) {
    if (auto p = cls.rfind('>'); p != std::string::npos) {  // "Custom>AttentionDecoder"
      cls = cls.substr(p + 1);
      f = find_factory(cls);
    }
  }
  if (cls == "InputLayer") {
    throw ValueError("layer config: InputLayer is not a layer to call; it belongs in a model's layer list");
  }
  if (!f) {
    std::string known;
    for (const auto& n : registered_layers()) known += (known.empty() ? "" : ", ") + n;
    throw ValueError(fmt::format("unknown layer class '{}'; seqnet knows: {}", printable(cc["class_name"].get<std::string>(), 64),
                                 known));
  }
  static const json kEmpty = json::object();
  const json& config = cc.contains("config") ? cc["config"] : kEmpty;
  std::string label = "?";
  if (config.is_object() && config.contains("name") && config["name"].is_string()) {
    label = printable(config["name"].get<std::string>(), 64);
  }
  const ConfigReader reader(config, fmt::format("{} \"{}\" config", cls, label));
  std::shared_ptr<Layer> layer = f(reader);
  if (auto policy = reader.dtype_policy()) layer->set_dtype_policy(*policy);
  return layer;
}

}  // namespace seqnet
