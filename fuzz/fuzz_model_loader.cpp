// libFuzzer target: the model loader (safetensors container, metadata,
// architecture JSON, weights, optimizer state) on arbitrary bytes. Anything
// but success or a seqnet::Error is a finding; a model that loads must save
// and load again to the same architecture.

#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto m = seqnet::load_model_from_bytes(bytes, "fuzz", {.restore_random_state = false});
    const std::string again = seqnet::save_model_to_bytes(*m);
    auto m2 = seqnet::load_model_from_bytes(again, "fuzz-again", {.restore_random_state = false});
    if (m2->to_json() != m->to_json()) __builtin_trap();
  } catch (const seqnet::Error&) {
  }
  seqnet::clear_session();
  return 0;
}
