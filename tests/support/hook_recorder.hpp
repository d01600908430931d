#pragma once
// A LambdaCallback that writes down every hook it sees, for tests of the
// order in which a training loop calls callbacks:
//   "tb", "eb<epoch>", "bb<batch> <size>", "be<batch>[ <label>...]",
//   "ee<epoch> <log keys...>", "te"
// where a batch-end entry lists the label of each of `batch_keys`
// ({log key, label}) present in that batch's logs.

#include <seqnet/seqnet.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace seqnet::testing {

inline std::shared_ptr<Callback> record_hooks(std::vector<std::string>& ev,
                                              std::vector<std::pair<std::string, std::string>> batch_keys = {
                                                  {"loss", "loss"}}) {
  return LambdaCallback({
      .on_epoch_begin = [&ev](int e, Logs&) { ev.push_back("eb" + std::to_string(e)); },
      .on_epoch_end =
          [&ev](int e, Logs& l) {
            std::string keys;
            for (const auto& kv : l.items()) keys += " " + kv.first;
            ev.push_back("ee" + std::to_string(e) + keys);
          },
      .on_batch_begin =
          [&ev](int b, Logs& l) {
            ev.push_back("bb" + std::to_string(b) + " " + std::to_string(static_cast<int>(l.at("size"))));
          },
      .on_batch_end =
          [&ev, batch_keys](int b, Logs& l) {
            std::string entry = "be" + std::to_string(b);
            for (const auto& [key, label] : batch_keys)
              if (l.contains(key)) entry += " " + label;
            ev.push_back(entry);
          },
      .on_train_begin = [&ev](Logs&) { ev.push_back("tb"); },
      .on_train_end = [&ev](Logs&) { ev.push_back("te"); },
  });
}

}  // namespace seqnet::testing
