#pragma once
// Internal: a guard that bounds and cheapens weight creation while a model is
// rebuilt from an untrusted description (a model file or JSON config).
//
// While a ParamBuildGuard is alive on the current thread, Layer::add_param
//   - charges every new weight's element count against a budget and throws
//     ValueError (naming the layer, the weight and its shape) before
//     allocating anything once the budget would be exceeded, and
//   - with skip_init, leaves new weights zero-filled instead of running their
//     initializers: no random draws, and no expensive initializers (an
//     orthogonal QR) for weights that are about to be overwritten.
// Guards nest; the innermost one applies.

#include <cstdint>
#include <string>
#include <string_view>

#include "seqnet/tensor.hpp"

namespace seqnet::detail {

class ParamBuildGuard {
 public:
  // `max_elements`: how many weight values all weights created under the
  // guard may hold together. `what` completes the error message ("the model
  // file holds only 1234 weight values").
  ParamBuildGuard(int64_t max_elements, bool skip_init, std::string what);
  ~ParamBuildGuard();
  ParamBuildGuard(const ParamBuildGuard&) = delete;
  ParamBuildGuard& operator=(const ParamBuildGuard&) = delete;

 private:
  ParamBuildGuard* previous_;
  int64_t remaining_;
  bool skip_init_;
  std::string what_;
  friend bool charge_new_param(const Shape& shape, std::string_view layer, std::string_view name);
};

// Called by Layer::add_param before it allocates a weight. Throws ValueError
// when a guard is active and the shape is invalid, overflows or exceeds the
// remaining budget. Returns whether the initializer should run (false under a
// skip_init guard).
bool charge_new_param(const Shape& shape, std::string_view layer, std::string_view name);

}  // namespace seqnet::detail
