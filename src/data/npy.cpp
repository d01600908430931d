#include "seqnet/data/npy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <set>

#include "data/dtype_convert.hpp"
#include "zip.hpp"
#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/files.hpp"

namespace seqnet::data {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
// NumPy refuses headers above 10000 bytes by default; allow more, not much.
constexpr uint64_t kMaxHeaderLen = 1 << 20;
constexpr int kMaxRank = 32;

[[noreturn]] void bad(std::string_view source, std::string_view what) {
  throw IOError(fmt::format("{}: not a valid .npy file: {}", source, what));
}

// A minimal parser of the Python dict literal in a .npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    ws();
    expect('{');
    for (;;) {
      ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = string();
      ws();
      expect(':');
      ws();
      if (key == "descr") {
        if (peek() == '[') bad(source_, "structured dtypes (a list as 'descr') are not supported");
        h.descr = string();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        bad(source_, fmt::format("unexpected key '{}' in the header", printable(key)));
      }
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      ws();
      expect('}');
      break;
    }
    ws();
    if (i_ != s_.size()) bad(source_, "unexpected text after the header dictionary");
    if (!have_descr || !have_order || !have_shape) {
      bad(source_, "the header must hold 'descr', 'fortran_order' and 'shape'");
    }
    return h;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) {
      bad(source_, fmt::format("malformed header: expected '{}' at offset {}", c, i_));
    }
    ++i_;
  }
  std::string string() {
    const char q = peek();
    if (q != '\'' && q != '"') bad(source_, fmt::format("malformed header: expected a string at offset {}", i_));
    ++i_;
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') bad(source_, "malformed header: escapes in strings are not supported");
      ++i_;
    }
    if (i_ >= s_.size()) bad(source_, "malformed header: unterminated string");
    std::string out(s_.substr(start, i_ - start));
    ++i_;
    if (out.size() > 64) bad(source_, "malformed header: string too long");
    return out;
  }
  bool boolean() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    bad(source_, fmt::format("malformed header: expected True or False at offset {}", i_));
  }
  int64_t integer() {
    if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') {
      bad(source_, fmt::format("malformed header: expected a non-negative integer at offset {}", i_));
    }
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) bad(source_, "a dimension of the shape is too large");
      v = v * 10 + (s_[i_] - '0');
      ++i_;
    }
    if (peek() == 'L') ++i_;  // Python 2 long
    return v;
  }
  Shape tuple() {
    Shape shape;
    expect('(');
    for (;;) {
      ws();
      if (peek() == ')') {
        ++i_;
        break;
      }
      shape.push_back(integer());
      if (shape.size() > static_cast<size_t>(kMaxRank)) bad(source_, fmt::format("more than {} dimensions", kMaxRank));
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      ws();
      expect(')');
      break;
    }
    return shape;
  }

  std::string_view s_;
  std::string_view source_;
  size_t i_ = 0;
};

detail::ElemType parse_descr(const std::string& descr, std::string_view source) {
  if (descr.size() < 2) bad(source, fmt::format("unsupported dtype '{}'", printable(descr)));
  size_t k = 0;
  bool big = false;
  const char order = descr[0];
  if (order == '<' || order == '>' || order == '|' || order == '=') {
    big = order == '>';
    k = 1;
  }
  if (descr.size() - k < 2) bad(source, fmt::format("unsupported dtype '{}'", printable(descr)));
  const char code = descr[k];
  const std::string digits = descr.substr(k + 1);
  if (digits.size() != 1 || digits[0] < '1' || digits[0] > '8') {
    bad(source, fmt::format("unsupported dtype '{}'", printable(descr)));
  }
  const int size = digits[0] - '0';
  detail::ElemType t;
  t.size = size;
  t.big_endian = big && size > 1;
  bool ok = false;
  switch (code) {
    case 'f':
      t.kind = detail::ElemKind::Float;
      ok = size == 2 || size == 4 || size == 8;
      break;
    case 'i':
      t.kind = detail::ElemKind::Int;
      ok = size == 1 || size == 2 || size == 4 || size == 8;
      break;
    case 'u':
      t.kind = detail::ElemKind::UInt;
      ok = size == 1 || size == 2 || size == 4 || size == 8;
      break;
    case 'b':
      t.kind = detail::ElemKind::Bool;
      ok = size == 1;
      break;
    default:
      break;
  }
  if (!ok) {
    bad(source, fmt::format("unsupported dtype '{}' (seqnet reads float16/32/64, int8-64, uint8-64 and bool)", printable(descr)));
  }
  return t;
}

// Element count of `shape`, or -1 on overflow.
int64_t checked_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

uint64_t read_le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string descr_of(NpyDType d) {
  switch (d) {
    case NpyDType::Float32: return "<f4";
    case NpyDType::Float64: return "<f8";
    case NpyDType::Int32: return "<i4";
    case NpyDType::Int64: return "<i8";
    case NpyDType::UInt8: return "|u1";
    case NpyDType::Bool: return "|b1";
  }
  return "<f4";
}

template <class T>
void append_raw(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

[[noreturn]] void not_representable(int64_t i, float v, std::string_view dtype) {
  throw ValueError(fmt::format("save_npy: element {} ({}) cannot be stored as {}", i, v, dtype));
}

}  // namespace

// ---------------------------------------------------------------- .npy read

NpyHeader parse_npy_header(std::string_view bytes, std::string_view source) {
  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    bad(source, "missing the \\x93NUMPY magic");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  NpyHeader h;
  h.major_version = p[6];
  uint64_t header_len = 0;
  size_t prefix = 0;
  if (h.major_version == 1) {
    header_len = read_le(p + 8, 2);
    prefix = 10;
  } else if (h.major_version == 2 || h.major_version == 3) {
    if (bytes.size() < 12) bad(source, "truncated header");
    header_len = read_le(p + 8, 4);
    prefix = 12;
  } else {
    bad(source, fmt::format("unsupported format version {}.{}", p[6], p[7]));
  }
  if (header_len > kMaxHeaderLen) bad(source, fmt::format("header length {} is too large", header_len));
  if (header_len > bytes.size() - prefix) {
    bad(source, fmt::format("header length {} runs past the end of the file ({} bytes)", header_len, bytes.size()));
  }
  const std::string_view text = bytes.substr(prefix, header_len);
  const NpyHeader parsed = HeaderParser(text, source).parse();
  h.descr = parsed.descr;
  h.fortran_order = parsed.fortran_order;
  h.shape = parsed.shape;
  h.data_offset = prefix + header_len;
  return h;
}

Tensor parse_npy(std::string_view bytes, std::string_view source) {
  const NpyHeader h = parse_npy_header(bytes, source);
  const detail::ElemType t = parse_descr(h.descr, source);
  const int64_t n = checked_numel(h.shape);
  const uint64_t avail = bytes.size() - h.data_offset;
  if (n < 0 || static_cast<uint64_t>(n) > avail / static_cast<uint64_t>(t.size)) {
    bad(source, fmt::format("shape {} needs more data than the file holds ({} bytes after the header)",
                            shape_str(h.shape), avail));
  }
  const uint64_t need = static_cast<uint64_t>(n) * static_cast<uint64_t>(t.size);
  if (need != avail) {
    bad(source, fmt::format("shape {} of '{}' needs {} bytes of data but the file holds {}", shape_str(h.shape),
                            h.descr, need, avail));
  }
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data() + h.data_offset);
  Tensor out(h.shape);
  const std::string context = fmt::format("{}", source);
  if (!h.fortran_order || h.shape.size() < 2) {
    detail::convert_to_float(t, src, n, out.data(), context);
    return out;
  }
  // Fortran order: element (i0, ..., ik) sits at sum_j i_j * prod_{m<j} d_m.
  std::vector<float> tmp(static_cast<size_t>(n));
  detail::convert_to_float(t, src, n, tmp.data(), context);
  const size_t r = h.shape.size();
  std::vector<int64_t> fstride(r), idx(r, 0);
  int64_t s = 1;
  for (size_t k = 0; k < r; ++k) {
    fstride[k] = s;
    s *= h.shape[k];
  }
  for (int64_t lin = 0; lin < n; ++lin) {
    int64_t off = 0;
    for (size_t k = 0; k < r; ++k) off += idx[k] * fstride[k];
    out[lin] = tmp[static_cast<size_t>(off)];
    for (size_t k = r; k-- > 0;) {  // C-order increment
      if (++idx[k] < h.shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

Tensor load_npy(const std::string& path, int64_t max_file_bytes) { return parse_npy(read_file(path, max_file_bytes), path); }

// ---------------------------------------------------------------- .npy write

std::string serialize_npy(const Tensor& t, NpyDType dtype) {
  if (t.empty()) throw ValueError("save_npy: cannot save an empty (default-constructed) tensor");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) shape += fmt::format("{}{}", i ? ", " : "", t.shape()[i]);
  if (t.shape().size() == 1) shape += ",";
  shape += ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr_of(dtype), shape);
  // Pad with spaces and a newline so that the data starts at a multiple of 64.
  size_t prefix = 10;
  size_t total = prefix + dict.size() + 1;
  if ((total + 63) / 64 * 64 - prefix > 65535) prefix = 12;
  total = prefix + dict.size() + 1;
  const size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicLen);
  if (prefix == 10) {
    out.push_back('\x01');
    out.push_back('\x00');
    append_raw(out, static_cast<uint16_t>(dict.size()));
  } else {
    out.push_back('\x02');
    out.push_back('\x00');
    append_raw(out, static_cast<uint32_t>(dict.size()));
  }
  out += dict;
  const int64_t n = t.size();
  const float* d = t.data();
  switch (dtype) {
    case NpyDType::Float32:
      out.append(reinterpret_cast<const char*>(d), static_cast<size_t>(n) * sizeof(float));
      break;
    case NpyDType::Float64:
      out.reserve(out.size() + static_cast<size_t>(n) * 8);
      for (int64_t i = 0; i < n; ++i) append_raw(out, static_cast<double>(d[i]));
      break;
    case NpyDType::Int32:
      for (int64_t i = 0; i < n; ++i) {
        const float v = d[i];
        if (!(v == std::trunc(v) && v >= -2147483648.0f && v < 2147483648.0f)) not_representable(i, v, "int32");
        append_raw(out, static_cast<int32_t>(v));
      }
      break;
    case NpyDType::Int64:
      for (int64_t i = 0; i < n; ++i) {
        const float v = d[i];
        if (!(v == std::trunc(v) && v >= -9.2233720368547758e18f && v < 9.2233720368547758e18f)) {
          not_representable(i, v, "int64");
        }
        append_raw(out, static_cast<int64_t>(v));
      }
      break;
    case NpyDType::UInt8:
      for (int64_t i = 0; i < n; ++i) {
        const float v = d[i];
        if (!(v == std::trunc(v) && v >= 0.0f && v <= 255.0f)) not_representable(i, v, "uint8");
        out.push_back(static_cast<char>(static_cast<uint8_t>(v)));
      }
      break;
    case NpyDType::Bool:
      for (int64_t i = 0; i < n; ++i) {
        const float v = d[i];
        if (v != 0.0f && v != 1.0f) not_representable(i, v, "bool (0 or 1)");
        out.push_back(v != 0.0f ? '\x01' : '\x00');
      }
      break;
  }
  return out;
}

void save_npy(const std::string& path, const Tensor& t, NpyDType dtype) {
  write_file_atomic(path, serialize_npy(t, dtype));
}

// ---------------------------------------------------------------- .npz

NamedArrays parse_npz(const std::string& bytes, std::string_view source, const NpzLimits& limits) {
  const zip::Reader z(bytes, std::string(source), ".npz archive",
                          {.max_members = limits.max_members,
                           .max_total_bytes = limits.max_total_bytes,
                           .max_inflation_ratio = limits.max_inflation_ratio,
                           .inflation_allowance = limits.inflation_allowance,
                           .limits_name = "NpzLimits"});
  // Every name first: nothing is inflated for an archive with a bad one.
  for (const auto& m : z.members()) {
    if (m.is_directory) continue;
    if (m.name.size() < 5 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0) {
      z.fail(fmt::format("member '{}' is not a .npy file", printable(m.name)));
    }
  }
  NamedArrays out;
  for (const auto& m : z.members()) {
    if (m.is_directory) continue;
    const std::string name = m.name.substr(0, m.name.size() - 4);
    out.emplace_back(name, parse_npy(z.read(m), fmt::format("{} (member '{}')", source, printable(m.name))));
  }
  return out;
}

NamedArrays load_npz(const std::string& path, const NpzLimits& limits) {
  return parse_npz(read_file(path, limits.max_file_bytes), path, limits);
}

std::string serialize_npz(const NamedArrays& arrays, bool compress, NpyDType dtype) {
  std::set<std::string> seen;
  std::vector<std::string> data;
  data.reserve(arrays.size());
  std::vector<std::pair<std::string, std::string_view>> members;
  for (const auto& [name, t] : arrays) {
    if (name.empty()) throw ValueError("save_npz: an array has an empty name");
    if (!seen.insert(name).second) throw ValueError(fmt::format("save_npz: the name '{}' appears twice", name));
    data.push_back(serialize_npy(t, dtype));
  }
  for (size_t i = 0; i < arrays.size(); ++i) members.emplace_back(arrays[i].first + ".npy", data[i]);
  return zip::write(members, compress, "save_npz");
}

void save_npz(const std::string& path, const NamedArrays& arrays, bool compress, NpyDType dtype) {
  write_file_atomic(path, serialize_npz(arrays, compress, dtype));
}

}  // namespace seqnet::data
