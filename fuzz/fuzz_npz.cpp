// libFuzzer target: the .npz reader (libzip plus the .npy reader) on
// arbitrary bytes, with small limits. Anything but success or a
// seqnet::Error is a finding.

#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    seqnet::data::parse_npz(bytes, "fuzz", {.max_total_bytes = uint64_t{64} << 20, .max_members = 1000});
  } catch (const seqnet::Error&) {
  }
  return 0;
}
