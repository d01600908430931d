#include "seqnet/io/safetensors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "data/dtype_convert.hpp"
#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/json.hpp"

namespace seqnet::io {

namespace {

struct DTypeEntry {
  DType d;
  const char* name;
  int size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},   {DType::I8, "I8", 1},     {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},   {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},   {DType::F32, "F32", 4}, {DType::I64, "I64", 8},   {DType::U64, "U64", 8},
    {DType::F64, "F64", 8},
};

[[noreturn]] void bad(std::string_view source, std::string_view what) {
  throw IOError(fmt::format("{}: not a valid safetensors file: {}", source, what));
}

detail::ElemType elem_type(DType d) {
  detail::ElemType t;
  t.size = dtype_size(d);
  switch (d) {
    case DType::BOOL: t.kind = detail::ElemKind::Bool; break;
    case DType::U8: case DType::U16: case DType::U32: case DType::U64: t.kind = detail::ElemKind::UInt; break;
    case DType::I8: case DType::I16: case DType::I32: case DType::I64: t.kind = detail::ElemKind::Int; break;
    case DType::BF16: t.kind = detail::ElemKind::Float; t.bfloat16 = true; break;
    case DType::F16: case DType::F32: case DType::F64: t.kind = detail::ElemKind::Float; break;
  }
  return t;
}

uint64_t as_offset(const nlohmann::json& v, std::string_view source, const std::string& name) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    bad(source, fmt::format("tensor '{}': data_offsets must be non-negative integers", printable(name)));
  }
  return v.get<uint64_t>();
}

}  // namespace

std::string_view dtype_name(DType d) {
  for (const auto& e : kDTypes)
    if (e.d == d) return e.name;
  return "?";
}

int dtype_size(DType d) {
  for (const auto& e : kDTypes)
    if (e.d == d) return e.size;
  return 0;
}

int64_t TensorInfo::numel() const {
  // A zero-size tensor may list huge other dimensions ([2^62, 3, 0]); their
  // product must not be formed. Parsed non-empty tensors hold numel * size
  // bytes of the file, so their count cannot overflow; saturate anyway.
  for (int64_t d : shape) {
    if (d == 0) return 0;
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d > std::numeric_limits<int64_t>::max() / n) return std::numeric_limits<int64_t>::max();
    n *= d;
  }
  return n;
}

namespace {

// The header length N from the first 8 bytes (little-endian), after
// telling other file types apart; N must be within the limit and the file.
uint64_t header_length(const std::string& b, std::string_view src, const SafetensorsLimits& limits) {
  if (b.size() >= 6 && b.compare(0, 6, "\x93NUMPY") == 0) {
    bad(src, "this is a NumPy .npy file, not a model or tensor file");
  }
  if (b.size() >= 4 && b.compare(0, 4, "PK\x03\x04") == 0) {
    bad(src, "this is a zip archive (an .npz, or a PyTorch .pt file: export it with "
             "tools/export_torch_state_dict.py)");
  }
  if (b.size() < 8) bad(src, fmt::format("{} bytes is shorter than the 8-byte header length", b.size()));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
  if (n > limits.max_header_bytes) {
    bad(src, fmt::format("header length {} exceeds the limit of {} bytes", n, limits.max_header_bytes));
  }
  if (n > b.size() - 8) bad(src, fmt::format("header length {} runs past the end of the file ({} bytes)", n, b.size()));
  return n;
}

// The header: the JSON object in bytes [8, 8 + n) of `b`.
nlohmann::json parse_header(const std::string& b, uint64_t n, std::string_view src, const SafetensorsLimits& limits) {
  if (n < 2 || b[8] != '{') bad(src, "the header is not a JSON object");
  // Trailing spaces pad the header; the JSON parser skips them.
  nlohmann::json header = parse_untrusted_json(std::string_view(b).substr(8, static_cast<size_t>(n)),
                                               fmt::format("{}: header", src), {.max_depth = limits.max_json_depth});
  if (!header.is_object()) bad(src, "the header is not a JSON object");
  return header;
}

// The "__metadata__" entry `v`, an object of strings, into `metadata`.
void parse_metadata(const nlohmann::json& v, std::string_view src, std::map<std::string, std::string>& metadata) {
  if (!v.is_object()) bad(src, "__metadata__ must be an object of strings");
  for (auto m = v.begin(); m != v.end(); ++m) {
    if (!m.value().is_string()) bad(src, fmt::format("__metadata__ value '{}' is not a string", printable(m.key())));
    metadata[m.key()] = m.value().get<std::string>();
  }
}

// The "dtype" of tensor entry `v`: one of kDTypes.
DType parse_dtype(const nlohmann::json& v, std::string_view src, const std::string& name) {
  const auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) bad(src, fmt::format("tensor '{}': missing dtype", printable(name)));
  const std::string dts = dt->get<std::string>();
  for (const auto& e : kDTypes) {
    if (dts == e.name) return e.d;
  }
  bad(src, fmt::format("tensor '{}': unsupported dtype '{}'", printable(name), printable(dts)));
}

// An element count; `huge` when it (or a dimension) does not fit.
struct ElementCount {
  uint64_t numel = 1;
  bool huge = false;
};

// The "shape" of tensor entry `v` into `shape` (a dimension too large is
// kept as 0), and its element count with overflow checks.
ElementCount parse_shape(const nlohmann::json& v, std::string_view src, const std::string& name, int max_rank,
                         Shape& shape) {
  const auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array()) bad(src, fmt::format("tensor '{}': missing shape", printable(name)));
  if (sh->size() > static_cast<size_t>(max_rank)) {
    bad(src, fmt::format("tensor '{}': rank {} exceeds {}", printable(name), sh->size(), max_rank));
  }
  ElementCount n;
  for (const auto& d : *sh) {
    if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<int64_t>() < 0)) {
      bad(src, fmt::format("tensor '{}': shape entries must be non-negative integers", printable(name)));
    }
    const uint64_t dim = d.get<uint64_t>();
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) n.huge = true;
    if (dim != 0 && n.numel > std::numeric_limits<uint64_t>::max() / dim) n.huge = true;
    if (!n.huge) n.numel *= dim;
    shape.push_back(n.huge ? 0 : static_cast<int64_t>(dim));
  }
  return n;
}

// One tensor entry `v` of the header: its keys, dtype, shape and
// data_offsets, which must lie in the data section (data_len bytes) and
// hold exactly the bytes that the dtype and shape need.
TensorInfo parse_tensor(const std::string& name, const nlohmann::json& v, std::string_view src, uint64_t data_len,
                        const SafetensorsLimits& limits) {
  if (name.empty()) bad(src, "a tensor has an empty name");
  if (!v.is_object()) bad(src, fmt::format("tensor '{}': entry is not an object", printable(name)));
  for (auto k = v.begin(); k != v.end(); ++k) {
    if (k.key() != "dtype" && k.key() != "shape" && k.key() != "data_offsets") {
      bad(src, fmt::format("tensor '{}': unexpected key '{}'", printable(name), printable(k.key())));
    }
  }
  TensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(v, src, name);
  // Element count with overflow checks, bounded by the data present.
  const ElementCount count = parse_shape(v, src, name, limits.max_rank, info.shape);
  const uint64_t numel = count.numel;
  const auto size = static_cast<uint64_t>(dtype_size(info.dtype));
  const bool huge = count.huge || numel > std::numeric_limits<uint64_t>::max() / size;
  const auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2) {
    bad(src, fmt::format("tensor '{}': data_offsets must be [begin, end]", printable(name)));
  }
  info.begin = as_offset((*off)[0], src, name);
  info.end = as_offset((*off)[1], src, name);
  if (info.begin > info.end || info.end > data_len) {
    bad(src, fmt::format("tensor '{}': data_offsets [{}, {}] are outside the data section ({} bytes)", printable(name),
                         info.begin, info.end, data_len));
  }
  if (huge || numel * size != info.end - info.begin) {
    bad(src, fmt::format("tensor '{}': {} of shape {} needs {} bytes but data_offsets give {}", printable(name),
                         dtype_name(info.dtype), huge ? std::string("(too large)") : shape_str(info.shape),
                         huge ? std::string("more than 2^64") : std::to_string(numel * size),
                         info.end - info.begin));
  }
  return info;
}

// A tensor's byte range in the data section; `index` into the entries.
struct Range {
  uint64_t begin, end;
  size_t index;
};

// Sorts `ranges` by offset and checks that they tile the data section
// (data_len bytes) exactly: no overlaps, no holes.
void check_tiling(std::vector<Range>& ranges, const std::vector<TensorInfo>& tensors, std::string_view src,
                  uint64_t data_len) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& c) {
    return a.begin != c.begin ? a.begin < c.begin : a.end < c.end;
  });
  uint64_t pos = 0;
  for (const auto& r : ranges) {
    if (r.begin < pos) {
      bad(src, fmt::format("tensor '{}': data_offsets [{}, {}] overlap another tensor", printable(tensors[r.index].name),
                           r.begin, r.end));
    }
    if (r.begin > pos) {
      bad(src, fmt::format("bytes [{}, {}) of the data section belong to no tensor", pos, r.begin));
    }
    pos = r.end;
  }
  if (pos != data_len) {
    bad(src, fmt::format("the data section has {} bytes but the tensors use {}", data_len, pos));
  }
}

}  // namespace

SafetensorsFile SafetensorsFile::parse(std::string bytes, std::string source, const SafetensorsLimits& limits) {
  SafetensorsFile f;
  f.bytes_ = std::move(bytes);
  f.source_ = std::move(source);
  const std::string& b = f.bytes_;
  const std::string_view src = f.source_;
  const uint64_t n = header_length(b, src, limits);
  const nlohmann::json header = parse_header(b, n, src, limits);
  f.data_start_ = 8 + static_cast<size_t>(n);
  const uint64_t data_len = b.size() - f.data_start_;
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      parse_metadata(it.value(), src, f.metadata_);
      continue;
    }
    TensorInfo info = parse_tensor(it.key(), it.value(), src, data_len, limits);
    ranges.push_back({info.begin, info.end, f.tensors_.size()});
    f.tensors_.push_back(std::move(info));
  }
  check_tiling(ranges, f.tensors_, src, data_len);
  // Keep the entries in data order, and index them by name.
  std::vector<TensorInfo> ordered;
  ordered.reserve(ranges.size());
  for (const auto& r : ranges) ordered.push_back(std::move(f.tensors_[r.index]));
  f.tensors_ = std::move(ordered);
  for (size_t i = 0; i < f.tensors_.size(); ++i) f.index_[f.tensors_[i].name] = i;
  return f;
}

SafetensorsFile SafetensorsFile::read(const std::string& path, const SafetensorsLimits& limits) {
  return parse(read_file(path), path, limits);
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::string_view SafetensorsFile::raw(const TensorInfo& info) const {
  return std::string_view(bytes_).substr(data_start_ + info.begin, info.end - info.begin);
}

Tensor SafetensorsFile::to_tensor(const TensorInfo& info) const {
  Tensor t(info.shape);
  const std::string_view r = raw(info);
  detail::convert_to_float(elem_type(info.dtype), reinterpret_cast<const unsigned char*>(r.data()), t.size(),
                           t.data(), fmt::format("{}: tensor '{}'", source_, printable(info.name)));
  return t;
}

Tensor SafetensorsFile::tensor(std::string_view name) const {
  const TensorInfo* info = find(name);
  if (info == nullptr) throw IOError(fmt::format("{}: no tensor named '{}'", source_, printable(name)));
  return to_tensor(*info);
}

std::string serialize_safetensors(const std::vector<NamedTensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& nt : tensors) {
    if (nt.name.empty()) throw ValueError("save_safetensors: a tensor has an empty name");
    if (nt.name == "__metadata__") throw ValueError("save_safetensors: '__metadata__' is not a valid tensor name");
    if (!seen.insert(nt.name).second) {
      throw ValueError(fmt::format("save_safetensors: the name '{}' appears twice", nt.name));
    }
    if (nt.tensor.empty()) throw ValueError(fmt::format("save_safetensors: tensor '{}' is empty", nt.name));
    const uint64_t nbytes = static_cast<uint64_t>(nt.tensor.size()) * sizeof(float);
    header[nt.name] = {{"dtype", "F32"}, {"shape", nt.tensor.shape()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(fmt::format("save_safetensors: a name or metadata value is not valid UTF-8 ({})", e.what()));
  }
  // Pad the header with spaces so that the data starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + text.size() + offset);
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += text;
  for (const auto& nt : tensors) {
    out.append(reinterpret_cast<const char*>(nt.tensor.data()), static_cast<size_t>(nt.tensor.size()) * sizeof(float));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace seqnet::io
