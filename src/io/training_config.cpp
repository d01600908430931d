// Keras 2 training_config: losses, metrics, loss weights and optimizer.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cfloat>

#include "seqnet/error.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet {

namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const json& config_of(const json& cc, const std::string& what) {
  static const json kEmpty = json::object();
  if (!cc.contains("config") || cc["config"].is_null()) return kEmpty;
  if (!cc["config"].is_object()) throw ValueError(fmt::format("{}: `config` must be an object", what));
  return cc["config"];
}

// Optional clipping value: null / absent / 0 mean "not set".
float clip_value(const ConfigReader& r, const char* key) { return r.get_float(key, 0.0f, 0.0, FLT_MAX); }

}  // namespace

std::shared_ptr<Optimizer> optimizer_from_config(const json& cc) {
  if (!cc.is_object() || !cc.contains("class_name") || !cc["class_name"].is_string()) {
    throw ValueError("optimizer config: expected {\"class_name\": ..., \"config\": {...}}");
  }
  std::string cls = cc["class_name"].get<std::string>();
  if (auto p = cls.rfind('>'); p != std::string::npos) cls = cls.substr(p + 1);  // "Custom>Adam"
  const std::string what = fmt::format("{} optimizer config", cls.substr(0, 64));
  const ConfigReader r(config_of(cc, what), what);
  if (r.has("learning_rate") && r.json().at("learning_rate").is_object()) {
    throw ValueError(fmt::format("{}: learning-rate schedules are not supported", what));
  }
  r.expect("decay", 0, "seqnet's optimizers have no learning-rate decay");
  r.expect("weight_decay", 0, "seqnet's optimizers have no weight decay");
  r.expect("use_ema", false, "seqnet's optimizers keep no moving average of the weights");
  const char* lr_key = r.has("learning_rate") ? "learning_rate" : "lr";
  const std::string c = lower(cls);
  if (c == "sgd") {
    SGDOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.momentum = r.get_float("momentum", 0.0f, 0.0, 1.0);
    o.nesterov = r.get_bool("nesterov", false);
    o.clipnorm = clip_value(r, "clipnorm");
    o.clipvalue = clip_value(r, "clipvalue");
    o.global_clipnorm = clip_value(r, "global_clipnorm");
    return SGD(o);
  }
  if (c == "rmsprop") {
    RMSpropOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.rho = r.get_float("rho", o.rho, 0.0, 1.0);
    o.momentum = r.get_float("momentum", 0.0f, 0.0, 1.0);
    o.epsilon = r.get_float("epsilon", o.epsilon, 0.0, FLT_MAX);
    o.centered = r.get_bool("centered", false);
    o.clipnorm = clip_value(r, "clipnorm");
    o.clipvalue = clip_value(r, "clipvalue");
    o.global_clipnorm = clip_value(r, "global_clipnorm");
    return RMSprop(o);
  }
  if (c == "adam") {
    AdamOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.beta_1 = r.get_float("beta_1", o.beta_1, 0.0, 1.0);
    o.beta_2 = r.get_float("beta_2", o.beta_2, 0.0, 1.0);
    o.epsilon = r.get_float("epsilon", o.epsilon, 0.0, FLT_MAX);
    o.amsgrad = r.get_bool("amsgrad", false);
    o.clipnorm = clip_value(r, "clipnorm");
    o.clipvalue = clip_value(r, "clipvalue");
    o.global_clipnorm = clip_value(r, "global_clipnorm");
    return Adam(o);
  }
  if (c == "adagrad") {
    AdagradOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.initial_accumulator_value = r.get_float("initial_accumulator_value", o.initial_accumulator_value, 0.0, FLT_MAX);
    o.epsilon = r.get_float("epsilon", o.epsilon, 0.0, FLT_MAX);
    o.clipnorm = clip_value(r, "clipnorm");
    o.clipvalue = clip_value(r, "clipvalue");
    o.global_clipnorm = clip_value(r, "global_clipnorm");
    return Adagrad(o);
  }
  throw ValueError(fmt::format("optimizer config: unknown optimizer '{}'; expected SGD, RMSprop, Adam or Adagrad",
                               cls.substr(0, 64)));
}

std::shared_ptr<Loss> loss_from_config(const json& j) {
  if (j.is_string()) return make_loss(j.get<std::string>());
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string()) {
    throw ValueError("loss config: expected a loss name or {\"class_name\": ..., \"config\": {...}}");
  }
  const std::string cls = j["class_name"].get<std::string>();
  const std::string what = fmt::format("{} loss config", cls.substr(0, 64));
  const ConfigReader r(config_of(j, what), what);
  r.expect("from_logits", false, "seqnet's losses take probabilities");
  r.expect("label_smoothing", 0, "seqnet's losses have no label smoothing");
  r.expect("axis", -1, "seqnet's losses reduce the last axis");
  r.expect_null("ignore_class", "seqnet's sparse loss ignores no class");
  if (r.has("reduction")) {
    const std::string red = r.get_string("reduction");
    if (red != "auto" && red != "sum_over_batch_size") {
      throw ValueError(fmt::format("{}: reduction '{}' is not supported (seqnet averages)", what, red));
    }
  }
  if (cls == "Huber") return Huber(r.get_float("delta", 1.0f, 0.0, FLT_MAX));
  if (cls == "CategoricalCrossentropy") return CategoricalCrossentropy();
  if (cls == "SparseCategoricalCrossentropy") return SparseCategoricalCrossentropy();
  if (cls == "BinaryCrossentropy") return BinaryCrossentropy();
  if (cls == "MeanSquaredError") return MeanSquaredError();
  if (cls == "MeanAbsoluteError") return MeanAbsoluteError();
  throw ValueError(fmt::format("loss config: unknown loss class '{}'", cls.substr(0, 64)));
}

json training_config(const Model& model) {
  if (!model.compiled()) {
    throw ValueError(fmt::format("Model \"{}\": training_config needs a compiled model", model.name()));
  }
  const Optimizer& optimizer = model.optimizer();
  json losses = json::array();
  for (const auto& l : model.losses()) losses.push_back(l->get_config());
  bool same = true;
  for (const auto& l : losses) same = same && l == losses[0];
  json loss_weights = nullptr;
  const std::vector<float>& weights = model.loss_weights();
  if (std::any_of(weights.begin(), weights.end(), [](float w) { return w != 1.0f; })) {
    loss_weights = json::array();
    for (float w : weights) loss_weights.push_back(json_float(w));
  }
  return json{{"loss", same && !losses.empty() ? losses[0] : losses},
              {"metrics", model.metric_names()},
              {"weighted_metrics", nullptr},
              {"loss_weights", loss_weights},
              {"optimizer_config", {{"class_name", optimizer.name()}, {"config", optimizer.get_config()}}}};
}

void compile_from_training_config(Model& model, const json& config) {
  const ConfigReader r(config, "training_config");
  const std::vector<std::string> outputs = model.output_names();
  CompileOptions o;
  // Losses: one, one per output (list), or by output name (object).
  if (!r.has("loss")) throw ValueError("training_config: `loss` is required");
  const json& loss = r.json().at("loss");
  if (loss.is_array()) {
    for (const auto& l : loss) o.loss.items.emplace_back(loss_from_config(l));
  } else if (loss.is_object() && !loss.contains("class_name")) {
    for (const auto& name : outputs) {
      if (!loss.contains(name)) throw ValueError(fmt::format("training_config: no loss for output '{}'", name));
      o.loss.items.emplace_back(loss_from_config(loss[name]));
    }
  } else {
    o.loss.items.emplace_back(loss_from_config(loss));
  }
  // Metrics: a list of names (Keras may repeat it per output).
  if (r.has("metrics")) {
    const json& mt = r.json().at("metrics");
    if (!mt.is_array()) throw ValueError("training_config: `metrics` must be a list of names");
    const json* list = &mt;
    if (!mt.empty() && mt[0].is_array()) {
      for (const auto& per : mt) {
        if (per != mt[0]) throw ValueError("training_config: different metrics per output are not supported");
      }
      list = &mt[0];
    }
    for (const auto& name : *list) {
      if (!name.is_string()) throw ValueError("training_config: metrics must be names");
      o.metrics.push_back(name.get<std::string>());
    }
  }
  if (r.has("weighted_metrics") && !r.json().at("weighted_metrics").empty()) {
    throw ValueError("training_config: weighted_metrics are not supported");
  }
  if (r.has("loss_weights")) {
    const json& lw = r.json().at("loss_weights");
    auto weight = [](const json& v) {
      if (!v.is_number() || !(v.get<double>() >= 0.0) || v.get<double>() > FLT_MAX) {
        throw ValueError("training_config: loss_weights must be numbers >= 0");
      }
      return static_cast<float>(v.get<double>());
    };
    if (lw.is_array()) {
      for (const auto& v : lw) o.loss_weights.push_back(weight(v));
    } else if (lw.is_object()) {
      for (const auto& name : outputs) {
        o.loss_weights.push_back(lw.contains(name) ? weight(lw[name]) : 1.0f);
      }
    } else {
      throw ValueError("training_config: loss_weights must be a list or an object");
    }
  }
  if (!r.has("optimizer_config")) throw ValueError("training_config: `optimizer_config` is required");
  o.optimizer = optimizer_from_config(r.json().at("optimizer_config"));
  model.compile(o);
}

}  // namespace seqnet
