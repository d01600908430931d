#pragma once
// Data-parallel training on MPI.
//
// Started under an MPI launcher (`mpirun -np N prog`, srun, ...) with more
// than one process, Model::fit trains data-parallel by itself:
//   - every rank holds the whole model; at the start of fit rank 0's
//     weights, optimizer state and random state are sent to the others;
//   - `batch_size` is the global batch (Keras's convention): each batch of
//     the epoch's order (the same shuffled order on every rank) is cut into
//     N contiguous slices, rank r trains on slice r;
//   - the gradients are summed across ranks in a fixed order (bucketed and
//     started during the backward pass), each rank's share weighted by the
//     real (unmasked) rows it saw, so the update is the one a single process
//     makes for the whole batch, up to the order of the float additions;
//     every rank gets the same bits and the weights stay identical;
//   - losses, metrics, validation and the History are reduced across ranks,
//     so every callback (EarlyStopping, ReduceLROnPlateau, ...) decides the
//     same everywhere; only rank 0 prints the progress bar and writes files
//     (ModelCheckpoint, CSVLogger);
//   - a rank whose batch throws makes every rank throw DistributedError; a
//     rank that stops answering (died, hangs) makes the others throw
//     DistributedError after timeout_seconds().
// Not launched under MPI, launched with one process, or built without MPI
// (available() is false), nothing changes. FitOptions::distribute = false
// (or a LocalScope) trains each rank on its own. predict, train_on_batch
// and test_on_batch always run on the calling rank alone;
// fit_truncated_bptt and decode::fit_scheduled_sampling refuse to run
// under more than one rank outside a LocalScope.

#include <cstdint>
#include <string>

#include "seqnet/error.hpp"

namespace seqnet {

// A failure of data-parallel training: another rank failed or stopped
// answering, or MPI reported an error.
class DistributedError : public Error {
 public:
  using Error::Error;
};

namespace distributed {

// Whether this build of seqnet has MPI.
bool available();
// Whether an MPI launcher started this process (its environment says so).
bool launched();
// Initializes MPI when launched() and not yet done; idempotent. fit calls
// it. MPI is finalized at exit (or the job aborted when an exchange failed).
// Throws DistributedError when MPI_Init fails.
void init();
// The number of processes and this one's rank (1 and 0 before init() or
// when not launched).
int world_size();
int rank();
// world_size() > 1, outside any LocalScope.
bool active();

// While one lives, this process trains and evaluates by itself (active() is
// false; rank() and world_size() are unchanged, so rank 0 still is the one
// that writes): for work whose training is not batch-parallel, which every
// rank then runs alike. Not thread-safe; nest freely.
class LocalScope {
 public:
  LocalScope();
  ~LocalScope();
  LocalScope(const LocalScope&) = delete;
  LocalScope& operator=(const LocalScope&) = delete;
};

// How long a rank waits for the others in one exchange before it gives up
// with DistributedError. Default 300 s; the environment variable
// SEQNET_DIST_TIMEOUT (seconds) sets it at init. Throws ValueError unless
// seconds > 0 and finite.
double timeout_seconds();
void set_timeout_seconds(double seconds);

// What this process has exchanged since the last reset: gradient exchanges
// (one per training step), the bytes of gradients each sent in total, and
// the wall time spent waiting for exchanges to complete after the backward
// pass (the part not hidden behind it).
struct CommStats {
  int64_t gradient_exchanges = 0;
  int64_t gradient_bytes = 0;    // per rank, both phases (reduce-scatter + all-gather)
  int64_t small_exchanges = 0;   // losses, metrics, status
  double exposed_seconds = 0.0;  // waiting after backward
  double total_seconds = 0.0;    // from the first bucket's start to the last's end
};
CommStats stats();
void reset_stats();

}  // namespace distributed
}  // namespace seqnet
