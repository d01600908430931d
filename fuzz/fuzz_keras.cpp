// libFuzzer target: the Keras file readers (legacy HDF5 model files and
// Keras 3 .keras archives, told apart by content as load_model does) and
// Keras weights files, on arbitrary bytes. Anything but success or a
// seqnet::Error is a finding; a model that loads must write itself in the
// same Keras format and load again to the same architecture.

#include <seqnet/io/keras.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const auto format = seqnet::io::detect_model_file_format(bytes);
  if (format != seqnet::io::ModelFileFormat::KerasHdf5 && format != seqnet::io::ModelFileFormat::KerasArchive) {
    return 0;
  }
  try {
    auto m = seqnet::load_model_from_bytes(bytes, "fuzz", {.restore_random_state = false});
    const char* as = format == seqnet::io::ModelFileFormat::KerasHdf5 ? "h5" : "keras";
    std::string again;
    try {
      again = seqnet::save_model_bytes(*m, as);
    } catch (const seqnet::ValueError&) {
      return 0;  // a model this format cannot hold (a Keras 2 activation in a .keras file)
    }
    auto m2 = seqnet::load_model_from_bytes(again, "fuzz-again", {.restore_random_state = false});
    if (m2->to_json() != m->to_json()) __builtin_trap();
  } catch (const seqnet::Error&) {
  }
  seqnet::clear_session();
  return 0;
}
