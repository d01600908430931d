#pragma once
// Keras-style progress output of fit/evaluate/predict.
//   verbose 1: "12/57 [=====>........................] - ETA: 1s - loss: 2.2900"
//              redrawn in place on a terminal (only the final line when the
//              output is not a terminal), then
//              "57/57 [==============================] - 1s 5ms/step - loss: ..."
//   verbose 2: "57/57 - 1s - loss: ... - 1s/epoch - 5ms/step" (or "214ms/epoch")

#include <chrono>
#include <string>
#include <string_view>

#include "seqnet/train/callbacks.hpp"

namespace seqnet {

class Progbar {
 public:
  Progbar(int64_t target, int verbose);
  // After step `current` (1-based) with the running logs.
  void update(int64_t current, const Logs& logs);
  // The final line with the epoch's logs.
  void finish(const Logs& logs);

 private:
  std::string bar(int64_t current) const;
  int64_t target_;
  int verbose_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  size_t last_width_ = 0;
};

// "1s", "1:05", "1:01:05" (Keras's ETA format).
std::string format_eta(double seconds);
// Keras's time per unit: "2s/step", "5ms/step", "120us/step", "214ms/epoch".
std::string format_time_per(double seconds, std::string_view unit);

}  // namespace seqnet
