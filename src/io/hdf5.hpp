#pragma once
// Internal: a bounded, read-only reader of the part of HDF5 that Keras
// writes (legacy .h5 model files and the model.weights.h5 inside .keras
// archives), for untrusted input. Written from the HDF5 file format
// specification; no HDF5 library is involved.
//
// Supported (everything else is refused with an IOError that names it):
//   - superblock version 0 with 8-byte offsets and lengths, base address 0;
//   - version-1 object headers with continuation blocks; unknown messages
//     are skipped unless flagged "fail if unknown";
//   - old-style groups: symbol table message -> version-1 B-tree of group
//     nodes (internal nodes too) -> symbol table nodes, names in the local
//     heap; hard links only;
//   - dataspace messages version 1 and 2 (scalar, simple, null);
//   - datatypes: fixed-point (1, 2, 4, 8 bytes), IEEE floating point (2, 4,
//     8 bytes), either byte order; fixed-length strings (NULLTERM, NULLPAD,
//     SPACEPAD; a string filling its width needs no terminator);
//     variable-length strings and variable-length sequences of 1-byte
//     elements, held in global heap collections; other classes are kept as
//     "other" (their values cannot be read);
//   - attribute messages version 1, 2 and 3 (not shared);
//   - layout message version 3 or 4: contiguous (allocated or not: an
//     unallocated dataset reads as its fill value) and compact.
//
// Refused when the file is parsed: superblock versions 1-3, offsets or
// lengths other than 8 bytes, a user block, version-2 object headers
// ("OHDR"), new-style groups (link, link info, group info messages), soft
// and external links, dense attribute storage, shared messages, unknown
// messages flagged "fail if unknown". Refused only when a dataset's data is
// read, so that the rest of the file stays readable: chunked layouts and
// any filter pipeline ("unsupported: chunked/compressed dataset"), virtual
// datasets, external storage, layout message versions 1 and 2.
//
// Bounds (Limits): File::parse reads and checks every group, object header
// and attribute at once; every address and length is checked against the
// end of the file before use. B-trees may be at most max_btree_level deep,
// each child one level below its parent, no node visited twice; groups
// may nest max_group_depth deep and a group reachable from itself is an
// error; at most max_objects object headers, max_links links (and as many
// B-tree nodes), max_messages header messages in all and max_continuations
// continuation blocks per header.
// Element counts are checked for overflow and against the bytes present;
// everything parse builds (objects, links and their names, attribute
// values) is charged against max_decoded_bytes (default 4 x the file size
// + 1 MiB), one attribute may take at most max_attribute_bytes, global heap
// collections are scanned for at most one object per 16 bytes of the file,
// and an unallocated dataset reads as at most max(16 MiB, file size) bytes
// of fill. Errors are IOError with one line:
// the source, the object's path and what is wrong.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seqnet::io::hdf5 {

struct Limits {
  int max_group_depth = 64;
  int max_btree_level = 16;
  uint64_t max_objects = 100000;
  uint64_t max_links = 1000000;
  uint64_t max_messages = 1000000;
  uint32_t max_continuations = 4096;
  int max_rank = 32;
  uint64_t max_attribute_bytes = uint64_t{64} << 20;
  uint64_t max_decoded_bytes = 0;  // what parse builds in memory; 0: 4 x the file size + 1 MiB
};

enum class TypeClass { Integer, Float, String, VlenString, Other };
enum class StrPad { NullTerm, NullPad, SpacePad };

struct Datatype {
  TypeClass cls = TypeClass::Other;
  uint32_t size = 0;         // bytes per element as stored
  bool big_endian = false;   // Integer, Float
  bool is_signed = false;    // Integer
  StrPad pad = StrPad::NullTerm;  // String
  bool utf8 = false;         // String, VlenString: character set UTF-8 (else ASCII)
  int hdf5_class = -1;       // the class number in the file (0 fixed-point, 1 float, 3 string, 9 vlen, ...)
  // "float32 little-endian", "fixed-length string of 7 bytes (null-padded)", ...
  std::string describe() const;
};

// An attribute's value, or a dataset's read in full (Dataset::read).
class Value {
 public:
  const Datatype& dtype() const { return type_; }
  // Empty for a scalar; is_null() for a null dataspace (no elements).
  const std::vector<uint64_t>& shape() const { return shape_; }
  bool is_null() const { return null_; }
  uint64_t size() const { return count_; }  // number of elements
  bool is_string() const { return type_.cls == TypeClass::String || type_.cls == TypeClass::VlenString; }

  // The elements of a string value in C order (a scalar gives one). An
  // empty numeric array of shape (0,) and a null value give an empty list,
  // as Keras writes the weight names of a layer without weights.
  std::vector<std::string> strings() const;
  // The one string of a scalar or single-element string value.
  std::string string() const;
  // Numbers of an Integer or Float value in C order. int64s refuses floats
  // and integers outside int64; float32s rounds float64 to the nearest
  // float32 (values beyond its range are an error) and refuses integers of
  // magnitude above 2^24; float64s refuses integers above 2^53.
  std::vector<int64_t> int64s() const;
  std::vector<double> float64s() const;
  std::vector<float> float32s() const;
  // The single element of a scalar or one-element value.
  int64_t int64() const;
  double float64() const;

 private:
  friend struct Decoder;
  Datatype type_;
  std::vector<uint64_t> shape_;
  bool null_ = false;
  uint64_t count_ = 0;
  std::string raw_;                   // Integer, Float, String: the stored bytes
  std::vector<std::string> strings_;  // VlenString: the resolved strings
  std::string context_;               // "<source>: attribute '/path@name'" for errors
};

namespace detail {
struct FileData;
struct Node;
}  // namespace detail

class Group;
class Dataset;

// A group, a dataset or another object (a named datatype) of a File. It
// keeps the file's bytes alive.
class Object {
 public:
  bool is_group() const;
  bool is_dataset() const;
  Group as_group() const;      // IOError when it is not a group
  Dataset as_dataset() const;  // IOError when it is not a dataset
  // The path it was reached by ("/", "/model_weights/lstm_1").
  const std::string& path() const { return path_; }
  uint64_t address() const;  // of its object header in the file
  // Attributes in name order.
  const std::map<std::string, Value>& attributes() const;
  bool has_attribute(std::string_view name) const;
  const Value& attribute(std::string_view name) const;  // IOError when missing

 protected:
  friend class Group;
  friend class File;
  Object(std::shared_ptr<const detail::FileData> file, const detail::Node* node, std::string path)
      : file_(std::move(file)), node_(node), path_(std::move(path)) {}
  std::shared_ptr<const detail::FileData> file_;
  const detail::Node* node_ = nullptr;
  std::string path_;
};

class Group : public Object {
 public:
  // Members in name order (bytewise, as HDF5 orders them).
  std::vector<std::pair<std::string, Object>> members() const;
  std::vector<std::string> member_names() const;
  bool contains(std::string_view name) const;  // a direct member
  // A member by relative path "a/b/c" (a leading '/' starts at the root);
  // IOError naming the missing part.
  Object open(std::string_view path) const;
  Group group(std::string_view path) const { return open(path).as_group(); }
  Dataset dataset(std::string_view path) const;

 private:
  friend class Object;
  friend class File;
  using Object::Object;
};

class Dataset : public Object {
 public:
  const std::vector<uint64_t>& shape() const;  // empty for a scalar
  uint64_t size() const;                       // number of elements
  const Datatype& dtype() const;
  // The values in C order, converted as Value's accessors do. IOError for
  // an unsupported layout or filter, or a datatype that cannot convert.
  std::vector<float> read_float32() const;
  std::vector<double> read_float64() const;
  std::vector<int64_t> read_int64() const;
  Value read() const;  // Integer, Float and fixed-length String datasets

 private:
  friend class Object;
  using Object::Object;
};

class File {
 public:
  // Parses and checks the whole file held in `bytes`. `source` names it in
  // errors (a path, or "model.keras: model.weights.h5").
  static File parse(std::string bytes, std::string source, const Limits& limits = {});
  Group root() const;
  const std::string& source() const;

 private:
  explicit File(std::shared_ptr<const detail::FileData> d) : data_(std::move(d)) {}
  std::shared_ptr<const detail::FileData> data_;
};

}  // namespace seqnet::io::hdf5
