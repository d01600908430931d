// libFuzzer target: the TF.js Layers reader on an arbitrary model.json,
// whose weight shards are read from SEQNET_TFJS_SHARD_DIR (real shards
// that fuzz_predict_seeds wrote, so manifests that name them get past the
// byte counts). Anything but success or a seqnet::Error is a finding.

#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.find('{') == std::string::npos) return 0;
  try {
    auto m = seqnet::load_model_from_bytes(bytes, std::string(SEQNET_TFJS_SHARD_DIR) + "/model.json",
                                           {.restore_random_state = false});
    (void)m->to_json();
  } catch (const seqnet::Error&) {
  }
  seqnet::clear_session();
  return 0;
}
