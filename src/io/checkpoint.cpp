#include "seqnet/io/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "seqnet/distributed.hpp"
#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/json.hpp"
#include "seqnet/io/model_io.hpp"
#include "seqnet/model/model.hpp"
#include "seqnet/printable.hpp"

namespace seqnet {

std::string format_checkpoint_path(const std::string& pattern, int epoch, const Logs& logs) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '}') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      throw ValueError(fmt::format("ModelCheckpoint: unbalanced '}}' in file path '{}'", pattern));
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = pattern.find('}', i);
    if (close == std::string::npos) {
      throw ValueError(fmt::format("ModelCheckpoint: unbalanced '{{' in file path '{}'", pattern));
    }
    const std::string field = pattern.substr(i + 1, close - i - 1);
    const size_t colon = field.find(':');
    const std::string key = field.substr(0, colon);
    const std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    const std::string fmt_str = "{:" + spec + "}";
    try {
      if (key == "epoch") {
        out += fmt::format(fmt::runtime(fmt_str), epoch + 1);
      } else if (logs.contains(key)) {
        out += fmt::format(fmt::runtime(fmt_str), logs.at(key));
      } else {
        std::string names = "epoch";
        for (const auto& [k, v] : logs.items()) names += ", " + k;
        throw ValueError(fmt::format("ModelCheckpoint: unknown placeholder '{{{}}}' in file path '{}'; available: {}",
                                     key, pattern, names));
      }
    } catch (const fmt::format_error& e) {
      throw ValueError(fmt::format("ModelCheckpoint: format spec '{}' does not fit '{}' in file path '{}': {}", spec,
                                   key, pattern, e.what()));
    }
    i = close;
  }
  return out;
}

ModelCheckpointCallback::ModelCheckpointCallback(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), o_(std::move(options)) {
  if (filepath_.empty()) throw ValueError("ModelCheckpoint: the file path is empty");
  if (o_.mode == "max") {
    maximize_ = true;
  } else if (o_.mode == "min") {
    maximize_ = false;
  } else if (o_.mode == "auto") {
    maximize_ = o_.monitor.find("acc") != std::string::npos || o_.monitor.rfind("fmeasure", 0) == 0;
  } else {
    throw ValueError(fmt::format("ModelCheckpoint: mode must be 'auto', 'min' or 'max', got '{}'", o_.mode));
  }
  if (o_.verbose != 0 && o_.verbose != 1) {
    throw ValueError(fmt::format("ModelCheckpoint: verbose must be 0 or 1, got {}", o_.verbose));
  }
  // Check the placeholders' syntax now rather than after the first epoch.
  Logs probe;
  try {
    format_checkpoint_path(filepath_, 0, probe);
  } catch (const ValueError& e) {
    const std::string what = e.what();
    if (what.find("unknown placeholder") == std::string::npos) throw;
  }
}

void ModelCheckpointCallback::on_train_begin(Logs&) {
  best_ = o_.initial_value_threshold;
}

void ModelCheckpointCallback::on_epoch_end(int epoch, Logs& logs) {
  const std::string path = format_checkpoint_path(filepath_, epoch, logs);
  // In data-parallel training every rank decides alike; rank 0 writes.
  const bool writer = distributed::rank() == 0;
  const bool verbose = o_.verbose > 0 && writer;
  if (o_.save_best_only) {
    if (!logs.contains(o_.monitor)) {
      if (verbose) {
        std::printf("Epoch %d: ModelCheckpoint can save the best model only with %s available, skipping\n", epoch + 1,
                    o_.monitor.c_str());
      }
      return;
    }
    const double current = logs.at(o_.monitor);
    const bool better = !best_ || (maximize_ ? current > *best_ : current < *best_);
    if (!better) {
      if (verbose) {
        std::printf("Epoch %d: %s did not improve from %.5f\n", epoch + 1, o_.monitor.c_str(), *best_);
      }
      return;
    }
    if (verbose) {
      if (best_) {
        std::printf("Epoch %d: %s improved from %.5f to %.5f, saving model to %s\n", epoch + 1, o_.monitor.c_str(),
                    *best_, current, path.c_str());
      } else {
        std::printf("Epoch %d: %s is %.5f, saving model to %s\n", epoch + 1, o_.monitor.c_str(), current,
                    path.c_str());
      }
    }
    best_ = current;
  } else if (verbose) {
    std::printf("Epoch %d: saving model to %s\n", epoch + 1, path.c_str());
  }
  if (writer && o_.save_weights_only) {
    model().save_weights(path);
  } else if (writer) {
    model().save(path, true);
  }
  last_saved_ = path;
}

std::shared_ptr<ModelCheckpointCallback> ModelCheckpoint(const std::string& filepath,
                                                         const ModelCheckpointOptions& options) {
  return std::make_shared<ModelCheckpointCallback>(filepath, options);
}


// ---- BackupAndRestore ------------------------------------------------------

namespace {

constexpr int64_t kMaxBackupInfoBytes = int64_t{64} << 20;
constexpr const char* kBackupFormat = "seqnet-backup";

// "backup-e000012.safetensors" or "backup-final.safetensors": a plain file
// name inside the backup folder.
bool is_backup_model_name(const std::string& n) {
  if (n == "backup-final.safetensors") return true;
  if (n.size() < 20 || n.rfind("backup-e", 0) != 0) return false;
  const std::string digits = n.substr(8, n.size() - 8 - 12);
  return n.compare(n.size() - 12, 12, ".safetensors") == 0 && !digits.empty() && digits.size() <= 10 &&
         digits.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

BackupAndRestoreCallback::BackupAndRestoreCallback(std::string backup_dir, BackupAndRestoreOptions options)
    : dir_(std::move(backup_dir)), o_(options) {
  if (dir_.empty()) throw ValueError("BackupAndRestore: backup_dir is empty");
}

std::string BackupAndRestoreCallback::info_path() const { return dir_ + "/backup.json"; }

void BackupAndRestoreCallback::on_train_begin(Logs&) {
  restored_ = false;
  resumed_ = {};
  done_.clear();
  model_file_.clear();
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string info = info_path();
  if (!fs::exists(info, ec)) return;
  const nlohmann::json j = io::parse_untrusted_json(read_file(info, kMaxBackupInfoBytes), info);
  auto bad = [&](const std::string& what) {
    return IOError(fmt::format("BackupAndRestore: {}: {}; remove the folder '{}' to start afresh", info, what, dir_));
  };
  if (!j.is_object() || !j.contains("format") || j["format"] != kBackupFormat) {
    throw bad("not a seqnet backup description");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() != 1) {
    throw bad("unknown backup version (this build reads version 1)");
  }
  if (!j.contains("epoch") || !j["epoch"].is_number_integer() || j["epoch"].get<int64_t>() < 0 ||
      j["epoch"].get<int64_t>() > std::numeric_limits<int>::max() - 1) {
    throw bad("\"epoch\" is missing or not an integer >= 0");
  }
  if (!j.contains("finished") || !j["finished"].is_boolean()) throw bad("\"finished\" is missing or not a boolean");
  if (!j.contains("model") || !j["model"].is_string() || !is_backup_model_name(j["model"].get<std::string>())) {
    throw bad("\"model\" is missing or not a backup-eN.safetensors file name");
  }
  if (!j.contains("history") || !j["history"].is_array()) throw bad("\"history\" is missing or not an array");
  const int last = static_cast<int>(j["epoch"].get<int64_t>());
  std::vector<std::pair<int, Logs>> epochs;
  int previous = -1;
  for (const auto& e : j["history"]) {
    if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number_integer() || !e.contains("logs") ||
        !e["logs"].is_object()) {
      throw bad("a \"history\" entry is not {\"epoch\": N, \"logs\": {...}}");
    }
    const int64_t n = e["epoch"].get<int64_t>();
    if (n <= previous || n > last) throw bad(fmt::format("history epoch {} is out of order", n));
    previous = static_cast<int>(n);
    Logs logs;
    for (const auto& [k, v] : e["logs"].items()) {
      if (v.is_number()) {
        logs.set(k, v.get<double>());
      } else if (v.is_null()) {
        logs.set(k, std::nan(""));
      } else {
        throw bad(fmt::format("history log '{}' of epoch {} is not a number", printable(k.substr(0, 40)), n));
      }
    }
    epochs.emplace_back(previous, std::move(logs));
  }
  const std::string file = dir_ + "/" + j["model"].get<std::string>();
  load_training_state(model(), file, {.max_file_bytes = o_.max_file_bytes});
  model_file_ = file;
  restored_ = true;
  resumed_.next_epoch = last + 1;
  resumed_.finished = j["finished"].get<bool>();
  resumed_.epochs = epochs;
  done_ = std::move(epochs);
}

void BackupAndRestoreCallback::write(int epoch, bool finished) {
  // The model file first, then the description naming it, then the older
  // file: a run killed at any point leaves a consistent backup.
  // In data-parallel training every rank holds the same model; rank 0 writes.
  if (distributed::rank() != 0) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw IOError(fmt::format("BackupAndRestore: cannot create '{}': {}", dir_, ec.message()));
  const std::string name = finished ? "backup-final.safetensors" : fmt::format("backup-e{:06d}.safetensors", epoch + 1);
  const std::string file = dir_ + "/" + name;
  if (file != model_file_) model().save(file, true);
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const auto& [e, logs] : done_) {
    nlohmann::ordered_json l = nlohmann::ordered_json::object();
    for (const auto& [k, v] : logs.items()) l[k] = v;  // NaN and infinities become null
    history.push_back({{"epoch", e}, {"logs", l}});
  }
  const nlohmann::ordered_json info{{"format", kBackupFormat}, {"version", 1},     {"epoch", epoch},
                                    {"finished", finished},   {"model", name},     {"history", history}};
  write_file_atomic(info_path(), info.dump(1) + "\n");
  // The description names the new file only now: the older one can go.
  if (!model_file_.empty() && model_file_ != file) fs::remove(model_file_, ec);
  model_file_ = file;
}

void BackupAndRestoreCallback::on_epoch_end(int epoch, Logs& logs) {
  done_.emplace_back(epoch, logs);
  write(epoch, false);
}

void BackupAndRestoreCallback::on_train_end(Logs&) {
  namespace fs = std::filesystem;
  if (o_.delete_checkpoint) {
    if (distributed::rank() != 0) return;
    std::error_code ec;
    fs::remove(info_path(), ec);
    if (!model_file_.empty()) fs::remove(model_file_, ec);
    fs::remove(dir_, ec);  // only when empty
    model_file_.clear();
    return;
  }
  if (done_.empty()) return;
  // The end state (EarlyStopping may have restored the best weights),
  // marked finished.
  write(done_.back().first, true);
}

std::shared_ptr<BackupAndRestoreCallback> BackupAndRestore(const std::string& backup_dir,
                                                           const BackupAndRestoreOptions& options) {
  return std::make_shared<BackupAndRestoreCallback>(backup_dir, options);
}

}  // namespace seqnet
