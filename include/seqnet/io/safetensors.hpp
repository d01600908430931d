#pragma once
// The safetensors container (https://github.com/huggingface/safetensors),
// which seqnet model files use:
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   a JSON object: for each tensor "name": {"dtype": "F32",
//             "shape": [2, 3], "data_offsets": [begin, end]} (byte offsets
//             into the data section), plus an optional "__metadata__" map of
//             strings to strings; may end with spaces
//   the data section: the tensors' raw little-endian bytes
//
// Reading is built for untrusted files: the header length, the JSON (depth
// and size), every dtype, shape and offset are checked (offsets inside the
// data section, not overlapping, byte counts equal to dtype size x element
// count, the data section fully used) before anything is converted, and any
// violation is an IOError with a one-line message naming the file.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "seqnet/tensor.hpp"

namespace seqnet::io {

// Element types of the format. seqnet writes F32; it reads all of these and
// converts them to float32 with the rules of seqnet/data/npy.hpp (integers
// exact up to 2^24, larger ones an error; F64 beyond the float32 range an
// error).
enum class DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

// "F32", "I64", ...
std::string_view dtype_name(DType d);
// Bytes per element.
int dtype_size(DType d);

// One tensor's entry in the header.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range in the data section
  int64_t numel() const;
};

struct SafetensorsLimits {
  // Largest header accepted. Default: 100 MB (the format's own limit).
  uint64_t max_header_bytes = 100'000'000;
  // Deepest JSON nesting accepted in the header. Default: 64.
  int max_json_depth = 64;
  // Largest rank of a tensor. Default: 16.
  int max_rank = 16;
};

// A parsed and validated safetensors file (it owns its bytes).
class SafetensorsFile {
 public:
  // Parses `bytes`; `source` names the file in messages. Throws IOError for
  // any structural problem (see above).
  static SafetensorsFile parse(std::string bytes, std::string source = "<memory>",
                               const SafetensorsLimits& limits = {});
  // Reads and parses a file. Throws IOError when it cannot be read, and as
  // parse().
  static SafetensorsFile read(const std::string& path, const SafetensorsLimits& limits = {});

  const std::string& source() const { return source_; }
  // The "__metadata__" map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Tensor entries in data order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // The entry named `name`, or nullptr.
  const TensorInfo* find(std::string_view name) const;
  // The raw bytes of a tensor. REQUIRES: `info` comes from tensors().
  std::string_view raw(const TensorInfo& info) const;
  // The tensor converted to float32 (see DType). Throws ValueError for a
  // value that float32 cannot hold.
  Tensor to_tensor(const TensorInfo& info) const;
  // to_tensor of the entry named `name`. Throws IOError when there is none.
  Tensor tensor(std::string_view name) const;

 private:
  std::string bytes_;
  std::string source_;
  size_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// The bytes of a safetensors file holding `tensors` as F32 (in the given
// order) and `metadata`. Throws ValueError for an empty, duplicate or
// "__metadata__" name, or an empty (default-constructed) tensor.
std::string serialize_safetensors(const std::vector<NamedTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
// Writes serialize_safetensors(...) to `path` atomically (temporary file,
// then rename). Throws as serialize_safetensors, and IOError when it cannot
// write.
void save_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace seqnet::io
