#include "seqnet/io/json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::io {

nlohmann::json parse_untrusted_json(std::string_view text, std::string_view what, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw IOError(fmt::format("{}: JSON text of {} bytes exceeds the limit of {}", what, text.size(), limits.max_bytes));
  }
  using json = nlohmann::json;
  // A NUL byte cannot be in JSON text (strings escape control characters),
  // and the parser would stop there and ignore what follows, so two readers
  // could disagree about the same file.
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    throw IOError(fmt::format("{}: invalid JSON: a NUL byte at offset {}", what, nul));
  }
  // The callback sees every value as it is parsed: it bounds the nesting
  // depth before any deep structure exists, rejects numbers that overflowed
  // to infinity, and rejects a key repeated in one object (which would
  // otherwise silently resolve to its last value).
  const int max_depth = limits.max_depth;
  std::vector<std::set<std::string>> keys;  // the keys of each open object
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      throw IOError(fmt::format("{}: JSON nested deeper than {} levels", what, max_depth));
    }
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
      throw IOError(fmt::format("{}: invalid JSON: the key \"{}\" appears twice in one object", what,
                                printable(parsed.get<std::string>(), 64)));
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
