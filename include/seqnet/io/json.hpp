#pragma once
// Parsing JSON that comes from strangers (model files, architecture files).

#include <nlohmann/json.hpp>

#include <string_view>

namespace seqnet::io {

struct JsonLimits {
  // Deepest nesting of arrays and objects. Default: 64 (a Keras model
  // config needs about 10).
  int max_depth = 64;
  // Largest text accepted. Default: 256 MB.
  size_t max_bytes = size_t{256} << 20;
};

// Parses `text` as JSON after checking its size and nesting depth (so that
// nothing downstream recurses without bound). Numbers too large for a double
// become an error, not infinity. Throws IOError naming `what` with the
// parser's position and reason for anything that is not valid JSON within
// the limits.
nlohmann::json parse_untrusted_json(std::string_view text, std::string_view what, const JsonLimits& limits = {});

}  // namespace seqnet::io
