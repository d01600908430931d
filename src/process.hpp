#pragma once
// Running the external programs seqnet renders with (gnuplot for charts,
// Graphviz's dot for model diagrams): found on PATH, started without a shell
// (posix_spawn, stdin from /dev/null), their output collected.

#include <string>
#include <vector>

namespace seqnet::detail {

// Full path of the executable `name` on PATH (an empty entry is the current
// directory), or "" when there is none.
std::string find_program(const std::string& name);

// Runs `exe` with argv[0] = `name` and `args`, waits for it and returns its
// exit status (128 + signal when killed); stdout and stderr together are
// collected into `output` (at most ~8 KB). Throws IOError when it cannot be
// started.
int run_program(const std::string& exe, const std::string& name, const std::vector<std::string>& args,
                std::string& output);

// A fresh temporary name beside `path` (same directory, so that renaming it
// over `path` is atomic).
std::string temp_name_beside(const std::string& path);

// Whether `path` is a regular file holding at least one byte.
bool non_empty_file(const std::string& path);

}  // namespace seqnet::detail
