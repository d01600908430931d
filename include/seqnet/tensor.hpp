#pragma once
// Tensor: a float32 n-dimensional array in row-major order.
//
// A Tensor is a handle: copying it is cheap and the copy shares storage (like
// a NumPy array view or a torch.Tensor). Use clone() for a deep copy. Storage
// is contiguous; what seqnet allocates starts 64-byte aligned (borrow()
// wraps memory allocated elsewhere, which need not be); views made by
// reshape() and rows() share it. A view is always contiguous (there are no
// strides), so slice() and index(), which may cut any axis, return copies.
//
// `std::cout << t` prints the values the way NumPy does (see to_string).
//
// Conventions: sequences are (batch, time, features), written (B, T, F);
// a 2-D tensor is (batch, features). Symbolic shapes (model/) use `None`
// (-1) for an unknown batch or time dimension; a concrete Tensor never does.
//
// Thread safety: distinct Tensors may be used from different threads; a
// shared storage must not be written concurrently.

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace seqnet {

// An unknown dimension in a symbolic shape (batch or time).
inline constexpr int64_t None = -1;

using Shape = std::vector<int64_t>;

// "(32, 4, 10)"; None prints as "None"; a 1-D shape prints as "(5,)".
std::string shape_str(const Shape& shape);
// Product of the dimensions (1 for a scalar shape ()). REQUIRES: no None.
int64_t shape_size(const Shape& shape);
// The product as a double, which cannot overflow (None and negative
// dimensions count as 1): for size estimates of shapes not yet checked.
double shape_elements(const Shape& shape);

// A strided 2-D window into float storage: `rows` rows of `cols` floats,
// row r starting at data + r * ld. Used for time slices of (B, T, F)
// sequences and for BLAS arguments; it does not own memory.
struct MatView {
  float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t ld = 0;  // distance between row starts, in floats (>= cols)
  float* row(int64_t r) const { return data + r * ld; }
};

class Tensor {
 public:
  // An empty tensor: no storage, shape (). empty() is true.
  Tensor() = default;
  // A zero-filled tensor of the given shape. Throws ShapeError for negative
  // dimensions or sizes that overflow.
  explicit Tensor(Shape shape);
  Tensor(Shape shape, float fill);
  // A tensor of the given shape holding `values` (row-major). Throws
  // ShapeError if values.size() differs from the shape's size.
  Tensor(Shape shape, const std::vector<float>& values);
  Tensor(Shape shape, std::initializer_list<float> values);

  static Tensor zeros(Shape shape) { return Tensor(std::move(shape)); }
  static Tensor ones(Shape shape) { return Tensor(std::move(shape), 1.0f); }
  static Tensor full(Shape shape, float v) { return Tensor(std::move(shape), v); }
  // Storage left uninitialized (for buffers that are overwritten at once).
  static Tensor uninitialized(Shape shape);
  // A tensor over memory seqnet did not allocate (a NumPy array's buffer):
  // `data` holds shape_size(shape) contiguous floats in row-major order and
  // stays valid while `owner` (or a copy of it) lives; every handle made
  // from the result shares `owner`, which is released with the last one.
  // seqnet does not write into a tensor it was given as input, but a
  // borrowed buffer is writable through data(), so only lend memory that
  // may be written (or is not written by the code it goes to). `data` need
  // only be float-aligned. Throws ShapeError for negative dimensions or
  // sizes that overflow, and ValueError for a null `data` with a nonzero
  // size or a null `owner`.
  static Tensor borrow(Shape shape, float* data, std::shared_ptr<const void> owner);

  // True for a default-constructed tensor (no storage). A tensor with a zero
  // dimension is not empty(); it has size() == 0.
  bool empty() const { return storage_ == nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Dimension i; negative i counts from the end (dim(-1) is the last).
  // Throws ShapeError when i is out of range.
  int64_t dim(int i) const;
  int64_t size() const { return size_; }

  float* data() { return data_; }
  const float* data() const { return data_; }
  float* begin() { return data_; }
  float* end() { return data_ + size_; }
  const float* begin() const { return data_; }
  const float* end() const { return data_ + size_; }

  // Element access by flat index, and by 1-3 indices (row-major). Unchecked.
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }
  float& at(int64_t i, int64_t j) { return data_[i * shape_[1] + j]; }
  float at(int64_t i, int64_t j) const { return data_[i * shape_[1] + j]; }
  float& at(int64_t i, int64_t j, int64_t k) { return data_[(i * shape_[1] + j) * shape_[2] + k]; }
  float at(int64_t i, int64_t j, int64_t k) const {
    return data_[(i * shape_[1] + j) * shape_[2] + k];
  }

  // A view with another shape and the same storage; one dimension may be
  // None (-1) and is inferred. Throws ShapeError when the sizes disagree.
  Tensor reshape(Shape shape) const;
  // A view of rows [begin, end) along the first axis (shares storage).
  // Throws ShapeError when the range is outside the tensor.
  Tensor rows(int64_t begin, int64_t end) const;
  // NumPy's basic slicing along one axis, a[..., begin:end, ...]: the
  // elements whose index along `axis` is in [begin, end), as a new
  // contiguous tensor with its own storage (a copy, also along axis 0;
  // rows() is the view). The result has the same rank, with dimension
  // end - begin along `axis`; begin == end gives a zero-size tensor.
  // Negative axis, begin and end count from the end, as in Python
  // (axis -1 is the last axis, begin -2 the second-to-last index). The
  // two-argument form slices to the end of the axis.
  // Throws ShapeError, naming the axis, begin, end and the shape, when the
  // axis does not exist or when, after counting from the end, the range is
  // not 0 <= begin <= end <= dim(axis) (Python would clamp or return an
  // empty slice; here that is treated as the mistake it usually is).
  // Example: seed 02's seq_out = seq_in[:, 1:, :] on a (1, 9, 1) sequence:
  //   Tensor seq_out = seq_in.slice(1, 1);            // (1, 8, 1)
  //   Tensor last2 = seq_in.slice(1, -2);             // (1, 2, 1): steps 7, 8
  //   Tensor head = seq_in.slice(-2, 0, -1);          // (1, 8, 1): steps 0..7
  Tensor slice(int64_t axis, int64_t begin, int64_t end) const;
  Tensor slice(int64_t axis, int64_t begin) const;
  // NumPy's a[..., i, ...]: the sub-tensor at index i along `axis`, with
  // that axis removed (rank() - 1 dimensions), as a copy. Negative axis and
  // i count from the end: x.index(1, -1) is the last time step (B, F) of a
  // (B, T, F) sequence. Throws ShapeError, naming the axis, the index and
  // the shape, when either is out of range.
  Tensor index(int64_t axis, int64_t i) const;
  // The (B, F) slice at time step t of a (B, T, F) tensor, as a strided view.
  // REQUIRES: rank() == 3 and 0 <= t < T.
  MatView time_slice(int64_t t) const;
  // The tensor as a matrix (product of all but the last dim, last dim).
  // REQUIRES: rank() >= 1.
  MatView matrix() const;

  // A deep copy with its own storage.
  Tensor clone() const;
  // Overwrite every element with v.
  void fill(float v);
  // Copy the elements of `src`, which must have the same size.
  void copy_from(const Tensor& src);
  // Whether this and `other` share storage.
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }
  // How many handles (this one included) share this tensor's storage; 0 for
  // an empty tensor. 1 means no other tensor, view or layer sees it, so it
  // may be handed out (to NumPy, say) without a copy.
  long storage_use_count() const { return storage_.use_count(); }
  // Elementwise helpers used by tests and training code.
  std::vector<float> to_vector() const { return std::vector<float>(begin(), end()); }
  bool same_shape(const Tensor& other) const { return shape_ == other.shape_; }

 private:
  std::shared_ptr<float> storage_;
  float* data_ = nullptr;
  Shape shape_;
  int64_t size_ = 0;
};

// How to_string prints a tensor; the fields are NumPy's set_printoptions
// arguments of the same names, with NumPy's defaults.
struct PrintOptions {
  // At most this many digits after the decimal point (fewer when fewer
  // suffice to tell the float32 value apart: 0.1f prints as 0.1).
  // Default: 8.
  int precision = 8;
  // Tensors of more than this many elements are summarized: only the first
  // and last `edgeitems` entries of each long axis are shown, around "...".
  // Default: 1000.
  int64_t threshold = 1000;
  // Entries kept at each end of a summarized axis. Default: 3.
  int64_t edgeitems = 3;
  // Characters per line before the values of a row wrap. Default: 75.
  int64_t linewidth = 75;
};

// The values of `t` as NumPy prints them with
// np.array2string(a, separator=", ") (the body of repr(a)): nested
// brackets per axis, rows on their own lines (a blank line between the
// blocks of a 3-D tensor), columns aligned, numbers in NumPy's float
// format: each value with the fewest digits that identify the float32
// value, at most `precision` after the point, padded to a common width,
// integral values with a trailing point ("1."); scientific notation
// (1.5e-05) for every value when the largest magnitude is >= 1e8, the
// smallest nonzero one < 1e-4, or their ratio > 1000, each then with as
// many digits after the point as the longest needs; nan, inf, -inf. The
// notation and widths are chosen from the values shown.
// A scalar (shape ()) prints as its value, a zero-size tensor as "[]"
// followed, unless its shape is (0,), by ", shape=(2, 0)", and an empty()
// tensor as "Tensor()". Throws nothing but std::bad_alloc.
// Example:
//   std::cout << Tensor({2, 3}, {0.1f, 0.25f, 1, -2, 3, 4.5f}) << "\n";
//   // [[ 0.1 ,  0.25,  1.  ],
//   //  [-2.  ,  3.  ,  4.5 ]]
std::string to_string(const Tensor& t, const PrintOptions& options = {});
// Writes to_string(t) (default PrintOptions) to `os`.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Tensor storage of 64 KB and more is not returned to the system when the
// last tensor using it goes: up to 512 MB of such blocks are kept and reused
// by later tensors of similar size (training allocates the same buffers
// every batch). This frees the kept blocks.
void release_cached_memory();

// Makes `t` an (uninitialized) tensor of `shape`, reallocating only when its
// shape differs: the way reused workspaces are sized.
void ensure_shape(Tensor& t, const Shape& shape);

// Sum over all elements in double precision.
double sum(const Tensor& t);
// max |a - b| over all elements. Throws ShapeError when shapes differ.
float max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace seqnet
