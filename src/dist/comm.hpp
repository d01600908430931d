#pragma once
// The exchanges of data-parallel training (seqnet/distributed.hpp), seen by
// the training loop only. Every call is collective: all ranks make the same
// calls in the same order. Each waits at most distributed::timeout_seconds()
// for the other ranks, then throws DistributedError naming `what`. Without
// MPI (or with one rank) they are never called; they throw when they are.
//
// Every result is computed in a fixed order and is the same bits on every
// rank: sums run over the ranks 0, 1, ..., N-1 in that order.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/layers/layer.hpp"

namespace seqnet::dist {

// Every rank's `n` doubles, rank after rank (N * n values).
std::vector<double> allgather(const double* mine, size_t n, const std::string& what);
// Rank 0's `bytes` bytes at `data`, on every rank. Throws DistributedError
// when the ranks give different sizes.
void broadcast(void* data, size_t bytes, const std::string& what);

// The gradients of one model's trainable weights, summed across ranks in
// buckets of about `bucket_bytes`. Buckets are filled in the order the
// backward pass finishes the weights: `ready_order` lists the weights
// that way. start(b) sends bucket b as soon as its last weight is final;
// finish() starts what has not started, waits, and writes the sums into
// each Param::grad.
class GradientBuckets {
 public:
  GradientBuckets(const std::vector<Param*>& ready_order, size_t bucket_bytes);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  size_t size() const;
  // The buckets holding weight `p` (index into ready_order), and its bucket.
  size_t bucket_of(size_t weight_index) const;
  // Packs bucket b's gradients and starts its exchange.
  void start(size_t b);
  // Lets outstanding exchanges move on (call between pieces of work).
  void progress();
  // Completes every bucket (starting those not started).
  void finish();
  // The bytes of gradients one exchange sends from this rank.
  int64_t bytes_per_exchange() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seqnet::dist
