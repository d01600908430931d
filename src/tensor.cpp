#include "seqnet/tensor.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <ostream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "seqnet/error.hpp"

namespace seqnet {

namespace {

constexpr size_t kAlignment = 64;
// Tensors of at least this size go on transparent huge pages: layers
// allocate outputs and gradients of several MB per call, and faulting them in
// 4 KB pages cost up to 15% of a training step.
constexpr size_t kHugePage = size_t{2} << 20;

#if defined(__SANITIZE_ADDRESS__)
#define SEQNET_BLOCK_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEQNET_BLOCK_CACHE 0
#endif
#endif
#ifndef SEQNET_BLOCK_CACHE
#define SEQNET_BLOCK_CACHE 1
#endif

// Freed blocks of kCacheMin bytes and more are kept for reuse, by size
// class. Training allocates the same few large buffers every batch (outputs,
// gate caches, gradients); returning them to malloc made it unmap and
// fault them in again, and with batches of changing lengths (bucketing)
// that cost a third of the time. Sizes are rounded up to classes an eighth
// of a power of two apart, so buffers of nearby sizes share blocks. At most
// kCacheLimit bytes are kept; release_cached_memory() frees them. Off under
// AddressSanitizer, so that it still sees every use after free.
constexpr size_t kCacheMin = size_t{64} << 10;
constexpr size_t kCacheLimit = size_t{512} << 20;

class BlockCache {
 public:
  static BlockCache& instance() {
    static auto* cache = new BlockCache;  // never destroyed: tensors may be freed during static destruction
    return *cache;
  }
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }
  // False when the cache is full: the caller frees the block.
  bool give(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ + bytes > kCacheLimit) return false;
    free_[bytes].push_back(p);
    cached_ += bytes;
    return true;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

// The block size for `want` bytes: whole alignment units (aligned_alloc
// requires it, and every non-empty tensor gets storage), and for cached
// sizes the size class.
size_t block_bytes(size_t want, size_t align) {
  size_t bytes = std::max(want, align);
  if (SEQNET_BLOCK_CACHE && bytes >= kCacheMin) {
    const size_t step = (size_t{1} << (63 - __builtin_clzll(bytes))) / 8;
    bytes = (bytes + step - 1) / step * step;
  }
  return (bytes + align - 1) / align * align;
}

std::shared_ptr<float> allocate(int64_t n) {
  const size_t want = static_cast<size_t>(n) * sizeof(float);
  const size_t align = want >= kHugePage ? kHugePage : kAlignment;
  const size_t bytes = block_bytes(want, align);
  const bool cached = SEQNET_BLOCK_CACHE && bytes >= kCacheMin;
  void* p = cached ? BlockCache::instance().take(bytes) : nullptr;
  if (p == nullptr) {
    p = std::aligned_alloc(align, bytes);
    if (p == nullptr) throw Error(fmt::format("Tensor: cannot allocate {} bytes", bytes));
    if (align == kHugePage) ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint; failure is harmless
  }
  if (!cached) return std::shared_ptr<float>(static_cast<float*>(p), [](float* q) { std::free(q); });
  return std::shared_ptr<float>(static_cast<float*>(p), [bytes](float* q) {
    if (!BlockCache::instance().give(q, bytes)) std::free(q);
  });
}

int64_t checked_size(const Shape& shape) {
  // 2^40 floats (4 TiB) is far beyond any machine; the limit keeps size
  // arithmetic from overflowing on hostile shapes.
  constexpr int64_t kMax = int64_t{1} << 40;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError(fmt::format("Tensor: invalid shape {}: negative dimension", shape_str(shape)));
    if (d != 0 && n > kMax / d) throw ShapeError(fmt::format("Tensor: shape {} is too large", shape_str(shape)));
    n *= d;
  }
  return n;
}

}  // namespace

void release_cached_memory() {
#if SEQNET_BLOCK_CACHE
  BlockCache::instance().release();
#endif
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == None ? std::string("None") : std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  s += ")";
  return s;
}

int64_t shape_size(const Shape& shape) { return checked_size(shape); }

double shape_elements(const Shape& shape) {
  double n = 1.0;
  for (int64_t d : shape) n *= d >= 0 ? static_cast<double>(d) : 1.0;
  return n;
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
  size_ = checked_size(shape_);
  storage_ = allocate(size_);
  data_ = storage_.get();
  std::memset(data_, 0, static_cast<size_t>(size_) * sizeof(float));
}

Tensor::Tensor(Shape shape, float fill) : shape_(std::move(shape)) {
  size_ = checked_size(shape_);
  storage_ = allocate(size_);
  data_ = storage_.get();
  std::fill(data_, data_ + size_, fill);
}

Tensor::Tensor(Shape shape, const std::vector<float>& values) : shape_(std::move(shape)) {
  size_ = checked_size(shape_);
  if (static_cast<int64_t>(values.size()) != size_) {
    throw ShapeError(fmt::format("Tensor: shape {} needs {} values, got {}", shape_str(shape_), size_,
                                 values.size()));
  }
  storage_ = allocate(size_);
  data_ = storage_.get();
  std::copy(values.begin(), values.end(), data_);
}

Tensor::Tensor(Shape shape, std::initializer_list<float> values)
    : Tensor(std::move(shape), std::vector<float>(values)) {}

Tensor Tensor::uninitialized(Shape shape) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.size_ = checked_size(t.shape_);
  t.storage_ = allocate(t.size_);
  t.data_ = t.storage_.get();
  return t;
}

Tensor Tensor::borrow(Shape shape, float* data, std::shared_ptr<const void> owner) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.size_ = checked_size(t.shape_);
  if (data == nullptr && t.size_ > 0) {
    throw ValueError(fmt::format("Tensor::borrow: null data for shape {}", shape_str(t.shape_)));
  }
  if (owner == nullptr) {
    throw ValueError(fmt::format("Tensor::borrow: no owner for the memory of shape {}", shape_str(t.shape_)));
  }
  // The aliasing constructor: the handle points at `data` and shares
  // `owner`'s count. A zero-size tensor still gets a non-null pointer, so
  // it is not empty().
  static float zero_size_anchor = 0.0f;
  t.storage_ = std::shared_ptr<float>(std::const_pointer_cast<void>(std::move(owner)),
                                      data != nullptr ? data : &zero_size_anchor);
  t.data_ = t.storage_.get();
  return t;
}

int64_t Tensor::dim(int i) const {
  const int r = rank();
  const int j = i < 0 ? i + r : i;
  if (j < 0 || j >= r) {
    throw ShapeError(fmt::format("Tensor::dim: axis {} is out of range for shape {}", i, shape_str(shape_)));
  }
  return shape_[j];
}

Tensor Tensor::reshape(Shape shape) const {
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == None) {
      if (infer >= 0) throw ShapeError(fmt::format("Tensor::reshape: more than one None in {}", shape_str(shape)));
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw ShapeError(fmt::format("Tensor::reshape: invalid target shape {}", shape_str(shape)));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || size_ % known != 0) {
      throw ShapeError(fmt::format("Tensor::reshape: cannot reshape {} into {}", shape_str(shape_), shape_str(shape)));
    }
    shape[infer] = size_ / known;
    known = size_;
  }
  if (known != size_) {
    throw ShapeError(fmt::format("Tensor::reshape: cannot reshape {} ({} values) into {}", shape_str(shape_), size_,
                                 shape_str(shape)));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  if (rank() < 1 || begin < 0 || end < begin || end > shape_[0]) {
    throw ShapeError(fmt::format("Tensor::rows: range [{}, {}) is outside shape {}", begin, end, shape_str(shape_)));
  }
  const int64_t row_size = shape_[0] == 0 ? 0 : size_ / shape_[0];
  Tensor t = *this;
  t.data_ = data_ + begin * row_size;
  t.shape_[0] = end - begin;
  t.size_ = (end - begin) * row_size;
  return t;
}

namespace {

// The axis `axis` of `t` counted from the end when negative. Throws
// ShapeError naming the function, the axis and the shape.
int64_t checked_axis(const char* fn, const Tensor& t, int64_t axis) {
  const int64_t r = t.rank();
  const int64_t a = axis < 0 ? axis + r : axis;
  if (t.empty() || a < 0 || a >= r) {
    throw ShapeError(fmt::format("Tensor::{}: axis {} is out of range for {}", fn, axis,
                                 t.empty() ? std::string("an empty tensor (no shape)")
                                           : fmt::format("shape {} (rank {})", shape_str(t.shape()), r)));
  }
  return a;
}

// Elements before `axis` (outer) and after it (inner), in row-major order.
std::pair<int64_t, int64_t> outer_inner(const Shape& shape, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= shape[k];
  for (size_t k = static_cast<size_t>(axis) + 1; k < shape.size(); ++k) inner *= shape[k];
  return {outer, inner};
}

// Copies, for each of `outer` blocks of `src_block` floats, `count` floats
// starting at `first` into consecutive blocks of `count` floats of `dst`.
void copy_blocks(const float* src, float* dst, int64_t outer, int64_t src_block, int64_t first, int64_t count) {
  if (count == 0) return;
  for (int64_t o = 0; o < outer; ++o) {
    std::memcpy(dst + o * count, src + o * src_block + first, static_cast<size_t>(count) * sizeof(float));
  }
}

Tensor slice_impl(const Tensor& t, int64_t axis, int64_t begin, const int64_t* end) {
  const int64_t a = checked_axis("slice", t, axis);
  const int64_t n = t.shape()[a];
  const int64_t b = begin < 0 ? begin + n : begin;
  const int64_t e = end == nullptr ? n : (*end < 0 ? *end + n : *end);
  if (b < 0 || e < b || e > n) {
    const std::string range = end == nullptr ? fmt::format("begin {} (to the end)", begin)
                                             : fmt::format("begin {}, end {}", begin, *end);
    const std::string counted =
        (b != begin || e != (end == nullptr ? n : *end)) ? fmt::format(" (from the end: [{}, {}))", b, e) : "";
    throw ShapeError(fmt::format("Tensor::slice: axis {}, {}{} is outside shape {}: axis {} has {} entries, and "
                                 "the range needs 0 <= begin <= end <= {} (negative values count from the end)",
                                 axis, range, counted, shape_str(t.shape()), axis, n, n));
  }
  Shape shape = t.shape();
  shape[a] = e - b;
  Tensor out = Tensor::uninitialized(shape);
  const auto [outer, inner] = outer_inner(t.shape(), a);
  copy_blocks(t.data(), out.data(), outer, n * inner, b * inner, (e - b) * inner);
  return out;
}

}  // namespace

Tensor Tensor::slice(int64_t axis, int64_t begin, int64_t end) const { return slice_impl(*this, axis, begin, &end); }

Tensor Tensor::slice(int64_t axis, int64_t begin) const { return slice_impl(*this, axis, begin, nullptr); }

Tensor Tensor::index(int64_t axis, int64_t i) const {
  const int64_t a = checked_axis("index", *this, axis);
  const int64_t n = shape_[a];
  const int64_t j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) {
    throw ShapeError(fmt::format("Tensor::index: index {} is out of range for axis {} of shape {}, which has {} "
                                 "entries (valid: {} to {}, negative values count from the end)",
                                 i, axis, shape_str(shape_), n, -n, n - 1));
  }
  Shape shape = shape_;
  shape.erase(shape.begin() + a);
  Tensor out = Tensor::uninitialized(shape);
  const auto [outer, inner] = outer_inner(shape_, a);
  copy_blocks(data_, out.data(), outer, n * inner, j * inner, inner);
  return out;
}

MatView Tensor::time_slice(int64_t t) const {
  const int64_t T = shape_[1], F = shape_[2];
  return MatView{data_ + t * F, shape_[0], F, T * F};
}

MatView Tensor::matrix() const {
  const int64_t cols = shape_.back();
  const int64_t rows = cols == 0 ? 0 : size_ / cols;
  return MatView{data_, rows, cols, cols};
}

Tensor Tensor::clone() const {
  if (empty()) return Tensor();
  Tensor t = Tensor::uninitialized(shape_);
  std::copy(data_, data_ + size_, t.data_);
  return t;
}

void Tensor::fill(float v) { std::fill(data_, data_ + size_, v); }

void Tensor::copy_from(const Tensor& src) {
  if (src.size_ != size_) {
    throw ShapeError(fmt::format("Tensor::copy_from: sizes differ: {} vs {}", shape_str(shape_), shape_str(src.shape_)));
  }
  std::copy(src.data_, src.data_ + size_, data_);
}

void ensure_shape(Tensor& t, const Shape& shape) {
  if (t.empty() || t.shape() != shape) t = Tensor::uninitialized(shape);
}

double sum(const Tensor& t) {
  double s = 0;
  for (float v : t) s += v;
  return s;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) {
    throw ShapeError(fmt::format("max_abs_diff: shapes differ: {} vs {}", shape_str(a.shape()), shape_str(b.shape())));
  }
  float m = 0;
  for (int64_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// ---------------------------------------------------------------- printing
//
// A port of NumPy's array2string (numpy/core/arrayprint.py, legacy=False,
// floatmode "maxprec", sign "-", suppress False): FloatingFormat for the
// numbers and _formatArray for the layout.

namespace {

// A float32 value as "int.frac" ("1." for integral values) with the fewest
// digits that identify it, at most `precision` after the point.
std::string positional(float x, int precision) {
  char buf[128];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed);
  std::string s(buf, r.ptr);
  size_t dot = s.find('.');
  const size_t frac = dot == std::string::npos ? 0 : s.size() - dot - 1;
  if (frac > static_cast<size_t>(precision)) {
    // Round the exact value, as Dragon4 does at its cutoff.
    r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, precision);
    s.assign(buf, r.ptr);
    dot = s.find('.');
    if (dot != std::string::npos) {
      while (s.back() == '0') s.pop_back();
    }
  }
  if (s.find('.') == std::string::npos) s += '.';
  return s;
}

// A float32 value in scientific notation, split into "d" (with its sign),
// the digits after the point (fewest that identify it, at most
// `precision`) and the exponent's sign and digits ("-05").
struct Scientific {
  std::string int_part, frac, exp;
};

Scientific scientific(float x, int precision) {
  char buf[128];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  size_t e = s.find('e');
  size_t dot = s.find('.');
  const size_t frac = dot == std::string::npos || dot > e ? 0 : e - dot - 1;
  if (frac > static_cast<size_t>(precision)) {
    r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific, precision);
    s.assign(buf, r.ptr);
    e = s.find('e');
    dot = s.find('.');
  }
  Scientific out;
  out.exp = s.substr(e + 1);
  const std::string mant = s.substr(0, e);
  dot = mant.find('.');
  out.int_part = mant.substr(0, dot);
  out.frac = dot == std::string::npos ? std::string() : mant.substr(dot + 1);
  while (!out.frac.empty() && out.frac.back() == '0') out.frac.pop_back();
  return out;
}

// NumPy's FloatingFormat: decides the notation and the padding from the
// values shown, then formats each value to the same width.
class FloatFormat {
 public:
  FloatFormat(const std::vector<float>& shown, int precision) : precision_(std::max(precision, 0)) {
    std::vector<float> finite;
    bool has_nonfinite = false, neg_inf = false;
    for (float v : shown) {
      if (std::isfinite(v)) {
        finite.push_back(v);
      } else {
        has_nonfinite = true;
        neg_inf = neg_inf || (std::isinf(v) && v < 0);
      }
    }
    double max_abs = 0, min_abs = std::numeric_limits<double>::infinity();
    for (float v : finite) {
      const double a = std::fabs(static_cast<double>(v));
      if (a == 0) continue;
      max_abs = std::max(max_abs, a);
      min_abs = std::min(min_abs, a);
    }
    if (max_abs > 0) {
      exp_ = max_abs >= 1e8 || min_abs < 1e-4 || static_cast<float>(max_abs) / static_cast<float>(min_abs) > 1000.0f;
    }
    if (finite.empty()) {
      exp_ = false;
    } else if (exp_) {
      size_t frac = 0, exp_digits = 0;
      for (float v : finite) {
        const Scientific s = scientific(v, precision_);
        frac = std::max(frac, s.frac.size());
        exp_digits = std::max(exp_digits, s.exp.size() - 1);
        pad_left_ = std::max(pad_left_, s.int_part.size());
      }
      exp_frac_ = frac;
      exp_digits_ = exp_digits;
      pad_right_ = exp_digits + 2 + frac;
    } else {
      for (float v : finite) {
        const std::string s = positional(v, precision_);
        const size_t dot = s.find('.');
        pad_left_ = std::max(pad_left_, dot);
        pad_right_ = std::max(pad_right_, s.size() - dot - 1);
      }
    }
    if (has_nonfinite) {
      const size_t offset = pad_right_ + 1;
      const size_t inf_len = 3 + (neg_inf ? 1 : 0);
      if (3 > offset) pad_left_ = std::max(pad_left_, 3 - offset);
      if (inf_len > offset) pad_left_ = std::max(pad_left_, inf_len - offset);
    }
  }

  std::string operator()(float v) const {
    if (!std::isfinite(v)) {
      const std::string s = std::isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf");
      const size_t width = pad_left_ + pad_right_ + 1;
      return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
    }
    if (exp_) {
      // Every value gets exp_frac_ digits after the point: Dragon4's
      // min_digits prints the exact value's further digits, rounded (0.1f
      // with 8 digits is 1.00000001e-01), which is what to_chars does.
      char buf[128];
      const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific,
                                   static_cast<int>(exp_frac_));
      const std::string full(buf, r.ptr);
      const size_t e = full.find('e');
      Scientific s;
      s.exp = full.substr(e + 1);
      const size_t dot = full.find('.');
      s.int_part = full.substr(0, std::min(dot, e));
      s.frac = dot < e ? full.substr(dot + 1, e - dot - 1) : std::string();
      std::string out(pad_left_ > s.int_part.size() ? pad_left_ - s.int_part.size() : 0, ' ');
      out += s.int_part + "." + s.frac + "e";
      out += s.exp[0];
      const std::string digits = s.exp.substr(1);
      out += std::string(exp_digits_ > digits.size() ? exp_digits_ - digits.size() : 0, '0') + digits;
      return out;
    }
    const std::string s = positional(v, precision_);
    const size_t dot = s.find('.');
    const size_t frac = s.size() - dot - 1;
    return std::string(pad_left_ > dot ? pad_left_ - dot : 0, ' ') + s +
           std::string(pad_right_ > frac ? pad_right_ - frac : 0, ' ');
  }

 private:
  int precision_;
  bool exp_ = false;
  size_t pad_left_ = 0, pad_right_ = 0;
  size_t exp_frac_ = 0, exp_digits_ = 0;
};

// _formatArray with separator ", " and the hanging indent " ".
class ArrayPrinter {
 public:
  ArrayPrinter(const Tensor& t, const PrintOptions& o)
      : t_(t), edge_(std::max<int64_t>(o.edgeitems, 0)), summarize_(t.size() > o.threshold) {
    strides_.assign(t.shape().size(), 1);
    for (int k = t.rank() - 2; k >= 0; --k) strides_[k] = strides_[k + 1] * t.shape()[k + 1];
    std::vector<float> shown;
    collect(0, 0, shown);
    format_ = std::make_unique<FloatFormat>(shown, o.precision);
    linewidth_ = o.linewidth;
  }

  std::string print() const { return recurse(0, 0, " ", linewidth_); }

 private:
  bool summarized(int axis) const { return summarize_ && 2 * edge_ < t_.shape()[axis]; }

  // The values that will be shown (what NumPy's _leading_trailing keeps).
  void collect(int axis, int64_t offset, std::vector<float>& out) const {
    if (axis == t_.rank()) {
      out.push_back(t_[offset]);
      return;
    }
    const int64_t n = t_.shape()[axis];
    const int64_t stride = strides_[axis];
    if (!summarized(axis) || edge_ == 0) {  // NumPy: a[:0] and a[-0:] keep everything
      for (int64_t i = 0; i < n; ++i) collect(axis + 1, offset + i * stride, out);
      return;
    }
    for (int64_t i = 0; i < edge_; ++i) collect(axis + 1, offset + i * stride, out);
    for (int64_t i = n - edge_; i < n; ++i) collect(axis + 1, offset + i * stride, out);
  }

  static void extend(std::string& s, std::string& line, const std::string& word, int64_t width,
                     const std::string& prefix) {
    bool wrap = static_cast<int64_t>(line.size() + word.size()) > width;
    if (line.size() <= prefix.size()) wrap = false;  // wrapping would not help
    if (wrap) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      s += line + "\n";
      line = prefix;
    }
    line += word;
  }

  std::string recurse(int axis, int64_t offset, const std::string& hanging, int64_t width) const {
    if (axis == t_.rank()) return (*format_)(t_[offset]);
    const std::string next_hanging = hanging + " ";
    const int64_t next_width = width - 1;
    const int64_t n = t_.shape()[axis];
    const bool summary = summarized(axis);
    const int64_t leading = summary ? edge_ : 0;
    const int64_t trailing = summary ? edge_ : n;
    const int64_t stride = strides_[axis];
    std::string s;
    if (axis == t_.rank() - 1) {
      const int64_t elem_width = width - 1;  // room for "," or "]"
      std::string line = hanging;
      for (int64_t i = 0; i < leading; ++i) {
        extend(s, line, recurse(axis + 1, offset + i * stride, next_hanging, next_width), elem_width, hanging);
        line += ", ";
      }
      if (summary) {
        extend(s, line, "...", elem_width, hanging);
        line += ", ";
      }
      for (int64_t i = trailing; i > 1; --i) {
        extend(s, line, recurse(axis + 1, offset + (n - i) * stride, next_hanging, next_width), elem_width,
               hanging);
        line += ", ";
      }
      extend(s, line, recurse(axis + 1, offset + (n - 1) * stride, next_hanging, next_width), elem_width, hanging);
      s += line;
    } else {
      const std::string line_sep = "," + std::string(static_cast<size_t>(t_.rank() - axis - 1), '\n');
      for (int64_t i = 0; i < leading; ++i) {
        s += hanging + recurse(axis + 1, offset + i * stride, next_hanging, next_width) + line_sep;
      }
      if (summary) s += hanging + "..." + line_sep;
      for (int64_t i = trailing; i > 1; --i) {
        s += hanging + recurse(axis + 1, offset + (n - i) * stride, next_hanging, next_width) + line_sep;
      }
      s += hanging + recurse(axis + 1, offset + (n - 1) * stride, next_hanging, next_width);
    }
    return "[" + s.substr(hanging.size()) + "]";
  }

  const Tensor& t_;
  int64_t edge_;
  bool summarize_;
  int64_t linewidth_ = 75;
  std::vector<int64_t> strides_;
  std::unique_ptr<FloatFormat> format_;
};

}  // namespace

std::string to_string(const Tensor& t, const PrintOptions& options) {
  if (t.empty()) return "Tensor()";
  if (t.size() == 0) {
    return t.shape() == Shape{0} ? std::string("[]") : "[], shape=" + shape_str(t.shape());
  }
  return ArrayPrinter(t, options).print();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace seqnet
