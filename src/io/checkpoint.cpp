#include "seqnet/io/checkpoint.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "seqnet/distributed.hpp"
#include "seqnet/error.hpp"
#include "seqnet/model/model.hpp"

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

}  // namespace seqnet
