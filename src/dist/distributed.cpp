// Data-parallel training's communication (seqnet/distributed.hpp,
// dist/comm.hpp), on MPI when the build has it.
//
// The gradient sum is a reduce-scatter followed by an all-gather, both
// written out so that the order of the additions is ours: each rank sends
// chunk j of a bucket to rank j (MPI_Ialltoall), rank j adds the N chunks
// it received in rank order and sends its sum to all (MPI_Iallgather). Every
// rank then holds the same bits, computed once, whatever algorithm MPI picks
// inside its collectives; the bytes each rank sends are 2 (N-1)/N of the
// bucket, as in a ring all-reduce. Waits poll MPI_Test against a deadline
// rather than block, so a rank that died or hangs turns into an error on the
// others instead of a hang.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "dist/comm.hpp"
#include "seqnet/distributed.hpp"
#include "seqnet/threads.hpp"

#if SEQNET_HAVE_MPI
// The C API only (Open MPI's and MPICH's headers pull in the deprecated C++
// bindings, and their library, otherwise).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace seqnet {
namespace distributed {

namespace {

struct State {
  bool initialized = false;  // by us
  bool broken = false;       // an exchange failed: abort at exit instead of finalizing
  int size = 1;
  int rank = 0;
  int local_scopes = 0;
  double timeout = 300.0;
  CommStats stats;
};

State& state() {
  static State s;
  return s;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

bool available() { return SEQNET_HAVE_MPI != 0; }

bool launched() {
  // Open MPI, PMIx (Open MPI 4/5, Slurm), PMI-1/2 (MPICH's hydra, Slurm).
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (env(v) != nullptr) return true;
  return false;
}

int world_size() { return state().size; }
int rank() { return state().rank; }
bool active() { return state().size > 1 && state().local_scopes == 0; }

LocalScope::LocalScope() { ++state().local_scopes; }
LocalScope::~LocalScope() { --state().local_scopes; }

double timeout_seconds() { return state().timeout; }

void set_timeout_seconds(double seconds) {
  if (!(seconds > 0.0) || !std::isfinite(seconds)) {
    throw ValueError(fmt::format("distributed::set_timeout_seconds: seconds must be > 0 and finite, got {}", seconds));
  }
  state().timeout = seconds;
}

CommStats stats() { return state().stats; }
void reset_stats() { state().stats = CommStats{}; }

#if SEQNET_HAVE_MPI

namespace {

void at_exit() {
  State& s = state();
  if (!s.initialized) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // After a failed exchange the other ranks may never reach MPI_Finalize
  // (they died or hang): end the whole job rather than wait for them.
  if (s.broken) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Finalize();
}

}  // namespace

void init() {
  State& s = state();
  if (s.initialized || !launched()) return;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      throw DistributedError("distributed: MPI_Init_thread failed");
    }
    std::atexit(at_exit);
    s.initialized = true;
  }
  // Errors come back as return codes (turned into DistributedError) rather
  // than ending the process.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_size(MPI_COMM_WORLD, &s.size);
  MPI_Comm_rank(MPI_COMM_WORLD, &s.rank);
  if (const char* t = env("SEQNET_DIST_TIMEOUT")) {
    char* end = nullptr;
    const double v = std::strtod(t, &end);
    if (end == t || *end != '\0' || !(v > 0.0) || !std::isfinite(v)) {
      throw ValueError(fmt::format("distributed: SEQNET_DIST_TIMEOUT must be a number of seconds > 0, got '{}'", t));
    }
    s.timeout = v;
  }
  // The ranks on one machine share its cores: unless the user chose a
  // thread count, each takes its share.
  if (s.size > 1 && env("OPENBLAS_NUM_THREADS") == nullptr && env("OMP_NUM_THREADS") == nullptr) {
    MPI_Comm local;
    int local_size = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
      MPI_Comm_size(local, &local_size);
      MPI_Comm_free(&local);
    }
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    set_num_threads(std::max(1, cores / std::max(1, local_size)));
  }
}

#else

void init() {}

#endif

}  // namespace distributed

namespace dist {

namespace {

using Clock = std::chrono::steady_clock;

#if SEQNET_HAVE_MPI

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  distributed::State& s = distributed::state();
  s.broken = true;
  throw DistributedError(fmt::format("distributed training, rank {} of {}: {}: {}", s.rank, s.size, what, why));
}

void check(int rc, const std::string& what, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail(what, fmt::format("{} failed: {}", call, std::string(text, static_cast<size_t>(len))));
}

// Waits for `reqs` until the deadline; spins for the first millisecond,
// then sleeps briefly between tests so that a waiting rank leaves the core
// to the other ranks' work.
void wait_all(std::vector<MPI_Request>& reqs, const std::string& what) {
  const double timeout = distributed::timeout_seconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout));
  for (;;) {
    int done = 0;
    check(MPI_Testall(static_cast<int>(reqs.size()), reqs.data(), &done, MPI_STATUSES_IGNORE), what, "MPI_Testall");
    if (done) return;
    const auto now = Clock::now();
    if (now > deadline) {
      fail(what, fmt::format("no answer from the other ranks within {} s (a rank died, hangs or is far behind; "
                             "SEQNET_DIST_TIMEOUT sets the limit)",
                             timeout));
    }
    if (now - start > std::chrono::milliseconds(1)) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void wait_one(MPI_Request& req, const std::string& what) {
  std::vector<MPI_Request> reqs{req};
  wait_all(reqs, what);
  req = reqs[0];
}

#endif

}  // namespace

#if SEQNET_HAVE_MPI

std::vector<double> allgather(const double* mine, size_t n, const std::string& what) {
  const int N = distributed::world_size();
  std::vector<double> all(n * static_cast<size_t>(N));
  MPI_Request req = MPI_REQUEST_NULL;
  check(MPI_Iallgather(mine, static_cast<int>(n), MPI_DOUBLE, all.data(), static_cast<int>(n), MPI_DOUBLE,
                       MPI_COMM_WORLD, &req),
        what, "MPI_Iallgather");
  wait_one(req, what);
  ++distributed::state().stats.small_exchanges;
  return all;
}

void broadcast(void* data, size_t bytes, const std::string& what) {
  const double mine = static_cast<double>(bytes);
  const std::vector<double> sizes = allgather(&mine, 1, what + " (sizes)");
  for (size_t r = 0; r < sizes.size(); ++r) {
    if (sizes[r] != mine) {
      throw DistributedError(fmt::format("distributed training, rank {}: {}: rank {} has {} bytes where this rank has "
                                         "{}; every rank must build the same model",
                                         distributed::rank(), what, r, sizes[r], bytes));
    }
  }
  auto* p = static_cast<char*>(data);
  // MPI counts are ints: large weights go in pieces.
  constexpr size_t piece = size_t{1} << 30;
  for (size_t off = 0; off < bytes; off += piece) {
    const int count = static_cast<int>(std::min(piece, bytes - off));
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ibcast(p + off, count, MPI_BYTE, 0, MPI_COMM_WORLD, &req), what, "MPI_Ibcast");
    wait_one(req, what);
  }
}

struct GradientBuckets::Impl {
  struct Bucket {
    std::vector<Param*> params;
    size_t chunk = 0;                 // floats per rank
    std::vector<float> send, recv, sum;
    MPI_Request scatter = MPI_REQUEST_NULL, gather = MPI_REQUEST_NULL;
    int stage = 0;  // 0 idle, 1 reduce-scatter sent, 2 all-gather sent, 3 done
  };
  std::vector<Bucket> buckets;
  std::vector<size_t> bucket_of;
  int N = 1, rank = 0;
  Clock::time_point first_start{};
  bool any_started = false;

  void start(size_t b) {
    Bucket& k = buckets[b];
    if (k.stage != 0) return;
    if (!any_started) {
      first_start = Clock::now();
      any_started = true;
    }
    size_t off = 0;
    for (Param* p : k.params) {
      std::memcpy(k.send.data() + off, p->grad.data(), static_cast<size_t>(p->grad.size()) * sizeof(float));
      off += static_cast<size_t>(p->grad.size());
    }
    std::fill(k.send.begin() + static_cast<std::ptrdiff_t>(off), k.send.end(), 0.0f);
    const int c = static_cast<int>(k.chunk);
    check(MPI_Ialltoall(k.send.data(), c, MPI_FLOAT, k.recv.data(), c, MPI_FLOAT, MPI_COMM_WORLD, &k.scatter),
          "gradient exchange", "MPI_Ialltoall");
    k.stage = 1;
  }

  // Bucket b's chunks have arrived: add them in rank order, send the sum.
  void reduce_and_gather(Bucket& k) {
    const size_t c = k.chunk;
    float* out = k.sum.data();
    std::memcpy(out, k.recv.data(), c * sizeof(float));
    for (int r = 1; r < N; ++r) {
      const float* in = k.recv.data() + static_cast<size_t>(r) * c;
      for (size_t i = 0; i < c; ++i) out[i] += in[i];
    }
    check(MPI_Iallgather(out, static_cast<int>(c), MPI_FLOAT, k.send.data(), static_cast<int>(c), MPI_FLOAT,
                         MPI_COMM_WORLD, &k.gather),
          "gradient exchange", "MPI_Iallgather");
    k.stage = 2;
  }

  void progress() {
    for (Bucket& k : buckets) {
      if (k.stage == 1) {
        int done = 0;
        check(MPI_Test(&k.scatter, &done, MPI_STATUS_IGNORE), "gradient exchange", "MPI_Test");
        if (done) reduce_and_gather(k);
      } else if (k.stage == 2) {
        int done = 0;
        check(MPI_Test(&k.gather, &done, MPI_STATUS_IGNORE), "gradient exchange", "MPI_Test");
        if (done) k.stage = 3;
      }
    }
  }

  void finish() {
    const auto t0 = Clock::now();
    for (size_t b = 0; b < buckets.size(); ++b) start(b);
    for (Bucket& k : buckets) {
      if (k.stage == 1) {
        wait_one(k.scatter, "gradient exchange (reduce-scatter)");
        reduce_and_gather(k);
      }
    }
    std::vector<MPI_Request> pending;
    for (Bucket& k : buckets)
      if (k.stage == 2) pending.push_back(k.gather);
    wait_all(pending, "gradient exchange (all-gather)");
    for (Bucket& k : buckets) {
      k.stage = 0;
      k.scatter = k.gather = MPI_REQUEST_NULL;
      size_t off = 0;
      for (Param* p : k.params) {
        std::memcpy(p->grad.data(), k.send.data() + off, static_cast<size_t>(p->grad.size()) * sizeof(float));
        off += static_cast<size_t>(p->grad.size());
      }
    }
    const auto t1 = Clock::now();
    auto& st = distributed::state().stats;
    ++st.gradient_exchanges;
    for (const Bucket& k : buckets) st.gradient_bytes += static_cast<int64_t>(2 * (N - 1) * k.chunk * sizeof(float));
    st.exposed_seconds += std::chrono::duration<double>(t1 - t0).count();
    st.total_seconds += std::chrono::duration<double>(t1 - (any_started ? first_start : t0)).count();
    any_started = false;
  }
};

GradientBuckets::GradientBuckets(const std::vector<Param*>& ready_order, size_t bucket_bytes)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.N = distributed::world_size();
  m.rank = distributed::rank();
  const size_t cap = std::max<size_t>(bucket_bytes / sizeof(float), 1);
  size_t filled = 0;
  for (size_t i = 0; i < ready_order.size(); ++i) {
    const auto n = static_cast<size_t>(ready_order[i]->grad.size());
    if (m.buckets.empty() || (filled > 0 && filled + n > cap)) {
      m.buckets.emplace_back();
      filled = 0;
    }
    m.buckets.back().params.push_back(ready_order[i]);
    filled += n;
    m.bucket_of.push_back(m.buckets.size() - 1);
  }
  const auto N = static_cast<size_t>(m.N);
  for (auto& k : m.buckets) {
    size_t len = 0;
    for (Param* p : k.params) len += static_cast<size_t>(p->grad.size());
    k.chunk = std::max<size_t>((len + N - 1) / N, 1);
    k.send.resize(k.chunk * N);
    k.recv.resize(k.chunk * N);
    k.sum.resize(k.chunk);
  }
}

GradientBuckets::~GradientBuckets() = default;
size_t GradientBuckets::size() const { return impl_->buckets.size(); }
size_t GradientBuckets::bucket_of(size_t weight_index) const { return impl_->bucket_of.at(weight_index); }
void GradientBuckets::start(size_t b) { impl_->start(b); }
void GradientBuckets::progress() { impl_->progress(); }
void GradientBuckets::finish() { impl_->finish(); }
int64_t GradientBuckets::bytes_per_exchange() const {
  int64_t b = 0;
  for (const auto& k : impl_->buckets) b += static_cast<int64_t>(2 * (impl_->N - 1) * k.chunk * sizeof(float));
  return b;
}

#else

namespace {
[[noreturn]] void no_mpi() { throw DistributedError("distributed training: this build of seqnet has no MPI"); }
}  // namespace

std::vector<double> allgather(const double*, size_t, const std::string&) { no_mpi(); }
void broadcast(void*, size_t, const std::string&) { no_mpi(); }
struct GradientBuckets::Impl {};
GradientBuckets::GradientBuckets(const std::vector<Param*>&, size_t) { no_mpi(); }
GradientBuckets::~GradientBuckets() = default;
size_t GradientBuckets::size() const { return 0; }
size_t GradientBuckets::bucket_of(size_t) const { no_mpi(); }
void GradientBuckets::start(size_t) { no_mpi(); }
void GradientBuckets::progress() {}
void GradientBuckets::finish() { no_mpi(); }
int64_t GradientBuckets::bytes_per_exchange() const { return 0; }

#endif

}  // namespace dist
}  // namespace seqnet
