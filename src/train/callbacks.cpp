#include "seqnet/train/callbacks.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "seqnet/distributed.hpp"
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

// A double as Python's repr writes it ("0.5", "1.0", "1e-05", "nan", "inf").
std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
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

// ---------------------------------------------------------------- ReduceLROnPlateau

ReduceLROnPlateauCallback::ReduceLROnPlateauCallback(ReduceLROnPlateauOptions options) : o_(std::move(options)) {
  const char* ctx = "ReduceLROnPlateau";
  if (!(o_.factor > 0.0 && o_.factor < 1.0)) {
    throw ValueError(fmt::format("{}: argument `factor` must be in (0, 1) (the new rate is lr * factor), got {}", ctx,
                                 o_.factor));
  }
  if (o_.patience < 0) throw ValueError(fmt::format("{}: argument `patience` must be >= 0, got {}", ctx, o_.patience));
  if (o_.cooldown < 0) throw ValueError(fmt::format("{}: argument `cooldown` must be >= 0, got {}", ctx, o_.cooldown));
  if (!(o_.min_delta >= 0.0) || !std::isfinite(o_.min_delta)) {
    throw ValueError(fmt::format("{}: argument `min_delta` must be a finite number >= 0, got {}", ctx, o_.min_delta));
  }
  if (!(o_.min_lr >= 0.0) || !std::isfinite(o_.min_lr)) {
    throw ValueError(fmt::format("{}: argument `min_lr` must be a finite number >= 0, got {}", ctx, o_.min_lr));
  }
  if (o_.mode != "auto" && o_.mode != "min" && o_.mode != "max") {
    throw ValueError(fmt::format("{}: invalid mode '{}'; expected 'auto', 'min' or 'max'", ctx, o_.mode));
  }
  if (o_.monitor.empty()) throw ValueError(fmt::format("{}: monitor must name a logged quantity", ctx));
  maximize_ = maximize_for(o_.mode, o_.monitor);
}

void ReduceLROnPlateauCallback::on_train_begin(Logs&) {
  warned_ = false;
  wait_ = 0;
  cooldown_counter_ = 0;
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

void ReduceLROnPlateauCallback::on_epoch_end(int epoch, Logs& logs) {
  Optimizer& optimizer = model().optimizer();
  logs.set("lr", optimizer.learning_rate());
  if (!logs.contains(o_.monitor)) {
    warn_missing_monitor(warned_, "ReduceLROnPlateau", "learning rate reduction", o_.monitor, logs,
                         "the learning rate stays as it is");
    return;
  }
  const double current = logs.at(o_.monitor);
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool better = maximize_ ? current > best_ + o_.min_delta : current < best_ - o_.min_delta;
  if (better) {
    best_ = current;
    wait_ = 0;
    return;
  }
  if (cooldown_counter_ > 0) return;
  if (++wait_ < o_.patience) return;
  const float old_lr = optimizer.learning_rate();
  if (!(old_lr > static_cast<float>(o_.min_lr))) return;
  const auto new_lr = static_cast<float>(std::max(static_cast<double>(old_lr) * o_.factor, o_.min_lr));
  if (!(new_lr > 0.0f)) return;  // underflow: keep the smallest rate a float holds
  optimizer.set_learning_rate(new_lr);
  if (o_.verbose > 0) {
    std::printf("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %s.\n", epoch + 1,
                fmt::format("{}", new_lr).c_str());
    std::fflush(stdout);
  }
  cooldown_counter_ = o_.cooldown;
  wait_ = 0;
}

// ---------------------------------------------------------------- CSVLogger

struct CSVLoggerCallback::File {
  std::FILE* f = nullptr;
  ~File() {
    if (f != nullptr) std::fclose(f);
  }
};

CSVLoggerCallback::CSVLoggerCallback(std::string filename, CSVLoggerOptions options)
    : filename_(std::move(filename)), o_(std::move(options)) {
  if (filename_.empty()) throw ValueError("CSVLogger: the file name is empty");
  if (o_.separator.empty()) throw ValueError("CSVLogger: argument `separator` must not be empty");
}

CSVLoggerCallback::~CSVLoggerCallback() = default;

void CSVLoggerCallback::on_train_begin(Logs&) {
  file_.reset();
  keys_.clear();
  started_ = false;
  write_header_ = true;
  if (distributed::rank() != 0) return;  // data-parallel training: rank 0 writes
  if (o_.append) {
    if (std::FILE* existing = std::fopen(filename_.c_str(), "rb")) {
      write_header_ = std::fgetc(existing) == EOF;  // Keras: a header only for an empty file
      std::fclose(existing);
    }
  }
  auto file = std::make_unique<File>();
  file->f = std::fopen(filename_.c_str(), o_.append ? "ab" : "wb");
  if (file->f == nullptr) {
    throw IOError(fmt::format("CSVLogger: cannot open '{}' for writing: {}", filename_, std::strerror(errno)));
  }
  file_ = std::move(file);
}

std::string CSVLoggerCallback::field(const std::string& text) const {
  if (text.find(o_.separator) == std::string::npos && text.find_first_of("\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void CSVLoggerCallback::on_epoch_end(int epoch, Logs& logs) {
  if (distributed::rank() != 0) return;
  if (!file_) throw Error(fmt::format("CSVLogger('{}'): on_epoch_end before on_train_begin", filename_));
  std::string out;
  if (!started_) {
    started_ = true;
    for (const auto& [k, v] : logs.items()) keys_.push_back(k);
    std::sort(keys_.begin(), keys_.end());
    if (write_header_) {
      out += field("epoch");
      for (const auto& k : keys_) out += o_.separator + field(k);
      out += "\n";
    }
  }
  out += std::to_string(epoch);
  for (const auto& k : keys_) out += o_.separator + (logs.contains(k) ? field(python_float(logs.at(k))) : "NA");
  out += "\n";
  if (std::fputs(out.c_str(), file_->f) < 0 || std::fflush(file_->f) != 0) {
    throw IOError(fmt::format("CSVLogger: cannot write to '{}': {}", filename_, std::strerror(errno)));
  }
}

void CSVLoggerCallback::on_train_end(Logs&) { file_.reset(); }

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
std::shared_ptr<ReduceLROnPlateauCallback> ReduceLROnPlateau(const ReduceLROnPlateauOptions& options) {
  return std::make_shared<ReduceLROnPlateauCallback>(options);
}
std::shared_ptr<CSVLoggerCallback> CSVLogger(const std::string& filename, const CSVLoggerOptions& options) {
  return std::make_shared<CSVLoggerCallback>(filename, options);
}
std::shared_ptr<TerminateOnNaNCallback> TerminateOnNaN() { return std::make_shared<TerminateOnNaNCallback>(); }
std::shared_ptr<Callback> LambdaCallback(LambdaCallbackOptions options) {
  return std::make_shared<Lambda>(std::move(options));
}

}  // namespace seqnet
