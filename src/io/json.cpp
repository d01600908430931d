#include "seqnet/io/json.hpp"

#include <fmt/format.h>

#include <cmath>

#include "seqnet/error.hpp"

namespace seqnet::io {

nlohmann::json parse_untrusted_json(std::string_view text, std::string_view what, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw IOError(fmt::format("{}: JSON text of {} bytes exceeds the limit of {}", what, text.size(), limits.max_bytes));
  }
  using json = nlohmann::json;
  // The callback sees every value as it is parsed: it bounds the nesting
  // depth before any deep structure exists and rejects numbers that
  // overflowed to infinity.
  const int max_depth = limits.max_depth;
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      throw IOError(fmt::format("{}: JSON nested deeper than {} levels", what, max_depth));
    }
    if (event == json::parse_event_t::value && parsed.is_number_float() && !std::isfinite(parsed.get<double>())) {
      throw IOError(fmt::format("{}: JSON number out of range", what));
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    throw IOError(fmt::format("{}: invalid JSON: {}", what, e.what()));
  }
}

}  // namespace seqnet::io
