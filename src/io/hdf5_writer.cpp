#include "io/hdf5_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

#include "seqnet/error.hpp"

namespace seqnet::io::hdf5 {

namespace {

constexpr uint64_t kUndefined = ~uint64_t{0};
// Symbol table nodes hold 2 * kLeafK entries (libhdf5's default K, so small
// groups stay small); the one B-tree node of a group holds 2 * internal K
// children, K chosen per file for its largest group (at least libhdf5's 16).
constexpr uint16_t kLeafK = 4;
constexpr size_t kMaxMessage = 65535;
constexpr size_t kMaxMembers = size_t{2} * kLeafK * 2 * 32767;

size_t pad8(size_t n) { return (n + 7) & ~size_t{7}; }

// A little-endian byte buffer with patchable fields.
struct Buf {
  std::string b;
  void u8(uint64_t v) { b.push_back(static_cast<char>(v & 0xff)); }
  void u16(uint64_t v) { put(v, 2); }
  void u32(uint64_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void bytes(const std::string& s) { b += s; }
  void zeros(size_t n) { b.append(n, '\0'); }
  void align8() { b.append(pad8(b.size()) - b.size(), '\0'); }
  void patch64(size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  size_t size() const { return b.size(); }
};

struct Attr {
  std::string name;
  bool scalar = true;
  std::vector<std::string> values;
};

struct DatasetNode {
  Shape shape;
  std::vector<float> data;
};

}  // namespace

struct Writer::Impl {
  struct Group {
    std::map<std::string, size_t> groups;    // name -> group id
    std::map<std::string, size_t> datasets;  // name -> dataset id
    std::vector<Attr> attrs;
  };
  std::vector<Group> groups{Group{}};
  std::vector<DatasetNode> datasets;

  // Writing.
  mutable Buf out;
  std::string what;
  uint16_t internal_k = 16;

  [[noreturn]] void fail(const std::string& msg) const {
    throw ValueError(fmt::format("{}: cannot write HDF5: {}", what, msg));
  }

  // One header message: type, then the data padded to 8 bytes.
  static void message(Buf& h, uint16_t type, const std::string& data) {
    h.u16(type);
    h.u16(pad8(data.size()));
    h.u8(0);
    h.zeros(3);
    h.bytes(data);
    h.zeros(pad8(data.size()) - data.size());
  }

  // A version-1 object header holding `msgs` (type, data); returns its address.
  uint64_t object_header(const std::vector<std::pair<uint16_t, std::string>>& msgs, const std::string& path) const {
    Buf h;
    size_t body = 0;
    for (const auto& [t, d] : msgs) {
      if (pad8(d.size()) > kMaxMessage) {
        fail(fmt::format("a header message of '{}' needs {} bytes; a version-1 object header message holds at most "
                         "{}",
                         path, d.size(), kMaxMessage));
      }
      body += 8 + pad8(d.size());
    }
    h.u8(1);  // version
    h.u8(0);
    h.u16(msgs.size());
    h.u32(1);  // reference count
    h.u32(body);
    h.zeros(4);  // the messages start 8-byte aligned
    for (const auto& [t, d] : msgs) message(h, t, d);
    out.align8();
    const uint64_t addr = out.size();
    out.bytes(h.b);
    return addr;
  }

  static std::string string_type(size_t width) {
    Buf t;
    t.u8(0x13);  // version 1, class 3 (string)
    t.u8(0x11);  // null-padded, UTF-8
    t.u8(0);
    t.u8(0);
    t.u32(width);
    return t.b;
  }

  static std::string float32_type() {
    Buf t;
    t.u8(0x11);  // version 1, class 1 (floating point)
    t.u8(0x20);  // little-endian, mantissa normalized (implied leading 1)
    t.u8(31);    // sign bit position
    t.u8(0);
    t.u32(4);
    t.u16(0);    // bit offset
    t.u16(32);   // precision
    t.u8(23);    // exponent location
    t.u8(8);     // exponent size
    t.u8(0);     // mantissa location
    t.u8(23);    // mantissa size
    t.u32(127);  // exponent bias
    return t.b;
  }

  static std::string dataspace(bool scalar, const Shape& dims) {
    Buf s;
    s.u8(1);  // version
    s.u8(scalar ? 0 : dims.size());
    s.u8(0);  // no maximum dimensions
    s.u8(0);
    s.u32(0);
    if (!scalar)
      for (int64_t d : dims) s.u64(static_cast<uint64_t>(d));
    return s.b;
  }

  static std::string attribute_message(const Attr& a) {
    size_t width = 1;
    for (const auto& v : a.values) width = std::max(width, v.size());
    const std::string type = string_type(width);
    const std::string space = dataspace(a.scalar, {static_cast<int64_t>(a.values.size())});
    Buf m;
    m.u8(1);  // version
    m.u8(0);
    m.u16(a.name.size() + 1);
    m.u16(type.size());
    m.u16(space.size());
    m.bytes(a.name);
    m.u8(0);
    m.zeros(pad8(a.name.size() + 1) - (a.name.size() + 1));
    m.bytes(type);
    m.zeros(pad8(type.size()) - type.size());
    m.bytes(space);
    m.zeros(pad8(space.size()) - space.size());
    for (const auto& v : a.values) {
      m.bytes(v);
      m.zeros(width - v.size());
    }
    return m.b;
  }

  uint64_t write_dataset(const DatasetNode& d, const std::string& path) const {
    out.align8();
    const uint64_t data_addr = d.data.empty() ? kUndefined : out.size();
    if (!d.data.empty()) {
      std::string raw(d.data.size() * 4, '\0');
      std::memcpy(raw.data(), d.data.data(), raw.size());  // the library targets little-endian hosts
      out.bytes(raw);
    }
    Buf fill;
    fill.u8(2);  // version 2
    fill.u8(2);  // allocated late
    fill.u8(2);  // written if set
    fill.u8(0);  // no fill value defined
    Buf layout;
    layout.u8(3);  // version 3
    layout.u8(1);  // contiguous
    layout.u64(data_addr);
    layout.u64(d.data.size() * 4);
    return object_header({{1, dataspace(false, d.shape)}, {3, float32_type()}, {5, fill.b}, {8, layout.b}}, path);
  }

  // Writes group `id` and everything in it; returns (header, B-tree, heap)
  // addresses.
  std::array<uint64_t, 3> write_group(size_t id, const std::string& path) const {
    const Group& g = groups[id];
    // Members in name order (bytewise, as HDF5 orders them), each written
    // first so their addresses are known.
    std::map<std::string, std::pair<uint64_t, std::array<uint64_t, 2>>> members;  // name -> header, (btree, heap)
    for (const auto& [name, gid] : g.groups) {
      const auto a = write_group(gid, path + name + "/");
      members[name] = {a[0], {a[1], a[2]}};
    }
    for (const auto& [name, did] : g.datasets) members[name] = {write_dataset(datasets[did], path + name), {0, 0}};
    if (members.size() > kMaxMembers) {
      fail(fmt::format("group '{}' has {} members, more than {}", path, members.size(), kMaxMembers));
    }
    // Local heap: "" at offset 0, then the names, then one free block (as
    // libhdf5 lays it out: next free block 1, its "none", and its size).
    Buf heap_data;
    heap_data.zeros(8);
    std::map<std::string, uint64_t> offset;
    for (const auto& [name, m] : members) {
      offset[name] = heap_data.size();
      heap_data.bytes(name);
      heap_data.u8(0);
      heap_data.align8();
    }
    const uint64_t free_block = heap_data.size();
    heap_data.u64(1);
    heap_data.u64(16);
    out.align8();
    const uint64_t heap_data_addr = out.size();
    out.bytes(heap_data.b);
    out.align8();
    const uint64_t heap_addr = out.size();
    out.bytes("HEAP");
    out.u8(0);
    out.zeros(3);
    out.u64(heap_data.size());
    out.u64(free_block);
    out.u64(heap_data_addr);
    // Symbol table nodes of up to 2K entries each.
    std::vector<std::pair<uint64_t, std::string>> nodes;  // address, last name
    auto it = members.begin();
    while (it != members.end()) {
      out.align8();
      const uint64_t addr = out.size();
      out.bytes("SNOD");
      out.u8(1);
      out.u8(0);
      const size_t count_at = out.size();
      out.u16(0);
      size_t n = 0;
      std::string last;
      for (; it != members.end() && n < 2 * kLeafK; ++it, ++n) {
        const auto& [name, m] = *it;
        out.u64(offset[name]);
        out.u64(m.first);
        const bool is_group = g.groups.count(name) != 0;
        out.u32(is_group ? 1 : 0);
        out.u32(0);
        out.u64(is_group ? m.second[0] : 0);
        out.u64(is_group ? m.second[1] : 0);
        last = name;
      }
      out.b[count_at] = static_cast<char>(n & 0xff);
      out.b[count_at + 1] = static_cast<char>(n >> 8);
      out.zeros((2 * kLeafK - n) * 40);
      nodes.emplace_back(addr, last);
    }
    // One leaf-level B-tree node over them.
    out.align8();
    const uint64_t btree = out.size();
    out.bytes("TREE");
    out.u8(0);  // group node
    out.u8(0);  // level 0
    out.u16(nodes.size());
    out.u64(kUndefined);
    out.u64(kUndefined);
    out.u64(0);  // key 0: ""
    for (const auto& [addr, last] : nodes) {
      out.u64(addr);
      out.u64(offset[last]);
    }
    out.zeros((2 * size_t{internal_k} - nodes.size()) * 16);
    // The group's object header: symbol table, then attributes.
    Buf st;
    st.u64(btree);
    st.u64(heap_addr);
    std::vector<std::pair<uint16_t, std::string>> msgs{{17, st.b}};
    for (const auto& a : g.attrs) msgs.emplace_back(12, attribute_message(a));
    return {object_header(msgs, path), btree, heap_addr};
  }
};

Writer::Writer() : impl_(std::make_unique<Impl>()) {}
Writer::~Writer() = default;

namespace {

void check_name(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find('\0') != std::string::npos || name == "." ||
      name == "..") {
    throw ValueError(fmt::format("HDF5 writer: invalid member name '{}'", name));
  }
}

}  // namespace

Writer::GroupId Writer::group(GroupId parent, const std::string& name) {
  check_name(name);
  auto& p = impl_->groups.at(parent);
  if (p.datasets.count(name)) throw ValueError(fmt::format("HDF5 writer: '{}' is already a dataset", name));
  const auto it = p.groups.find(name);
  if (it != p.groups.end()) return it->second;
  const size_t id = impl_->groups.size();
  impl_->groups.at(parent).groups[name] = id;
  impl_->groups.emplace_back();
  return id;
}

Writer::GroupId Writer::group_path(GroupId parent, const std::string& path) {
  size_t start = 0;
  GroupId g = parent;
  while (start < path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    g = group(g, path.substr(start, end - start));
    start = end + 1;
  }
  return g;
}

void Writer::dataset(GroupId parent, const std::string& name, const Shape& shape, const float* values) {
  check_name(name);
  auto& p = impl_->groups.at(parent);
  if (p.groups.count(name) || p.datasets.count(name)) {
    throw ValueError(fmt::format("HDF5 writer: '{}' exists already", name));
  }
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  p.datasets[name] = impl_->datasets.size();
  impl_->datasets.push_back({shape, std::vector<float>(values, values + n)});
}

void Writer::attribute(GroupId g, const std::string& name, const std::string& value) {
  impl_->groups.at(g).attrs.push_back({name, true, {value}});
}

void Writer::attribute(GroupId g, const std::string& name, const std::vector<std::string>& values) {
  impl_->groups.at(g).attrs.push_back({name, false, values});
}

std::string Writer::build(const std::string& what) const {
  impl_->what = what;
  size_t most = 0;
  for (const auto& g : impl_->groups) most = std::max(most, g.groups.size() + g.datasets.size());
  if (most > kMaxMembers) impl_->fail(fmt::format("a group has {} members, more than {}", most, kMaxMembers));
  const size_t nodes = (most + 2 * kLeafK - 1) / (2 * kLeafK);
  impl_->internal_k = static_cast<uint16_t>(std::max<size_t>(16, (nodes + 1) / 2));
  Buf& out = impl_->out;
  out.b.clear();
  // Superblock version 0; the root's entry is patched in at the end.
  out.bytes(std::string("\x89HDF\r\n\x1a\n", 8));
  out.u8(0);  // superblock version
  out.u8(0);  // free-space version
  out.u8(0);  // root symbol table entry version
  out.u8(0);
  out.u8(0);  // shared header message version
  out.u8(8);  // size of offsets
  out.u8(8);  // size of lengths
  out.u8(0);
  out.u16(kLeafK);
  out.u16(impl_->internal_k);
  out.u32(0);  // consistency flags
  out.u64(0);  // base address
  out.u64(kUndefined);  // free-space info
  const size_t eof_at = out.size();
  out.u64(0);  // end of file, patched
  out.u64(kUndefined);  // driver information
  const size_t root_at = out.size();
  out.zeros(40);
  const auto root = impl_->write_group(kRoot, "/");
  out.align8();
  out.patch64(eof_at, out.size());
  out.patch64(root_at + 8, root[0]);
  // Root entry: name offset 0, header, cache type 1 with B-tree and heap.
  out.b[root_at + 16] = 1;
  out.patch64(root_at + 24, root[1]);
  out.patch64(root_at + 32, root[2]);
  std::string bytes = std::move(out.b);
  out.b.clear();
  return bytes;
}

}  // namespace seqnet::io::hdf5
