#pragma once
// Internal: conversion of raw little- or big-endian arrays of the element
// types NumPy and safetensors use into float32, with the checks seqnet
// applies to untrusted data (shared by data/npy.cpp and io/safetensors.cpp).
//
// Rules: float32 is copied bit for bit; float16 and bfloat16 convert
// exactly; float64 rounds to the nearest float32 and finite values beyond the
// float32 range are an error; integers must satisfy |v| <= 2^24 (16777216),
// the largest range float32 holds exactly, else an error; booleans are 0 or
// 1 (any non-zero byte counts as 1).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace seqnet::detail {

enum class ElemKind { Float, Int, UInt, Bool };

struct ElemType {
  ElemKind kind = ElemKind::Float;
  int size = 4;              // bytes: 1, 2, 4 or 8
  bool bfloat16 = false;     // Float with size 2: bfloat16 instead of IEEE half
  bool big_endian = false;
};

// Converts n elements of type `t` at `src` (n * t.size bytes, any
// alignment) into dst[0..n). Throws ValueError naming `context` and the
// element index for a value the rules above reject, or for an element type
// that is not one of those listed.
void convert_to_float(const ElemType& t, const unsigned char* src, int64_t n, float* dst, std::string_view context);

// Largest integer magnitude float32 represents exactly (2^24).
inline constexpr int64_t kMaxExactFloatInt = int64_t{1} << 24;

}  // namespace seqnet::detail
