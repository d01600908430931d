// exchange_bench: the cost of data-parallel training's gradient exchange
// (src/dist: reduce-scatter by MPI_Ialltoall + sums in rank order +
// MPI_Iallgather) for gradients of given sizes, with nothing else running.
// Run under the launcher, e.g.
//   mpirun -np 2 build/bench/exchange_bench [BYTES...]
// Prints, on rank 0, per size: the bytes each rank sends and the median and
// best time of one exchange over the repetitions (ranks aligned by a small
// exchange before each). Not a test.

#include <seqnet/distributed.hpp>
#include <seqnet/layers/layer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dist/comm.hpp"

int main(int argc, char** argv) {
  using namespace seqnet;
  distributed::init();
  if (!distributed::active()) {
    std::fprintf(stderr, "exchange_bench: run it under an MPI launcher with 2 or more ranks\n");
    return 2;
  }
  std::vector<double> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atof(argv[i]));
  if (sizes.empty()) sizes = {16e3, 256e3, 1e6, 4e6, 16e6, 64e6};
  if (distributed::rank() == 0) {
    std::printf("ranks %d\n%14s %14s %12s %12s %14s\n", distributed::world_size(), "gradient bytes", "sent per rank",
                "median ms", "best ms", "GB/s (sent)");
  }
  for (double bytes : sizes) {
    // Weights of at most 1 MiB each, as a model's layers would be.
    std::vector<Param> params;
    for (double left = bytes; left > 0; left -= 1 << 20) {
      Param p;
      p.value = Tensor({static_cast<int64_t>(std::min<double>(left, 1 << 20) / 4)}, 1.0f);
      p.grad = Tensor(p.value.shape(), 0.5f);
      params.push_back(std::move(p));
    }
    std::vector<Param*> ptrs;
    for (auto& p : params) ptrs.push_back(&p);
    dist::GradientBuckets buckets(ptrs, size_t{4} << 20);
    const int reps = bytes > 8e6 ? 10 : 50;
    std::vector<double> ms;
    for (int r = 0; r < reps + 2; ++r) {
      const double one = 1.0;
      dist::allgather(&one, 1, "align");
      const auto t0 = std::chrono::steady_clock::now();
      buckets.finish();
      const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 2) ms.push_back(t);  // the first two warm up
    }
    std::sort(ms.begin(), ms.end());
    const double sent = static_cast<double>(buckets.bytes_per_exchange());
    if (distributed::rank() == 0) {
      std::printf("%14.0f %14.0f %12.3f %12.3f %14.2f\n", bytes, sent, ms[ms.size() / 2], ms[0],
                  sent / (ms[ms.size() / 2] * 1e6));
    }
  }
  return 0;
}
