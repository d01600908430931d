#pragma once
// Shared pieces of the `seqnet` program: its exit codes, the usage error,
// checks of file arguments and the "did you mean" suggestion.
//
// Exit codes (also in `seqnet --help` and the README):
//   0  success
//   1  a runtime error: the command was well formed but failed (a file
//      cannot be read or written, is a directory where a file is expected,
//      or holds invalid data; the data does not fit the model)
//   2  a usage error: the command line is wrong (unknown command, option or
//      experiment; a missing, malformed or inconsistent argument)

#include <seqnet/error.hpp>

#include <string>
#include <vector>

namespace seqnet::cli {

inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitUsageError = 2;

// The text of `seqnet --help`'s footer: the exit codes.
extern const char* const kExitCodesHelp;

// A mistake in the command line; main() prints it and exits with
// kExitUsageError.
class UsageError : public ValueError {
 public:
  using ValueError::ValueError;
};

// Checks an argument that names a file to read, before anything is read:
// throws IOError "<option> 'PATH' is a directory, not a file" when PATH is
// a directory. A missing file is left to the reader, which names it.
void check_input_file(const std::string& path, const std::string& option);
// The same for a file to write.
void check_output_file(const std::string& path, const std::string& option);

// The candidate closest to `word` by edit distance (a swap of two adjacent
// letters counts as one edit), or "" when none is close: at most two edits,
// and at most half of the candidate's letters.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// How many NaN and Inf values `data[0 .. n)` holds, and in how many of its
// `samples` equal consecutive parts.
struct NonFinite {
  long long nan = 0, inf = 0, samples = 0;
};
NonFinite count_non_finite(const float* data, long long n, long long samples);

}  // namespace seqnet::cli
