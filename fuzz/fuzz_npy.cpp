// libFuzzer target: the .npy reader on arbitrary bytes. Anything but
// success or a seqnet::Error is a finding; an array that loads must write
// and read back bit for bit.

#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const seqnet::Tensor t = seqnet::data::parse_npy(bytes, "fuzz");
    const seqnet::Tensor back = seqnet::data::parse_npy(seqnet::data::serialize_npy(t), "fuzz-again");
    if (back.shape() != t.shape() ||
        std::memcmp(back.data(), t.data(), static_cast<size_t>(t.size()) * sizeof(float)) != 0) {
      __builtin_trap();
    }
  } catch (const seqnet::Error&) {
  }
  return 0;
}
