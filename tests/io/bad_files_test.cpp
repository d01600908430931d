// Untrusted files: a corpus of crafted bad model files (.safetensors), .npy
// files and .npz archives, each of which must produce a clear seqnet::Error
// with a one-line message -- never a crash, a hang, a huge allocation or an
// out-of-bounds read (this test also runs under AddressSanitizer and
// UndefinedBehaviorSanitizer: `make sanitize`). Every single-byte mutation
// of small valid files is tried too.
//
// With SEQNET_DUMP_CORPUS=DIR set, the corpus is also written to DIR/model,
// DIR/npy and DIR/npz (seeds for the fuzzers in fuzz/).

#include <gtest/gtest.h>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <typeinfo>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::TempDir;
using seqnet::testing::uniform;
using json = nlohmann::json;

namespace {

// Runs fn on `bytes`: it must succeed or throw a seqnet::Error with a
// non-empty one-line message. Returns whether it threw.
bool clean(const std::function<void(const std::string&)>& fn, const std::string& bytes, const std::string& what) {
  try {
    fn(bytes);
    return false;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_FALSE(msg.empty()) << what;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << what << ": " << msg;
    return true;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": escaped as " << typeid(e).name() << ": " << e.what();
    return true;
  }
}

// Like clean(), but the file must be rejected and the message must hold `fragment`.
void rejected(const std::function<void(const std::string&)>& fn, const std::string& bytes, const std::string& what,
              const std::string& fragment = "") {
  SCOPED_TRACE(what);
  try {
    fn(bytes);
    ADD_FAILURE() << what << ": accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    if (!fragment.empty()) {
      EXPECT_NE(msg.find(fragment), std::string::npos) << what << ": " << msg;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": escaped as " << typeid(e).name() << ": " << e.what();
  }
}

void dump(const std::string& kind, const std::string& name, const std::string& bytes) {
  seqnet::testing::dump_corpus(kind, name, bytes);
}

void load_model_bytes(const std::string& b) { load_model_from_bytes(b, "bad.safetensors"); }
void load_npy_bytes(const std::string& b) { data::parse_npy(b, "bad.npy"); }
void load_npz_bytes(const std::string& b) { data::parse_npz(b, "bad.npz", {.max_total_bytes = 1 << 20}); }

// A safetensors file with this header text and data section.
std::string st(const std::string& header, const std::string& data = "") {
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}

// A small compiled model file, its parsed header and data section.
struct GoodModel {
  std::string bytes;
  json header;
  std::string data;
};

GoodModel good_model() {
  clear_session();
  set_seed(1);
  auto in = Input({3, 2});
  auto h = LSTM(2, {.return_sequences = true, .name = "lstm"})(in);
  Model m({in}, {Dense(1, {.name = "dense"})(Flatten(std::string("flatten"))(h))}, "small");
  m.compile({.optimizer = Adam(), .loss = "mse"});
  m.fit(uniform({4, 3, 2}, 1), uniform({4, 1}, 2), {.epochs = 1, .batch_size = 2, .verbose = 0});
  GoodModel g;
  g.bytes = save_model_to_bytes(m);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(g.bytes[static_cast<size_t>(i)]);
  g.header = json::parse(g.bytes.substr(8, n));
  g.data = g.bytes.substr(8 + n);
  return g;
}

// The good model with its header edited.
std::string edited(const GoodModel& g, const std::function<void(json&)>& edit, const std::string& data = "\x01") {
  json h = g.header;
  edit(h);
  return st(h.dump(), data == "\x01" ? g.data : data);
}

// Edits one metadata JSON value (model_config, training_config, ...).
std::string edited_meta(const GoodModel& g, const std::string& key, const std::function<void(json&)>& edit) {
  return edited(g, [&](json& h) {
    json v = json::parse(h["__metadata__"][key].get<std::string>());
    edit(v);
    h["__metadata__"][key] = v.dump();
  });
}

}  // namespace

TEST(BadFiles, ModelFilesWithBrokenContainers) {
  const GoodModel g = good_model();
  EXPECT_NO_THROW(load_model_bytes(g.bytes));
  dump("model", "good.safetensors", g.bytes);
  struct Case {
    std::string name, bytes, fragment;
  };
  const std::string big8 = std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  std::vector<Case> cases = {
      {"empty", "", "shorter than the 8-byte header length"},
      {"seven_bytes", std::string(7, '\0'), "shorter"},
      {"zero_header", std::string(8, '\0'), "not a JSON object"},
      {"header_len_max", big8 + "{}", "exceeds the limit"},
      {"header_past_end", st("{}").replace(0, 1, "\x40"), "runs past the end"},
      {"truncated_header", g.bytes.substr(0, 60), "runs past the end"},
      {"truncated_data", g.bytes.substr(0, g.bytes.size() - 5), "data"},
      {"trailing_bytes", g.bytes + "xyz", "data section"},
      {"not_json", st("{not json}"), "invalid JSON"},
      {"json_array", st("[1, 2, 3]"), "not a JSON object"},
      {"deep_nesting", st("{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}"), "nested deeper"},
      {"huge_number", st(R"({"t": {"dtype": "F32", "shape": [1e999], "data_offsets": [0, 4]}})"), "number overflow"},
      {"bad_utf8", st("{\"\xff\xfe\": 1}"), "invalid JSON"},
      {"metadata_not_strings", st(R"({"__metadata__": {"format": 1}})"), "not a string"},
      {"entry_not_object", st(R"({"t": 3})"), "not an object"},
      {"unknown_dtype", st(R"({"t": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}})", "abcd"), "'Q7'"},
      {"missing_shape", st(R"({"t": {"dtype": "F32", "data_offsets": [0, 4]}})", "abcd"), "missing shape"},
      {"negative_dim", st(R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd"),
       "non-negative"},
      {"float_dim", st(R"({"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", "abcd"), "non-negative"},
      {"huge_dims", st(R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}})", "abcd"),
       "needs"},
      {"u64_dim", st(R"({"t": {"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 4]}})", "abcd"),
       "needs"},
      {"rank_too_large", st(R"({"t": {"dtype": "F32", "shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "data_offsets": [0, 4]}})", "abcd"),
       "rank 17"},
      {"offsets_reversed", st(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", "abcd"), "outside"},
      {"offsets_past_end", st(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "abcd"), "outside"},
      {"offsets_negative", st(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", "abcd"),
       "non-negative"},
      {"offsets_one", st(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", "abcd"), "[begin, end]"},
      {"bytes_disagree", st(R"({"t": {"dtype": "F64", "shape": [1], "data_offsets": [0, 4]}})", "abcd"), "needs 8 bytes"},
      {"overlap", st(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", std::string(12, 'x')),
       "overlap"},
      {"hole", st(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", std::string(8, 'x')),
       "belong to no tensor"},
      {"unexpected_key", st(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}})", "abcd"),
       "unexpected key"},
      {"no_metadata", st(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", "abcd"),
       "not a seqnet model file"},
      {"npy_file", data::serialize_npy(Tensor({2}, 1.0f)), "NumPy .npy file"},
      {"zip_file", data::serialize_npz({{"a", Tensor({2}, 1.0f)}}), "zip archive"},
  };
  for (const auto& c : cases) {
    rejected(load_model_bytes, c.bytes, c.name, c.fragment);
    dump("model", c.name + ".safetensors", c.bytes);
  }
}

TEST(BadFiles, ModelFilesThatDisagreeWithTheirArchitecture) {
  const GoodModel g = good_model();
  auto meta = [&](const std::string& k, const std::string& v) {
    return edited(g, [&](json& h) { h["__metadata__"][k] = v; });
  };
  struct Case {
    std::string name, bytes, fragment;
  };
  std::vector<Case> cases = {
      {"wrong_format", meta("format", "pt"), "not a seqnet model file"},
      {"bad_version", meta("version", "abc"), "invalid format version"},
      {"future_version", meta("version", "99"), "version 99"},
      {"bad_content", meta("content", "pictures"), "unknown content"},
      {"no_model_config", edited(g, [](json& h) { h["__metadata__"].erase("model_config"); }), "no model_config"},
      {"config_not_json", meta("model_config", "{\"class_name\": "), "model_config: invalid JSON"},
      {"config_deep", meta("model_config", std::string(3000, '[') + std::string(3000, ']')), "nested deeper"},
      {"config_unknown_layer",
       edited_meta(g, "model_config", [](json& c) { c["config"]["layers"][1]["class_name"] = "Conv2D"; }),
       "unknown layer class 'Conv2D'"},
      {"config_huge_units",
       edited_meta(g, "model_config", [](json& c) { c["config"]["layers"][1]["config"]["units"] = 16777216; }),
       "more than allowed"},
      {"config_negative_units",
       edited_meta(g, "model_config", [](json& c) { c["config"]["layers"][1]["config"]["units"] = -1; }), "`units`"},
      {"config_units_changed",
       edited_meta(g, "model_config", [](json& c) { c["config"]["layers"][1]["config"]["units"] = 3; }),
       "'lstm/kernel'"},
      {"config_huge_input",
       edited_meta(g, "model_config",
                   [](json& c) { c["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, 1e15, 2}; }),
       "batch_input_shape"},
      {"config_cycle",
       edited_meta(g, "model_config",
                   [](json& c) { c["config"]["layers"][1]["inbound_nodes"] = json::parse(R"([[["dense", 0, 0, {}]]])"); }),
       "cannot be connected"},
      {"missing_weight", edited(g, [](json& h) { h.erase("dense/bias"); }), "data"},
      {"renamed_weight",
       edited(g,
              [](json& h) {
                h["dense/bias2"] = h["dense/bias"];
                h.erase("dense/bias");
              }),
       "'dense/bias' is missing"},
      {"weight_shape",
       edited(g, [](json& h) { h["lstm/kernel"]["shape"] = {8, 2}; }), "has shape (8, 2) in the file"},
      {"weight_dtype",
       edited(g,
              [](json& h) {
                h["lstm/kernel"]["dtype"] = "I32";
              }),
       "seqnet model files hold F32"},
      {"extra_tensor",
       edited(
           g,
           [&](json& h) {
             h["stray"] = {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {g.data.size(), g.data.size() + 4}}};
           },
           g.data + "abcd"),
       "match no weight"},
      {"training_config_bad",
       edited_meta(g, "training_config", [](json& c) { c["optimizer_config"]["class_name"] = "Nadamax"; }),
       "unknown optimizer"},
      {"training_state_bad", meta("training_state", R"({"optimizer_iterations": "-5"})"), "invalid number"},
      {"random_state_zero",
       meta("training_state",
            R"({"optimizer_iterations": "2", "random_state": {"s": ["0", "0", "0", "0"], "have_spare": false, "spare_bits": "0"}})"),
       "invalid random_state"},
      {"missing_slot", edited(g, [](json& h) { h.erase("optimizer/dense/bias/m"); }), "data"},
      {"slot_shape", edited(g, [](json& h) { h["optimizer/lstm/kernel/v"]["shape"] = {4, 4}; }), "optimizer slot"},
  };
  for (const auto& c : cases) {
    rejected(load_model_bytes, c.bytes, c.name, c.fragment);
    dump("model", c.name + ".safetensors", c.bytes);
    if (c.name.rfind("config_", 0) == 0) {
      const auto f = io::SafetensorsFile::parse(c.bytes);
      dump("json", c.name + ".json", f.metadata().at("model_config"));
    }
  }
  // A file read as weights only: the same checks.
  TempDir dir("bad_weights");
  write_file_atomic(dir.file("w.safetensors"), cases[14].bytes);
  clear_session();
  auto in = Input({3, 2});
  auto h = LSTM(2, {.return_sequences = true, .name = "lstm"})(in);
  Model m({in}, {Dense(1, {.name = "dense"})(Flatten(std::string("flatten"))(h))}, "small");
  rejected([&](const std::string&) { m.load_weights(dir.file("w.safetensors")); }, "", "load_weights",
           "'dense/bias' is missing");
}

TEST(BadFiles, VariedValidModelsLoad) {
  // Valid files of many layer types: they load (and seed the fuzzers).
  std::vector<std::pair<std::string, std::unique_ptr<Model>>> models;
  clear_session();
  {
    auto in = Input({4, 3});
    auto h = Bidirectional(LSTM(2, {.return_sequences = true}), {.merge_mode = "sum"})(in);
    auto att = AttentionDecoder(2, 3)(h);
    models.emplace_back("bidi_attention", std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                                                  std::vector<SymbolicTensor>{att}, "m1"));
  }
  {
    auto ids_in = Input({5});
    auto e = Embedding(9, 3, {.mask_zero = true})(ids_in);
    auto g = GRU(3, {.return_sequences = true, .reset_after = false})(e);
    auto s = SimpleRNN(3, {.return_sequences = true})(e);
    auto out = TimeDistributed(Dense(2))(Concatenate()({Add()({g, s}), Maximum()({g, s})}));
    models.emplace_back("embedding_merge", std::make_unique<Model>(std::vector<SymbolicTensor>{ids_in},
                                                                   std::vector<SymbolicTensor>{out}, "m2"));
  }
  {
    auto in = Input({3}, {.batch_size = 2});
    auto h = RepeatVector(4)(Dropout(0.1f)(in));
    h = LSTM(2, {.return_sequences = true, .stateful = true})(Masking()(h));
    h = Reshape({8})(Flatten()(h));
    models.emplace_back("stateful_shapes", std::make_unique<Model>(std::vector<SymbolicTensor>{in},
                                                                   std::vector<SymbolicTensor>{Activation("relu")(h)},
                                                                   "m3"));
  }
  {
    auto seq = std::make_unique<Sequential>("m4");
    seq->add(Input({None, 2}));
    seq->add(GRU(2));
    seq->add(Dense(1, {.activation = "sigmoid"}));
    seq->compile({.optimizer = SGD({.momentum = 0.5f}), .loss = "binary_crossentropy", .metrics = {"accuracy"}});
    models.emplace_back("sequential_compiled", std::move(seq));
  }
  for (const auto& [name, m] : models) {
    const std::string bytes = save_model_to_bytes(*m);
    EXPECT_NO_THROW(load_model_bytes(bytes)) << name;
    dump("model", "valid_" + name + ".safetensors", bytes);
    dump("json", "valid_" + name + ".json", m->to_json());
  }
}

TEST(BadFiles, EverySingleByteMutationOfAModelFile) {
  // A model file without the training part keeps the loop short.
  clear_session();
  auto in = Input({2, 2});
  Model m({in}, {Dense(1, {.name = "d"})(GRU(1, {.name = "g"})(in))}, "tiny");
  const std::string good = save_model_to_bytes(m);
  int rejected_count = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char v : {0x00, 0xff, 0x20, 0x22, 0x39, 0x7d}) {
      std::string b = good;
      if (static_cast<unsigned char>(b[i]) == v) continue;
      b[i] = static_cast<char>(v);
      rejected_count += clean(load_model_bytes, b, "byte " + std::to_string(i));
    }
  }
  EXPECT_GT(rejected_count, 0);
  dump("model", "tiny.safetensors", good);
}

TEST(BadFiles, NpyFiles) {
  const std::string good = data::serialize_npy(uniform({2, 3}, 1));
  auto npy = [](const std::string& header, const std::string& data, int major = 1) {
    std::string out("\x93NUMPY", 6);
    out.push_back(static_cast<char>(major));
    out.push_back('\0');
    const uint32_t n = static_cast<uint32_t>(header.size());
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (major >= 2) {
      out.push_back(static_cast<char>((n >> 16) & 0xff));
      out.push_back(static_cast<char>((n >> 24) & 0xff));
    }
    return out + header + data;
  };
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  struct Case {
    std::string name, bytes, fragment;
  };
  std::vector<Case> cases = {
      {"empty", "", "magic"},
      {"wrong_magic", "\x93NUMPX\x01\x00\x00\x00", "magic"},
      {"short", good.substr(0, 9), "magic"},
      {"version_4", npy(f4, std::string(8, 'x'), 4), "version 4.0"},
      {"header_past_end", good.substr(0, 40), "runs past the end"},
      {"header_len_huge_v2", std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}", "too large"},
      {"not_a_dict", npy("[1, 2]", ""), "expected '{'"},
      {"missing_keys", npy("{'descr': '<f4'}", ""), "must hold"},
      {"extra_key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "abcd"), "unexpected key"},
      {"structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "abcd"), "structured"},
      {"object_dtype", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", "abcdefgh"), "unsupported dtype"},
      {"complex_dtype", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", "abcdefgh"), "unsupported dtype"},
      {"string_dtype", npy("{'descr': '<U4', 'fortran_order': False, 'shape': (1,)}", "abcdefgh"), "unsupported dtype"},
      {"negative_dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "abcd"), "non-negative"},
      {"huge_dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "abcd"),
       "too large"},
      {"overflow_shape", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "abcd"),
       "needs more data"},
      {"too_many_dims", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + [] {
         std::string d;
         for (int i = 0; i < 40; ++i) d += "1,";
         return d;
       }() + ")}", "abcd"),
       "more than 32 dimensions"},
      {"data_short", npy(f4, "abc"), "needs"},
      {"data_long", npy(f4, std::string(12, 'x')), "needs 8 bytes"},
      {"unterminated_string", npy("{'descr': '<f4", ""), "unterminated"},
      {"escape", npy("{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,)}", "abcd"), "escapes"},
      {"bad_bool", npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", "abcd"), "True or False"},
      {"trailing_text", npy(f4 + " extra", std::string(8, 'x')), "after the header"},
      {"int64_too_big", data::serialize_npy(Tensor({1}, {1.0f}), data::NpyDType::Int64).replace(128, 8, std::string("\x01\x00\x00\x01\x00\x00\x00\x00", 8)),
       "2^24"},
      {"f64_out_of_range", data::serialize_npy(Tensor({1}, {1.0f}), data::NpyDType::Float64).replace(128, 8, std::string("\x00\x00\x00\x00\x00\x00\xf0\x7f", 8).replace(6, 1, "\xef")),
       "outside the float32 range"},
  };
  for (const auto& c : cases) {
    rejected(load_npy_bytes, c.bytes, c.name, c.fragment);
    dump("npy", c.name + ".npy", c.bytes);
  }
  dump("npy", "good.npy", good);
  int n = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char v : {0x00, 0xff, 0x27, 0x28, 0x29, 0x2c, 0x39}) {
      std::string b = good;
      b[i] = static_cast<char>(v);
      n += clean(load_npy_bytes, b, "npy byte " + std::to_string(i));
    }
  }
  EXPECT_GT(n, 0);
}

TEST(BadFiles, NpzArchives) {
  const std::string good = data::serialize_npz({{"a", uniform({3, 2}, 1)}, {"b", uniform({4}, 2)}}, true);
  EXPECT_NO_THROW(load_npz_bytes(good));
  dump("npz", "good.npz", good);
  struct Case {
    std::string name, bytes, fragment;
  };
  // A member that decompresses beyond the limit (1 MiB in load_npz_bytes).
  const std::string bomb = data::serialize_npz({{"zeros", Tensor({600000})}}, true);
  std::string crc = good;
  crc[60] = static_cast<char>(crc[60] ^ 0x55);  // inside the first member's data
  std::vector<Case> cases = {
      {"empty", "", "not a valid .npz"},
      {"not_zip", "hello world, no zip here", "not a valid .npz"},
      {"truncated", good.substr(0, good.size() / 2), "not a valid .npz"},
      {"no_central_directory", good.substr(0, good.size() - 22), "not a valid .npz"},
      {"bomb", bomb, "limit"},
      {"corrupt_data", crc, ""},
      {"not_npy_member", data::serialize_npz({{"a", Tensor({1})}}).replace(30, 5, "a.txt"), ""},
      {"bad_member", data::serialize_npz({{"a", Tensor({2})}}).replace(38, 6, "NUMPX!"), ""},
  };
  for (const auto& c : cases) {
    rejected(load_npz_bytes, c.bytes, c.name, c.fragment);
    dump("npz", c.name + ".npz", c.bytes);
  }
  int n = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char v : {0x00, 0xff, 0x7f}) {
      std::string b = good;
      if (static_cast<unsigned char>(b[i]) == v) continue;
      b[i] = static_cast<char>(v);
      n += clean(load_npz_bytes, b, "npz byte " + std::to_string(i));
    }
  }
  EXPECT_GT(n, 0);
}

TEST(BadFiles, CommittedCorpus) {
  // Every committed file loads or fails cleanly (fuzzer findings go here).
  namespace fs = std::filesystem;
  const fs::path root = fs::path(SEQNET_FIXTURE_DIR) / "bad_files";
  const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> kinds{
      {"model", load_model_bytes},
      {"npy", load_npy_bytes},
      {"npz", load_npz_bytes},
      {"json", [](const std::string& b) { model_from_json(b, {.max_params = 1 << 20, .skip_initializers = true}); }}};
  int files = 0;
  for (const auto& [kind, fn] : kinds) {
    if (!fs::is_directory(root / kind)) continue;
    for (const auto& e : fs::directory_iterator(root / kind)) {
      clean(fn, read_file(e.path().string()), e.path().filename().string());
      ++files;
    }
  }
  EXPECT_GT(files, 50);
}
