#pragma once
// The activations layers take, by Keras name: the Act enum, parsing and
// naming. (Their kernels are library internals, in detail/ops/.)

#include <string>
#include <string_view>

namespace seqnet::ops {

enum class Act { Linear, Tanh, Sigmoid, HardSigmoid, Keras3HardSigmoid, Relu, Elu, Selu, Softplus, Softsign, Softmax };

// Parses a Keras activation name ("tanh", "sigmoid", "hard_sigmoid", "relu",
// "elu", "selu", "softplus", "softsign", "linear", "softmax"; "" and "none"
// mean linear). "hard_sigmoid" is Keras 2's clip(0.2 x + 0.5, 0, 1);
// "keras3_hard_sigmoid" is Keras 3's hard_sigmoid, relu6(x + 3) / 6 (the
// Keras 3 readers and writers translate the name). Throws ValueError naming `context` (e.g. `LSTM "lstm":
// argument activation`) and the valid names when the name is unknown.
Act parse_activation(std::string_view name, std::string_view context);
// The Keras name of an activation ("linear" for Act::Linear).
std::string activation_name(Act a);
// Whether the activation acts on each element alone (all but softmax).
inline bool is_elementwise(Act a) { return a != Act::Softmax; }

}  // namespace seqnet::ops
