#pragma once
// File helpers shared by everything that writes files.

#include <string>
#include <string_view>

namespace seqnet {

// Writes `content` to `path` atomically: into a temporary file in the same
// directory, flushed, then renamed over `path`, so a crash never leaves a
// half-written file. Throws IOError naming the path and the reason.
void write_file_atomic(const std::string& path, std::string_view content);

// The whole file. Throws IOError when it cannot be read.
std::string read_file(const std::string& path);

// Creates the directory (and parents) if needed and checks that it is
// writable. Throws IOError naming the path otherwise.
void ensure_writable_directory(const std::string& path);

}  // namespace seqnet
