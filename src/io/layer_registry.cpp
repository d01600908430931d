// The registry that makes layers from Keras configs (class name -> factory),
// with the factories of every built-in layer.

#include <fmt/format.h>

#include <cfloat>
#include <map>
#include <mutex>

#include "seqnet/error.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/layers/serialization.hpp"
#include "seqnet/model/layer_ref.hpp"

namespace seqnet {

namespace {

using json = nlohmann::json;

constexpr std::string_view kNoConstraints = "seqnet has no weight constraints";

// Checks every layer shares: float32 dtype, no activity regularizer.
void common(const ConfigReader& r) {
  r.expect_float32();
  r.expect_null("activity_regularizer", "seqnet has no activity regularizers");
}

RecurrentConfig recurrent_config(const ConfigReader& r, const std::string& cls) {
  common(r);
  r.expect_null("kernel_constraint", kNoConstraints);
  r.expect_null("recurrent_constraint", kNoConstraints);
  r.expect_null("bias_constraint", kNoConstraints);
  r.expect("time_major", false, "seqnet's recurrent layers take (batch, time, features)");
  r.expect("num_constants", 0, "seqnet's recurrent layers take no constants");
  if (r.has("cell")) {
    throw ValueError(fmt::format("{}: `cell` is not supported (a generic RNN over a custom cell)", r.context()));
  }
  // unroll and implementation only change how the same function is computed.
  r.get_bool("unroll", false);
  r.get_int("implementation", 2, 0, 2);
  RecurrentConfig c;
  c.units = r.get_int("units", 1, kMaxConfigDim);
  c.activation = r.get_activation("activation", "tanh");
  if (cls != "SimpleRNN") c.recurrent_activation = r.get_activation("recurrent_activation", "sigmoid");
  c.use_bias = r.get_bool("use_bias", true);
  c.kernel_initializer = r.get_initializer("kernel_initializer", "glorot_uniform");
  c.recurrent_initializer = r.get_initializer("recurrent_initializer", "orthogonal");
  c.bias_initializer = r.get_initializer("bias_initializer", "zeros");
  if (cls == "LSTM") c.unit_forget_bias = r.get_bool("unit_forget_bias", true);
  c.kernel_regularizer = r.get_regularizer("kernel_regularizer");
  c.recurrent_regularizer = r.get_regularizer("recurrent_regularizer");
  c.bias_regularizer = r.get_regularizer("bias_regularizer");
  c.dropout = r.get_float("dropout", 0.0f, 0.0, 1.0);
  c.recurrent_dropout = r.get_float("recurrent_dropout", 0.0f, 0.0, 1.0);
  c.return_sequences = r.get_bool("return_sequences", false);
  c.return_state = r.get_bool("return_state", false);
  c.go_backwards = r.get_bool("go_backwards", false);
  c.stateful = r.get_bool("stateful", false);
  c.zero_output_for_mask = r.get_bool("zero_output_for_mask", false);
  if (cls == "GRU") c.reset_after = r.get_bool("reset_after", true);
  return c;
}

// The inner layer of a wrapper ({"class_name", "config"} under `key`).
std::shared_ptr<Layer> inner_layer(const ConfigReader& r, const std::string& key) {
  if (!r.has(key)) throw ValueError(fmt::format("{}: `{}` (the wrapped layer) is required", r.context(), key));
  return layer_from_config(r.json().at(key));
}

template <class M>
LayerFactory merge_factory() {
  return [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<M>(r.name());
  };
}

std::map<std::string, LayerFactory> builtin_factories() {
  std::map<std::string, LayerFactory> f;
  f["Dense"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    r.expect_null("kernel_constraint", kNoConstraints);
    r.expect_null("bias_constraint", kNoConstraints);
    DenseOptions o;
    o.activation = r.get_activation("activation", "linear");
    o.use_bias = r.get_bool("use_bias", true);
    o.kernel_initializer = r.get_initializer("kernel_initializer", "glorot_uniform");
    o.bias_initializer = r.get_initializer("bias_initializer", "zeros");
    o.kernel_regularizer = r.get_regularizer("kernel_regularizer");
    o.bias_regularizer = r.get_regularizer("bias_regularizer");
    o.name = r.name();
    return std::make_shared<layers::Dense>(r.get_int("units", 1, kMaxConfigDim), o);
  };
  f["Activation"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<layers::Activation>(r.get_activation("activation", "linear"), r.name());
  };
  f["Dropout"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    r.expect_null("noise_shape", "seqnet's Dropout draws one mask element per input element");
    return std::make_shared<layers::Dropout>(r.get_float("rate", 0.0f, 0.0, 1.0), r.name());
  };
  f["RepeatVector"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<layers::RepeatVector>(r.get_int("n", 1, kMaxConfigDim), r.name());
  };
  f["Flatten"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    r.expect("data_format", "channels_last", "channels_first changes the order of the flattened values");
    return std::make_shared<layers::Flatten>(r.name());
  };
  f["Reshape"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<layers::Reshape>(r.get_shape("target_shape", true), r.name());
  };
  f["Masking"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<layers::Masking>(r.get_float("mask_value", 0.0f, -FLT_MAX, FLT_MAX), r.name());
  };
  f["Embedding"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    r.expect_null("embeddings_constraint", kNoConstraints);
    r.expect("sparse", false, "seqnet's Embedding returns dense outputs");
    EmbeddingOptions o;
    o.embeddings_initializer = r.get_initializer("embeddings_initializer", "uniform");
    o.embeddings_regularizer = r.get_regularizer("embeddings_regularizer");
    o.mask_zero = r.get_bool("mask_zero", false);
    o.input_length = r.get_int("input_length", 0, 1, kMaxConfigDim);
    o.name = r.name();
    return std::make_shared<layers::Embedding>(r.get_int("input_dim", 1, kMaxConfigDim),
                                               r.get_int("output_dim", 1, kMaxConfigDim), o);
  };
  f["Add"] = merge_factory<layers::Add>();
  f["Subtract"] = merge_factory<layers::Subtract>();
  f["Multiply"] = merge_factory<layers::Multiply>();
  f["Average"] = merge_factory<layers::Average>();
  f["Maximum"] = merge_factory<layers::Maximum>();
  f["Concatenate"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<layers::Concatenate>(static_cast<int>(r.get_int("axis", -1, -8, 8)), r.name());
  };
  f["LSTM"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    return std::make_shared<layers::LSTM>(recurrent_config(r, "LSTM"), r.name());
  };
  f["GRU"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    return std::make_shared<layers::GRU>(recurrent_config(r, "GRU"), r.name());
  };
  f["SimpleRNN"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    return std::make_shared<layers::SimpleRNN>(recurrent_config(r, "SimpleRNN"), r.name());
  };
  f["TimeDistributed"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    return std::make_shared<layers::TimeDistributed>(inner_layer(r, "layer"), r.name());
  };
  f["Bidirectional"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    r.expect("num_constants", 0, "seqnet's recurrent layers take no constants");
    auto inner = inner_layer(r, "layer");
    auto rnn = std::dynamic_pointer_cast<layers::Recurrent>(inner);
    if (!rnn) {
      throw ValueError(fmt::format("{}: `layer` must be an LSTM, GRU or SimpleRNN, got {}", r.context(),
                                   inner->class_name()));
    }
    BidirectionalOptions o;
    const auto it = r.json().find("merge_mode");
    if (it == r.json().end()) {
      o.merge_mode = "concat";
    } else if (it->is_null()) {
      o.merge_mode = "none";
    } else {
      o.merge_mode = r.get_string("merge_mode");
    }
    if (r.has("backward_layer")) o.backward_layer = inner_layer(r, "backward_layer");
    o.name = r.name();
    return std::make_shared<layers::Bidirectional>(rnn, o);
  };
  f["AttentionDecoder"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    r.expect("go_backwards", false, "AttentionDecoder runs forwards");
    r.expect("stateful", false, "AttentionDecoder keeps no state");
    r.expect("return_state", false, "AttentionDecoder returns no states");
    r.expect_null("kernel_constraint", kNoConstraints);
    r.expect_null("recurrent_constraint", kNoConstraints);
    r.expect_null("bias_constraint", kNoConstraints);
    AttentionDecoderOptions o;
    o.activation = r.get_activation("activation", "tanh");
    o.return_probabilities = r.get_bool("return_probabilities", false);
    o.kernel_initializer = r.get_initializer("kernel_initializer", "glorot_uniform");
    o.recurrent_initializer = r.get_initializer("recurrent_initializer", "orthogonal");
    o.bias_initializer = r.get_initializer("bias_initializer", "zeros");
    o.kernel_regularizer = r.get_regularizer("kernel_regularizer");
    o.bias_regularizer = r.get_regularizer("bias_regularizer");
    o.name = r.name();
    return std::make_shared<layers::AttentionDecoder>(r.get_int("units", 1, kMaxConfigDim),
                                                      r.get_int("output_dim", 1, kMaxConfigDim), o);
  };
  // Attention layers (layers/attention.hpp, layers/luong_attention.hpp).
  // Older Keras 2 wrote the causal mask as the constructor argument `causal`.
  f["Attention"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    AttentionOptions o;
    o.use_scale = r.get_bool("use_scale", false);
    o.score_mode = r.get_string("score_mode", "dot");
    o.dropout = r.get_float("dropout", 0.0f, 0.0, 1.0);
    o.use_causal_mask = r.get_bool("causal", false);
    o.name = r.name();
    return std::make_shared<layers::Attention>(o);
  };
  f["AdditiveAttention"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    AdditiveAttentionOptions o;
    o.use_scale = r.get_bool("use_scale", true);
    o.dropout = r.get_float("dropout", 0.0f, 0.0, 1.0);
    o.use_causal_mask = r.get_bool("causal", false);
    o.name = r.name();
    return std::make_shared<layers::AdditiveAttention>(o);
  };
  f["LuongAttention"] = [](const ConfigReader& r) -> std::shared_ptr<Layer> {
    common(r);
    LuongAttentionOptions o;
    o.score = r.get_string("score", "general");
    o.kernel_initializer = r.get_initializer("kernel_initializer", "glorot_uniform");
    o.kernel_regularizer = r.get_regularizer("kernel_regularizer");
    o.name = r.name();
    return std::make_shared<layers::LuongAttention>(r.get_int("units", 1, kMaxConfigDim), o);
  };
  return f;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, LayerFactory>& registry() {
  static std::map<std::string, LayerFactory> r = builtin_factories();
  return r;
}

LayerFactory find_factory(const std::string& cls) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& r = registry();
  auto it = r.find(cls);
  if (it == r.end()) return nullptr;
  return it->second;
}

}  // namespace

void register_layer(const std::string& class_name, LayerFactory factory) {
  if (class_name.empty()) throw ValueError("register_layer: empty class name");
  if (!factory) throw ValueError(fmt::format("register_layer: null factory for '{}'", class_name));
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[class_name] = std::move(factory);
}

std::vector<std::string> registered_layers() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> out;
  for (const auto& [k, v] : registry()) out.push_back(k);
  return out;
}

json layer_to_config(const Layer& layer) { return layer_to_keras(layer); }

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
    throw ValueError(fmt::format("unknown layer class '{}'; seqnet knows: {}", cc["class_name"].get<std::string>(),
                                 known));
  }
  static const json kEmpty = json::object();
  const json& config = cc.contains("config") ? cc["config"] : kEmpty;
  std::string label = "?";
  if (config.is_object() && config.contains("name") && config["name"].is_string()) {
    label = config["name"].get<std::string>();
    if (label.size() > 64) label = label.substr(0, 64) + "...";
  }
  const ConfigReader reader(config, fmt::format("{} \"{}\" config", cls, label));
  return f(reader);
}

}  // namespace seqnet
