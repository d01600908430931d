#pragma once
// Weight initializers with Keras's names, parameters and fan rules.
//
// An Initializer converts implicitly from its Keras name, so options read
// like Keras keyword arguments:
//   LSTMOptions{.kernel_initializer = "he_uniform"}
//   LSTMOptions{.kernel_initializer = Initializer::random_normal(0.0, 0.1)}
//
// Names: zeros, ones, constant, random_normal, random_uniform,
// truncated_normal, glorot_uniform, glorot_normal, he_uniform, he_normal,
// lecun_uniform, lecun_normal, orthogonal, identity. Keras aliases
// "uniform" (= random_uniform) and "normal" (= random_normal) are accepted.
// Fans follow Keras: a 2-D shape (in, out) has fan_in = in, fan_out = out; a
// 1-D shape (n) has fan_in = fan_out = n. The *_normal variance-scaling
// initializers draw from a normal truncated at two standard deviations,
// rescaled as Keras does (stddev / 0.87962566103423978).

#include <string>
#include <string_view>

#include "seqnet/random.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet {

struct Initializer {
  // Keras name. Default: "zeros".
  std::string name = "zeros";
  // constant: the value. Default: 0.
  double value = 0.0;
  // random_normal / truncated_normal: mean and standard deviation.
  // Default: 0 and 0.05 (Keras).
  double mean = 0.0;
  double stddev = 0.05;
  // random_uniform: bounds. Default: [-0.05, 0.05] (Keras).
  double minval = -0.05;
  double maxval = 0.05;
  // orthogonal / identity: multiplicative gain. Default: 1.
  double gain = 1.0;

  Initializer() = default;
  Initializer(const char* keras_name) : name(keras_name) {}          // NOLINT: implicit by design
  Initializer(std::string keras_name) : name(std::move(keras_name)) {}  // NOLINT

  static Initializer constant(double v);
  static Initializer random_normal(double mean = 0.0, double stddev = 0.05);
  static Initializer random_uniform(double minval = -0.05, double maxval = 0.05);
  static Initializer truncated_normal(double mean = 0.0, double stddev = 0.05);
  static Initializer orthogonal(double gain = 1.0);

  // Throws ValueError naming `context` when the name is unknown or a
  // parameter is invalid (stddev < 0, minval > maxval).
  void validate(std::string_view context) const;
  // Fills w (rank 1 or 2) from generator g. Throws ValueError as validate(),
  // and for identity on a non-2-D shape.
  void fill(Tensor& w, Generator& g, std::string_view context) const;
  void fill(Tensor& w, std::string_view context) const { fill(w, global_generator(), context); }

  bool operator==(const Initializer&) const = default;
};

}  // namespace seqnet
