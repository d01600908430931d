#pragma once
// How much memory a call may plan for.

#include <cstdint>
#include <string>

namespace seqnet {

// The default memory limit of predict, evaluate and fit
// (PredictOptions::max_memory_bytes and the others): half of the smallest
// of this machine's physical memory, the process's address-space and data
// limits (ulimit -v, ulimit -d) and its control group's memory.max, read
// once per process.
int64_t default_memory_limit();

// "1.5 GiB", "640 KiB", "12 bytes": for messages.
std::string format_bytes(double bytes);

}  // namespace seqnet
