// Keras 2 training_config: losses, metrics, loss weights and optimizer.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cfloat>

#include "seqnet/error.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet {

using json = nlohmann::json;

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
