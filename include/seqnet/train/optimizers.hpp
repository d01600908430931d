#pragma once
// Optimizers with Keras 2's update rules and defaults.
//   SGD      v = momentum v - lr g; w += v   (nesterov: w += momentum v - lr g)
//   RMSprop  s = rho s + (1 - rho) g^2; w -= lr g / (sqrt(s) + eps)
//            (momentum > 0: m = momentum m + lr g / (sqrt(s) + eps); w -= m;
//             centered: s - mean_g^2 in place of s)
//   Adam     m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//            w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
//            (amsgrad: v_hat = max(v_hat, v) in place of v)
//   Adagrad  a += g^2; w -= lr g / (sqrt(a) + eps)
// Gradient clipping before the update, as Keras: clipnorm scales each weight's
// gradient to norm <= clipnorm; global_clipnorm scales all gradients together
// so their joint norm <= global_clipnorm (the two exclude each other);
// clipvalue then clips every element to [-clipvalue, clipvalue].
// 0 means "not set" for the three clipping options.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "seqnet/layers/layer.hpp"

namespace seqnet {

struct SGDOptions {
  // Default: 0.01.
  float learning_rate = 0.01f;
  // Default: 0.
  float momentum = 0.0f;
  // Default: false.
  bool nesterov = false;
  float clipnorm = 0.0f;
  float clipvalue = 0.0f;
  float global_clipnorm = 0.0f;
};

struct RMSpropOptions {
  // Default: 0.001.
  float learning_rate = 0.001f;
  // Default: 0.9.
  float rho = 0.9f;
  // Default: 0.
  float momentum = 0.0f;
  // Default: 1e-7.
  float epsilon = 1e-7f;
  // Default: false.
  bool centered = false;
  float clipnorm = 0.0f;
  float clipvalue = 0.0f;
  float global_clipnorm = 0.0f;
};

struct AdamOptions {
  // Default: 0.001.
  float learning_rate = 0.001f;
  // Default: 0.9.
  float beta_1 = 0.9f;
  // Default: 0.999.
  float beta_2 = 0.999f;
  // Default: 1e-7.
  float epsilon = 1e-7f;
  // Default: false.
  bool amsgrad = false;
  float clipnorm = 0.0f;
  float clipvalue = 0.0f;
  float global_clipnorm = 0.0f;
};

struct AdagradOptions {
  // Default: 0.001.
  float learning_rate = 0.001f;
  // Default: 0.1.
  float initial_accumulator_value = 0.1f;
  // Default: 1e-7.
  float epsilon = 1e-7f;
  float clipnorm = 0.0f;
  float clipvalue = 0.0f;
  float global_clipnorm = 0.0f;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Keras class name ("Adam").
  virtual std::string name() const = 0;
  // One update of every trainable param from its grad (clipped first).
  // Gradients are clipped in place.
  void apply(const std::vector<Param*>& params);
  // Number of updates applied so far.
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t n) { iterations_ = n; }
  float learning_rate() const { return learning_rate_; }
  // Throws ValueError unless lr > 0 and finite.
  void set_learning_rate(float lr);
  // The per-weight state ("m", "v", ...), created on the first update.
  // `fn(param, slot_name, tensor)` may read or overwrite the tensor.
  void visit_state(const std::vector<Param*>& params,
                   const std::function<void(const Param&, const std::string&, Tensor&)>& fn);
  // Names of the per-weight state tensors, in order.
  virtual std::vector<std::string> slot_names() const = 0;
  // Forget all state (and the iteration count).
  void reset();

  // The Keras 2 config of the optimizer with its current learning rate:
  // {"name": "Adam", "learning_rate": 0.001, "beta_1": 0.9, ...,
  // "clipnorm": null, "clipvalue": null, "global_clipnorm": null} (unset
  // clipping options are null). optimizer_from_config (seqnet/io/config.hpp)
  // reads it back. Default: throws ValueError (not serializable).
  virtual nlohmann::json get_config() const;

 protected:
  Optimizer(float learning_rate, float clipnorm, float clipvalue, float global_clipnorm);
  // Initial values of a new weight's slots (default zeros).
  virtual float slot_init(size_t slot) const { (void)slot; return 0.0f; }
  // The update of one weight; `t` is the 1-based iteration.
  virtual void update(Param& p, std::vector<Tensor>& slots, int64_t t) = 0;
  [[noreturn]] void fail(std::string_view what) const;
  // The keys every optimizer config has (name, learning_rate, clipping).
  nlohmann::json base_config() const;

  float learning_rate_;

 private:
  std::vector<Tensor>& slots_for(const Param& p);
  float clipnorm_, clipvalue_, global_clipnorm_;
  int64_t iterations_ = 0;
  std::unordered_map<const Param*, std::vector<Tensor>> state_;
};

// Factories. Each throws ValueError for invalid options (learning_rate <= 0,
// rho/beta outside [0, 1), negative clipping values, clipnorm together with
// global_clipnorm).
std::shared_ptr<Optimizer> SGD(const SGDOptions& options = {});
std::shared_ptr<Optimizer> RMSprop(const RMSpropOptions& options = {});
std::shared_ptr<Optimizer> Adam(const AdamOptions& options = {});
std::shared_ptr<Optimizer> Adagrad(const AdagradOptions& options = {});
// By Keras name ("sgd", "rmsprop", "adam", "adagrad", case-insensitive) with
// default options. Throws ValueError listing the valid names.
std::shared_ptr<Optimizer> make_optimizer(std::string_view name);
// An optimizer from its Keras config {"class_name": "Adam", "config":
// {...}} (Keras 2.11+ and legacy keys: "lr", "decay" = 0): the reverse of
// name() and get_config(). Throws ValueError for an unknown optimizer or
// options that change the math and that seqnet lacks (learning-rate
// schedules, weight decay, EMA). Include <nlohmann/json.hpp> to call it.
std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& class_and_config);

}  // namespace seqnet
