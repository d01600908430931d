// libFuzzer target: the HDF5 reader of src/io/hdf5.hpp on arbitrary bytes.
// Parses, then walks the whole tree: every attribute's value in every form,
// every dataset's data as float32 and int64. Anything but success or a
// seqnet::Error is a finding.

#include <seqnet/error.hpp>

#include <cstdint>
#include <set>
#include <string>

#include "io/hdf5.hpp"

namespace {

namespace h5 = seqnet::io::hdf5;

template <class F>
void quietly(F&& f) {
  try {
    f();
  } catch (const seqnet::Error&) {
  }
}

void touch(const h5::Value& v) {
  quietly([&] { (void)v.strings(); });
  quietly([&] { (void)v.int64s(); });
  quietly([&] { (void)v.float64s(); });
}

// Each object once (hard links may share one), as a loader would.
void walk(const h5::Group& g, std::set<uint64_t>& seen) {
  for (const auto& [name, attr] : g.attributes()) touch(attr);
  for (const auto& [name, obj] : g.members()) {
    if (!seen.insert(obj.address()).second) continue;
    for (const auto& [attr_name, attr] : obj.attributes()) touch(attr);
    if (obj.is_group()) {
      walk(obj.as_group(), seen);
    } else if (obj.is_dataset()) {
      const h5::Dataset d = obj.as_dataset();
      quietly([&] { (void)d.read_float32(); });
      quietly([&] { (void)d.read_int64(); });
      quietly([&] { touch(d.read()); });
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::set<uint64_t> seen;
  quietly([&] { walk(h5::File::parse(std::move(bytes), "fuzz").root(), seen); });
  return 0;
}
