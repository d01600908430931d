#pragma once
// File helpers shared by everything that writes files.

#include <cstdint>
#include <string>
#include <string_view>

namespace seqnet {

// Most bytes read_file reads by default: 4 GiB, more than any model or
// array file seqnet writes for models that fit this library's limits.
inline constexpr int64_t kDefaultMaxFileBytes = int64_t{1} << 32;

// Writes `content` to `path` atomically: into a temporary file in the same
// directory (".<name>.tmp-<pid>-XXXXXX"), synced, renamed over `path`, and
// the directory synced, so a crash or power cut never leaves a half-written
// file. A symlink is followed (its target is replaced, the link kept); an
// existing file keeps its mode and a new one gets 0666 less the umask.
// Temporary files left by a process that was killed while saving the same
// path are removed. A file size limit (ulimit -f) is an IOError, not a
// SIGXFSZ death (unless the program handles SIGXFSZ itself; the signal's
// disposition is changed while writing, so do not save from two threads
// while another changes it). Throws IOError naming the path and the reason
// (also when `path` is a directory).
void write_file_atomic(const std::string& path, std::string_view content);

// The whole file, which must be a regular file of at most `max_bytes` bytes
// (negative: no limit). Throws IOError naming the path when it cannot be
// read, is a directory, a device, FIFO or socket (never waits on one), or
// is larger than the limit.
std::string read_file(const std::string& path, int64_t max_bytes = kDefaultMaxFileBytes);

// Creates the directory (and parents) if needed and checks that it is
// writable. Throws IOError naming the path otherwise.
void ensure_writable_directory(const std::string& path);

}  // namespace seqnet
