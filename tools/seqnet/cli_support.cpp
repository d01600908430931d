#include "cli_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

namespace seqnet::cli {

const char* const kExitCodesHelp =
    "Exit status: 0 on success; 1 when a command fails while it runs (a file cannot be read or\n"
    "written, is a directory where a file is expected, or holds invalid data; the input does not\n"
    "fit the model); 2 for a usage error (an unknown command, option or experiment; a missing,\n"
    "malformed or inconsistent argument). Errors are one line on stderr, starting \"seqnet: \".";

namespace {

void check_not_directory(const std::string& path, const std::string& option) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw IOError(fmt::format("{} '{}' is a directory, not a file", option, path));
  }
}

}  // namespace

void check_input_file(const std::string& path, const std::string& option) { check_not_directory(path, option); }

void check_output_file(const std::string& path, const std::string& option) { check_not_directory(path, option); }

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // Optimal string alignment distance.
  auto distance = [](const std::string& a, const std::string& b) {
    const size_t n = a.size(), m = b.size();
    std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
    for (size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (size_t i = 1; i <= n; ++i) {
      for (size_t j = 1; j <= m; ++j) {
        const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[n][m];
  };
  std::string best;
  size_t best_d = 3;
  for (const auto& c : candidates) {
    const size_t dist = distance(word, c);
    if (dist < best_d && 2 * dist <= c.size()) {
      best = c;
      best_d = dist;
    }
  }
  return best;
}

NonFinite count_non_finite(const float* data, long long n, long long samples) {
  NonFinite r;
  const long long per = samples > 0 ? n / samples : 0;
  for (long long s = 0; s < samples && per > 0; ++s) {
    bool bad = false;
    for (long long k = s * per; k < (s + 1) * per; ++k) {
      if (std::isnan(data[k])) {
        ++r.nan;
        bad = true;
      } else if (std::isinf(data[k])) {
        ++r.inf;
        bad = true;
      }
    }
    if (bad) ++r.samples;
  }
  return r;
}

}  // namespace seqnet::cli
