#include "seqnet/error.hpp"

#include <fmt/format.h>

namespace seqnet {

namespace {

// One line of at most kMaxErrorBytes bytes (plus the note of the cut).
std::string bounded_message(const std::string& what) {
  bool clean = what.size() <= kMaxErrorBytes;
  for (size_t i = 0; clean && i < what.size(); ++i) {
    const auto c = static_cast<unsigned char>(what[i]);
    clean = c >= 0x20 && c != 0x7f;
  }
  if (clean) return what;
  std::string out;
  size_t i = 0;
  for (; i < what.size() && out.size() < kMaxErrorBytes; ++i) {
    const auto c = static_cast<unsigned char>(what[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < what.size()) out += fmt::format("... ({} bytes)", what.size());
  return out;
}

}  // namespace

Error::Error(const std::string& what) : std::runtime_error(bounded_message(what)) {}

}  // namespace seqnet
