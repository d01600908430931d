// The bounded HDF5 reader (src/io/hdf5.hpp).
//
// 1. Every HDF5 image among the Keras model files in ../shared/keras-models
//    (the .h5 files and the model.weights.h5 inside each .keras zip) and the
//    synthetic synthetic.h5 (written into the build tree by
//    tests/fixtures/keras_h5/generate.py --synthetic), walked in full and
//    compared with the reference dumps that h5py wrote
//    (tests/fixtures/keras_h5/generate.py): every object, member list,
//    attribute and dataset value.
// 2. Crafted bad files built in memory from synthetic.h5: truncations, bad
//    offsets, B-tree and group cycles, absurd dataspaces, chunked layouts
//    and filters, broken variable-length strings and global heaps: each an
//    IOError naming the problem. Then every byte of the file flipped and the
//    file cut at every length: only seqnet::Error or success, never a crash.

#include "io/hdf5.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/error.hpp>
#include <zip.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace h5 = seqnet::io::hdf5;
using nlohmann::json;

namespace {

const std::string kFixtures = std::string(SEQNET_FIXTURE_DIR) + "/keras_h5";

std::string models_dir() { return std::string(SEQNET_SHARED_DIR) + "/keras-models"; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One member of a zip archive, read with libzip.
std::string zip_member(const std::string& path, const std::string& member) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) throw std::runtime_error("cannot open zip " + path);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, member.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    zip_discard(z);
    throw std::runtime_error("no member " + member + " in " + path);
  }
  std::string out(static_cast<size_t>(st.size), '\0');
  zip_file_t* f = zip_fopen(z, member.c_str(), 0);
  const zip_int64_t got = f != nullptr ? zip_fread(f, out.data(), out.size()) : -1;
  if (f != nullptr) zip_fclose(f);
  zip_discard(z);
  if (got != static_cast<zip_int64_t>(out.size())) throw std::runtime_error("cannot read " + member + " in " + path);
  return out;
}

uint64_t fnv1a64(const void* data, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

template <class T>
std::string fnv_hex(const std::vector<T>& v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(v.data(), v.size() * sizeof(T))));
  return buf;
}

// JSON text written by the generator holds bytes 0..255 as code points
// 0..255 (Latin-1); back to bytes.
std::string latin1_bytes(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F));
    }
  }
  return out;
}

struct Counts {
  int images = 0, objects = 0, groups = 0, datasets = 0, datasets_read = 0, attributes = 0;
};

void expect_type(const h5::Datatype& t, const json& ref, const std::string& what) {
  const std::string cls = ref.at("class");
  if (ref.contains("size")) {
    EXPECT_EQ(t.size, ref.at("size").get<uint32_t>()) << what;
  } else {
    EXPECT_EQ(t.size, 16u) << what;  // variable length: length, heap address, index
  }
  if (cls == "integer") {
    EXPECT_EQ(t.cls, h5::TypeClass::Integer) << what;
    EXPECT_EQ(t.is_signed, ref.at("signed").get<bool>()) << what;
    EXPECT_EQ(t.big_endian, ref.at("big_endian").get<bool>()) << what;
  } else if (cls == "float") {
    EXPECT_EQ(t.cls, h5::TypeClass::Float) << what;
    EXPECT_EQ(t.big_endian, ref.at("big_endian").get<bool>()) << what;
  } else if (cls == "string") {
    EXPECT_EQ(t.cls, h5::TypeClass::String) << what;
    const std::string pad = ref.at("pad");
    EXPECT_EQ(t.pad, pad == "nullterm" ? h5::StrPad::NullTerm : pad == "nullpad" ? h5::StrPad::NullPad
                                                                                 : h5::StrPad::SpacePad)
        << what;
    EXPECT_EQ(t.utf8, ref.at("utf8").get<bool>()) << what;
  } else if (cls == "vlen_string") {
    EXPECT_EQ(t.cls, h5::TypeClass::VlenString) << what;
    EXPECT_EQ(t.utf8, ref.at("utf8").get<bool>()) << what;
  } else if (cls == "vlen_sequence") {
    EXPECT_EQ(t.cls, h5::TypeClass::VlenString) << what << " (a sequence of bytes)";
    EXPECT_EQ(ref.at("base_size").get<int>(), 1) << what;
  } else {
    EXPECT_EQ(t.cls, h5::TypeClass::Other) << what;
  }
}

// Sums agree to 1e-9 of the sum of magnitudes (the summation order differs).
void expect_sums(const std::vector<double>& v, const json& ref, const std::string& what) {
  double sum = 0, sum_abs = 0, sum_sq = 0;
  for (double x : v) {
    sum += x;
    sum_abs += std::fabs(x);
    sum_sq += x * x;
  }
  const double ra = ref.at("sum_abs").get<double>(), rq = ref.at("sum_sq").get<double>();
  EXPECT_NEAR(sum, ref.at("sum").get<double>(), 1e-9 * ra + 1e-300) << what;
  EXPECT_NEAR(sum_abs, ra, 1e-9 * ra + 1e-300) << what;
  EXPECT_NEAR(sum_sq, rq, 1e-9 * rq + 1e-300) << what;
  const auto& first = ref.at("first");
  ASSERT_LE(first.size(), v.size()) << what;
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(v[i], first[i].get<double>()) << what << " element " << i;
}

// The numbers of an attribute or dataset against the reference: every bit
// (hashes of the float32, float64 or int64 values) and the sums.
void expect_numbers(const std::function<std::vector<double>()>& f64, const std::function<std::vector<float>()>& f32,
                    const std::function<std::vector<int64_t>()>& i64, const json& ref, const std::string& what) {
  const std::string cls = ref.at("type").at("class");
  if (cls == "integer") {
    const auto v = i64();
    EXPECT_EQ(fnv_hex(v), ref.at("fnv_i64").get<std::string>()) << what;
    if (ref.contains("values")) {
      EXPECT_EQ(v, ref.at("values").get<std::vector<int64_t>>()) << what;
    }
    std::vector<double> d(v.begin(), v.end());
    expect_sums(d, ref, what);
  } else {
    const auto d = f64();
    EXPECT_EQ(fnv_hex(d), ref.at("fnv_f64").get<std::string>()) << what;
    EXPECT_EQ(fnv_hex(f32()), ref.at("fnv_f32").get<std::string>()) << what;
    if (ref.contains("values")) {
      EXPECT_EQ(d, ref.at("values").get<std::vector<double>>()) << what;
    }
    expect_sums(d, ref, what);
  }
}

void expect_shape(const std::vector<uint64_t>& shape, const json& ref, const std::string& what) {
  EXPECT_EQ(shape, ref.get<std::vector<uint64_t>>()) << what;
}

void expect_attribute(const h5::Value& v, const json& ref, const std::string& what) {
  expect_type(v.dtype(), ref.at("type"), what);
  if (ref.at("shape").is_null()) {
    EXPECT_TRUE(v.is_null()) << what;
  } else {
    expect_shape(v.shape(), ref.at("shape"), what);
  }
  if (ref.contains("strings")) {
    const auto got = v.strings();
    const auto& want = ref.at("strings");
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
      if (want[i].contains("text")) {
        EXPECT_EQ(got[i], latin1_bytes(want[i].at("text"))) << what << " element " << i;
      } else {
        EXPECT_EQ(got[i].size(), want[i].at("len").get<size_t>()) << what << " element " << i;
        std::vector<char> bytes(got[i].begin(), got[i].end());
        EXPECT_EQ(fnv_hex(bytes), want[i].at("fnv64").get<std::string>()) << what << " element " << i;
      }
    }
    if (v.size() == 1) {
      EXPECT_EQ(v.string(), got.front()) << what;
    }
  } else if (ref.contains("sum")) {
    expect_numbers([&] { return v.float64s(); }, [&] { return v.float32s(); }, [&] { return v.int64s(); }, ref,
                   what);
    // Keras writes a weightless layer's weight_names as an empty float64 array.
    if (v.size() == 0) {
      EXPECT_TRUE(v.strings().empty()) << what;
    }
  }
}

// Walks `file` in full against the generator's dump `ref`.
void expect_matches(const h5::File& file, const json& ref, const std::string& name, Counts& counts) {
  ++counts.images;
  const h5::Group root = file.root();
  std::set<std::string> ref_paths;
  for (const auto& o : ref.at("objects")) {
    const std::string path = o.at("path");
    ref_paths.insert(path);
    const std::string what = name + ": " + path;
    SCOPED_TRACE(what);
    const h5::Object obj = path == "/" ? static_cast<h5::Object>(root) : root.open(path);
    ++counts.objects;
    // Attributes: the same names, each with the same type, shape, value.
    std::vector<std::string> names, ref_names;
    for (const auto& [n, v] : obj.attributes()) names.push_back(n);
    for (const auto& [n, v] : o.at("attributes").items()) ref_names.push_back(n);
    std::sort(ref_names.begin(), ref_names.end());
    EXPECT_EQ(names, ref_names);
    for (const auto& [n, a] : o.at("attributes").items()) {
      if (!obj.has_attribute(n)) continue;
      expect_attribute(obj.attribute(n), a, what + " @" + n);
      ++counts.attributes;
    }
    if (o.at("kind") == "group") {
      ASSERT_TRUE(obj.is_group());
      ++counts.groups;
      const h5::Group g = obj.as_group();
      EXPECT_EQ(g.member_names(), o.at("members").get<std::vector<std::string>>());
      for (const auto& [n, m] : g.members()) {
        EXPECT_EQ(m.path(), path == "/" ? "/" + n : path + "/" + n);
        EXPECT_TRUE(g.contains(n));
      }
      continue;
    }
    ASSERT_TRUE(obj.is_dataset());
    ++counts.datasets;
    const h5::Dataset d = obj.as_dataset();
    expect_type(d.dtype(), o.at("type"), what);
    expect_shape(d.shape(), o.at("shape"), what);
    uint64_t n = 1;
    for (uint64_t s : d.shape()) n *= s;
    EXPECT_EQ(d.size(), n);
    const bool unsupported = o.at("layout") != "contiguous" && o.at("layout") != "compact";
    if (unsupported || o.at("filters").get<int>() != 0) {
      EXPECT_THROW(
          {
            try {
              d.read_float32();
            } catch (const seqnet::IOError& e) {
              EXPECT_NE(std::string(e.what()).find("unsupported: chunked/compressed dataset"), std::string::npos)
                  << e.what();
              throw;
            }
          },
          seqnet::IOError);
      continue;
    }
    if (!o.contains("sum")) {  // too big for the reference to read: must be refused, not allocated
      EXPECT_THROW(d.read_float32(), seqnet::IOError);
      continue;
    }
    expect_numbers([&] { return d.read_float64(); }, [&] { return d.read_float32(); },
                   [&] { return d.read_int64(); }, o, what);
    ++counts.datasets_read;
  }
  // And nothing more: every object the reader reaches is in the reference.
  std::function<void(const h5::Group&)> visit = [&](const h5::Group& g) {
    for (const auto& [n, m] : g.members()) {
      EXPECT_TRUE(ref_paths.count(m.path()) != 0) << name << ": unexpected " << m.path();
      if (m.is_group()) visit(m.as_group());
    }
  };
  visit(root);
}

json load_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

const std::string kSynthetic = SEQNET_SYNTHETIC_DIR;  // written by the build (tests/CMakeLists.txt)
std::string synthetic() { return read_bytes(kSynthetic + "/synthetic.h5"); }

TEST(Hdf5, SyntheticFileMatchesH5py) {
  Counts c;
  const h5::File f = h5::File::parse(synthetic(), "synthetic.h5");
  expect_matches(f, load_json(kSynthetic + "/synthetic.h5.json"), "synthetic.h5", c);
  std::printf("synthetic.h5 matched h5py: %d objects (%d groups, %d datasets, %d read), %d attributes\n", c.objects,
              c.groups, c.datasets, c.datasets_read, c.attributes);
  EXPECT_GT(c.datasets_read, 15);
  EXPECT_GT(c.attributes, 15);
  // A few things spelled out.
  const h5::Group root = f.root();
  EXPECT_EQ(root.attribute("fixed_nullterm").strings(), (std::vector<std::string>{"ab", "sixsix"}));
  EXPECT_EQ(root.attribute("fixed_nullpad").strings(), (std::vector<std::string>{"abc", "exact", ""}));
  EXPECT_EQ(root.attribute("fixed_spacepad").strings(), (std::vector<std::string>{"ab", "sixsix"}));
  EXPECT_EQ(root.attribute("vlen_ascii").string(), "tensorflow");
  EXPECT_TRUE(root.attribute("empty_f64").strings().empty());
  EXPECT_EQ(root.attribute("scalar_i64").int64(), -1234567890123);
  EXPECT_EQ(root.dataset("data/i8_scalar").read_int64(), std::vector<int64_t>{1500});
  EXPECT_EQ(root.dataset("/data/unallocated").read_float32(), std::vector<float>(4, 2.5f));
  EXPECT_EQ(root.dataset("data/compact").read_float32(), (std::vector<float>{1.5f, -2.0f, 3.25f, 4.0f}));
  EXPECT_EQ(root.open("hard_link_to_f32_le").address(), root.open("data/f32_le").address());
  EXPECT_EQ(root.group("a").group("b/c").open("d").path(), "/a/b/c/d");
  EXPECT_EQ(root.group("many").member_names().size(), 12u);
  EXPECT_THROW(root.open("data/nope"), seqnet::IOError);
  EXPECT_THROW(root.open("data/f32_le/x"), seqnet::IOError);
  EXPECT_THROW(root.group("data/f32_le"), seqnet::IOError);
  EXPECT_THROW(root.attribute("nope"), seqnet::IOError);
  EXPECT_THROW(root.attribute("vlen_ascii").float32s(), seqnet::IOError);
  EXPECT_THROW(root.attribute("scalar_f32").int64s(), seqnet::IOError);
  EXPECT_EQ(root.dataset("data/u8").read_int64(), (std::vector<int64_t>{INT64_MAX, 5}));
  EXPECT_THROW(root.dataset("data/u8").read_float32(), seqnet::IOError);  // 2^63 - 1 is not exact in float32
  EXPECT_THROW(root.dataset("data/huge_unallocated").read_float32(), seqnet::IOError);
}

TEST(Hdf5, KerasModelFilesMatchH5py) {
  const std::string dir = models_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  Counts c;
  for (const auto& entry : std::filesystem::directory_iterator(kFixtures)) {
    const std::string fixture = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    const std::string stem = fixture.substr(0, fixture.size() - 5);
    // "<file>.json" or "<file>.keras.<member>.json" for a zip member.
    std::string file = stem, member;
    if (const size_t k = stem.find(".keras."); k != std::string::npos) {
      file = stem.substr(0, k + 6);
      member = stem.substr(k + 7);
    }
    const std::string path = dir + "/" + file;
    SCOPED_TRACE(stem);
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    std::string bytes = member.empty() ? read_bytes(path) : zip_member(path, member);
    const h5::File f = h5::File::parse(std::move(bytes), member.empty() ? file : file + ": " + member);
    expect_matches(f, load_json(entry.path().string()), stem, c);
  }
  std::printf("h5py reference matched: %d HDF5 images, %d objects (%d groups, %d datasets, %d read), %d attributes\n",
              c.images, c.objects, c.groups, c.datasets, c.datasets_read, c.attributes);
  EXPECT_EQ(c.images, 13);  // 9 HDF5 files and the weights of 4 .keras zips
  EXPECT_EQ(c.datasets, c.datasets_read);
}

// The Keras weights layout through the reader: layer_names, weight_names
// (fixed-length strings filling their width; an empty float64 array for a
// weightless layer), then the weights by those names.
TEST(Hdf5, KerasLegacyWeightsByName) {
  const std::string path = models_dir() + "/k2_imdb_gru.h5";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const h5::File f = h5::File::parse(read_bytes(path), "k2_imdb_gru.h5");
  const h5::Group w = f.root().group("model_weights");
  const auto layers = w.attribute("layer_names").strings();
  EXPECT_EQ(layers, (std::vector<std::string>{"input_2", "embedding_2", "gru_2", "dense_7"}));
  EXPECT_TRUE(w.group("input_2").attribute("weight_names").strings().empty());
  const auto names = w.group("gru_2").attribute("weight_names").strings();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[2], "gru_2/bias:0");
  EXPECT_EQ(w.group("gru_2").dataset(names[2]).shape(), std::vector<uint64_t>{150});
  EXPECT_EQ(w.group("embedding_2").dataset("embedding_2/embeddings:0").read_float32().size(), 5000u * 50u);
  EXPECT_EQ(f.root().attribute("keras_version").string(), "2.0.4");
}

// --- crafted files -----------------------------------------------------------

uint64_t le(const std::string& b, uint64_t off, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b.at(off + static_cast<uint64_t>(i)));
  return v;
}

void put(std::string& b, uint64_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.at(off + static_cast<uint64_t>(i)) = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// The header messages of a version-1 object header, found independently of
// the reader (following continuation messages).
struct RawMsg {
  uint16_t type;
  uint64_t header;  // offset of the 8-byte message header
  uint64_t data;
  uint64_t size;
};

std::vector<RawMsg> raw_messages(const std::string& b, uint64_t oh) {
  std::vector<std::pair<uint64_t, uint64_t>> blocks{{oh + 16, le(b, oh + 8, 4)}};
  std::vector<RawMsg> out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    uint64_t p = blocks[i].first;
    const uint64_t end = p + blocks[i].second;
    while (p + 8 <= end) {
      RawMsg m{static_cast<uint16_t>(le(b, p, 2)), p, p + 8, le(b, p + 2, 2)};
      if (m.type == 0x10) blocks.emplace_back(le(b, m.data, 8), le(b, m.data + 8, 8));
      out.push_back(m);
      p = m.data + m.size;
    }
  }
  return out;
}

RawMsg raw_message(const std::string& b, uint64_t oh, uint16_t type) {
  for (const RawMsg& m : raw_messages(b, oh))
    if (m.type == type) return m;
  throw std::runtime_error("no message of that type");
}

// The data of attribute `name` (a version-1 attribute message) of the object at oh.
uint64_t raw_attribute_data(const std::string& b, uint64_t oh, const std::string& name, uint64_t* space = nullptr) {
  for (const RawMsg& m : raw_messages(b, oh)) {
    if (m.type != 0x0C) continue;
    const uint64_t ns = le(b, m.data + 2, 2), ts = le(b, m.data + 4, 2), ss = le(b, m.data + 6, 2);
    if (b.substr(m.data + 8, ns - 1) != name) continue;
    const auto r8 = [](uint64_t n) { return (n + 7) & ~uint64_t{7}; };
    if (space != nullptr) *space = m.data + 8 + r8(ns) + r8(ts);
    return m.data + 8 + r8(ns) + r8(ts) + r8(ss);
  }
  throw std::runtime_error("no attribute " + name);
}

// The attribute message of attribute `name` of the object at oh.
RawMsg raw_attribute_msg(const std::string& b, uint64_t oh, const std::string& name) {
  for (const RawMsg& m : raw_messages(b, oh)) {
    if (m.type == 0x0C && b.substr(m.data + 8, le(b, m.data + 2, 2) - 1) == name) return m;
  }
  throw std::runtime_error("no attribute " + name);
}

// The symbol table entries (offset of each 40-byte entry) of the group at oh.
void raw_entries(const std::string& b, uint64_t node, std::vector<uint64_t>& out) {
  if (b.substr(node, 4) == "SNOD") {
    for (uint64_t i = 0; i < le(b, node + 6, 2); ++i) out.push_back(node + 8 + 40 * i);
    return;
  }
  const uint64_t used = le(b, node + 6, 2);
  for (uint64_t i = 0; i < used; ++i) raw_entries(b, le(b, node + 24 + 16 * i + 8, 8), out);
}

uint64_t btree_of(const std::string& b, uint64_t group_oh) { return le(b, raw_message(b, group_oh, 0x11).data, 8); }

std::string fmt_node_twice(uint64_t addr) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "reaches the node at %#llx twice", static_cast<unsigned long long>(addr));
  return buf;
}

struct Synthetic {
  std::string bytes = synthetic();
  h5::File file = h5::File::parse(bytes, "synthetic.h5");
  uint64_t addr(const std::string& path) const { return file.root().open(path).address(); }
};

// Parses and reads everything; returns every seqnet::Error's message, in
// walk order (a failed parse gives one). Any other exception fails the test.
std::vector<std::string> read_errors(std::string bytes, const h5::Limits& limits = {}) {
  std::vector<std::string> errors;
  try {
    const h5::File f = h5::File::parse(std::move(bytes), "crafted.h5", limits);
    std::function<void(const h5::Group&)> visit = [&](const h5::Group& g) {
      for (const auto& [n, m] : g.members()) {
        for (const auto& [an, v] : m.attributes()) {
          try {
            if (v.is_string()) {
              (void)v.strings();
            } else {
              (void)v.float64s();
            }
          } catch (const seqnet::Error& e) {
            errors.push_back(e.what());
          }
        }
        if (m.is_group()) visit(m.as_group());
        if (m.is_dataset()) {
          try {
            (void)m.as_dataset().read_float64();
          } catch (const seqnet::Error& e) {
            errors.push_back(e.what());
          }
        }
      }
    };
    visit(f.root());
  } catch (const seqnet::Error& e) {
    errors.push_back(e.what());
  }
  return errors;
}

// True when the file parses and reads exactly as synthetic.h5 does (whose
// chunked, compressed and huge unallocated datasets are refused).
bool reads_like_synthetic(std::string bytes) {
  static const std::vector<std::string> baseline = read_errors(synthetic());
  return read_errors(std::move(bytes)) == baseline;
}

void expect_parse_error(const std::string& bytes, const std::string& fragment, const h5::Limits& limits = {}) {
  try {
    h5::File::parse(bytes, "crafted.h5", limits);
    ADD_FAILURE() << "parsed; expected an error with: " << fragment;
  } catch (const seqnet::IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
    EXPECT_NE(msg.find("crafted.h5"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(Hdf5Crafted, Truncated) {
  const std::string good = synthetic();
  // As cut: the superblock's end-of-file address gives it away.
  for (size_t n = 0; n < good.size(); n += 61) expect_parse_error(good.substr(0, n), n < 8 ? "signature" : "");
  expect_parse_error(good.substr(0, 5000),
                     "truncated: the superblock records " + std::to_string(good.size()) + " bytes, 5000 are present");
  // With the end-of-file address rewritten to match: every structure that
  // reaches past the end is caught where it is read.
  int errors = 0, ok = 0;
  for (size_t n = 96; n < good.size(); n += 1) {
    std::string b = good.substr(0, n);
    put(b, 40, n, 8);
    (reads_like_synthetic(b) ? ok : errors)++;
  }
  EXPECT_GT(errors, 25000);
  std::printf("truncated with a matching end-of-file address: %d errors, %d files read in full\n", errors, ok);
  std::string b = good.substr(0, 4000);
  put(b, 40, 4000, 8);
  expect_parse_error(b, "beyond the end of the file (4000 bytes)");
}

TEST(Hdf5Crafted, SuperblockAndHeaders) {
  Synthetic s;
  std::string b = s.bytes;
  b[8] = 2;
  expect_parse_error(b, "unsupported: superblock version 2");
  b = s.bytes;
  b[13] = 4;
  expect_parse_error(b, "unsupported: 4-byte offsets");
  b = s.bytes;
  put(b, 24, 512, 8);
  expect_parse_error(b, "unsupported: base address");
  b = s.bytes;
  const uint64_t root = le(b, 64, 8);
  b.replace(root, 4, "OHDR");
  expect_parse_error(b, "unsupported: a version-2 object header");
  b = s.bytes;
  put(b, 64, b.size() + 100, 8);  // root object header past the end
  expect_parse_error(b, "beyond the end of the file");
  b = s.bytes;
  put(b, 64, 0xFFFFFFFFFFFFFFFFull, 8);
  expect_parse_error(b, "undefined address");
  b = s.bytes;
  put(b, root + 8, 1u << 30, 4);  // header block size beyond the file
  expect_parse_error(b, "beyond the end of the file");
}

TEST(Hdf5Crafted, Messages) {
  Synthetic s;
  const uint64_t ds = s.addr("data/f32_le");
  // A continuation pointing at a block already read: refused, not looped.
  const RawMsg cont = raw_message(s.bytes, s.addr("/"), 0x10);
  std::string b = s.bytes;
  put(b, cont.data, s.addr("/") + 16, 8);
  expect_parse_error(b, "listed twice");
  // A message longer than its block.
  b = s.bytes;
  const RawMsg layout = raw_message(s.bytes, ds, 0x08);
  put(b, layout.header + 2, 0xFFF0, 2);
  expect_parse_error(b, "runs past the end of its header block");
  // Unknown messages: skipped, unless marked as required.
  const RawMsg nil = raw_message(s.bytes, ds, 0x00);
  b = s.bytes;
  put(b, nil.header, 0x1F, 2);
  EXPECT_TRUE(reads_like_synthetic(b));
  b[nil.header + 4] = static_cast<char>(0x80);
  expect_parse_error(b, "unsupported: header message type 0x1f, marked as required");
  // A new-style group and a shared message are refused.
  b = s.bytes;
  put(b, nil.header, 0x06, 2);
  expect_parse_error(b, "unsupported: a new-style group");
  b = s.bytes;
  b[layout.header + 4] = 0x02;
  expect_parse_error(b, "unsupported: a shared header message (type 0x8)");
  // Too many messages for the limits.
  h5::Limits lim;
  lim.max_messages = 50;
  expect_parse_error(s.bytes, "Limits::max_messages", lim);
}

TEST(Hdf5Crafted, DataOffsetsAndDataspaces) {
  Synthetic s;
  const uint64_t ds = s.addr("data/f32_le");
  const RawMsg layout = raw_message(s.bytes, ds, 0x08);
  ASSERT_EQ(s.bytes[layout.data], 3);
  ASSERT_EQ(s.bytes[layout.data + 1], 1);  // contiguous
  std::string b = s.bytes;
  put(b, layout.data + 2, b.size() + 100, 8);
  expect_parse_error(b, "the dataset's data at");
  b = s.bytes;
  put(b, layout.data + 2, b.size() - 8, 8);  // starts inside, ends outside
  expect_parse_error(b, "beyond the end of the file");
  b = s.bytes;
  put(b, layout.data + 10, 4, 8);  // stored size smaller than 6 float32
  expect_parse_error(b, "contiguous data of 4 bytes for 6 elements");
  // 2^60 elements in a 28 KB file: refused before anything is allocated.
  const RawMsg space = raw_message(s.bytes, ds, 0x01);
  b = s.bytes;
  put(b, space.data + 8, uint64_t{1} << 60, 8);
  expect_parse_error(b, "contiguous data of 24 bytes for 3458764513820540928 elements");
  b = s.bytes;
  put(b, space.data + 8, uint64_t{1} << 40, 8);
  put(b, space.data + 16, uint64_t{1} << 40, 8);
  expect_parse_error(b, "element count overflows");
  b = s.bytes;
  b[space.data + 1] = 40;
  expect_parse_error(b, "dataspace of rank 40");
  // Version-2 dataspaces (rewritten in place) read the same.
  b = s.bytes;
  b[space.data] = 2;
  b[space.data + 3] = 1;  // simple
  std::memmove(&b[space.data + 4], &b[space.data + 8], 2 * 8 * 2);
  {
    const h5::File f = h5::File::parse(b, "v2.h5");
    EXPECT_EQ(f.root().dataset("data/f32_le").read_float32(), s.file.root().dataset("data/f32_le").read_float32());
  }
  // The same dataset, chunked, or with a filter pipeline: the file parses,
  // the data is refused when read.
  b = s.bytes;
  b[layout.data + 1] = 2;
  {
    const h5::File f = h5::File::parse(b, "crafted.h5");
    EXPECT_EQ(f.root().dataset("data/f32_le").shape(), (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(f.root().dataset("data/f64_le").read_float64(), s.file.root().dataset("data/f64_le").read_float64());
    try {
      f.root().dataset("data/f32_le").read_float32();
      ADD_FAILURE() << "read a chunked dataset";
    } catch (const seqnet::IOError& e) {
      EXPECT_NE(std::string(e.what()).find("dataset '/data/f32_le': unsupported: chunked/compressed dataset"),
                std::string::npos)
          << e.what();
    }
  }
  const RawMsg nil = raw_message(s.bytes, ds, 0x00);
  b = s.bytes;
  put(b, nil.header, 0x0B, 2);
  {
    const h5::File f = h5::File::parse(b, "crafted.h5");
    EXPECT_THROW(f.root().dataset("data/f32_le").read_int64(), seqnet::IOError);
    try {
      f.root().dataset("data/f32_le").read_float32();
      ADD_FAILURE() << "read a filtered dataset";
    } catch (const seqnet::IOError& e) {
      EXPECT_NE(std::string(e.what()).find("unsupported: chunked/compressed dataset (a filter pipeline)"),
                std::string::npos)
          << e.what();
    }
  }
  // An unsigned 64-bit value beyond int64.
  {
    const uint64_t u8 = s.addr("data/u8");
    const RawMsg l = raw_message(s.bytes, u8, 0x08);
    b = s.bytes;
    put(b, le(b, l.data + 2, 8), ~uint64_t{0}, 8);
    const h5::File f = h5::File::parse(b, "crafted.h5");
    EXPECT_THROW(f.root().dataset("data/u8").read_int64(), seqnet::IOError);
    EXPECT_THROW(f.root().dataset("data/u8").read_float64(), seqnet::IOError);
  }
  // A datatype the reader does not convert: VAX byte order.
  const RawMsg type = raw_message(s.bytes, ds, 0x03);
  b = s.bytes;
  b[type.data + 1] = static_cast<char>(b[type.data + 1] | 0x41);
  {
    const h5::File f = h5::File::parse(b, "crafted.h5");
    EXPECT_EQ(f.root().dataset("data/f32_le").dtype().cls, h5::TypeClass::Other);
    EXPECT_THROW(f.root().dataset("data/f32_le").read_float32(), seqnet::IOError);
  }
}

TEST(Hdf5Crafted, GroupStructures) {
  Synthetic s;
  // "many" has a B-tree with internal nodes (K = 1).
  const uint64_t tree = btree_of(s.bytes, s.addr("many"));
  ASSERT_EQ(s.bytes.substr(tree, 4), "TREE");
  const int level = s.bytes[tree + 5];
  ASSERT_GE(level, 2);
  const uint64_t child0 = tree + 24 + 8;  // first child pointer of the root node
  std::string b = s.bytes;
  put(b, child0, tree, 8);  // a child pointing to its own node
  expect_parse_error(b, fmt_node_twice(tree));
  const uint64_t child = le(s.bytes, child0, 8);
  b = s.bytes;
  put(b, child + 24 + 8, tree, 8);  // a grandchild pointing back to the root
  expect_parse_error(b, fmt_node_twice(tree));
  const uint64_t grandchild = le(s.bytes, child + 24 + 8, 8);
  b = s.bytes;
  put(b, child0, grandchild, 8);  // a child one level too low
  expect_parse_error(b, "has level " + std::to_string(level - 2) + " below a node of level " + std::to_string(level));
  b = s.bytes;
  put(b, tree + 24 + 8 + 16, child, 8);  // two children pointing to the same node
  expect_parse_error(b, "reaches the node at");
  b = s.bytes;
  b[tree + 5] = 17;
  expect_parse_error(b, "group B-tree of level 17 (more than 16");
  b = s.bytes;
  put(b, tree + 6, 3, 2);  // more entries than 2K = 2
  expect_parse_error(b, "holds 3 entries, more than 2K = 2");
  b = s.bytes;
  b[tree + 4] = 1;
  expect_parse_error(b, "not a group node");

  // Group cycles: a/b/c's entry for "d" pointing back to "a", or to "c" itself.
  std::vector<uint64_t> entries;
  raw_entries(s.bytes, btree_of(s.bytes, s.addr("a/b/c")), entries);
  ASSERT_EQ(entries.size(), 1u);
  ASSERT_EQ(le(s.bytes, entries[0] + 8, 8), s.addr("a/b/c/d"));
  b = s.bytes;
  put(b, entries[0] + 8, s.addr("a"), 8);
  expect_parse_error(b, "group cycle: it is its own ancestor '/a'");
  b = s.bytes;
  put(b, entries[0] + 8, s.addr("a/b/c"), 8);
  expect_parse_error(b, "group cycle");
  b = s.bytes;
  put(b, entries[0] + 8, s.addr("/"), 8);
  expect_parse_error(b, "group cycle: it is its own ancestor '/'");
  // A hard link to an object already reached elsewhere is fine (not a cycle).
  b = s.bytes;
  put(b, entries[0] + 8, s.addr("data/f32_le"), 8);
  EXPECT_TRUE(reads_like_synthetic(b));
  // Names: beyond the local heap, and a soft link.
  b = s.bytes;
  put(b, entries[0], 1u << 20, 8);
  expect_parse_error(b, "link name offset 1048576 beyond its local heap");
  b = s.bytes;
  put(b, entries[0] + 16, 2, 4);
  expect_parse_error(b, "unsupported: a soft link");
  // A symbol table node claiming more entries than 2K.
  const uint64_t snod = entries[0] - 8;
  b = s.bytes;
  put(b, snod + 6, 3, 2);
  expect_parse_error(b, "holds 3 entries, more than 2K = 2");
  // Nesting deeper than the limit.
  h5::Limits lim;
  lim.max_group_depth = 3;
  expect_parse_error(s.bytes, "groups nest deeper than 3", lim);
  lim = {};
  lim.max_objects = 10;
  expect_parse_error(s.bytes, "more than 10 objects", lim);
  lim = {};
  lim.max_links = 10;
  expect_parse_error(s.bytes, "Limits::max_links", lim);
}

TEST(Hdf5Crafted, StringsAndGlobalHeap) {
  Synthetic s;
  const uint64_t root = s.addr("/");
  const uint64_t vlen = raw_attribute_data(s.bytes, root, "vlen_ascii");
  ASSERT_EQ(le(s.bytes, vlen, 4), 10u);  // "tensorflow"
  std::string b = s.bytes;
  put(b, vlen, 0xFFFFFFFFu, 4);
  expect_parse_error(b, "variable-length string of 4294967295 bytes in a heap object of");
  b = s.bytes;
  put(b, vlen + 12, 999, 4);
  expect_parse_error(b, "global heap object 999 is not in the collection");
  const uint64_t gcol = le(s.bytes, vlen + 4, 8);
  ASSERT_EQ(s.bytes.substr(gcol, 4), "GCOL");
  b = s.bytes;
  put(b, gcol + 8, uint64_t{1} << 62, 8);
  expect_parse_error(b, "global heap collection at");
  b = s.bytes;
  put(b, gcol + 8, 8, 8);
  expect_parse_error(b, "of 8 bytes");
  b = s.bytes;
  put(b, gcol + 16 + 8, uint64_t{1} << 40, 8);  // first object's size
  expect_parse_error(b, "runs past its collection");
  b = s.bytes;
  put(b, vlen + 4, b.size() - 4, 8);
  expect_parse_error(b, "beyond the end of the file");
  // An attribute whose dataspace claims more elements than its message holds.
  uint64_t space = 0;
  raw_attribute_data(s.bytes, root, "vlen_array", &space);
  b = s.bytes;
  put(b, space + 8, uint64_t{1} << 59, 8);
  expect_parse_error(b, "do not fit in the");
  // The decoded-bytes budget and the per-attribute limit.
  h5::Limits lim;
  lim.max_decoded_bytes = 500;
  expect_parse_error(s.bytes, "Limits::max_decoded_bytes", lim);
  lim = {};
  lim.max_attribute_bytes = 100;
  expect_parse_error(s.bytes, "Limits::max_attribute_bytes", lim);
}

// Attribute messages of versions 2 and 3 (no padding; version 3 adds the
// name's character set), rewritten in place from the version-1 messages.
TEST(Hdf5Crafted, AttributeMessageVersions) {
  Synthetic s;
  const uint64_t root = s.addr("/");
  const h5::Group r = s.file.root();
  for (const int version : {2, 3}) {
    std::string b = s.bytes;
    for (const char* name : {"vlen_array", "fixed_nullpad", "array_2d_i16", "scalar_f32"}) {
      const RawMsg m = raw_attribute_msg(s.bytes, root, name);
      const uint64_t ns = le(b, m.data + 2, 2), ts = le(b, m.data + 4, 2), ss = le(b, m.data + 6, 2);
      const auto r8 = [](uint64_t n) { return (n + 7) & ~uint64_t{7}; };
      const uint64_t data = m.data + 8 + r8(ns) + r8(ts) + r8(ss);
      std::string msg = s.bytes.substr(m.data, 8);
      msg[0] = static_cast<char>(version);
      if (version == 3) msg += '\0';  // ASCII name
      msg += s.bytes.substr(m.data + 8, ns);
      msg += s.bytes.substr(m.data + 8 + r8(ns), ts);
      msg += s.bytes.substr(m.data + 8 + r8(ns) + r8(ts), ss);
      msg += s.bytes.substr(data, m.data + m.size - data);
      ASSERT_LE(msg.size(), m.size);
      b.replace(m.data, msg.size(), msg);
    }
    const h5::File f = h5::File::parse(b, "v" + std::to_string(version) + ".h5");
    const h5::Group g = f.root();
    EXPECT_EQ(g.attribute("vlen_array").strings(), r.attribute("vlen_array").strings());
    EXPECT_EQ(g.attribute("fixed_nullpad").strings(), r.attribute("fixed_nullpad").strings());
    EXPECT_EQ(g.attribute("array_2d_i16").int64s(), r.attribute("array_2d_i16").int64s());
    EXPECT_EQ(g.attribute("array_2d_i16").shape(), (std::vector<uint64_t>{3, 4}));
    EXPECT_EQ(g.attribute("scalar_f32").float32s(), std::vector<float>{0.1f});
    // A shared datatype is refused.
    const RawMsg m = raw_attribute_msg(s.bytes, root, "scalar_f32");
    b[m.data + 1] = 1;
    expect_parse_error(b, "unsupported: an attribute with a shared datatype or dataspace");
  }
}

// Every byte flipped (all bits), and a single bit at every position: only
// seqnet::Error or success, never a crash, a hang or another exception.
TEST(Hdf5Crafted, EveryByteFlipped) {
  const std::string good = synthetic();
  int errors = 0, ok = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (const unsigned char mask : {0xFFu, 1u << (i % 8)}) {
      std::string b = good;
      b[i] = static_cast<char>(static_cast<unsigned char>(b[i]) ^ mask);
      (reads_like_synthetic(std::move(b)) ? ok : errors)++;
    }
  }
  std::printf("flipped bytes: %d errors, %d files read in full\n", errors, ok);
  EXPECT_GT(errors, 1000);
}

// Random multi-byte mutations (seeded): several bytes at once, and 1, 2, 4
// or 8-byte fields set to values near the file's size, 0, or all ones, as
// a bad offset or length would be.
TEST(Hdf5Crafted, RandomMutations) {
  const std::string good = synthetic();
  uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int errors = 0, ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b = good;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const int width = 1 << (next() % 4);
      const uint64_t at = next() % (good.size() - static_cast<uint64_t>(width));
      uint64_t v = 0;
      switch (next() % 5) {
        case 0: v = 0; break;
        case 1: v = ~uint64_t{0}; break;
        case 2: v = good.size() - next() % 64; break;
        case 3: v = good.size() + next() % 64; break;
        default: v = next(); break;
      }
      put(b, at, v, width);
    }
    (reads_like_synthetic(std::move(b)) ? ok : errors)++;
  }
  std::printf("random mutations: %d errors, %d read in full\n", errors, ok);
  EXPECT_GT(errors, 2000);
}

// The same on a real Keras file (its metadata; weights only change values).
TEST(Hdf5Crafted, KerasFileBytesFlipped) {
  const std::string path = models_dir() + "/k3_stacked_gru.keras";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const std::string good = zip_member(path, "model.weights.h5");
  ASSERT_TRUE(read_errors(good).empty());
  int errors = 0, ok = 0;
  for (size_t i = 0; i < good.size(); i += (i < 8192 ? 1 : 97)) {
    std::string b = good;
    b[i] = static_cast<char>(~b[i]);
    (read_errors(std::move(b)).empty() ? ok : errors)++;
  }
  std::printf("flipped bytes of a Keras weights file: %d errors, %d read in full\n", errors, ok);
  EXPECT_GT(errors, 100);
}

}  // namespace
