// libFuzzer target: the Keras architecture reader (model_from_json) on
// arbitrary text. Anything but success or a seqnet::Error is a finding; a
// model that builds must write JSON that builds the same model.

#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const seqnet::ConfigOptions options{.max_params = int64_t{1} << 20, .skip_initializers = true};
  try {
    auto m = seqnet::model_from_json(text, options);
    const std::string j = m->to_json();
    auto m2 = seqnet::model_from_json(j, options);
    if (m2->to_json() != j) __builtin_trap();
  } catch (const seqnet::Error&) {
  }
  seqnet::clear_session();
  return 0;
}
