// Keras serialization of the pieces every layer config shares: float values,
// initializers and regularizers in both directions (name <-> object in one
// place), the typed reader of untrusted configs, and the base keys.

#include <fmt/format.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/layers/serialization.hpp"
#include "seqnet/detail/ops/activations.hpp"

namespace seqnet {

namespace {

using Json = nlohmann::json;

std::string brief(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}


}  // namespace

ConfigReader::ConfigReader(const Json& config, std::string context) : j_(&config), context_(std::move(context)) {
  if (!config.is_object()) {
    throw ValueError(fmt::format("{}: expected a JSON object, got {}", context_, config.type_name()));
  }
}

void ConfigReader::fail(const std::string& key, std::string_view what) const {
  throw ValueError(fmt::format("{}: `{}` {}", context_, key, what));
}

bool ConfigReader::has(const std::string& key) const {
  auto it = j_->find(key);
  return it != j_->end() && !it->is_null();
}

std::string ConfigReader::name() const {
  if (!has("name")) return "";
  const Json& v = j_->at("name");
  if (!v.is_string()) fail("name", fmt::format("must be a string, got {}", brief(v)));
  std::string n = v.get<std::string>();
  if (n.empty()) fail("name", "must not be empty");
  if (n.size() > 256) fail("name", "is longer than 256 bytes");
  if (n.find('/') != std::string::npos) fail("name", fmt::format("must not contain '/', got \"{}\"", printable(n)));
  return n;
}

std::string ConfigReader::get_string(const std::string& key) const {
  if (!has(key)) fail(key, "is required");
  const Json& v = j_->at(key);
  if (!v.is_string()) fail(key, fmt::format("must be a string, got {}", brief(v)));
  return v.get<std::string>();
}

std::string ConfigReader::get_string(const std::string& key, const std::string& def) const {
  return has(key) ? get_string(key) : def;
}

int64_t ConfigReader::get_int(const std::string& key, int64_t lo, int64_t hi) const {
  if (!has(key)) fail(key, "is required");
  const Json& v = j_->at(key);
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) fail(key, fmt::format("must be an integer in [{}, {}], got {}", lo, hi, u));
    x = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d == std::trunc(d)) || !(d >= -9.0e18 && d <= 9.0e18)) {
      fail(key, fmt::format("must be an integer, got {}", brief(v)));
    }
    x = static_cast<int64_t>(d);
  } else {
    fail(key, fmt::format("must be an integer, got {}", brief(v)));
  }
  if (x < lo || x > hi) fail(key, fmt::format("must be an integer in [{}, {}], got {}", lo, hi, x));
  return x;
}

int64_t ConfigReader::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) const {
  return has(key) ? get_int(key, lo, hi) : def;
}

float ConfigReader::get_float(const std::string& key, float def, double lo, double hi) const {
  if (!has(key)) return def;
  const Json& v = j_->at(key);
  if (!v.is_number()) fail(key, fmt::format("must be a number, got {}", brief(v)));
  const double d = v.get<double>();
  if (!std::isfinite(d) || !(d >= lo && d <= hi) || std::abs(d) > static_cast<double>(FLT_MAX)) {
    fail(key, fmt::format("must be a number in [{}, {}], got {}", lo, hi, brief(v)));
  }
  return static_cast<float>(d);
}

bool ConfigReader::get_bool(const std::string& key, bool def) const {
  if (!has(key)) return def;
  const Json& v = j_->at(key);
  if (!v.is_boolean()) fail(key, fmt::format("must be true or false, got {}", brief(v)));
  return v.get<bool>();
}

std::string ConfigReader::get_activation(const std::string& key, const std::string& def) const {
  if (!has(key)) return def;
  const Json& v = j_->at(key);
  if (!v.is_string()) fail(key, fmt::format("must be an activation name, got {} (custom activations are not supported)", brief(v)));
  const ops::Act a = ops::parse_activation(v.get<std::string>(), fmt::format("{}: `{}`", context_, key));
  return ops::activation_name(a);
}

namespace {

// The number at key `k` of an initializer config (default when absent).
double init_number(const ConfigReader& r, const std::string& k, double def) {
  if (!r.has(k)) return def;
  const Json& v = r.json().at(k);
  if (!v.is_number() || !std::isfinite(v.get<double>())) {
    throw ValueError(fmt::format("{}: `{}` must be a finite number, got {}", r.context(), k, brief(v)));
  }
  return v.get<double>();
}

}  // namespace

Initializer ConfigReader::get_initializer(const std::string& key, const Initializer& def) const {
  if (!has(key)) return def;
  const Json& v = j_->at(key);
  const std::string ctx = fmt::format("{}: `{}`", context_, key);
  Initializer init;
  if (v.is_string()) {
    init.name = to_snake_case(v.get<std::string>());
    if (init.name == "variance_scaling") {
      throw ValueError(fmt::format("{}: VarianceScaling needs its config (scale, mode, distribution)", ctx));
    }
    init.validate(ctx);
    return init;
  }
  if (!v.is_object() || !v.contains("class_name") || !v["class_name"].is_string()) {
    fail(key, fmt::format("must be an initializer name or {{\"class_name\", \"config\"}}, got {}", brief(v)));
  }
  std::string cls = v["class_name"].get<std::string>();
  if (auto p = cls.rfind('>'); p != std::string::npos) cls = cls.substr(p + 1);  // "Custom>Name"
  std::string n = to_snake_case(cls);
  // Keras 3 names some classes with a suffix (OrthogonalInitializer,
  // IdentityInitializer).
  if (n.size() > 12 && n.compare(n.size() - 12, 12, "_initializer") == 0) n.resize(n.size() - 12);
  static const Json kEmpty = Json::object();
  const Json& cj = v.contains("config") && !v["config"].is_null() ? v["config"] : kEmpty;
  const ConfigReader c(cj, ctx);
  init.name = n;
  if (n == "random_normal" || n == "normal" || n == "truncated_normal") {
    init.mean = init_number(c, "mean", 0.0);
    init.stddev = init_number(c, "stddev", 0.05);
  } else if (n == "random_uniform" || n == "uniform") {
    init.minval = init_number(c, "minval", -0.05);
    init.maxval = init_number(c, "maxval", 0.05);
  } else if (n == "constant") {
    init.value = init_number(c, "value", 0.0);
  } else if (n == "orthogonal" || n == "identity") {
    init.gain = init_number(c, "gain", 1.0);
  } else if (n == "variance_scaling") {
    // Older Keras wrote glorot/he/lecun initializers in this general form.
    const double scale = init_number(c, "scale", 1.0);
    const std::string mode = c.get_string("mode", "fan_in");
    std::string dist = c.get_string("distribution", "truncated_normal");
    if (dist == "normal") dist = "truncated_normal";  // Keras < 2.3 meant truncated
    const bool uniform = dist == "uniform";
    if (dist != "uniform" && dist != "truncated_normal") {
      throw ValueError(fmt::format("{}: VarianceScaling distribution '{}' is not supported", ctx, dist));
    }
    if (scale == 1.0 && mode == "fan_avg") {
      init.name = uniform ? "glorot_uniform" : "glorot_normal";
    } else if (scale == 2.0 && mode == "fan_in") {
      init.name = uniform ? "he_uniform" : "he_normal";
    } else if (scale == 1.0 && mode == "fan_in") {
      init.name = uniform ? "lecun_uniform" : "lecun_normal";
    } else {
      throw ValueError(fmt::format("{}: VarianceScaling(scale={}, mode='{}', distribution='{}') is not supported; "
                                   "seqnet has the glorot, he and lecun forms",
                                   ctx, scale, mode, dist));
    }
  }
  init.validate(ctx);
  return init;
}

Regularizer ConfigReader::get_regularizer(const std::string& key) const {
  if (!has(key)) return Regularizer{};
  const Json& v = j_->at(key);
  const std::string ctx = fmt::format("{}: `{}`", context_, key);
  if (v.is_string()) {
    try {
      return Regularizer(v.get<std::string>().c_str());
    } catch (const ValueError& e) {
      throw ValueError(fmt::format("{}: {}", ctx, e.what()));
    }
  }
  if (!v.is_object() || !v.contains("class_name") || !v["class_name"].is_string()) {
    fail(key, fmt::format("must be a regularizer {{\"class_name\", \"config\"}}, got {}", brief(v)));
  }
  const std::string cls = v["class_name"].get<std::string>();
  static const Json kEmpty = Json::object();
  const Json& cj = v.contains("config") && !v["config"].is_null() ? v["config"] : kEmpty;
  const ConfigReader c(cj, ctx);
  Regularizer r;
  if (cls == "L1" || cls == "l1") {
    r.l1 = c.get_float("l1", 0.01f, 0.0, FLT_MAX);
  } else if (cls == "L2" || cls == "l2") {
    r.l2 = c.get_float("l2", 0.01f, 0.0, FLT_MAX);
  } else if (cls == "L1L2" || cls == "l1_l2") {
    r.l1 = c.get_float("l1", 0.0f, 0.0, FLT_MAX);
    r.l2 = c.get_float("l2", 0.0f, 0.0, FLT_MAX);
  } else {
    throw ValueError(fmt::format("{}: unknown regularizer class '{}'; expected L1, L2 or L1L2", ctx, cls));
  }
  return r;
}

Shape ConfigReader::get_shape(const std::string& key, bool allow_none) const {
  if (!has(key)) fail(key, "is required");
  const Json& v = j_->at(key);
  if (!v.is_array()) fail(key, fmt::format("must be a list of dimensions, got {}", brief(v)));
  if (v.size() > 8) fail(key, fmt::format("has {} dimensions; at most 8 are supported", v.size()));
  Shape s;
  double known = 1;
  for (const auto& d : v) {
    if (d.is_null() || (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() == -1)) {
      if (!allow_none) fail(key, fmt::format("must hold positive integers, got {}", brief(v)));
      s.push_back(None);
      continue;
    }
    if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<int64_t>() < 1) ||
        (d.is_number_unsigned() && d.get<uint64_t>() > static_cast<uint64_t>(kMaxConfigDim)) ||
        d.get<int64_t>() > kMaxConfigDim) {
      fail(key, fmt::format("entries must be integers in [1, {}]{}, got {}", kMaxConfigDim,
                            allow_none ? " or null" : "", brief(v)));
    }
    s.push_back(d.get<int64_t>());
    known *= static_cast<double>(s.back());
  }
  if (known > static_cast<double>(int64_t{1} << 40)) {
    fail(key, fmt::format("{} holds more than 2^40 elements per item", brief(v)));
  }
  return s;
}

void ConfigReader::expect(const std::string& key, const Json& allowed, std::string_view why) const {
  if (!has(key)) return;
  const Json& v = j_->at(key);
  const bool same = (v.is_number() && allowed.is_number()) ? v.get<double>() == allowed.get<double>() : v == allowed;
  if (!same) fail(key, fmt::format("is {}, but seqnet supports only {}: {}", brief(v), brief(allowed), why));
}

void ConfigReader::expect_null(const std::string& key, std::string_view why) const {
  if (has(key)) fail(key, fmt::format("is {}, but seqnet supports only null: {}", brief(j_->at(key)), why));
}

std::optional<mixed_precision::Policy> ConfigReader::dtype_policy() const {
  if (!has("dtype")) return std::nullopt;
  const Json& v = j_->at("dtype");
  std::string name;
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object() && v.contains("config") && v["config"].is_object() && v["config"].contains("name") &&
             v["config"]["name"].is_string()) {
    name = v["config"]["name"].get<std::string>();  // {"class_name": "Policy", "config": {"name": ...}}
  } else {
    fail("dtype", fmt::format("is {}; expected a dtype policy name ('float32' or 'mixed_bfloat16')", brief(v)));
  }
  if (name != "float32" && name != "mixed_bfloat16") {
    fail("dtype", fmt::format("is {}; seqnet layers compute in float32 or under the 'mixed_bfloat16' policy", brief(v)));
  }
  return mixed_precision::Policy(name);
}

const Json& config_object(const Json& cc, const std::string& what) {
  static const Json kEmpty = Json::object();
  if (!cc.contains("config") || cc["config"].is_null()) return kEmpty;
  if (!cc["config"].is_object()) throw ValueError(fmt::format("{}: `config` must be an object", what));
  return cc["config"];
}

void ConfigReader::expect_common() const {
  (void)dtype_policy();
  expect_null("activity_regularizer", "seqnet has no activity regularizers");
}

void ConfigReader::expect_no_constraints(std::initializer_list<const char*> keys) const {
  for (const char* k : keys) expect_null(k, "seqnet has no weight constraints");
}

std::shared_ptr<Layer> ConfigReader::get_layer(const std::string& key) const {
  if (!has(key)) fail(key, "(the wrapped layer) is required");
  return layer_from_config(j_->at(key));
}

// ---------------------------------------------------------------- writing


nlohmann::json json_float(float v) {
  if (!std::isfinite(v)) return nullptr;
  // fmt writes the shortest representation that round-trips the float.
  const std::string s = fmt::format("{}", v);
  return std::strtod(s.c_str(), nullptr);
}

nlohmann::json initializer_to_keras(const Initializer& init) {
  using nlohmann::json;
  const std::string& n = init.name;
  auto with_seed = [](const char* cls) { return json{{"class_name", cls}, {"config", {{"seed", nullptr}}}}; };
  if (n == "zeros") return json{{"class_name", "Zeros"}, {"config", json::object()}};
  if (n == "ones") return json{{"class_name", "Ones"}, {"config", json::object()}};
  if (n == "constant") return json{{"class_name", "Constant"}, {"config", {{"value", init.value}}}};
  if (n == "random_normal" || n == "normal") {
    return json{{"class_name", "RandomNormal"},
                {"config", {{"mean", init.mean}, {"stddev", init.stddev}, {"seed", nullptr}}}};
  }
  if (n == "random_uniform" || n == "uniform") {
    return json{{"class_name", "RandomUniform"},
                {"config", {{"minval", init.minval}, {"maxval", init.maxval}, {"seed", nullptr}}}};
  }
  if (n == "truncated_normal") {
    return json{{"class_name", "TruncatedNormal"},
                {"config", {{"mean", init.mean}, {"stddev", init.stddev}, {"seed", nullptr}}}};
  }
  if (n == "glorot_uniform") return with_seed("GlorotUniform");
  if (n == "glorot_normal") return with_seed("GlorotNormal");
  if (n == "he_uniform") return with_seed("HeUniform");
  if (n == "he_normal") return with_seed("HeNormal");
  if (n == "lecun_uniform") return with_seed("LecunUniform");
  if (n == "lecun_normal") return with_seed("LecunNormal");
  if (n == "orthogonal") return json{{"class_name", "Orthogonal"}, {"config", {{"gain", init.gain}, {"seed", nullptr}}}};
  if (n == "identity") return json{{"class_name", "Identity"}, {"config", {{"gain", init.gain}}}};
  throw ValueError(fmt::format("initializer '{}' cannot be serialized: unknown name", n));
}

nlohmann::json regularizer_to_keras(const Regularizer& reg) {
  using nlohmann::json;
  if (!reg.active()) return nullptr;
  if (reg.l1 != 0.0f && reg.l2 != 0.0f) {
    return json{{"class_name", "L1L2"}, {"config", {{"l1", json_float(reg.l1)}, {"l2", json_float(reg.l2)}}}};
  }
  if (reg.l1 != 0.0f) return json{{"class_name", "L1"}, {"config", {{"l1", json_float(reg.l1)}}}};
  return json{{"class_name", "L2"}, {"config", {{"l2", json_float(reg.l2)}}}};
}

nlohmann::json dtype_policy_config(const mixed_precision::Policy& policy) {
  if (policy.name() == "float32") return "float32";
  return nlohmann::json{{"class_name", "Policy"}, {"config", {{"name", policy.name()}}}};  // Keras 2's form
}

nlohmann::json base_layer_config(const Layer& layer) {
  return nlohmann::json{{"name", layer.name()}, {"trainable", true}, {"dtype", dtype_policy_config(layer.dtype_policy())}};
}

nlohmann::json layer_to_keras(const Layer& layer) {
  return nlohmann::json{{"class_name", layer.class_name()}, {"config", layer.get_config()}};
}

nlohmann::json layer_to_config(const Layer& layer) { return layer_to_keras(layer); }

}  // namespace seqnet
