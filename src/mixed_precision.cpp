#include "seqnet/mixed_precision.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::mixed_precision {

namespace {

Policy& global() {
  static Policy p("float32");
  return p;
}

void warn_software_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::fputs("seqnet: warning: this CPU has no AVX512_BF16, so the mixed_bfloat16 policy rounds to bfloat16 in "
               "software; it computes the same values as on a CPU that has it, but slower than float32\n",
               stderr);
  });
}

}  // namespace

Policy::Policy(const std::string& name) : name_(name) {
  if (name == "float32") return;
  if (name == "mixed_bfloat16") {
    bfloat16_ = true;
    if (!hardware_bfloat16()) warn_software_once();
    return;
  }
  std::string why;
  if (name == "mixed_float16" || name == "float16") {
    why = "float16 compute needs a GPU; on CPUs use mixed_bfloat16";
  } else if (name == "bfloat16") {
    why = "bfloat16 variables lose the small updates training makes; mixed_bfloat16 keeps them in float32";
  } else if (name == "float64") {
    why = "seqnet computes in float32";
  } else {
    why = "not a dtype policy";
  }
  throw ValueError(fmt::format("mixed_precision.Policy: '{}' is not supported ({}); seqnet has 'float32' and "
                               "'mixed_bfloat16'",
                               printable(name, 64), why));
}

void set_global_policy(const Policy& policy) { global() = policy; }
void set_global_policy(const std::string& name) { global() = Policy(name); }
const Policy& global_policy() { return global(); }

// The features the products' AVX512_BF16 kernels (src/ops/step_product.cpp)
// need; they ask here.
bool hardware_bfloat16() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
  }();
  return yes;
#else
  return false;
#endif
}

}  // namespace seqnet::mixed_precision
