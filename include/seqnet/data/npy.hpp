#pragma once
// NumPy arrays: .npy files and .npz archives, the way data and weights move
// between seqnet and Python (np.save / np.load / np.savez).
//
// Reading accepts C-order and Fortran-order arrays (header versions 1.0, 2.0
// and 3.0) of float16/32/64, int8/16/32/64, uint8/16/32/64 and bool, little-
// or big-endian, and converts them to seqnet's float32 Tensor:
//   float32  copied exactly
//   float64  rounded to the nearest float32; a finite value beyond the
//            float32 range (|v| > 3.4e38) is an error
//   integers exact when |v| <= 2^24 = 16777216; a larger value (an int64 id
//            of 2^24 + 1, say) is an error naming the element, never a
//            silent rounding
//   bool     0 or 1
// A 0-d array becomes a Tensor of shape (). Structured dtypes, objects and
// strings are errors.
// Writing produces version 1.0 files (2.0 when the header needs it) in C
// order, float32 unless another dtype is asked for.
//
// Files are untrusted input: every malformed, truncated or inconsistent
// file raises IOError (or ValueError for a value rule above) with a one-line
// message naming the file; nothing reads out of bounds and allocations are
// bounded by the data actually present.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seqnet/files.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::data {

// Element types seqnet writes.
enum class NpyDType { Float32, Float64, Int32, Int64, UInt8, Bool };

// What a .npy header says.
struct NpyHeader {
  std::string descr;         // NumPy's dtype string, e.g. "<f4"
  bool fortran_order = false;
  Shape shape;               // () for a 0-d array
  int major_version = 1;
  size_t data_offset = 0;    // bytes before the data
};

// Parses and validates only the header of a .npy file held in `bytes`.
// Throws IOError naming `source` when it is not a valid .npy header.
NpyHeader parse_npy_header(std::string_view bytes, std::string_view source = "<memory>");

// Parses a whole .npy file held in memory into a float32 tensor. Throws
// IOError (malformed, truncated, unsupported dtype, data size disagreeing
// with the shape) or ValueError (a value float32 cannot hold, see above),
// naming `source`.
Tensor parse_npy(std::string_view bytes, std::string_view source = "<memory>");
// Reads a .npy file of at most `max_file_bytes` bytes (read_file's limit).
// Throws IOError when it cannot be read, and as parse_npy.
Tensor load_npy(const std::string& path, int64_t max_file_bytes = kDefaultMaxFileBytes);

// The .npy bytes of `t` stored as `dtype`. Writing an integer or bool dtype
// requires whole values in that type's range (bool: 0 or 1); throws
// ValueError naming the first offending element otherwise.
std::string serialize_npy(const Tensor& t, NpyDType dtype = NpyDType::Float32);
// Writes serialize_npy(t, dtype) to `path` atomically (temporary file, then
// rename). Throws ValueError as serialize_npy, IOError when it cannot write.
void save_npy(const std::string& path, const Tensor& t, NpyDType dtype = NpyDType::Float32);

// Named arrays of an .npz archive, in archive order ("x" for the member
// "x.npy").
using NamedArrays = std::vector<std::pair<std::string, Tensor>>;

// An archive's members are inflated under three bounds, all checked against
// the sizes the archive declares before anything is inflated, and again
// while inflating (a member that inflates past its declared size is an error
// at the first byte over, whatever its header claims):
//   - the declared sizes of all members together at most max_total_bytes;
//   - at most max_inflation_ratio times the archive's own size, except that
//     archives always may inflate to inflation_allowance bytes (zero-filled
//     arrays compress a thousandfold; deflate's ceiling is 1032:1);
//   - at most max_members members.
// So reading costs at most a bounded multiple of the archive's size.
struct NpzLimits {
  // Most decompressed bytes read from all members together. Default: 4 GiB.
  uint64_t max_total_bytes = uint64_t{4} << 30;
  // Most members. Default: 65536.
  int64_t max_members = 65536;
  // Most decompressed bytes per archive byte, beyond inflation_allowance.
  // Default: 64 (np.savez_compressed of trained float weights is about 1.1).
  double max_inflation_ratio = 64.0;
  // Decompressed bytes allowed whatever the ratio. Default: 64 MiB.
  uint64_t inflation_allowance = uint64_t{64} << 20;
  // Most bytes load_npz reads from the file (read_file's limit). Default:
  // kDefaultMaxFileBytes.
  int64_t max_file_bytes = kDefaultMaxFileBytes;
};

// Parses an .npz archive (zip, members stored or deflated) held in memory.
// Every member must be a .npy file. Throws IOError naming `source` and the
// member for a malformed archive or member, an encrypted or otherwise
// unreadable member, a member that is not .npy, duplicate names, or limits
// exceeded; ValueError as parse_npy.
NamedArrays parse_npz(const std::string& bytes, std::string_view source = "<memory>", const NpzLimits& limits = {});
// Reads an .npz file. Throws IOError when it cannot be read, and as parse_npz.
NamedArrays load_npz(const std::string& path, const NpzLimits& limits = {});

// The bytes of an .npz archive holding each array as "<name>.npy" (stored,
// or deflated with `compress` like np.savez_compressed). Throws ValueError
// for an empty or duplicate name and as serialize_npy.
std::string serialize_npz(const NamedArrays& arrays, bool compress = false, NpyDType dtype = NpyDType::Float32);
// Writes serialize_npz(...) to `path` atomically. Throws as serialize_npz,
// and IOError when it cannot write.
void save_npz(const std::string& path, const NamedArrays& arrays, bool compress = false,
              NpyDType dtype = NpyDType::Float32);

}  // namespace seqnet::data
