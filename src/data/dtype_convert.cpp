#include "data/dtype_convert.hpp"

#include <fmt/format.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "seqnet/error.hpp"

namespace seqnet::detail {

namespace {

static_assert(std::endian::native == std::endian::little, "seqnet's file formats assume a little-endian host");

uint64_t load_uint(const unsigned char* p, int size, bool big) {
  uint64_t v = 0;
  if (big) {
    for (int i = 0; i < size; ++i) v = (v << 8) | p[i];
  } else {
    for (int i = size - 1; i >= 0; --i) v = (v << 8) | p[i];
  }
  return v;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3ffu;
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

[[noreturn]] void int_out_of_range(std::string_view context, int64_t i, std::string_view value) {
  throw ValueError(fmt::format("{}: element {} is {}, which float32 cannot hold exactly (seqnet keeps integers "
                               "as float32, exact only up to 2^24 = {}); rescale or re-encode the data",
                               context, i, value, kMaxExactFloatInt));
}

}  // namespace

void convert_to_float(const ElemType& t, const unsigned char* src, int64_t n, float* dst, std::string_view context) {
  // Nothing to convert; a zero-size array may come with null pointers
  // (memcpy with a null pointer is undefined even for 0 bytes).
  if (n <= 0) return;
  const int sz = t.size;
  switch (t.kind) {
    case ElemKind::Float:
      if (sz == 4) {
        if (!t.big_endian) {
          std::memcpy(dst, src, static_cast<size_t>(n) * 4);
        } else {
          for (int64_t i = 0; i < n; ++i) {
            dst[i] = std::bit_cast<float>(static_cast<uint32_t>(load_uint(src + i * 4, 4, true)));
          }
        }
        return;
      }
      if (sz == 8) {
        for (int64_t i = 0; i < n; ++i) {
          const double v = std::bit_cast<double>(load_uint(src + i * 8, 8, t.big_endian));
          if (std::isfinite(v) && std::abs(v) > static_cast<double>(FLT_MAX)) {
            throw ValueError(fmt::format("{}: element {} is {}, outside the float32 range", context, i, v));
          }
          dst[i] = static_cast<float>(v);
        }
        return;
      }
      if (sz == 2) {
        for (int64_t i = 0; i < n; ++i) {
          const auto h = static_cast<uint16_t>(load_uint(src + i * 2, 2, t.big_endian));
          dst[i] = t.bfloat16 ? std::bit_cast<float>(static_cast<uint32_t>(h) << 16) : half_to_float(h);
        }
        return;
      }
      break;
    case ElemKind::Int:
      if (sz == 1 || sz == 2 || sz == 4 || sz == 8) {
        for (int64_t i = 0; i < n; ++i) {
          const uint64_t u = load_uint(src + i * sz, sz, t.big_endian);
          // Sign-extend from sz bytes.
          const int shift = 64 - 8 * sz;
          const auto v = static_cast<int64_t>(u << shift) >> shift;
          if (v > kMaxExactFloatInt || v < -kMaxExactFloatInt) int_out_of_range(context, i, std::to_string(v));
          dst[i] = static_cast<float>(v);
        }
        return;
      }
      break;
    case ElemKind::UInt:
      if (sz == 1 || sz == 2 || sz == 4 || sz == 8) {
        for (int64_t i = 0; i < n; ++i) {
          const uint64_t v = load_uint(src + i * sz, sz, t.big_endian);
          if (v > static_cast<uint64_t>(kMaxExactFloatInt)) int_out_of_range(context, i, std::to_string(v));
          dst[i] = static_cast<float>(v);
        }
        return;
      }
      break;
    case ElemKind::Bool:
      if (sz == 1) {
        for (int64_t i = 0; i < n; ++i) dst[i] = src[i] != 0 ? 1.0f : 0.0f;
        return;
      }
      break;
  }
  throw ValueError(fmt::format("{}: unsupported element type ({} bytes)", context, sz));
}

}  // namespace seqnet::detail
