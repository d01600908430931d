#pragma once
// Reading and writing the recurrent argument family (visit_recurrent_options)
// as Keras 2 config values; shared by Recurrent::get_config and the cells'
// from_config. Internal to the library.

#include <memory>
#include <string>

#include "seqnet/error.hpp"
#include "seqnet/layers/recurrent.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet::layers {

// A recurrent option as a Keras config value.
inline nlohmann::json recurrent_option_to_json(bool v) { return v; }
inline nlohmann::json recurrent_option_to_json(float v) { return json_float(v); }
inline nlohmann::json recurrent_option_to_json(const std::string& activation) { return activation; }
inline nlohmann::json recurrent_option_to_json(const Initializer& v) { return initializer_to_keras(v); }
inline nlohmann::json recurrent_option_to_json(const Regularizer& v) { return regularizer_to_keras(v); }

// A recurrent option from a config; absent keys keep `v` (the options
// struct's default).
inline void read_recurrent_option(const ConfigReader& r, const char* key, bool& v) { v = r.get_bool(key, v); }
inline void read_recurrent_option(const ConfigReader& r, const char* key, float& v) {
  v = r.get_float(key, v, 0.0, 1.0);
}
inline void read_recurrent_option(const ConfigReader& r, const char* key, std::string& activation) {
  activation = r.get_activation(key, activation);
}
inline void read_recurrent_option(const ConfigReader& r, const char* key, Initializer& v) {
  v = r.get_initializer(key, v);
}
inline void read_recurrent_option(const ConfigReader& r, const char* key, Regularizer& v) {
  v = r.get_regularizer(key);
}

// Reads the keys every recurrent layer shares into `o` (an options struct
// whose values are the defaults) and checks those that would change the
// math; returns units. The cell reads its own keys after this.
template <class Options>
int64_t read_recurrent_config(const ConfigReader& r, Options& o) {
  r.expect_common();
  r.expect_no_constraints({"kernel_constraint", "recurrent_constraint", "bias_constraint"});
  r.expect("time_major", false, "seqnet's recurrent layers take (batch, time, features)");
  r.expect("num_constants", 0, "seqnet's recurrent layers take no constants");
  if (r.has("cell")) {
    throw ValueError(r.context() + ": `cell` is not supported (a generic RNN over a custom cell)");
  }
  // unroll and implementation only change how the same function is computed.
  r.get_bool("unroll", false);
  r.get_int("implementation", 2, 0, 2);
  visit_recurrent_options(o, o, [&](const char* key, auto& v, auto&) { read_recurrent_option(r, key, v); });
  o.name = r.name();
  return r.get_int("units", 1, kMaxConfigDim);
}

// As read_recurrent_config, plus the gates' activation of a gated cell
// (LSTM, GRU).
template <class Options>
int64_t read_gated_recurrent_config(const ConfigReader& r, Options& o) {
  const int64_t units = read_recurrent_config(r, o);
  o.recurrent_activation = r.get_activation("recurrent_activation", o.recurrent_activation);
  return units;
}

// The normalized config of a gated cell's options (the shared family plus
// the gates' activation).
template <class Options>
RecurrentConfig gated_recurrent_config(int64_t units, const Options& o) {
  RecurrentConfig c = common_recurrent_config(units, o);
  c.recurrent_activation = o.recurrent_activation;
  return c;
}

// A new cell of class Cell with options `o` but the given name, go_backwards
// and zero_output_for_mask (Recurrent::clone_with of every cell).
template <class Cell, class Options>
std::shared_ptr<Recurrent> clone_cell(int64_t units, Options o, std::string name, bool go_backwards,
                                      bool zero_output_for_mask) {
  o.go_backwards = go_backwards;
  o.zero_output_for_mask = zero_output_for_mask;
  o.name = std::move(name);
  return std::make_shared<Cell>(units, o);
}

}  // namespace seqnet::layers
