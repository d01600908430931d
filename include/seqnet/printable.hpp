#pragma once
// Text from files (layer names, keys, class names) made safe to print: a
// name holding ESC[2J must not clear the user's screen, and a 10 MB name
// must not become a 10 MB error line.

#include <cstddef>
#include <string>
#include <string_view>

namespace seqnet {

// `text` with every control character (C0, DEL, C1) and every byte that is
// not part of valid UTF-8 written as \xNN (and a backslash as \\), cut to
// at most `max_bytes` bytes of output plus "... (N bytes)" when longer.
// Printable UTF-8 is kept as it is.
std::string printable(std::string_view text, size_t max_bytes = 256);

}  // namespace seqnet
