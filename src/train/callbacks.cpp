#include "seqnet/train/callbacks.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "seqnet/model/model.hpp"

namespace seqnet {

// ---------------------------------------------------------------- Logs

void Logs::set(const std::string& name, double value) {
  for (auto& [k, v] : items_) {
    if (k == name) {
      v = value;
      return;
    }
  }
  items_.emplace_back(name, value);
}

bool Logs::contains(const std::string& name) const {
  for (const auto& kv : items_)
    if (kv.first == name) return true;
  return false;
}

double Logs::at(const std::string& name) const {
  std::string keys;
  for (const auto& [k, v] : items_) {
    if (k == name) return v;
    keys += (keys.empty() ? "" : ", ") + k;
  }
  throw ValueError(fmt::format("logs have no entry '{}'; available: {}", name, keys.empty() ? "none" : keys));
}

void LogsMean::add(const Logs& logs, double weight) {
  for (const auto& [name, value] : logs.items()) {
    auto it = std::find_if(sums_.begin(), sums_.end(), [&key = name](const auto& e) { return e.first == key; });
    if (it == sums_.end()) {
      sums_.emplace_back(name, value * weight);
    } else {
      it->second += value * weight;
    }
  }
  weight_ += weight;
}

Logs LogsMean::mean() const {
  Logs out;
  for (const auto& [name, sum] : sums_) out.set(name, sum / std::max(weight_, 1.0));
  return out;
}

std::string Logs::format() const {
  std::string s;
  for (const auto& [k, v] : items_) {
    if (!s.empty()) s += " - ";
    // Keras: %.4f, or %.4e for tiny values.
    s += std::abs(v) > 1e-3 || v == 0.0 ? fmt::format("{}: {:.4f}", k, v) : fmt::format("{}: {:.4e}", k, v);
  }
  return s;
}

// ---------------------------------------------------------------- Callback

Model& Callback::model() const {
  if (model_ == nullptr) throw Error("callback: no model is being trained");
  return *model_;
}

// ---------------------------------------------------------------- History

std::vector<std::string> History::keys() const {
  std::vector<std::string> k;
  for (const auto& s : series_) k.push_back(s.first);
  return k;
}

bool History::contains(const std::string& key) const {
  for (const auto& s : series_)
    if (s.first == key) return true;
  return false;
}

const std::vector<double>& History::operator[](const std::string& key) const {
  std::string keys;
  for (const auto& s : series_) {
    if (s.first == key) return s.second;
    keys += (keys.empty() ? "" : ", ") + s.first;
  }
  throw ValueError(fmt::format("History has no key '{}'; keys: {}", key, keys.empty() ? "none" : keys));
}

void History::on_train_begin(Logs&) {
  epoch_.clear();
  series_.clear();
}

void History::on_epoch_end(int epoch, Logs& logs) {
  epoch_.push_back(epoch);
  for (const auto& [k, v] : logs.items()) {
    bool found = false;
    for (auto& s : series_) {
      if (s.first == k) {
        s.second.push_back(v);
        found = true;
      }
    }
    if (!found) {
      // A key that appears late (it cannot, in fit) is padded with NaN.
      std::vector<double> values(epoch_.size() - 1, std::numeric_limits<double>::quiet_NaN());
      values.push_back(v);
      series_.emplace_back(k, std::move(values));
    }
  }
}

std::string History::to_csv() const {
  std::string out = "epoch";
  for (const auto& s : series_) out += "," + s.first;
  out += "\n";
  for (size_t i = 0; i < epoch_.size(); ++i) {
    out += std::to_string(epoch_[i]);
    for (const auto& s : series_) out += i < s.second.size() ? fmt::format(",{:.9g}", s.second[i]) : ",";
    out += "\n";
  }
  return out;
}

std::string History::to_json() const {
  nlohmann::ordered_json j;
  j["epoch"] = epoch_;
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  for (const auto& s : series_) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (double v : s.second) {
      if (std::isfinite(v)) arr.push_back(v);
      else arr.push_back(nullptr);  // JSON has no NaN
    }
    h[s.first] = arr;
  }
  j["history"] = h;
  return j.dump(2);
}

void History::save_csv(const std::string& path) const { write_file_atomic(path, to_csv()); }
void History::save_json(const std::string& path) const { write_file_atomic(path, to_json()); }

PlotFiles History::plot(const std::string& path, const std::vector<std::string>& keys, const std::string& title,
                        const std::string& ylabel) const {
  if (epoch_.empty()) throw ValueError(fmt::format("History::plot('{}'): the history has no epochs", path));
  LineChart chart{.title = title, .xlabel = "epoch", .ylabel = ylabel};
  for (int e : epoch_) chart.x.push_back(e + 1);
  for (const auto& k : keys.empty() ? this->keys() : keys) chart.series.push_back({k, (*this)[k]});
  return save_line_chart(chart, path);
}

// ---------------------------------------------------------------- monitors

namespace {

// Keras's warning for a monitored key the logs lack, once per training run
// (`warned` is reset at on_train_begin).
void warn_missing_monitor(bool& warned, const char* callback, const char* what, const std::string& monitor,
                          const Logs& logs, const char* consequence) {
  if (warned) return;
  warned = true;
  std::string keys;
  for (const auto& [k, v] : logs.items()) keys += (keys.empty() ? "" : ", ") + k;
  std::fprintf(stderr, "Warning: %s: %s is conditioned on '%s', which is not in the epoch logs (available: %s); %s\n",
               callback, what, monitor.c_str(), keys.empty() ? "none" : keys.c_str(), consequence);
  std::fflush(stderr);
}

// "auto": maximize names of accuracies, minimize the rest.
bool maximize_for(const std::string& mode, const std::string& monitor) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  return monitor.find("acc") != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------- EarlyStopping

struct EarlyStoppingCallback::Snapshot {
  std::vector<Tensor> weights;
};

EarlyStoppingCallback::EarlyStoppingCallback(EarlyStoppingOptions options) : o_(std::move(options)) {
  if (o_.mode != "auto" && o_.mode != "min" && o_.mode != "max") {
    throw ValueError(fmt::format("EarlyStopping: invalid mode '{}'; expected 'auto', 'min' or 'max'", o_.mode));
  }
  if (o_.patience < 0) throw ValueError(fmt::format("EarlyStopping: patience must be >= 0, got {}", o_.patience));
  if (o_.monitor.empty()) throw ValueError("EarlyStopping: monitor must name a logged quantity");
  maximize_ = maximize_for(o_.mode, o_.monitor);
}

bool EarlyStoppingCallback::improved(double current, double reference) const {
  const double delta = std::abs(o_.min_delta);
  return maximize_ ? current - delta > reference : current + delta < reference;
}

void EarlyStoppingCallback::on_train_begin(Logs&) {
  warned_ = false;
  wait_ = 0;
  stopped_epoch_ = 0;
  best_epoch_ = 0;
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  best_weights_.reset();
}

void EarlyStoppingCallback::on_epoch_end(int epoch, Logs& logs) {
  if (!logs.contains(o_.monitor)) {
    warn_missing_monitor(warned_, "EarlyStopping", "early stopping", o_.monitor, logs,
                         "training will not stop early");
    return;
  }
  const double current = logs.at(o_.monitor);
  ++wait_;
  if (improved(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (o_.restore_best_weights) {
      best_weights_ = std::make_shared<Snapshot>();
      best_weights_->weights = model().get_weights();
    }
    if (!o_.baseline || improved(current, *o_.baseline)) wait_ = 0;
    // An improving epoch never stops training (Keras 2.3 and 3; without
    // this, patience 0 - the default - stopped after the second epoch).
    return;
  }
  if (wait_ >= o_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model().stop_training = true;
    if (o_.restore_best_weights && best_weights_) {
      if (o_.verbose > 0) std::printf("Restoring model weights from the end of the best epoch: %d.\n", best_epoch_ + 1);
      model().set_weights(best_weights_->weights);
    }
  }
}

void EarlyStoppingCallback::on_train_end(Logs&) {
  if (stopped_epoch_ > 0 && o_.verbose > 0) std::printf("Epoch %d: early stopping\n", stopped_epoch_ + 1);
}

// ---------------------------------------------------------------- TerminateOnNaN

void TerminateOnNaNCallback::on_batch_end(int batch, Logs& logs) {
  if (!logs.contains("loss")) return;
  const double loss = logs.at("loss");
  if (!std::isfinite(loss)) {
    std::printf("Batch %d: Invalid loss, terminating training\n", batch);
    terminated_ = true;
    model().stop_training = true;
  }
}

// ---------------------------------------------------------------- Lambda

namespace {

class Lambda : public Callback {
 public:
  explicit Lambda(LambdaCallbackOptions o) : o_(std::move(o)) {}
  void on_train_begin(Logs& l) override {
    if (o_.on_train_begin) o_.on_train_begin(l);
  }
  void on_train_end(Logs& l) override {
    if (o_.on_train_end) o_.on_train_end(l);
  }
  void on_epoch_begin(int e, Logs& l) override {
    if (o_.on_epoch_begin) o_.on_epoch_begin(e, l);
  }
  void on_epoch_end(int e, Logs& l) override {
    if (o_.on_epoch_end) o_.on_epoch_end(e, l);
  }
  void on_batch_begin(int b, Logs& l) override {
    if (o_.on_batch_begin) o_.on_batch_begin(b, l);
  }
  void on_batch_end(int b, Logs& l) override {
    if (o_.on_batch_end) o_.on_batch_end(b, l);
  }

 private:
  LambdaCallbackOptions o_;
};

}  // namespace

std::shared_ptr<EarlyStoppingCallback> EarlyStopping(const EarlyStoppingOptions& options) {
  return std::make_shared<EarlyStoppingCallback>(options);
}
std::shared_ptr<TerminateOnNaNCallback> TerminateOnNaN() { return std::make_shared<TerminateOnNaNCallback>(); }
std::shared_ptr<Callback> LambdaCallback(LambdaCallbackOptions options) {
  return std::make_shared<Lambda>(std::move(options));
}

}  // namespace seqnet
