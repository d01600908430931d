// The safetensors container (src/io/safetensors.cpp): round trips, every
// dtype's conversion to float32, metadata, files written by Python
// (tools/export_torch_state_dict.py), and serialization errors. Malformed
// files are covered by bad_files_test.cpp.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/io/json.hpp>
#include <seqnet/seqnet.hpp>

#include <cstring>
#include <string>

#include "io/io_test_util.hpp"

using namespace seqnet;
using seqnet::testing::expect_bit_equal;
using seqnet::testing::expect_error;
using seqnet::testing::uniform;
using json = nlohmann::json;

namespace {

std::string with_header(const json& header, const std::string& data) {
  const std::string text = header.dump();
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  return out + text + data;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

}  // namespace

TEST(Safetensors, RoundTrip) {
  const Tensor a = uniform({3, 4}, 1), b = uniform({5}, 2), c(Shape{0, 2}), s(Shape{}, 7.0f);
  const std::string bytes = io::serialize_safetensors({{"layer/a", a}, {"b", b}, {"empty", c}, {"scalar", s}},
                                                      {{"format", "test"}, {"note", "ünïcödé"}});
  // The header is padded so that the data starts 8-byte aligned.
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
  const auto f = io::SafetensorsFile::parse(bytes, "mem");
  EXPECT_EQ(f.metadata().at("note"), "ünïcödé");
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.tensors()[0].name, "layer/a");  // data order
  expect_bit_equal(f.tensor("layer/a"), a, "a");
  expect_bit_equal(f.tensor("b"), b, "b");
  EXPECT_EQ(f.tensor("empty").shape(), (Shape{0, 2}));
  EXPECT_EQ(f.tensor("scalar")[0], 7.0f);
  EXPECT_EQ(f.find("nope"), nullptr);
  expect_error<IOError>([&] { f.tensor("nope"); }, {"mem", "no tensor named 'nope'"});
  expect_error<ValueError>([&] { io::serialize_safetensors({{"a", a}, {"a", b}}); }, {"'a' appears twice"});
  expect_error<ValueError>([&] { io::serialize_safetensors({{"__metadata__", a}}); }, {"__metadata__"});
  expect_error<ValueError>([&] { io::serialize_safetensors({{"x", Tensor()}}); }, {"'x' is empty"});
}

TEST(Safetensors, ConvertsEveryDtype) {
  json h;
  std::string data;
  auto add = [&](const std::string& name, const std::string& dtype, const Shape& shape, const std::string& bytes) {
    h[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data += bytes;
  };
  add("f64", "F64", {2}, raw<double>({0.1, -2.5}));
  add("f16", "F16", {3}, raw<uint16_t>({0x3c00, 0xc000, 0x0001}));  // 1, -2, smallest subnormal
  add("bf16", "BF16", {2}, raw<uint16_t>({0x3f80, 0xc040}));        // 1, -3
  add("i64", "I64", {2}, raw<int64_t>({-16777216, 42}));
  add("i8", "I8", {2}, raw<int8_t>({-128, 127}));
  add("u8", "U8", {2}, raw<uint8_t>({0, 255}));
  add("bool", "BOOL", {2}, raw<uint8_t>({0, 1}));
  add("too_big", "I64", {1}, raw<int64_t>({16777217}));
  add("f64_huge", "F64", {1}, raw<double>({1e300}));
  const auto f = io::SafetensorsFile::parse(with_header(h, data), "dtypes");
  expect_bit_equal(f.tensor("f64"), Tensor({2}, {0.1f, -2.5f}), "f64");
  expect_bit_equal(f.tensor("f16"), Tensor({3}, {1.0f, -2.0f, 5.9604645e-08f}), "f16");
  expect_bit_equal(f.tensor("bf16"), Tensor({2}, {1.0f, -3.0f}), "bf16");
  expect_bit_equal(f.tensor("i64"), Tensor({2}, {-16777216.0f, 42.0f}), "i64");
  expect_bit_equal(f.tensor("i8"), Tensor({2}, {-128.0f, 127.0f}), "i8");
  expect_bit_equal(f.tensor("u8"), Tensor({2}, {0.0f, 255.0f}), "u8");
  expect_bit_equal(f.tensor("bool"), Tensor({2}, {0.0f, 1.0f}), "bool");
  expect_error<ValueError>([&] { f.tensor("too_big"); }, {"tensor 'too_big'", "16777217", "2^24"});
  expect_error<ValueError>([&] { f.tensor("f64_huge"); }, {"outside the float32 range"});
  EXPECT_EQ(io::dtype_name(f.find("bf16")->dtype), "BF16");
  EXPECT_EQ(io::dtype_size(io::DType::I64), 8);
}

TEST(Safetensors, ReadsFilesWrittenByPython) {
  // tools/export_torch_state_dict.py's own writer, as the fixtures use it.
  const auto f = io::SafetensorsFile::read(std::string(SEQNET_FIXTURE_DIR) + "/torch_import/bigru.safetensors");
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const auto* w = f.find("encoder.gru.weight_ih_l0_reverse");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, io::DType::F32);
  EXPECT_EQ(w->shape, (Shape{15, 4}));
  const auto sd = io::load_state_dict(std::string(SEQNET_FIXTURE_DIR) + "/torch_import/bigru.safetensors");
  EXPECT_EQ(sd.size(), f.tensors().size());
}

TEST(Safetensors, ZeroSizeTensorWithHugeDimensionsCountsNoElements) {
  // [2^62, 3, 0] holds no bytes; counting its elements once overflowed a
  // signed product (undefined behaviour, found by UBSan).
  const std::string header = R"({"t":{"dtype":"F32","shape":[4611686018427387904,3,0],"data_offsets":[0,0]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  const auto f = io::SafetensorsFile::parse(bytes, "zero.safetensors");
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].numel(), 0);
  // Made into a Tensor, the shape is refused clearly.
  expect_error<ShapeError>([&] { (void)f.to_tensor(f.tensors()[0]); }, {"too large"});
}

TEST(Safetensors, NulBytesAndDuplicateKeysInTheHeaderAreRejected) {
  // Two readers must not disagree about one file: JSON after a NUL byte was
  // ignored, and a repeated key silently took its last value.
  auto file = [](const std::string& header) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return bytes + header;
  };
  const std::string good = R"({"__metadata__":{"a":"1"},"t":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})";
  EXPECT_NO_THROW(io::SafetensorsFile::parse(file(good), "good"));
  expect_error<IOError>([&] { io::SafetensorsFile::parse(file(good + std::string(1, '\0') + "garbage"), "nul"); },
                        {"nul", "NUL byte at offset"});
  const std::string dup_meta =
      R"({"__metadata__":{"a":"1"},"__metadata__":{"a":"2"},"t":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})";
  expect_error<IOError>([&] { io::SafetensorsFile::parse(file(dup_meta), "dup"); },
                        {"dup", "\"__metadata__\" appears twice"});
  const std::string dup_inner =
      R"({"t":{"dtype":"F32","dtype":"F16","shape":[0],"data_offsets":[0,0]}})";
  expect_error<IOError>([&] { io::SafetensorsFile::parse(file(dup_inner), "dup2"); }, {"\"dtype\" appears twice"});
  // The same key in different objects is fine.
  const std::string same_key =
      R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})";
  EXPECT_NO_THROW(io::SafetensorsFile::parse(file(same_key), "same"));
}

TEST(Safetensors, ModelConfigWithANulOrARepeatedKeyIsRejected) {
  expect_error<IOError>([] { io::parse_untrusted_json(std::string("{\"a\": 1}\0{\"b\": 2}", 17), "model_config"); },
                        {"model_config", "NUL byte at offset 8"});
  expect_error<IOError>([] { io::parse_untrusted_json(R"({"layers": [], "layers": [1]})", "model_config"); },
                        {"\"layers\" appears twice"});
  // A repeated key with a 10 MB name is quoted short.
  const std::string big(10 << 20, 'k');
  try {
    io::parse_untrusted_json("{\"" + big + "\": 1, \"" + big + "\": 2}", "cfg");
    ADD_FAILURE() << "no error";
  } catch (const IOError& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u);
  }
}
