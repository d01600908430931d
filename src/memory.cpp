#include "seqnet/memory.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace seqnet {

namespace {

int64_t smallest_memory_bound() {
  int64_t bound = INT64_MAX;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) bound = std::min(bound, static_cast<int64_t>(pages) * page);
  for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit lim{};
    if (getrlimit(resource, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
      bound = std::min<int64_t>(bound, static_cast<int64_t>(std::min<rlim_t>(lim.rlim_cur, INT64_MAX)));
    }
  }
  // cgroup v2: "max" or a byte count.
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string text;
  if (cg >> text && !text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
      text.size() < 19) {
    bound = std::min<int64_t>(bound, std::stoll(text));
  }
  return bound;
}

}  // namespace

int64_t default_memory_limit() {
  static const int64_t limit = smallest_memory_bound() / 2;
  return limit;
}

std::string format_bytes(double bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024.0) return fmt::format("{:.0f} bytes", bytes);
  int u = -1;
  while (bytes >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  return fmt::format("{:.{}f} {}", bytes, bytes < 10.0 ? 2 : 1, units[u]);
}

}  // namespace seqnet
