#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "seqnet/error.hpp"

namespace seqnet {

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

nlohmann::json base_layer_config(const Layer& layer) {
  return nlohmann::json{{"name", layer.name()}, {"trainable", true}, {"dtype", "float32"}};
}

nlohmann::json layer_to_keras(const Layer& layer) {
  return nlohmann::json{{"class_name", layer.class_name()}, {"config", layer.get_config()}};
}

}  // namespace seqnet
