// TensorFlow.js Layers models: model.json (modelTopology + weightsManifest)
// and its binary weight shards, read and written.

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "io/keras_internal.hpp"
#include "io/weight_matching.hpp"
#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/io/json.hpp"
#include "seqnet/io/keras.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::io {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Largest dimension and element count a manifest entry may declare.
constexpr int64_t kMaxDim = int64_t{1} << 31;
constexpr int64_t kMaxElements = int64_t{1} << 34;

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw IOError(fmt::format("{}: not a valid TF.js model: {}", source, what));
}

// A shard path from the manifest: a relative file name that stays in the
// model's directory.
void check_shard_path(const std::string& p, const std::string& source) {
  const bool bad_name = p.empty() || p.size() > 4096 || p.front() == '/' || p.find('\\') != std::string::npos ||
                        p.find('\0') != std::string::npos || p.find(':') != std::string::npos;
  bool dotdot = false;
  for (const auto& part : fs::path(p)) dotdot = dotdot || part == "..";
  if (bad_name || dotdot) {
    bad(source, fmt::format("weight shard path '{}' leaves the model's directory (only relative names are read)",
                            printable(p.substr(0, 200))));
  }
}

struct ManifestWeight {
  std::string name;
  Shape shape;
  int64_t count = 0;
  std::string dtype;      // as stored: float32, float16, uint8, uint16
  double scale = 1.0, min = 0.0;  // affine quantization
  int64_t bytes = 0;
  bool optimizer = false;  // TF.js optimizer state: skipped
};

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant == 0 ? INFINITY : NAN;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -v : v;
}

ManifestWeight parse_weight(const json& w, const std::string& source, bool optimizer) {
  if (!w.is_object() || !w.contains("name") || !w["name"].is_string() || !w.contains("shape") ||
      !w["shape"].is_array()) {
    bad(source, "a weightsManifest entry must have a name and a shape");
  }
  ManifestWeight m;
  m.name = w["name"].get<std::string>();
  if (m.name.empty() || m.name.size() > 1024) bad(source, "a weight name is empty or too long");
  m.count = 1;
  for (const auto& d : w["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > kMaxDim || m.shape.size() >= 8) {
      bad(source, fmt::format("weight '{}': invalid shape {}", printable(m.name), w["shape"].dump().substr(0, 80)));
    }
    const int64_t n = d.get<int64_t>();
    m.shape.push_back(n);
    if (n > 0 && m.count > kMaxElements / n) {
      bad(source, fmt::format("weight '{}' declares too many elements", printable(m.name)));
    }
    m.count *= n;
  }
  m.optimizer = optimizer;
  m.dtype = w.contains("dtype") && w["dtype"].is_string() ? w["dtype"].get<std::string>() : "float32";
  if (optimizer && m.dtype == "int32") m.dtype = "float32";  // the same 4 bytes; never decoded
  if (m.dtype != "float32") {
    bad(source, fmt::format("weight '{}' has dtype '{}'; seqnet's layers take float32 weights", printable(m.name),
                            printable(m.dtype.substr(0, 32))));
  }
  if (w.contains("quantization") && !w["quantization"].is_null()) {
    const json& q = w["quantization"];
    if (!q.is_object() || !q.contains("dtype") || !q["dtype"].is_string()) {
      bad(source, fmt::format("weight '{}': malformed quantization", printable(m.name)));
    }
    m.dtype = q["dtype"].get<std::string>();
    if (m.dtype == "uint8" || m.dtype == "uint16") {
      if (!q.contains("scale") || !q["scale"].is_number() || !q.contains("min") || !q["min"].is_number() ||
          !std::isfinite(q["scale"].get<double>()) || !std::isfinite(q["min"].get<double>())) {
        bad(source, fmt::format("weight '{}': {} quantization needs finite scale and min", printable(m.name), m.dtype));
      }
      m.scale = q["scale"].get<double>();
      m.min = q["min"].get<double>();
    } else if (m.dtype != "float16") {
      bad(source, fmt::format("weight '{}': unsupported quantization dtype '{}' (float16, uint8, uint16 are read)",
                              printable(m.name), printable(m.dtype.substr(0, 32))));
    }
  }
  const int64_t width = m.dtype == "float32" ? 4 : m.dtype == "uint8" ? 1 : 2;
  m.bytes = m.count * width;
  return m;
}

// Decodes `m` from `raw` (exactly m.bytes) into dst.
void decode(const ManifestWeight& m, const char* raw, Tensor& dst) {
  float* out = dst.data();
  if (m.dtype == "float32") {
    std::memcpy(out, raw, static_cast<size_t>(m.bytes));
  } else if (m.dtype == "float16") {
    for (int64_t i = 0; i < m.count; ++i) {
      uint16_t h;
      std::memcpy(&h, raw + 2 * i, 2);
      out[i] = half_to_float(h);
    }
  } else if (m.dtype == "uint8") {
    for (int64_t i = 0; i < m.count; ++i)
      out[i] = static_cast<float>(static_cast<unsigned char>(raw[i]) * m.scale + m.min);
  } else {
    for (int64_t i = 0; i < m.count; ++i) {
      uint16_t q;
      std::memcpy(&q, raw + 2 * i, 2);
      out[i] = static_cast<float>(q * m.scale + m.min);
    }
  }
}

struct Manifest {
  std::vector<ManifestWeight> weights;
  std::vector<std::shared_ptr<std::string>> groups;  // each group's shards, concatenated
  std::vector<std::pair<size_t, int64_t>> where;     // weight -> (group, offset)
};

// Reads the manifest's shards from `dir`, checking every byte count against
// the files before reading them.
Manifest read_manifest(const json& manifest, const fs::path& dir, const std::string& source, int64_t max_file_bytes) {
  if (!manifest.is_array()) bad(source, "weightsManifest must be a list of groups");
  Manifest out;
  int64_t total = 0;
  for (size_t g = 0; g < manifest.size(); ++g) {
    const json& group = manifest[g];
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() || !group.contains("weights") ||
        !group["weights"].is_array()) {
      bad(source, fmt::format("weightsManifest group {} must have paths and weights", g));
    }
    int64_t want = 0;
    std::vector<ManifestWeight> ws;
    for (const auto& w : group["weights"]) {
      // TF.js's optimizer state ("group": "optimizer": iterations, slots)
      // takes its place in the shards but is not the model's.
      const bool optimizer = w.is_object() && w.contains("group") && w["group"] == "optimizer";
      ws.push_back(parse_weight(w, source, optimizer));
      want += ws.back().bytes;
    }
    int64_t have = 0;
    std::vector<fs::path> files;
    for (const auto& p : group["paths"]) {
      if (!p.is_string()) bad(source, "a shard path is not a string");
      check_shard_path(p.get<std::string>(), source);
      const fs::path f = dir / p.get<std::string>();
      std::error_code ec;
      if (!fs::is_regular_file(f, ec)) bad(source, fmt::format("weight shard '{}' is missing", printable(f.string())));
      const auto n = fs::file_size(f, ec);
      if (ec) bad(source, fmt::format("cannot read weight shard '{}'", printable(f.string())));
      have += static_cast<int64_t>(n);
      files.push_back(f);
    }
    if (have != want) {
      bad(source, fmt::format("weightsManifest group {} declares {} bytes of weights but its shards hold {}", g, want,
                              have));
    }
    total += have;
    if (total > max_file_bytes) {
      bad(source, fmt::format("the weight shards hold more than the limit of {} bytes", max_file_bytes));
    }
    auto bytes = std::make_shared<std::string>();
    bytes->reserve(static_cast<size_t>(have));
    for (const auto& f : files) *bytes += read_file(f.string(), max_file_bytes);
    if (static_cast<int64_t>(bytes->size()) != want) bad(source, "a weight shard changed while it was read");
    int64_t offset = 0;
    for (auto& w : ws) {
      out.where.emplace_back(out.groups.size(), offset);
      offset += w.bytes;
      out.weights.push_back(std::move(w));
    }
    out.groups.push_back(std::move(bytes));
  }
  return out;
}

// TF.js's optimizer classes and camelCase keys <-> Keras's.
struct OptimizerName {
  const char* tfjs;
  const char* keras;
};
constexpr OptimizerName kOptimizers[] = {{"Adam", "Adam"}, {"SGD", "SGD"}, {"Momentum", "SGD"},
                                         {"RMSProp", "RMSprop"}, {"Adagrad", "Adagrad"}};
struct KeyName {
  const char* tfjs;
  const char* keras;
};
constexpr KeyName kKeys[] = {{"learningRate", "learning_rate"}, {"beta1", "beta_1"}, {"beta2", "beta_2"},
                             {"epsilon", "epsilon"}, {"momentum", "momentum"}, {"useNesterov", "nesterov"},
                             {"centered", "centered"}, {"initialAccumulatorValue", "initial_accumulator_value"}};

// A TF.js trainingConfig (TF.js optimizer names and keys, metrics possibly
// an empty object) as a Keras 2 training_config.
json training_config_from_tfjs(const json& t) {
  json out = t;
  if (out.contains("metrics") && out["metrics"].is_object() && out["metrics"].empty()) out["metrics"] = json::array();
  if (!out.contains("optimizer_config") || !out["optimizer_config"].is_object()) return out;
  const json& oc = out["optimizer_config"];
  const std::string cls = oc.value("class_name", "");
  const json cfg = oc.contains("config") && oc["config"].is_object() ? oc["config"] : json::object();
  bool tfjs_form = false;
  for (const auto& k : kKeys) tfjs_form = tfjs_form || (cfg.contains(k.tfjs) && std::string(k.tfjs) != k.keras);
  if (!tfjs_form && cls != "Momentum" && cls != "RMSProp") return out;
  json keras = json::object();
  for (const auto& k : kKeys)
    if (cfg.contains(k.tfjs)) keras[k.keras] = cfg[k.tfjs];
  if (cls == "RMSProp" && cfg.contains("decay")) keras["rho"] = cfg["decay"];
  std::string kcls = cls;
  for (const auto& o : kOptimizers)
    if (cls == o.tfjs) kcls = o.keras;
  out["optimizer_config"] = {{"class_name", kcls}, {"config", keras}};
  return out;
}

// seqnet's training_config as TF.js writes its trainingConfig, or null
// when TF.js could not compile from it (a loss given as a config object).
json tfjs_training_config(const Model& model) {
  const json tc = training_config(model);
  if (!tc["loss"].is_string()) return nullptr;
  const json& oc = tc["optimizer_config"];
  const std::string cls = oc.value("class_name", "");
  const json& c = oc["config"];
  json cfg = json::object();
  std::string tcls = cls;
  for (const auto& k : kKeys)
    if (c.contains(k.keras)) cfg[k.tfjs] = c[k.keras];
  if (cls == "SGD" && c.value("momentum", 0.0) != 0.0) {
    tcls = "Momentum";
  } else if (cls == "SGD") {
    cfg.erase("momentum");
    cfg.erase("useNesterov");
  } else if (cls == "RMSprop") {
    tcls = "RMSProp";
    if (c.contains("rho")) cfg["decay"] = c["rho"];
  } else if (cls != "Adam" && cls != "Adagrad") {
    return nullptr;
  }
  return {{"loss", tc["loss"]}, {"metrics", tc["metrics"]}, {"optimizer_config", {{"class_name", tcls}, {"config", cfg}}}};
}

// TF.js's Bidirectional has no backward_layer: it mirrors `layer` and names
// the copy "backward_<layer's name>". For each Bidirectional of `config`
// whose backward layer is such a mirror, drops backward_layer and returns
// the renaming of its weights' prefix; any other backward layer cannot be
// said in TF.js (ValueError naming the layer).
std::map<std::string, std::string> tfjs_bidirectional_names(json& config) {
  std::map<std::string, std::string> out;
  if (!config.contains("config") || !config["config"].contains("layers")) return out;
  for (auto& e : config["config"]["layers"]) {
    if (e.value("class_name", "") != "Bidirectional" || !e["config"].contains("backward_layer")) continue;
    json& c = e["config"];
    json fwd = c["layer"]["config"], bwd = c["backward_layer"]["config"];
    const std::string bname = bwd.value("name", "");
    const std::string fname = fwd.value("name", "");
    // Bidirectional sets zero_output_for_mask of both directions itself.
    for (json* j : {&fwd, &bwd}) {
      j->erase("name");
      j->erase("go_backwards");
      j->erase("zero_output_for_mask");
    }
    if (fwd != bwd || c["layer"].value("class_name", "") != c["backward_layer"].value("class_name", "")) {
      throw ValueError(fmt::format("save_tfjs: Bidirectional '{}' has a backward layer that differs from its forward "
                                   "layer beyond go_backwards; TF.js's Bidirectional cannot hold it",
                                   c.value("name", "?")));
    }
    c.erase("backward_layer");
    const std::string layer = c.value("name", "");
    out[layer + "/backward_" + bname] = layer + "/backward_" + fname;
  }
  return out;
}

}  // namespace

std::unique_ptr<Model> load_tfjs_model(std::string bytes, const std::string& source, const LoadOptions& options) {
  const json j = parse_untrusted_json(bytes, source);
  if (!j.is_object()) bad(source, "model.json is not a JSON object");
  if (j.contains("format") && j["format"].is_string() && j["format"] != "layers-model") {
    bad(source, fmt::format("format '{}' is not a TF.js Layers model (a graph model holds a TensorFlow graph, not "
                            "Keras layers)",
                            printable(j["format"].get<std::string>().substr(0, 64))));
  }
  if (!j.contains("modelTopology") || !j["modelTopology"].is_object()) bad(source, "no modelTopology");
  const json& topo = j["modelTopology"];
  const json* config = topo.contains("model_config") ? &topo["model_config"] : &topo;
  json training = topo.contains("training_config") ? topo["training_config"]
                  : j.contains("trainingConfig")     ? training_config_from_tfjs(j["trainingConfig"])
                                                     : json();
  // TF.js implements Keras 2's layers (its hard_sigmoid is Keras 2's).
  std::string kv = topo.contains("keras_version") && topo["keras_version"].is_string()
                       ? topo["keras_version"].get<std::string>()
                       : std::string("2.13");
  if (kv.rfind("tfjs", 0) == 0) kv = "2.13";
  const json normalized = keras_model_config(*config, KerasVersion::parse(kv), source);
  if (!j.contains("weightsManifest")) bad(source, "no weightsManifest");
  const fs::path dir = fs::path(source).parent_path();
  const Manifest man = read_manifest(j["weightsManifest"], dir.empty() ? fs::path(".") : dir, source,
                                     options.max_file_bytes);
  int64_t budget = 0;
  for (const auto& w : man.weights) budget += w.optimizer ? 0 : w.count;
  std::unique_ptr<Model> model;
  try {
    model = model_from_config(normalized, {.max_params = budget,
                                           .skip_initializers = true,
                                           .limit_reason = fmt::format("the manifest holds {} weight values", budget)});
  } catch (const Error& e) {
    throw ValueError(fmt::format("{}: model config: {}", source, e.what()));
  }
  std::vector<FileLayer> in_file;
  for (size_t i = 0; i < man.weights.size(); ++i) {
    const ManifestWeight& w = man.weights[i];
    if (w.optimizer) continue;
    const std::string layer = w.name.substr(0, w.name.find('/'));
    FileLayer* fl = nullptr;
    for (auto& l : in_file)
      if (l.layer == layer) fl = &l;
    if (fl == nullptr) {
      in_file.push_back({layer, {}});
      fl = &in_file.back();
    }
    const size_t g = man.where[i].first;
    const int64_t offset = man.where[i].second;
    const std::shared_ptr<std::string> data = man.groups[g];
    fl->weights.push_back({w.name, w.shape, [w, data, offset](Tensor& dst) { decode(w, data->data() + offset, dst); }});
  }
  const auto layers = model_weight_layers(*model);
  copy_matched(layers, match_all_by_name(layers, in_file, source));
  if (options.compile && training.is_object()) {
    try {
      compile_from_training_config(*model, training);
    } catch (const Error& e) {
      std::fprintf(stderr, "Warning: %s: the model is loaded uncompiled: its training config: %s\n", source.c_str(),
                   e.what());
    }
  }
  return model;
}

}  // namespace seqnet::io

namespace seqnet {

void save_tfjs(const Model& model, const std::string& dir, const TfjsSaveOptions& options) {
  if (options.shard_bytes < 4) throw ValueError(fmt::format("save_tfjs: shard_bytes must be at least 4, got {}", options.shard_bytes));
  if (options.model_json.empty() || options.model_json.find('/') != std::string::npos) {
    throw ValueError(fmt::format("save_tfjs: model_json '{}' must be a file name", options.model_json));
  }
  nlohmann::json config = model_to_config(model);
  const std::map<std::string, std::string> renamed = io::tfjs_bidirectional_names(config);
  nlohmann::json topo = {{"keras_version", "2.13.1"}, {"backend", "tensor_flow.js"}, {"model_config", config}};
  nlohmann::json training = nullptr;
  if (options.include_optimizer && model.compiled()) training = io::tfjs_training_config(model);
  std::string data;
  nlohmann::json weights = nlohmann::json::array();
  for (const auto& np : io::named_params(model)) {
    const Tensor& t = np.param->value;
    const auto r = renamed.find(np.name.substr(0, np.name.rfind('/')));
    const std::string name = r == renamed.end() ? np.name : r->second + np.name.substr(np.name.rfind('/'));
    weights.push_back({{"name", name}, {"shape", t.shape()}, {"dtype", "float32"}});
    data.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.size()) * sizeof(float));
  }
  // Shards of at most shard_bytes, named as TF.js names them.
  const size_t per = static_cast<size_t>(options.shard_bytes);
  const size_t n = std::max<size_t>(1, (data.size() + per - 1) / per);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IOError(fmt::format("save_tfjs: cannot create directory '{}': {}", dir, ec.message()));
  nlohmann::json paths = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    const std::string name = fmt::format("group1-shard{}of{}.bin", i + 1, n);
    paths.push_back(name);
    const size_t begin = std::min(data.size(), i * per);
    write_file_atomic((std::filesystem::path(dir) / name).string(),
                      std::string_view(data).substr(begin, std::min(per, data.size() - begin)));
  }
  nlohmann::json out = {{"format", "layers-model"},
                        {"generatedBy", "seqnet"},
                        {"convertedBy", nullptr},
                        {"modelTopology", topo},
                        {"weightsManifest", nlohmann::json::array({{{"paths", paths}, {"weights", weights}}})}};
  if (!training.is_null()) out["trainingConfig"] = training;
  // model.json last: it names the shards just written.
  write_file_atomic((std::filesystem::path(dir) / options.model_json).string(), out.dump());
}

}  // namespace seqnet
