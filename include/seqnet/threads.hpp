#pragma once
// How many threads seqnet's matrix products may use (the BLAS threads).

namespace seqnet {

// The most threads a whole-sequence matrix product may use. n <= 0 restores
// the default: OPENBLAS_NUM_THREADS or OMP_NUM_THREADS when set, else all
// cores. Per-step products of recurrent layers always run on one thread
// (splitting them costs more than it saves). Results do not depend on it:
// a product is cut into the same pieces whatever the thread count, so
// training and inference give bit-identical results on 1 or 2 threads. Not
// thread-safe: set it before training or inference, from one thread.
void set_num_threads(int n);
// The number of threads products may use now.
int num_threads();

}  // namespace seqnet
