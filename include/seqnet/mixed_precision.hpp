#pragma once
// Mixed precision, the Keras way: a dtype policy per layer, taken from the
// global policy when the layer is made.
//
//   seqnet::mixed_precision::set_global_policy("mixed_bfloat16");
//   auto model = ...;   // layers made from here on compute in bfloat16
//
// Policies (Keras's names):
// - "float32" (the default): everything in float32.
// - "mixed_bfloat16": variables (weights, optimizer slots) and states stay
//   float32; the layer's matrix products (input projections, the recurrent
//   products of every step, their gradients and the weight gradients) take
//   their operands rounded to bfloat16 (to nearest even, subnormals
//   flushed to zero) and accumulate in float32. Element-wise math (gates,
//   activations, softmax, losses) stays float32, and so does every tensor a
//   layer outputs, so the model's outputs are float32 as Keras makes the
//   last layer's (Keras also rounds the activations between layers to
//   bfloat16; seqnet keeps them in float32, which is at least as accurate).
//   On a CPU with AVX512_BF16 the products run on its VDPBF16PS
//   instruction, which does twice the multiply-adds of a float32 FMA; on
//   other CPUs the same rounding runs in software, with the same results
//   (except for subnormal intermediate sums), slower than float32, and the
//   first use warns once on stderr.
//
// A layer's policy is part of its config ("dtype": {"class_name": "Policy",
// "config": {"name": "mixed_bfloat16"}}, as Keras 2 writes it; "float32"
// for float32), so a saved model computes as it did when it is loaded.

#include <string>

namespace seqnet::mixed_precision {

class Policy {
 public:
  // Throws ValueError naming the policy for anything but "float32" and
  // "mixed_bfloat16" (Keras's "mixed_float16", "float16", "bfloat16" and
  // "float64" are refused with the reason).
  explicit Policy(const std::string& name = "float32");
  const std::string& name() const { return name_; }
  // "float32" or "bfloat16".
  std::string compute_dtype() const { return bfloat16_ ? "bfloat16" : "float32"; }
  // Always "float32".
  std::string variable_dtype() const { return "float32"; }
  bool bfloat16() const { return bfloat16_; }
  bool operator==(const Policy& o) const { return name_ == o.name_; }

 private:
  std::string name_;
  bool bfloat16_ = false;
};

// The policy of the layers made from now on (in every thread). Not
// thread-safe: set it before building a model, from one thread.
void set_global_policy(const Policy& policy);
void set_global_policy(const std::string& name);
const Policy& global_policy();

// Whether this CPU runs bfloat16 products in hardware (AVX512_BF16).
bool hardware_bfloat16();

}  // namespace seqnet::mixed_precision
