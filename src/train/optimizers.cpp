#include "seqnet/train/optimizers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>

#include "seqnet/error.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet {

namespace {

double sq_norm(const Tensor& t) {
  double s = 0;
  for (float v : t) s += static_cast<double>(v) * v;
  return s;
}

void check_clip(const char* opt, float v, const char* name) {
  if (!(v >= 0.0f) || !std::isfinite(v)) {
    throw ValueError(fmt::format("{}: argument `{}` must be a finite number >= 0 (0 = not set), got {}", opt, name, v));
  }
}

void check_unit(const char* opt, float v, const char* name) {
  if (!(v >= 0.0f && v < 1.0f)) {
    throw ValueError(fmt::format("{}: argument `{}` must be in [0, 1), got {}", opt, name, v));
  }
}

void check_positive(const char* opt, float v, const char* name) {
  if (!(v > 0.0f) || !std::isfinite(v)) {
    throw ValueError(fmt::format("{}: argument `{}` must be a positive number, got {}", opt, name, v));
  }
}

class SGDOptimizer : public Optimizer {
 public:
  explicit SGDOptimizer(const SGDOptions& o)
      : Optimizer(o.learning_rate, o.clipnorm, o.clipvalue, o.global_clipnorm), o_(o) {
    check_unit("SGD", o.momentum, "momentum");
  }
  std::string name() const override { return "SGD"; }
  nlohmann::json get_config() const override {
    nlohmann::json c = base_config();
    c["momentum"] = json_float(o_.momentum);
    c["nesterov"] = o_.nesterov;
    return c;
  }
  std::vector<std::string> slot_names() const override {
    return o_.momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
  }

 protected:
  void update(Param& p, std::vector<Tensor>& s, int64_t) override {
    const float lr = learning_rate_, mu = o_.momentum;
    float* w = p.value.data();
    const float* g = p.grad.data();
    const int64_t n = p.value.size();
    if (mu == 0.0f) {
      for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
      return;
    }
    float* v = s[0].data();
    for (int64_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] - lr * g[i];
      w[i] += o_.nesterov ? mu * v[i] - lr * g[i] : v[i];
    }
  }

 private:
  SGDOptions o_;
};

class RMSpropOptimizer : public Optimizer {
 public:
  explicit RMSpropOptimizer(const RMSpropOptions& o)
      : Optimizer(o.learning_rate, o.clipnorm, o.clipvalue, o.global_clipnorm), o_(o) {
    check_unit("RMSprop", o.rho, "rho");
    check_unit("RMSprop", o.momentum, "momentum");
    check_positive("RMSprop", o.epsilon, "epsilon");
  }
  std::string name() const override { return "RMSprop"; }
  nlohmann::json get_config() const override {
    nlohmann::json c = base_config();
    c["rho"] = json_float(o_.rho);
    c["momentum"] = json_float(o_.momentum);
    c["epsilon"] = json_float(o_.epsilon);
    c["centered"] = o_.centered;
    return c;
  }
  std::vector<std::string> slot_names() const override {
    std::vector<std::string> n{"rms"};
    if (o_.momentum > 0) n.push_back("momentum");
    if (o_.centered) n.push_back("mg");
    return n;
  }

 protected:
  void update(Param& p, std::vector<Tensor>& s, int64_t) override {
    const float lr = learning_rate_, rho = o_.rho, eps = o_.epsilon;
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* rms = s[0].data();
    float* mom = o_.momentum > 0 ? s[1].data() : nullptr;
    float* mg = o_.centered ? s.back().data() : nullptr;
    const int64_t n = p.value.size();
    for (int64_t i = 0; i < n; ++i) {
      rms[i] = rho * rms[i] + (1.0f - rho) * g[i] * g[i];
      float denom = rms[i];
      if (mg != nullptr) {
        mg[i] = rho * mg[i] + (1.0f - rho) * g[i];
        denom -= mg[i] * mg[i];
      }
      const float step = lr * g[i] / (std::sqrt(std::max(denom, 0.0f)) + eps);
      if (mom != nullptr) {
        mom[i] = o_.momentum * mom[i] + step;
        w[i] -= mom[i];
      } else {
        w[i] -= step;
      }
    }
  }

 private:
  RMSpropOptions o_;
};

class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(const AdamOptions& o)
      : Optimizer(o.learning_rate, o.clipnorm, o.clipvalue, o.global_clipnorm), o_(o) {
    check_unit("Adam", o.beta_1, "beta_1");
    check_unit("Adam", o.beta_2, "beta_2");
    check_positive("Adam", o.epsilon, "epsilon");
  }
  std::string name() const override { return "Adam"; }
  nlohmann::json get_config() const override {
    nlohmann::json c = base_config();
    c["beta_1"] = json_float(o_.beta_1);
    c["beta_2"] = json_float(o_.beta_2);
    c["epsilon"] = json_float(o_.epsilon);
    c["amsgrad"] = o_.amsgrad;
    return c;
  }
  std::vector<std::string> slot_names() const override {
    return o_.amsgrad ? std::vector<std::string>{"m", "v", "vhat"} : std::vector<std::string>{"m", "v"};
  }

 protected:
  void update(Param& p, std::vector<Tensor>& s, int64_t t) override {
    const float b1 = o_.beta_1, b2 = o_.beta_2, eps = o_.epsilon;
    const double b1t = std::pow(static_cast<double>(b1), static_cast<double>(t));
    const double b2t = std::pow(static_cast<double>(b2), static_cast<double>(t));
    const float alpha = static_cast<float>(learning_rate_ * std::sqrt(1.0 - b2t) / (1.0 - b1t));
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = s[0].data();
    float* v = s[1].data();
    float* vh = o_.amsgrad ? s[2].data() : nullptr;
    const int64_t n = p.value.size();
    for (int64_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      float vv = v[i];
      if (vh != nullptr) {
        vh[i] = std::max(vh[i], v[i]);
        vv = vh[i];
      }
      w[i] -= alpha * m[i] / (std::sqrt(vv) + eps);
    }
  }

 private:
  AdamOptions o_;
};

class AdagradOptimizer : public Optimizer {
 public:
  explicit AdagradOptimizer(const AdagradOptions& o)
      : Optimizer(o.learning_rate, o.clipnorm, o.clipvalue, o.global_clipnorm), o_(o) {
    if (!(o.initial_accumulator_value >= 0.0f)) {
      throw ValueError(fmt::format("Adagrad: argument `initial_accumulator_value` must be >= 0, got {}",
                                   o.initial_accumulator_value));
    }
    check_positive("Adagrad", o.epsilon, "epsilon");
  }
  std::string name() const override { return "Adagrad"; }
  nlohmann::json get_config() const override {
    nlohmann::json c = base_config();
    c["initial_accumulator_value"] = json_float(o_.initial_accumulator_value);
    c["epsilon"] = json_float(o_.epsilon);
    return c;
  }
  std::vector<std::string> slot_names() const override { return {"accumulator"}; }

 protected:
  float slot_init(size_t) const override { return o_.initial_accumulator_value; }
  void update(Param& p, std::vector<Tensor>& s, int64_t) override {
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* a = s[0].data();
    const int64_t n = p.value.size();
    for (int64_t i = 0; i < n; ++i) {
      a[i] += g[i] * g[i];
      w[i] -= learning_rate_ * g[i] / (std::sqrt(a[i]) + o_.epsilon);
    }
  }

 private:
  AdagradOptions o_;
};

}  // namespace

Optimizer::Optimizer(float learning_rate, float clipnorm, float clipvalue, float global_clipnorm)
    : learning_rate_(learning_rate), clipnorm_(clipnorm), clipvalue_(clipvalue), global_clipnorm_(global_clipnorm) {
  check_positive("optimizer", learning_rate, "learning_rate");
  check_clip("optimizer", clipnorm, "clipnorm");
  check_clip("optimizer", clipvalue, "clipvalue");
  check_clip("optimizer", global_clipnorm, "global_clipnorm");
  if (clipnorm > 0 && global_clipnorm > 0) {
    throw ValueError("optimizer: `clipnorm` and `global_clipnorm` cannot both be set");
  }
}

nlohmann::json Optimizer::get_config() const {
  throw ValueError(fmt::format("optimizer {} is not serializable (no get_config)", name()));
}

nlohmann::json Optimizer::base_config() const {
  auto opt = [](float v) { return v > 0.0f ? json_float(v) : nlohmann::json(nullptr); };
  return nlohmann::json{{"name", name()},
                        {"learning_rate", json_float(learning_rate_)},
                        {"clipnorm", opt(clipnorm_)},
                        {"clipvalue", opt(clipvalue_)},
                        {"global_clipnorm", opt(global_clipnorm_)},
                        {"weight_decay", nullptr},
                        {"use_ema", false},
                        {"is_legacy_optimizer", false}};
}

void Optimizer::fail(std::string_view what) const { throw ValueError(fmt::format("{}: {}", name(), what)); }

void Optimizer::set_learning_rate(float lr) {
  if (!(lr > 0.0f) || !std::isfinite(lr)) fail(fmt::format("learning_rate must be a positive number, got {}", lr));
  learning_rate_ = lr;
}

std::vector<Tensor>& Optimizer::slots_for(const Param& p) {
  auto& s = state_[&p];
  const std::vector<std::string> names = slot_names();
  if (s.size() != names.size()) {
    s.clear();
    for (size_t k = 0; k < names.size(); ++k) s.push_back(Tensor::full(p.value.shape(), slot_init(k)));
  }
  return s;
}

void Optimizer::apply(const std::vector<Param*>& params) {
  if (clipnorm_ > 0) {
    for (Param* p : params) {
      const double norm = std::sqrt(sq_norm(p->grad));
      if (norm > clipnorm_) {
        const float s = static_cast<float>(clipnorm_ / norm);
        for (float& v : p->grad) v *= s;
      }
    }
  }
  if (global_clipnorm_ > 0) {
    double total = 0;
    for (Param* p : params) total += sq_norm(p->grad);
    const double norm = std::sqrt(total);
    if (norm > global_clipnorm_) {
      const float s = static_cast<float>(global_clipnorm_ / norm);
      for (Param* p : params)
        for (float& v : p->grad) v *= s;
    }
  }
  if (clipvalue_ > 0) {
    for (Param* p : params)
      for (float& v : p->grad) v = std::clamp(v, -clipvalue_, clipvalue_);
  }
  ++iterations_;
  for (Param* p : params) {
    if (!p->trainable) continue;
    update(*p, slots_for(*p), iterations_);
  }
}

void Optimizer::visit_state(const std::vector<Param*>& params,
                            const std::function<void(const Param&, const std::string&, Tensor&)>& fn) {
  const std::vector<std::string> names = slot_names();
  for (Param* p : params) {
    if (!p->trainable) continue;
    auto& s = slots_for(*p);
    for (size_t k = 0; k < names.size(); ++k) fn(*p, names[k], s[k]);
  }
}

void Optimizer::reset() {
  state_.clear();
  iterations_ = 0;
}

std::shared_ptr<Optimizer> SGD(const SGDOptions& options) { return std::make_shared<SGDOptimizer>(options); }
std::shared_ptr<Optimizer> RMSprop(const RMSpropOptions& options) {
  return std::make_shared<RMSpropOptimizer>(options);
}
std::shared_ptr<Optimizer> Adam(const AdamOptions& options) { return std::make_shared<AdamOptimizer>(options); }
std::shared_ptr<Optimizer> Adagrad(const AdagradOptions& options) {
  return std::make_shared<AdagradOptimizer>(options);
}

std::shared_ptr<Optimizer> make_optimizer(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "sgd") return SGD();
  if (n == "rmsprop") return RMSprop();
  if (n == "adam") return Adam();
  if (n == "adagrad") return Adagrad();
  throw ValueError(fmt::format("unknown optimizer '{}'; expected one of 'sgd', 'rmsprop', 'adam', 'adagrad'", name));
}


// ---------------------------------------------------------------- Keras configs


namespace {

// The clipping options every optimizer has; null / absent / 0 mean "not set".
template <class Options>
void read_clipping(const ConfigReader& r, Options& o) {
  o.clipnorm = r.get_float("clipnorm", 0.0f, 0.0, FLT_MAX);
  o.clipvalue = r.get_float("clipvalue", 0.0f, 0.0, FLT_MAX);
  o.global_clipnorm = r.get_float("global_clipnorm", 0.0f, 0.0, FLT_MAX);
}

}  // namespace

// The reverse of Optimizer::get_config (with name()).
std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& cc) {
  if (!cc.is_object() || !cc.contains("class_name") || !cc["class_name"].is_string()) {
    throw ValueError("optimizer config: expected {\"class_name\": ..., \"config\": {...}}");
  }
  std::string cls = cc["class_name"].get<std::string>();
  if (auto p = cls.rfind('>'); p != std::string::npos) cls = cls.substr(p + 1);  // "Custom>Adam"
  const std::string what = fmt::format("{} optimizer config", cls.substr(0, 64));
  const ConfigReader r(config_object(cc, what), what);
  if (r.has("learning_rate") && r.json().at("learning_rate").is_object()) {
    throw ValueError(fmt::format("{}: learning-rate schedules are not supported", what));
  }
  r.expect("decay", 0, "seqnet's optimizers have no learning-rate decay");
  r.expect("weight_decay", 0, "seqnet's optimizers have no weight decay");
  r.expect("use_ema", false, "seqnet's optimizers keep no moving average of the weights");
  const char* lr_key = r.has("learning_rate") ? "learning_rate" : "lr";
  std::string c = cls;
  std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (c == "sgd") {
    SGDOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.momentum = r.get_float("momentum", 0.0f, 0.0, 1.0);
    o.nesterov = r.get_bool("nesterov", false);
    read_clipping(r, o);
    return SGD(o);
  }
  if (c == "rmsprop") {
    RMSpropOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.rho = r.get_float("rho", o.rho, 0.0, 1.0);
    o.momentum = r.get_float("momentum", 0.0f, 0.0, 1.0);
    o.epsilon = r.get_float("epsilon", o.epsilon, 0.0, FLT_MAX);
    o.centered = r.get_bool("centered", false);
    read_clipping(r, o);
    return RMSprop(o);
  }
  if (c == "adam") {
    AdamOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.beta_1 = r.get_float("beta_1", o.beta_1, 0.0, 1.0);
    o.beta_2 = r.get_float("beta_2", o.beta_2, 0.0, 1.0);
    o.epsilon = r.get_float("epsilon", o.epsilon, 0.0, FLT_MAX);
    o.amsgrad = r.get_bool("amsgrad", false);
    read_clipping(r, o);
    return Adam(o);
  }
  if (c == "adagrad") {
    AdagradOptions o;
    o.learning_rate = r.get_float(lr_key, o.learning_rate, 0.0, FLT_MAX);
    o.initial_accumulator_value = r.get_float("initial_accumulator_value", o.initial_accumulator_value, 0.0, FLT_MAX);
    o.epsilon = r.get_float("epsilon", o.epsilon, 0.0, FLT_MAX);
    read_clipping(r, o);
    return Adagrad(o);
  }
  throw ValueError(fmt::format("optimizer config: unknown optimizer '{}'; expected SGD, RMSprop, Adam or Adagrad",
                               cls.substr(0, 64)));
}

}  // namespace seqnet
