// Keras 2 / Keras 3 model configs -> the Keras 2 form model_from_config
// reads, with each version's definitions made explicit; file format
// detection.

#include <fmt/format.h>

#include <cctype>
#include <cstring>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/io/keras.hpp"

namespace seqnet::io {

using json = nlohmann::json;

ModelFileFormat detect_model_file_format(std::string_view head) {
  static constexpr char kHdf5[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  if (head.size() >= 8 && std::memcmp(head.data(), kHdf5, 8) == 0) return ModelFileFormat::KerasHdf5;
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return ModelFileFormat::KerasArchive;
  // safetensors: an 8-byte little-endian header length that fits the file,
  // then '{'.
  if (head.size() >= 9 && head[8] == '{') {
    uint64_t n = 0;
    for (int k = 7; k >= 0; --k) n = (n << 8) | static_cast<unsigned char>(head[static_cast<size_t>(k)]);
    if (n <= head.size() - 8) return ModelFileFormat::Safetensors;
  }
  size_t i = 0;
  while (i < head.size() && i < 64 && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
  if (i < head.size() && head[i] == '{') return ModelFileFormat::TfjsJson;
  return ModelFileFormat::Unknown;
}

std::string_view format_name(ModelFileFormat f) {
  switch (f) {
    case ModelFileFormat::Safetensors: return "seqnet .safetensors";
    case ModelFileFormat::KerasHdf5: return "Keras HDF5";
    case ModelFileFormat::KerasArchive: return "Keras 3 .keras archive";
    case ModelFileFormat::TfjsJson: return "TensorFlow.js model.json";
    case ModelFileFormat::Unknown: break;
  }
  return "unknown";
}

KerasVersion KerasVersion::parse(std::string_view text) {
  KerasVersion v;
  int* parts[3] = {&v.major, &v.minor, &v.patch};
  size_t i = 0;
  for (int k = 0; k < 3; ++k) {
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) break;
    int n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && n < 100000) {
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    *parts[k] = n;
    if (i >= text.size() || text[i] != '.') break;
    ++i;
  }
  return v;
}

namespace {

struct Ctx {
  KerasVersion version;
  const std::string& source;
};

std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// Keras 3's {"module", "class_name": "DTypePolicy", "config": {"name"}} ->
// its name; a string stays as it is.
json dtype_name(const json& d) {
  if (d.is_object() && d.contains("config") && d["config"].is_object() && d["config"].contains("name")) {
    return d["config"]["name"];
  }
  return d;
}

// An activation as Keras 3 may serialize it ({"class_name": "function",
// "config": "relu"}) -> its name; Keras 3's hard_sigmoid -> seqnet's name
// for it.
json activation_value(const json& a, const Ctx& ctx) {
  json out = a;
  if (a.is_object() && a.contains("config") && a["config"].is_string()) out = a["config"];
  if (out.is_string() && out.get<std::string>() == "hard_sigmoid" && !ctx.version.before(3, 0)) {
    out = "keras3_hard_sigmoid";
  }
  return out;
}

json layer_entry(const json& e, const Ctx& ctx);

// The config of one layer of class `cls`.
json layer_config(const json& c, const std::string& cls, const Ctx& ctx) {
  if (!c.is_object()) return c;
  json out = json::object();
  for (auto it = c.begin(); it != c.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "dtype") {
      out[k] = dtype_name(v);
    } else if (k == "activation" || k == "recurrent_activation") {
      out[k] = activation_value(v, ctx);
    } else if ((k == "layer" || k == "backward_layer") && v.is_object()) {
      out[k] = layer_entry(v, ctx);
    } else if (k == "shared_object_id") {
      continue;
    } else {
      out[k] = v;
    }
  }
  // Embedding's dtype in Keras 2.0 was its input's (token ids, int32): the
  // embeddings themselves are float32.
  if (cls == "Embedding" && out.contains("dtype") && out["dtype"].is_string()) {
    const std::string d = out["dtype"].get<std::string>();
    if (d == "int32" || d == "int64" || d == "uint8" || d == "int16") out.erase("dtype");
  }
  // Keras before 2.1.3 had only the reset-before GRU and wrote no key.
  if (cls == "GRU" && !c.contains("reset_after")) out["reset_after"] = false;
  // Keras before 2.3 gave the two directions of a Bidirectional no
  // zero_output_for_mask: masked steps repeat the previous output.
  if (cls == "Bidirectional" && ctx.version.before(2, 3)) out["zero_output_for_mask"] = false;
  return out;
}

// The tensor references in Keras 3 call arguments (keras tensors, possibly
// nested in lists), in order.
void collect_tensors(const json& v, std::vector<json>& out, const std::string& ctx) {
  if (v.is_array()) {
    for (const auto& x : v) collect_tensors(x, out, ctx);
    return;
  }
  if (v.is_object() && v.contains("class_name") && v["class_name"] == "__keras_tensor__") {
    const json* h = v.contains("config") && v["config"].is_object() && v["config"].contains("keras_history")
                        ? &v["config"]["keras_history"]
                        : nullptr;
    if (h == nullptr || !h->is_array() || h->size() != 3) {
      throw ValueError(fmt::format("{}: a tensor argument without a keras_history [layer, node, tensor]", ctx));
    }
    out.push_back(*h);
    return;
  }
  throw ValueError(fmt::format("{}: call argument {} is not a tensor (seqnet layer calls take tensors only)", ctx,
                               brief(v)));
}

// One Keras 3 inbound node {"args": [...], "kwargs": {...}} as a Keras 2
// node [[layer, node, tensor, kwargs], ...].
json inbound_node_v3(const json& node, const std::string& ctx) {
  std::vector<json> refs;
  if (node.contains("args")) collect_tensors(node["args"], refs, ctx);
  json kwargs = json::object();
  if (node.contains("kwargs") && node["kwargs"].is_object()) {
    for (auto it = node["kwargs"].begin(); it != node["kwargs"].end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      if (v.is_null()) continue;
      if (k == "training" && v.is_boolean() && !v.get<bool>()) continue;  // inference, as predict runs
      if (k == "initial_state") {
        std::vector<json> states;
        collect_tensors(v, states, ctx + ": initial_state");
        json list = json::array();
        for (auto& s : states) list.push_back(s);
        kwargs[k] = list;
        continue;
      }
      throw ValueError(fmt::format("{}: call argument '{}' = {} is not supported", ctx, printable(k), brief(v)));
    }
  } else if (node.contains("kwargs") && !node["kwargs"].is_null()) {
    throw ValueError(fmt::format("{}: `kwargs` of an inbound node must be an object", ctx));
  }
  if (refs.empty()) throw ValueError(fmt::format("{}: an inbound node without tensor arguments", ctx));
  json out = json::array();
  for (size_t i = 0; i < refs.size(); ++i) {
    json r = refs[i];
    r.push_back(i == 0 ? kwargs : json::object());
    out.push_back(r);
  }
  return out;
}

json layer_entry(const json& e, const Ctx& ctx) {
  if (!e.is_object()) return e;
  json out = json::object();
  std::string cls = e.contains("class_name") && e["class_name"].is_string() ? e["class_name"].get<std::string>() : "";
  const std::string name = e.contains("name") && e["name"].is_string()
                               ? e["name"].get<std::string>()
                               : (e.contains("config") && e["config"].is_object() && e["config"].contains("name") &&
                                          e["config"]["name"].is_string()
                                      ? e["config"]["name"].get<std::string>()
                                      : std::string("?"));
  const std::string ctx_s = fmt::format("{}: layer '{}'", ctx.source, printable(name.substr(0, 200)));
  for (auto it = e.begin(); it != e.end(); ++it) {
    const std::string& k = it.key();
    if (k == "module" || k == "registered_name" || k == "build_config" || k == "compile_config" ||
        k == "shared_object_id") {
      continue;
    }
    if (k == "config") {
      out[k] = layer_config(it.value(), cls, ctx);
    } else if (k == "inbound_nodes" && it.value().is_array()) {
      json nodes = json::array();
      for (const auto& n : it.value()) nodes.push_back(n.is_object() ? inbound_node_v3(n, ctx_s) : n);
      out[k] = nodes;
    } else {
      out[k] = it.value();
    }
  }
  // A Lambda or a custom layer cannot be rebuilt from its config: say so
  // with the layer's name (model_from_config would only name the class).
  if (cls == "Lambda") {
    throw ValueError(fmt::format("{}: a Lambda layer holds Python code; seqnet cannot run it (rebuild the model "
                                 "without it, or replace it with a built-in layer)",
                                 ctx_s));
  }
  if (e.contains("registered_name") && e["registered_name"].is_string()) {
    const std::string reg = e["registered_name"].get<std::string>();
    if (reg.find('>') != std::string::npos && reg.rfind("seqnet>", 0) != 0) {
      throw ValueError(fmt::format("{}: '{}' is a custom layer (registered in Python); seqnet has only the built-in "
                                   "Keras layers",
                                   ctx_s, printable(reg.substr(0, 100))));
    }
  }
  return out;
}

}  // namespace

json keras_model_config(const json& config, KerasVersion version, const std::string& source) {
  if (!config.is_object()) throw ValueError(fmt::format("{}: the model config is not a JSON object", source));
  const Ctx ctx{version, source};
  json out = json::object();
  for (auto it = config.begin(); it != config.end(); ++it) {
    const std::string& k = it.key();
    if (k == "module" || k == "registered_name" || k == "build_config" || k == "compile_config") continue;
    out[k] = it.value();
  }
  if (!out.contains("config")) return out;
  json& c = out["config"];
  if (c.is_array()) {  // Keras < 2.3 Sequential: the layer list alone
    json layers = json::array();
    for (const auto& l : c) layers.push_back(layer_entry(l, ctx));
    c = layers;
    return out;
  }
  if (!c.is_object()) return out;
  if (c.contains("dtype")) c["dtype"] = dtype_name(c["dtype"]);
  if (c.contains("layers") && c["layers"].is_array()) {
    json layers = json::array();
    for (const auto& l : c["layers"]) layers.push_back(layer_entry(l, ctx));
    c["layers"] = layers;
  }
  return out;
}

}  // namespace seqnet::io
