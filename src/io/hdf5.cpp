#include "io/hdf5.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "data/dtype_convert.hpp"
#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::io::hdf5 {

namespace detail {

enum class Kind { Group, Dataset, Other };
enum class Storage { Contiguous, Compact, Unallocated, Unsupported };

struct Node {
  uint64_t addr = 0;
  std::string path;  // the first path it was reached by (for errors)
  Kind kind = Kind::Other;
  std::map<std::string, Value> attrs;
  std::vector<std::pair<std::string, const Node*>> members;  // groups, sorted by name
  // Datasets.
  Datatype dtype;
  std::vector<uint64_t> shape;
  uint64_t count = 0;
  Storage storage = Storage::Unsupported;
  uint64_t data_offset = 0;  // Contiguous, Compact: where the count * dtype.size bytes start
  std::string fill;          // Unallocated: one element's fill value (empty: zeros)
  std::string unsupported;   // Unsupported: why the data cannot be read
};

struct FileData {
  std::string bytes;
  std::string source;
  Limits limits;
  std::vector<std::unique_ptr<Node>> nodes;
  const Node* root = nullptr;
};

}  // namespace detail

namespace {

using detail::FileData;
using detail::Kind;
using detail::Node;
using detail::Storage;

constexpr uint64_t kUndef = std::numeric_limits<uint64_t>::max();
constexpr char kMagic[] = "\x89HDF\r\n\x1a\n";

uint64_t load_le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint64_t load_uint(const char* p, uint32_t n, bool big) {
  uint64_t v = 0;
  if (big) {
    for (uint32_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  } else {
    for (uint32_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

std::string hex(uint64_t a) { return a == kUndef ? std::string("undefined") : fmt::format("{:#x}", a); }

uint64_t round8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

// Multiplies, or returns false on overflow.
bool mul_ok(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

[[noreturn]] void value_error(const std::string& context, std::string_view what) {
  throw IOError(fmt::format("{}: {}", context, what));
}

// --- element decoding, shared by attribute values and datasets -------------

seqnet::detail::ElemType elem_type(const Datatype& t, const std::string& context) {
  seqnet::detail::ElemType e;
  e.size = static_cast<int>(t.size);
  e.big_endian = t.big_endian;
  if (t.cls == TypeClass::Float) {
    e.kind = seqnet::detail::ElemKind::Float;
  } else if (t.cls == TypeClass::Integer) {
    e.kind = t.is_signed ? seqnet::detail::ElemKind::Int : seqnet::detail::ElemKind::UInt;
  } else {
    value_error(context, fmt::format("holds {}, not numbers", t.describe()));
  }
  return e;
}

std::vector<float> decode_float32(const Datatype& t, std::string_view raw, uint64_t count,
                                  const std::string& context) {
  const auto e = elem_type(t, context);
  std::vector<float> out(static_cast<size_t>(count));
  try {
    seqnet::detail::convert_to_float(e, reinterpret_cast<const unsigned char*>(raw.data()),
                                     static_cast<int64_t>(count), out.data(), context);
  } catch (const ValueError& err) {
    throw IOError(err.what());
  }
  return out;
}

std::vector<double> decode_float64(const Datatype& t, std::string_view raw, uint64_t count,
                                   const std::string& context) {
  std::vector<double> out(static_cast<size_t>(count));
  if (t.cls == TypeClass::Float && t.size == 2) {
    const auto f = decode_float32(t, raw, count, context);  // float16 converts exactly
    std::copy(f.begin(), f.end(), out.begin());
    return out;
  }
  elem_type(t, context);  // refuses non-numbers
  constexpr uint64_t kExact = uint64_t{1} << 53;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t bits = load_uint(raw.data() + i * t.size, t.size, t.big_endian);
    if (t.cls == TypeClass::Float) {
      out[i] = t.size == 8 ? std::bit_cast<double>(bits) : static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    } else if (t.is_signed) {
      const int shift = 64 - static_cast<int>(8 * t.size);
      const int64_t v = static_cast<int64_t>(bits << shift) >> shift;
      if (v > static_cast<int64_t>(kExact) || v < -static_cast<int64_t>(kExact)) {
        value_error(context, fmt::format("element {} is {}, beyond the integers float64 holds exactly (2^53)", i, v));
      }
      out[i] = static_cast<double>(v);
    } else {
      if (bits > kExact) {
        value_error(context, fmt::format("element {} is {}, beyond the integers float64 holds exactly (2^53)", i, bits));
      }
      out[i] = static_cast<double>(bits);
    }
  }
  return out;
}

std::vector<int64_t> decode_int64(const Datatype& t, std::string_view raw, uint64_t count,
                                  const std::string& context) {
  if (t.cls != TypeClass::Integer) value_error(context, fmt::format("holds {}, not integers", t.describe()));
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t bits = load_uint(raw.data() + i * t.size, t.size, t.big_endian);
    if (t.is_signed) {
      const int shift = 64 - static_cast<int>(8 * t.size);
      out[i] = static_cast<int64_t>(bits << shift) >> shift;
    } else {
      if (bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        value_error(context, fmt::format("element {} is {}, beyond int64", i, bits));
      }
      out[i] = static_cast<int64_t>(bits);
    }
  }
  return out;
}

std::vector<std::string> decode_fixed_strings(const Datatype& t, std::string_view raw, uint64_t count) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view s = raw.substr(i * t.size, t.size);
    if (t.pad == StrPad::NullTerm) {
      const size_t z = s.find('\0');  // a string filling its width has no terminator
      if (z != std::string_view::npos) s = s.substr(0, z);
    } else {
      const char padc = t.pad == StrPad::SpacePad ? ' ' : '\0';
      while (!s.empty() && s.back() == padc) s.remove_suffix(1);
    }
    out.emplace_back(s);
  }
  return out;
}

// --- the parser ---------------------------------------------------------------

struct Message {
  uint16_t type = 0;
  uint8_t flags = 0;
  uint64_t offset = 0;  // of the message data
  uint64_t size = 0;
};

struct HeapObject {
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct Parser;

// Reads little-endian fields inside [pos, end), which lies inside the file;
// reading past `end` is an error naming `what`.
class Cursor {
 public:
  Cursor(const Parser& p, const std::string& where, std::string_view what, uint64_t pos, uint64_t end)
      : p_(p), where_(where), what_(what), pos_(pos), end_(end) {}
  uint64_t pos() const { return pos_; }
  uint64_t end() const { return end_; }
  uint64_t left() const { return end_ - pos_; }
  void need(uint64_t n) const;
  uint64_t uint(int n);
  uint8_t u8() { return static_cast<uint8_t>(uint(1)); }
  uint16_t u16() { return static_cast<uint16_t>(uint(2)); }
  uint32_t u32() { return static_cast<uint32_t>(uint(4)); }
  uint64_t u64() { return uint(8); }
  void skip(uint64_t n) {
    need(n);
    pos_ += n;
  }
  std::string_view bytes(uint64_t n);
  // A cursor over the next n bytes, which this one skips.
  Cursor sub(uint64_t n, std::string_view what) {
    need(n);
    Cursor c(p_, where_, what, pos_, pos_ + n);
    pos_ += n;
    return c;
  }

 private:
  const Parser& p_;
  const std::string& where_;
  std::string_view what_;
  uint64_t pos_;
  uint64_t end_;
};

// Parses a whole file into FileData's nodes (everything public: it is
// private to this file).
struct Parser {
  explicit Parser(FileData& d) : d_(d) {}

  void run();

  [[noreturn]] void fail(std::string_view where, std::string_view what) const {
    throw IOError(fmt::format("{}: invalid HDF5 file: {}: {}", d_.source, where, what));
  }
  [[noreturn]] void unsupported(std::string_view where, std::string_view what) const {
    throw IOError(fmt::format("{}: {}: unsupported: {}", d_.source, where, what));
  }
  std::string_view file() const { return file_; }

  // A cursor over [addr, addr + len), which must lie inside the file.
  Cursor at(const std::string& where, std::string_view what, uint64_t addr, uint64_t len) const {
    if (addr == kUndef) fail(where, fmt::format("{} has an undefined address", what));
    if (addr > file_.size() || len > file_.size() - addr) {
      fail(where, fmt::format("{} at {} ({} bytes) lies beyond the end of the file ({} bytes)", what, hex(addr), len,
                              file_.size()));
    }
    return Cursor(*this, where, what, addr, addr + len);
  }

  Node* object(uint64_t addr, const std::string& path, int depth);
  std::vector<Message> messages(uint64_t addr, const std::string& where);
  void group_members(Node& node, Cursor c, const std::string& where, int depth);
  void btree(uint64_t addr, int expected_level, const std::string& where, uint64_t heap_data, uint64_t heap_size,
             std::unordered_set<uint64_t>& seen, std::vector<std::pair<std::string, uint64_t>>& out);
  std::string heap_name(uint64_t heap_data, uint64_t heap_size, uint64_t offset, const std::string& where);
  Datatype datatype(Cursor c, const std::string& where, int depth);
  void dataspace(Cursor c, const std::string& where, std::vector<uint64_t>& shape, bool& null, uint64_t& count);
  void attribute(Node& node, Cursor c, const std::string& where);
  std::string vlen_element(Cursor& c, const std::string& where);
  const std::unordered_map<uint32_t, HeapObject>& collection(uint64_t addr, const std::string& where);
  void dataset(Node& node, const std::vector<Message>& msgs, const std::string& where);
  void charge(uint64_t n, const std::string& where);

  FileData& d_;
  std::string_view file_;  // the bytes up to the end-of-file address
  uint64_t leaf_k_ = 0, internal_k_ = 0;
  std::unordered_map<uint64_t, Node*> by_addr_;
  std::unordered_set<uint64_t> open_;  // object headers being parsed (ancestors of the current one)
  std::unordered_map<uint64_t, std::unordered_map<uint32_t, HeapObject>> collections_;
  uint64_t links_ = 0, messages_ = 0, btree_nodes_ = 0, heap_objects_ = 0, decoded_ = 0, budget_ = 0;
};

void Cursor::need(uint64_t n) const {
  if (n > end_ - pos_) {
    p_.fail(where_, fmt::format("{} ends early (needs {} more bytes at {}, has {})", what_, n, hex(pos_), end_ - pos_));
  }
}

uint64_t Cursor::uint(int n) {
  need(static_cast<uint64_t>(n));
  const uint64_t v = load_le(p_.file().data() + pos_, n);
  pos_ += static_cast<uint64_t>(n);
  return v;
}

std::string_view Cursor::bytes(uint64_t n) {
  need(n);
  const std::string_view s = p_.file().substr(pos_, n);
  pos_ += n;
  return s;
}

void Parser::charge(uint64_t n, const std::string& where) {
  if (n > budget_ - decoded_) {
    fail(where, fmt::format("the names and attribute values decoded so far exceed {} bytes "
                            "(Limits::max_decoded_bytes)", budget_));
  }
  decoded_ += n;
}

void Parser::run() {
  const std::string& b = d_.bytes;
  const std::string where = "superblock";
  if (b.size() < 8 || std::memcmp(b.data(), kMagic, 8) != 0) fail(where, "no HDF5 signature at the start");
  file_ = b;
  Cursor c = at(where, "the superblock", 0, std::min<uint64_t>(b.size(), 96));
  c.skip(8);
  const uint8_t version = c.u8();
  if (version != 0) unsupported(where, fmt::format("superblock version {} (only version 0 is read)", version));
  const uint8_t freespace_v = c.u8(), root_v = c.u8();
  c.skip(1);
  const uint8_t shared_v = c.u8(), offset_size = c.u8(), length_size = c.u8();
  c.skip(1);
  if (freespace_v != 0 || root_v != 0 || shared_v != 0) {
    fail(where, fmt::format("unknown structure versions {}/{}/{} in a version-0 superblock", freespace_v, root_v,
                            shared_v));
  }
  if (offset_size != 8 || length_size != 8) {
    unsupported(where, fmt::format("{}-byte offsets and {}-byte lengths (only 8 and 8)", offset_size, length_size));
  }
  leaf_k_ = c.u16();
  internal_k_ = c.u16();
  if (leaf_k_ == 0 || internal_k_ == 0) fail(where, "a group B-tree K of 0");
  c.skip(4);  // file consistency flags
  const uint64_t base = c.u64();
  c.skip(8);  // free-space info address
  const uint64_t eof = c.u64();
  const uint64_t driver = c.u64();
  if (base != 0) unsupported(where, fmt::format("base address {} (a user block)", hex(base)));
  if (driver != kUndef) unsupported(where, "a file driver information block");
  if (eof > b.size()) {
    fail(where, fmt::format("the file is truncated: the superblock records {} bytes, {} are present", eof, b.size()));
  }
  if (eof < 96) fail(where, fmt::format("end-of-file address {} lies inside the superblock", eof));
  file_ = std::string_view(b).substr(0, eof);
  // Root group symbol table entry: link name offset, object header address,
  // cache type, reserved, scratch pad.
  c.skip(8);
  const uint64_t root = c.u64();

  const uint64_t factor_budget = 4 * static_cast<uint64_t>(file_.size()) + (uint64_t{1} << 20);
  budget_ = d_.limits.max_decoded_bytes != 0 ? d_.limits.max_decoded_bytes : factor_budget;
  Node* r = object(root, "/", 0);
  if (r->kind != Kind::Group) fail("root group", "the root object is not a group");
  d_.root = r;
}

std::vector<Message> Parser::messages(uint64_t addr, const std::string& where) {
  Cursor h = at(where, "the object header", addr, 16);
  if (file_.substr(addr, 4) == "OHDR") unsupported(where, "a version-2 object header (OHDR)");
  const uint8_t version = h.u8();
  if (version != 1) fail(where, fmt::format("object header version {} (expected 1)", version));
  h.skip(1);
  h.skip(2);  // number of messages: the blocks are read to their ends instead
  h.skip(4);  // reference count
  const uint64_t size = h.u32();
  std::vector<std::pair<uint64_t, uint64_t>> blocks{{addr + 16, size}};
  std::unordered_set<uint64_t> seen{addr + 16};
  std::vector<Message> out;
  for (size_t bi = 0; bi < blocks.size(); ++bi) {
    Cursor c = at(where, bi == 0 ? "the object header" : "a header continuation block", blocks[bi].first,
                  blocks[bi].second);
    while (c.left() >= 8) {
      Message m;
      m.type = c.u16();
      m.size = c.u16();
      m.flags = c.u8();
      c.skip(3);
      m.offset = c.pos();
      if (m.size > c.left()) {
        fail(where, fmt::format("message of type {:#x} ({} bytes) runs past the end of its header block", m.type,
                                m.size));
      }
      c.skip(m.size);
      if (++messages_ > d_.limits.max_messages) {
        fail(where, fmt::format("more than {} header messages in the file (Limits::max_messages)",
                                d_.limits.max_messages));
      }
      if (m.type == 0x10) {  // continuation
        Cursor cc(*this, where, "a continuation message", m.offset, m.offset + m.size);
        const uint64_t ca = cc.u64(), cl = cc.u64();
        if (blocks.size() > d_.limits.max_continuations) {
          fail(where, fmt::format("more than {} continuation blocks (Limits::max_continuations)",
                                  d_.limits.max_continuations));
        }
        if (!seen.insert(ca).second) fail(where, fmt::format("continuation block at {} is listed twice", hex(ca)));
        at(where, "a header continuation block", ca, cl);
        blocks.emplace_back(ca, cl);
        continue;
      }
      if (m.type != 0) out.push_back(m);
    }
  }
  return out;
}

Node* Parser::object(uint64_t addr, const std::string& path, int depth) {
  const std::string where = fmt::format("object '{}' (header at {})", printable(path), hex(addr));
  if (auto it = by_addr_.find(addr); it != by_addr_.end()) {
    if (open_.count(addr) != 0) {
      fail(where, fmt::format("group cycle: it is its own ancestor '{}'", printable(it->second->path)));
    }
    return it->second;
  }
  if (depth > d_.limits.max_group_depth) {
    fail(where, fmt::format("groups nest deeper than {} (Limits::max_group_depth)", d_.limits.max_group_depth));
  }
  if (d_.nodes.size() >= d_.limits.max_objects) {
    fail(where, fmt::format("more than {} objects (Limits::max_objects)", d_.limits.max_objects));
  }
  charge(sizeof(Node), where);
  d_.nodes.push_back(std::make_unique<Node>());
  Node& node = *d_.nodes.back();
  node.addr = addr;
  node.path = path;
  by_addr_.emplace(addr, &node);
  open_.insert(addr);

  const std::vector<Message> msgs = messages(addr, where);
  const Message* symtab = nullptr;
  bool has_layout = false;
  for (const Message& m : msgs) {
    const bool shared = (m.flags & 0x02) != 0;
    Cursor c(*this, where, "a header message", m.offset, m.offset + m.size);
    switch (m.type) {
      case 0x01: case 0x03: case 0x04: case 0x05: case 0x07: case 0x08: case 0x0B: case 0x0C: case 0x11:
        if (shared) unsupported(where, fmt::format("a shared header message (type {:#x})", m.type));
        break;
      default: break;
    }
    switch (m.type) {
      case 0x02: case 0x06: case 0x0A:
        unsupported(where, "a new-style group (link, link info or group info message)");
      case 0x0C: attribute(node, c, where); break;
      case 0x08: has_layout = true; break;
      case 0x11:
        if (symtab != nullptr) fail(where, "two symbol table messages");
        symtab = &m;
        break;
      case 0x15: {  // attribute info: dense storage lives in a fractal heap
        Cursor a(*this, where, "the attribute info message", m.offset, m.offset + m.size);
        a.skip(1);
        const uint8_t flags = a.u8();
        if (flags & 1) a.skip(2);
        if (a.u64() != kUndef) unsupported(where, "dense attribute storage (fractal heap)");
        break;
      }
      case 0x01: case 0x03: case 0x04: case 0x05: case 0x07: case 0x0B:  // read with the layout
      case 0x09: case 0x0D: case 0x0E: case 0x0F: case 0x12: case 0x13: case 0x14: case 0x16: case 0x17:
        break;  // ignored: bogus, comment, times, tables, B-tree K, driver info, reference count, file space
      default:
        if (m.flags & 0x80) {
          unsupported(where, fmt::format("header message type {:#x}, marked as required", m.type));
        }
        break;  // unknown and not required: skipped
    }
  }
  if (symtab != nullptr && has_layout) fail(where, "both a group and a dataset");
  if (symtab != nullptr) {
    node.kind = Kind::Group;
    group_members(node, Cursor(*this, where, "the symbol table message", symtab->offset,
                               symtab->offset + symtab->size), where, depth);
  } else if (has_layout) {
    node.kind = Kind::Dataset;
    dataset(node, msgs, where);
  }
  open_.erase(addr);
  return &node;
}

std::string Parser::heap_name(uint64_t heap_data, uint64_t heap_size, uint64_t offset, const std::string& where) {
  if (offset >= heap_size) {
    fail(where, fmt::format("link name offset {} beyond its local heap ({} bytes)", offset, heap_size));
  }
  const std::string_view seg = file_.substr(heap_data + offset, heap_size - offset);
  const size_t z = seg.find('\0');
  if (z == std::string_view::npos) fail(where, fmt::format("link name at heap offset {} has no terminator", offset));
  return std::string(seg.substr(0, z));
}

void Parser::btree(uint64_t addr, int expected_level, const std::string& where, uint64_t heap_data,
                   uint64_t heap_size, std::unordered_set<uint64_t>& seen,
                   std::vector<std::pair<std::string, uint64_t>>& out) {
  if (!seen.insert(addr).second) fail(where, fmt::format("group B-tree reaches the node at {} twice", hex(addr)));
  if (++btree_nodes_ > d_.limits.max_links) {
    fail(where, fmt::format("more than {} group B-tree nodes (Limits::max_links)", d_.limits.max_links));
  }
  Cursor c = at(where, "a group B-tree node", addr, 24);
  if (c.bytes(4) != "TREE") fail(where, fmt::format("no B-tree node (TREE) at {}", hex(addr)));
  const uint8_t type = c.u8();
  if (type != 0) fail(where, fmt::format("B-tree node at {} has type {}, not a group node", hex(addr), type));
  const int level = c.u8();
  const uint64_t used = c.u16();
  if (expected_level < 0) {
    if (level > d_.limits.max_btree_level) {
      fail(where, fmt::format("group B-tree of level {} (more than {}, Limits::max_btree_level)", level,
                              d_.limits.max_btree_level));
    }
  } else if (level != expected_level) {
    fail(where, fmt::format("B-tree node at {} has level {} below a node of level {}", hex(addr), level,
                            expected_level + 1));
  }
  if (used > 2 * internal_k_) {
    fail(where, fmt::format("B-tree node at {} holds {} entries, more than 2K = {}", hex(addr), used,
                            2 * internal_k_));
  }
  // Siblings (16 bytes), then keys and children: key0 child0 key1 ... keyN.
  Cursor e = at(where, "a group B-tree node", addr + 24, used * 16 + 8);
  for (uint64_t i = 0; i < used; ++i) {
    e.skip(8);  // key: a heap offset
    const uint64_t child = e.u64();
    if (level > 0) {
      btree(child, level - 1, where, heap_data, heap_size, seen, out);
      continue;
    }
    if (!seen.insert(child).second) fail(where, fmt::format("symbol table node at {} is listed twice", hex(child)));
    Cursor s = at(where, "a symbol table node", child, 8);
    if (s.bytes(4) != "SNOD") fail(where, fmt::format("no symbol table node (SNOD) at {}", hex(child)));
    const uint8_t v = s.u8();
    if (v != 1) fail(where, fmt::format("symbol table node version {} (expected 1)", v));
    s.skip(1);
    const uint64_t n = s.u16();
    if (n > 2 * leaf_k_) {
      fail(where, fmt::format("symbol table node at {} holds {} entries, more than 2K = {}", hex(child), n,
                              2 * leaf_k_));
    }
    Cursor t = at(where, "a symbol table node", child + 8, n * 40);
    for (uint64_t j = 0; j < n; ++j) {
      const uint64_t name_off = t.u64(), header = t.u64();
      const uint32_t cache = t.u32();
      t.skip(4 + 16);
      if (cache == 2) unsupported(where, "a soft link");
      if (cache > 2) fail(where, fmt::format("symbol table entry with cache type {}", cache));
      if (++links_ > d_.limits.max_links) {
        fail(where, fmt::format("more than {} links (Limits::max_links)", d_.limits.max_links));
      }
      std::string name = heap_name(heap_data, heap_size, name_off, where);
      charge(name.size() + sizeof(std::pair<std::string, const Node*>), where);
      out.emplace_back(std::move(name), header);
    }
  }
}

void Parser::group_members(Node& node, Cursor c, const std::string& where, int depth) {
  const uint64_t tree = c.u64(), heap = c.u64();
  Cursor h = at(where, "the group's local heap", heap, 32);
  if (h.bytes(4) != "HEAP") fail(where, fmt::format("no local heap (HEAP) at {}", hex(heap)));
  const uint8_t v = h.u8();
  if (v != 0) fail(where, fmt::format("local heap version {} (expected 0)", v));
  h.skip(3);
  const uint64_t data_size = h.u64();
  h.skip(8);  // free list
  const uint64_t data = h.u64();
  at(where, "the local heap's data segment", data, data_size);

  std::unordered_set<uint64_t> seen;
  std::vector<std::pair<std::string, uint64_t>> entries;
  btree(tree, -1, where, data, data_size, seen, entries);
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& name = entries[i].first;
    if (name.empty() || name.find('/') != std::string::npos || name == "." ) {
      fail(where, fmt::format("invalid link name '{}'", printable(name)));
    }
    if (i > 0 && entries[i - 1].first == name) fail(where, fmt::format("two links named '{}'", printable(name)));
  }
  node.members.reserve(entries.size());
  for (auto& [name, addr] : entries) {
    const std::string child = node.path == "/" ? "/" + name : node.path + "/" + name;
    const Node* n = object(addr, child, depth + 1);
    node.members.emplace_back(name, n);
  }
}

Datatype Parser::datatype(Cursor c, const std::string& where, int depth) {
  if (depth > 4) unsupported(where, "variable-length types nested more than 4 deep");
  Datatype t;
  const uint8_t cv = c.u8();
  const int cls = cv & 0x0F, version = cv >> 4;
  const uint32_t b0 = c.u8(), b1 = c.u8(), b2 = c.u8();
  const uint32_t bits = b0 | (b1 << 8) | (b2 << 16);
  t.size = c.u32();
  t.hdf5_class = cls;
  if (version < 1 || version > 3) unsupported(where, fmt::format("datatype version {}", version));
  if (t.size == 0) fail(where, "a datatype of size 0");
  switch (cls) {
    case 0: {  // fixed-point
      const uint16_t offset = c.u16(), precision = c.u16();
      t.big_endian = (bits & 1) != 0;
      t.is_signed = (bits & 8) != 0;
      if ((t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8) && offset == 0 && precision == 8 * t.size) {
        t.cls = TypeClass::Integer;
      }
      break;
    }
    case 1: {  // floating point
      const uint16_t offset = c.u16(), precision = c.u16();
      const uint8_t exp_loc = c.u8(), exp_size = c.u8(), mant_loc = c.u8(), mant_size = c.u8();
      const uint32_t bias = c.u32();
      const bool order_lo = (bits & 1) != 0, order_hi = (bits & 0x40) != 0;  // both set: VAX
      const uint32_t sign = (bits >> 8) & 0xFF, norm = (bits >> 4) & 3;
      t.big_endian = order_lo;
      struct Ieee { uint32_t size, exp_loc, exp_size, mant_size, bias; };
      constexpr Ieee kIeee[] = {{2, 10, 5, 10, 15}, {4, 23, 8, 23, 127}, {8, 52, 11, 52, 1023}};
      for (const Ieee& f : kIeee) {
        if (!order_hi && f.size == t.size && offset == 0 && precision == 8 * t.size && exp_loc == f.exp_loc &&
            exp_size == f.exp_size && mant_loc == 0 && mant_size == f.mant_size && bias == f.bias &&
            sign == 8 * t.size - 1 && norm == 2) {
          t.cls = TypeClass::Float;
        }
      }
      break;
    }
    case 3: {  // fixed-length string
      const uint32_t pad = bits & 0x0F, cset = (bits >> 4) & 0x0F;
      if (pad <= 2 && cset <= 1) {
        t.cls = TypeClass::String;
        t.pad = pad == 0 ? StrPad::NullTerm : pad == 1 ? StrPad::NullPad : StrPad::SpacePad;
        t.utf8 = cset == 1;
      }
      break;
    }
    case 9: {  // variable length: sequence (0) or string (1) of a base type
      const uint32_t kind = bits & 0x0F, cset = (bits >> 8) & 0x0F;
      if (t.size != 16) fail(where, fmt::format("variable-length datatype of size {} (expected 16)", t.size));
      const Datatype base = datatype(c.sub(c.left(), "the base type of a variable-length type"), where, depth + 1);
      const bool byte_base = base.size == 1 && (base.cls == TypeClass::Integer || base.cls == TypeClass::String);
      if (kind <= 1 && byte_base && cset <= 1) {
        t.cls = TypeClass::VlenString;
        t.utf8 = kind == 1 && cset == 1;
      }
      break;
    }
    default: break;  // other classes: kept, not readable
  }
  return t;
}

void Parser::dataspace(Cursor c, const std::string& where, std::vector<uint64_t>& shape, bool& null,
                       uint64_t& count) {
  const uint8_t version = c.u8(), rank = c.u8();
  c.skip(1);  // flags: maximum dimensions and permutations follow, not needed to read
  null = false;
  if (version == 1) {
    c.skip(5);
  } else if (version == 2) {
    const uint8_t type = c.u8();
    if (type > 2) fail(where, fmt::format("dataspace type {}", type));
    if (type != 1 && rank != 0) fail(where, "a scalar or null dataspace with dimensions");
    if (type == 1 && rank == 0) fail(where, "a simple dataspace of rank 0");
    null = type == 2;
  } else {
    unsupported(where, fmt::format("dataspace version {}", version));
  }
  if (rank > d_.limits.max_rank) fail(where, fmt::format("dataspace of rank {} (more than {})", rank, d_.limits.max_rank));
  shape.clear();
  count = null ? 0 : 1;
  for (int i = 0; i < rank; ++i) {
    const uint64_t d = c.u64();
    shape.push_back(d);
    if (!mul_ok(count, d, count)) fail(where, "the dataspace's element count overflows 64 bits");
  }
}

const std::unordered_map<uint32_t, HeapObject>& Parser::collection(uint64_t addr, const std::string& where) {
  if (auto it = collections_.find(addr); it != collections_.end()) return it->second;
  Cursor h = at(where, "a global heap collection", addr, 16);
  if (h.bytes(4) != "GCOL") fail(where, fmt::format("no global heap collection (GCOL) at {}", hex(addr)));
  const uint8_t v = h.u8();
  if (v != 1) fail(where, fmt::format("global heap collection version {} (expected 1)", v));
  h.skip(3);
  const uint64_t size = h.u64();
  if (size < 16) fail(where, fmt::format("global heap collection at {} of {} bytes", hex(addr), size));
  Cursor c = at(where, "a global heap collection", addr, size);
  c.skip(16);
  std::unordered_map<uint32_t, HeapObject> objects;
  while (c.left() >= 16) {
    // Collections that do not overlap hold at most one object per 16 bytes
    // of the file; crafted overlapping ones could be scanned again and again.
    if (++heap_objects_ > file_.size() / 16) {
      fail(where, "more global heap objects scanned than the file can hold (overlapping collections)");
    }
    const uint16_t index = c.u16();
    c.skip(2 + 4);  // reference count, reserved
    const uint64_t osize = c.u64();
    if (index == 0) break;  // free space: the rest of the collection
    if (osize > c.left()) {
      fail(where, fmt::format("global heap object {} ({} bytes) runs past its collection at {}", index, osize,
                              hex(addr)));
    }
    if (!objects.emplace(index, HeapObject{c.pos(), osize}).second) {
      fail(where, fmt::format("global heap collection at {} holds object {} twice", hex(addr), index));
    }
    c.skip(std::min(round8(osize), c.left()));
  }
  return collections_.emplace(addr, std::move(objects)).first->second;
}

std::string Parser::vlen_element(Cursor& c, const std::string& where) {
  const uint64_t length = c.u32();
  const uint64_t coll = c.u64();
  const uint32_t index = c.u32();
  if (length == 0) return {};
  if (coll == kUndef || coll == 0) fail(where, "a variable-length string with no heap address");
  const auto& objects = collection(coll, where);
  const auto it = objects.find(index);
  if (it == objects.end()) {
    fail(where, fmt::format("global heap object {} is not in the collection at {}", index, hex(coll)));
  }
  if (length > it->second.size) {
    fail(where, fmt::format("variable-length string of {} bytes in a heap object of {} bytes", length,
                            it->second.size));
  }
  charge(length + sizeof(std::string), where);
  return std::string(file_.substr(it->second.offset, length));
}

}  // namespace

// Builds Values; a friend of Value.
struct Decoder {
  static void attribute(Parser& p, FileData& d, Node& node, Cursor c, const std::string& where);
  static void fill(Value& v, const Datatype& t, const std::vector<uint64_t>& shape, uint64_t count,
                   std::string_view raw, const std::string& context) {
    v.type_ = t;
    v.shape_ = shape;
    v.count_ = count;
    v.raw_ = std::string(raw);
    v.context_ = context;
  }
};

namespace {

void Parser::attribute(Node& node, Cursor c, const std::string& where) {
  Decoder::attribute(*this, d_, node, c, where);
}

}  // namespace

void Decoder::attribute(Parser& p, FileData& d, Node& node, Cursor c, const std::string& where) {
  const uint8_t version = c.u8();
  if (version < 1 || version > 3) p.unsupported(where, fmt::format("attribute message version {}", version));
  const uint8_t flags = c.u8();
  if (version >= 2 && (flags & 3) != 0) p.unsupported(where, "an attribute with a shared datatype or dataspace");
  const uint64_t name_size = c.u16(), type_size = c.u16(), space_size = c.u16();
  if (version == 3) c.skip(1);  // name character set
  const auto padded = [&](uint64_t n) { return version == 1 ? round8(n) : n; };
  if (name_size == 0) p.fail(where, "an attribute without a name");
  Cursor nc = c.sub(padded(name_size), "an attribute name");
  std::string_view name = nc.bytes(name_size);
  if (const size_t z = name.find('\0'); z != std::string_view::npos) name = name.substr(0, z);
  const std::string attr_where = fmt::format("{}, attribute '{}'", where, printable(name));
  Cursor tc = c.sub(padded(type_size), "an attribute datatype");
  const Datatype t = p.datatype(Cursor(p, attr_where, "the attribute datatype", tc.pos(), tc.pos() + type_size),
                                attr_where, 0);
  Cursor sc = c.sub(padded(space_size), "an attribute dataspace");
  Value v;
  p.dataspace(Cursor(p, attr_where, "the attribute dataspace", sc.pos(), sc.pos() + space_size), attr_where, v.shape_,
              v.null_, v.count_);
  v.type_ = t;
  v.context_ = fmt::format("{}: attribute '{}' of '{}'", d.source, printable(name), printable(node.path));
  uint64_t bytes = 0;
  if (!mul_ok(v.count_, t.size, bytes) || bytes > c.left()) {
    p.fail(attr_where, fmt::format("{} elements of {} bytes do not fit in the {} bytes of the message", v.count_,
                                   t.size, c.left()));
  }
  if (bytes > d.limits.max_attribute_bytes) {
    p.fail(attr_where, fmt::format("{} bytes of data, more than {} (Limits::max_attribute_bytes)", bytes,
                                   d.limits.max_attribute_bytes));
  }
  p.charge(bytes + name.size() + sizeof(Value), attr_where);
  Cursor data = c.sub(bytes, "the attribute data");
  if (t.cls == TypeClass::VlenString) {
    uint64_t total = 0;
    v.strings_.reserve(static_cast<size_t>(v.count_));
    for (uint64_t i = 0; i < v.count_; ++i) {
      v.strings_.push_back(p.vlen_element(data, attr_where));
      total += v.strings_.back().size();
      if (total > d.limits.max_attribute_bytes) {
        p.fail(attr_where, fmt::format("strings of more than {} bytes (Limits::max_attribute_bytes)",
                                       d.limits.max_attribute_bytes));
      }
    }
  } else {
    v.raw_ = std::string(data.bytes(bytes));
  }
  if (!node.attrs.emplace(std::string(name), std::move(v)).second) {
    p.fail(where, fmt::format("two attributes named '{}'", printable(name)));
  }
}

namespace {

void Parser::dataset(Node& node, const std::vector<Message>& msgs, const std::string& where) {
  const Message *space = nullptr, *type = nullptr, *layout = nullptr, *fill = nullptr, *old_fill = nullptr;
  bool filters = false, external = false;
  for (const Message& m : msgs) {
    const Message** slot = nullptr;
    switch (m.type) {
      case 0x01: slot = &space; break;
      case 0x03: slot = &type; break;
      case 0x04: slot = &old_fill; break;
      case 0x05: slot = &fill; break;
      case 0x08: slot = &layout; break;
      case 0x07: external = true; break;
      case 0x0B: filters = true; break;
      default: break;
    }
    if (slot != nullptr) {
      if (*slot != nullptr) fail(where, fmt::format("two header messages of type {:#x}", m.type));
      *slot = &m;
    }
  }
  if (space == nullptr || type == nullptr) fail(where, "a dataset without a dataspace or datatype message");
  const auto cursor = [&](const Message* m, std::string_view what) {
    return Cursor(*this, where, what, m->offset, m->offset + m->size);
  };
  bool null = false;
  dataspace(cursor(space, "the dataspace message"), where, node.shape, null, node.count);
  node.dtype = datatype(cursor(type, "the datatype message"), where, 0);

  Cursor l = cursor(layout, "the layout message");
  const uint8_t version = l.u8();
  if (filters) {
    node.unsupported = "chunked/compressed dataset (a filter pipeline)";
    return;
  }
  if (external) {
    node.unsupported = "dataset in external files";
    return;
  }
  if (version != 3 && version != 4) {
    node.unsupported = fmt::format("layout message version {}", version);
    return;
  }
  const uint8_t cls = l.u8();
  if (cls == 2) {
    node.unsupported = "chunked/compressed dataset (chunked layout)";
    return;
  }
  if (cls == 3) {
    node.unsupported = "virtual dataset";
    return;
  }
  if (cls > 3) fail(where, fmt::format("layout class {}", cls));
  uint64_t need = 0;
  if (!mul_ok(node.count, node.dtype.size, need)) {
    fail(where, fmt::format("{} elements of {} bytes overflow 64 bits", node.count, node.dtype.size));
  }
  if (cls == 0) {  // compact: the data is in the message
    const uint64_t size = l.u16();
    if (need > size) {
      fail(where, fmt::format("compact data of {} bytes for {} elements of {} bytes", size, node.count,
                              node.dtype.size));
    }
    node.data_offset = l.pos();
    l.skip(size);
    node.storage = Storage::Compact;
    return;
  }
  const uint64_t addr = l.u64(), size = l.u64();
  if (addr == kUndef) {
    node.storage = Storage::Unallocated;
    std::string value;
    if (fill != nullptr) {
      Cursor f = cursor(fill, "the fill value message");
      const uint8_t fv = f.u8();
      bool defined = false;
      if (fv == 1 || fv == 2) {
        f.skip(2);
        defined = f.u8() != 0;
        if (fv == 1) defined = true;  // version 1 always stores a size (possibly 0)
      } else if (fv == 3) {
        defined = (f.u8() & 0x20) != 0;
      } else {
        unsupported(where, fmt::format("fill value message version {}", fv));
      }
      if (defined) value = std::string(f.bytes(f.u32()));
    } else if (old_fill != nullptr) {
      Cursor f = cursor(old_fill, "the old fill value message");
      value = std::string(f.bytes(f.u32()));
    }
    if (!value.empty() && value.size() != node.dtype.size) {
      fail(where, fmt::format("fill value of {} bytes for elements of {} bytes", value.size(), node.dtype.size));
    }
    node.fill = std::move(value);
    return;
  }
  if (need > size) {
    fail(where, fmt::format("contiguous data of {} bytes for {} elements of {} bytes", size, node.count,
                            node.dtype.size));
  }
  at(where, "the dataset's data", addr, need);
  node.data_offset = addr;
  node.storage = Storage::Contiguous;
}

}  // namespace

// --- Datatype and Value ----------------------------------------------------

std::string Datatype::describe() const {
  const char* order = big_endian ? "big-endian" : "little-endian";
  switch (cls) {
    case TypeClass::Integer:
      return fmt::format("{}int{} {}", is_signed ? "" : "u", 8 * size, order);
    case TypeClass::Float:
      return fmt::format("float{} {}", 8 * size, order);
    case TypeClass::String:
      return fmt::format("fixed-length {} string of {} bytes ({})", utf8 ? "UTF-8" : "ASCII", size,
                         pad == StrPad::NullTerm ? "null-terminated" : pad == StrPad::NullPad ? "null-padded"
                                                                                               : "space-padded");
    case TypeClass::VlenString:
      return fmt::format("variable-length {} string", utf8 ? "UTF-8" : "ASCII");
    case TypeClass::Other: break;
  }
  static constexpr const char* kNames[] = {"fixed-point", "floating-point", "time", "string", "bitfield", "opaque",
                                           "compound", "reference", "enumerated", "variable-length", "array"};
  const char* name = hdf5_class >= 0 && hdf5_class < 11 ? kNames[hdf5_class] : "unknown";
  return fmt::format("an unsupported {} datatype (class {}, {} bytes)", name, hdf5_class, size);
}

std::vector<std::string> Value::strings() const {
  if (type_.cls == TypeClass::VlenString) return strings_;
  if (type_.cls == TypeClass::String) return decode_fixed_strings(type_, raw_, count_);
  if (count_ == 0 && (null_ || type_.cls == TypeClass::Float || type_.cls == TypeClass::Integer)) return {};
  value_error(context_, fmt::format("holds {}, not strings", type_.describe()));
}

std::string Value::string() const {
  if (count_ != 1) value_error(context_, fmt::format("holds {} elements, not one string", count_));
  return strings().front();
}

std::vector<int64_t> Value::int64s() const { return decode_int64(type_, raw_, count_, context_); }
std::vector<double> Value::float64s() const { return decode_float64(type_, raw_, count_, context_); }
std::vector<float> Value::float32s() const { return decode_float32(type_, raw_, count_, context_); }

int64_t Value::int64() const {
  if (count_ != 1) value_error(context_, fmt::format("holds {} elements, not one number", count_));
  return int64s().front();
}

double Value::float64() const {
  if (count_ != 1) value_error(context_, fmt::format("holds {} elements, not one number", count_));
  return float64s().front();
}

// --- Object, Group, Dataset, File -------------------------------------------

bool Object::is_group() const { return node_->kind == Kind::Group; }
bool Object::is_dataset() const { return node_->kind == Kind::Dataset; }
uint64_t Object::address() const { return node_->addr; }
const std::map<std::string, Value>& Object::attributes() const { return node_->attrs; }

Group Object::as_group() const {
  if (!is_group()) throw IOError(fmt::format("{}: '{}' is not a group", file_->source, printable(path_)));
  return Group(file_, node_, path_);
}

Dataset Object::as_dataset() const {
  if (!is_dataset()) throw IOError(fmt::format("{}: '{}' is not a dataset", file_->source, printable(path_)));
  return Dataset(file_, node_, path_);
}

bool Object::has_attribute(std::string_view name) const { return node_->attrs.count(std::string(name)) != 0; }

const Value& Object::attribute(std::string_view name) const {
  const auto it = node_->attrs.find(std::string(name));
  if (it == node_->attrs.end()) {
    throw IOError(fmt::format("{}: '{}' has no attribute '{}'", file_->source, printable(path_), printable(name)));
  }
  return it->second;
}

namespace {

const Node* find_member(const Node* n, std::string_view name) {
  const auto it = std::lower_bound(n->members.begin(), n->members.end(), name,
                                   [](const auto& m, std::string_view k) { return m.first < k; });
  return it != n->members.end() && it->first == name ? it->second : nullptr;
}

std::string join(const std::string& base, std::string_view name) {
  return base == "/" ? "/" + std::string(name) : base + "/" + std::string(name);
}

}  // namespace

std::vector<std::pair<std::string, Object>> Group::members() const {
  std::vector<std::pair<std::string, Object>> out;
  out.reserve(node_->members.size());
  for (const auto& [name, n] : node_->members) out.emplace_back(name, Object(file_, n, join(path_, name)));
  return out;
}

std::vector<std::string> Group::member_names() const {
  std::vector<std::string> out;
  out.reserve(node_->members.size());
  for (const auto& m : node_->members) out.push_back(m.first);
  return out;
}

bool Group::contains(std::string_view name) const { return find_member(node_, name) != nullptr; }

Object Group::open(std::string_view path) const {
  const Node* n = node_;
  std::string at = path_;
  if (!path.empty() && path.front() == '/') {
    n = file_->root;
    at = "/";
  }
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    const std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty()) continue;
    if (n->kind != Kind::Group) {
      throw IOError(fmt::format("{}: cannot open '{}': '{}' is not a group", file_->source, printable(path),
                                printable(at)));
    }
    const Node* next = find_member(n, part);
    if (next == nullptr) {
      throw IOError(fmt::format("{}: cannot open '{}': group '{}' has no member '{}'", file_->source,
                                printable(path), printable(at), printable(part)));
    }
    n = next;
    at = join(at, part);
  }
  return Object(file_, n, at);
}

Dataset Group::dataset(std::string_view path) const { return open(path).as_dataset(); }

const std::vector<uint64_t>& Dataset::shape() const { return node_->shape; }
uint64_t Dataset::size() const { return node_->count; }
const Datatype& Dataset::dtype() const { return node_->dtype; }

namespace {

// The stored bytes of a dataset (count * dtype.size), or of its fill.
std::string_view dataset_bytes(const FileData& f, const Node& n, const std::string& path, std::string& fill_buf) {
  const std::string where = fmt::format("{}: dataset '{}'", f.source, printable(path));
  if (n.storage == Storage::Unsupported) throw IOError(fmt::format("{}: unsupported: {}", where, n.unsupported));
  const uint64_t bytes = n.count * n.dtype.size;  // checked when parsed
  if (n.storage != Storage::Unallocated) return std::string_view(f.bytes).substr(n.data_offset, bytes);
  const uint64_t cap = std::max<uint64_t>(uint64_t{16} << 20, f.bytes.size());
  if (bytes > cap) {
    throw IOError(fmt::format("{}: no data is stored and its fill value would take {} bytes (more than {})", where,
                              bytes, cap));
  }
  if (n.fill.empty()) {
    fill_buf.assign(bytes, '\0');
  } else {
    fill_buf.reserve(bytes);
    for (uint64_t i = 0; i < n.count; ++i) fill_buf += n.fill;
  }
  return fill_buf;
}

}  // namespace

std::vector<float> Dataset::read_float32() const {
  std::string buf;
  const std::string_view raw = dataset_bytes(*file_, *node_, path_, buf);
  return decode_float32(node_->dtype, raw, node_->count,
                        fmt::format("{}: dataset '{}'", file_->source, printable(path_)));
}

std::vector<double> Dataset::read_float64() const {
  std::string buf;
  const std::string_view raw = dataset_bytes(*file_, *node_, path_, buf);
  return decode_float64(node_->dtype, raw, node_->count,
                        fmt::format("{}: dataset '{}'", file_->source, printable(path_)));
}

std::vector<int64_t> Dataset::read_int64() const {
  std::string buf;
  const std::string_view raw = dataset_bytes(*file_, *node_, path_, buf);
  return decode_int64(node_->dtype, raw, node_->count,
                      fmt::format("{}: dataset '{}'", file_->source, printable(path_)));
}

Value Dataset::read() const {
  const std::string context = fmt::format("{}: dataset '{}'", file_->source, printable(path_));
  const TypeClass c = node_->dtype.cls;
  if (c != TypeClass::Integer && c != TypeClass::Float && c != TypeClass::String) {
    throw IOError(fmt::format("{}: unsupported: reading {}", context, node_->dtype.describe()));
  }
  std::string buf;
  const std::string_view raw = dataset_bytes(*file_, *node_, path_, buf);
  Value v;
  Decoder::fill(v, node_->dtype, node_->shape, node_->count, raw, context);
  return v;
}

File File::parse(std::string bytes, std::string source, const Limits& limits) {
  auto d = std::make_shared<FileData>();
  d->bytes = std::move(bytes);
  d->source = std::move(source);
  d->limits = limits;
  Parser p(*d);
  p.run();
  return File(std::move(d));
}

Group File::root() const { return Group(data_, data_->root, "/"); }
const std::string& File::source() const { return data_->source; }

}  // namespace seqnet::io::hdf5
