#pragma once
// Internal: zip archives held in memory, through libzip, for .npz files and
// Keras 3 .keras archives (both untrusted).
//
// Reading is bounded before anything is inflated: the central directory's
// member count and declared sizes are checked against ZipLimits (a total,
// and a ratio to the archive's own size beyond a fixed allowance, which
// stops decompression bombs), and each member is inflated at most to its
// declared size plus one byte, so a member that lies stops at once.
// Member names are checked: no absolute paths, no ".." parts, no
// backslashes or NUL bytes, no name twice (nothing is ever extracted to
// disk, but a name that tries to escape is a hostile archive).
//
// Errors are IOError: "<source>: not a valid <kind>: <what>".

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seqnet::zip {

struct Limits {
  // Most members. Default: 65536.
  int64_t max_members = 65536;
  // Most bytes all members may inflate to together. Default: 4 GiB.
  uint64_t max_total_bytes = uint64_t{4} << 30;
  // Most inflated bytes per archive byte, beyond inflation_allowance.
  double max_inflation_ratio = 64.0;
  // Inflated bytes allowed whatever the ratio. Default: 64 MiB.
  uint64_t inflation_allowance = uint64_t{64} << 20;
  // Where the limits come from, for messages ("NpzLimits").
  std::string_view limits_name = "limits";
};

struct Member {
  std::string name;
  uint64_t size = 0;  // declared (inflated) size
  uint64_t index = 0;
  bool is_directory = false;
};

class Reader {
 public:
  // Opens the archive in `bytes` (which must outlive the reader) and checks
  // its directory against `limits`. `kind` names the format in messages
  // (".npz archive", ".keras archive").
  Reader(const std::string& bytes, std::string source, std::string kind, const Limits& limits);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::vector<Member>& members() const { return members_; }
  // The member named `name`, or null.
  const Member* find(std::string_view name) const;
  // The inflated bytes of `m`, exactly its declared size.
  std::string read(const Member& m) const;
  [[noreturn]] void fail(std::string_view what) const;
  const std::string& source() const { return source_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string source_, kind_;
  std::vector<Member> members_;
};

// The bytes of a zip archive holding `members` (name, content) in order,
// stored or deflated, with a fixed time stamp so the bytes are
// reproducible. `who` prefixes messages ("save_npz"). Throws IOError.
std::string write(const std::vector<std::pair<std::string, std::string_view>>& members, bool compress,
                  std::string_view who);

}  // namespace seqnet::zip
