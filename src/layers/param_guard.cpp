#include "layers/param_guard.hpp"

#include <fmt/format.h>

#include <limits>

#include "seqnet/error.hpp"

namespace seqnet::detail {

namespace {

thread_local ParamBuildGuard* current_guard = nullptr;

}  // namespace

ParamBuildGuard::ParamBuildGuard(int64_t max_elements, bool skip_init, std::string what)
    : previous_(current_guard), remaining_(max_elements < 0 ? 0 : max_elements), skip_init_(skip_init),
      what_(std::move(what)) {
  current_guard = this;
}

ParamBuildGuard::~ParamBuildGuard() { current_guard = previous_; }

bool charge_new_param(const Shape& shape, std::string_view layer, std::string_view name) {
  ParamBuildGuard* g = current_guard;
  if (g == nullptr) return true;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      throw ValueError(fmt::format("{}: weight '{}' would have an invalid shape {}", layer, name, shape_str(shape)));
    }
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      throw ValueError(fmt::format("{}: weight '{}' of shape {} is too large ({})", layer, name, shape_str(shape),
                                   g->what_));
    }
    n *= d;
  }
  if (n > g->remaining_) {
    throw ValueError(fmt::format("{}: weight '{}' of shape {} needs {} values, more than allowed ({})", layer, name,
                                 shape_str(shape), n, g->what_));
  }
  g->remaining_ -= n;
  return !g->skip_init_;
}

}  // namespace seqnet::detail
