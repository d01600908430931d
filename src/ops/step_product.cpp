#include "seqnet/detail/ops/step_product.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SEQNET_X86 1
#endif

#include "seqnet/detail/ops/gemm.hpp"

namespace seqnet::ops {

// ---------------------------------------------------------------- packing

float* PanelMatrix::packed_storage(int64_t k_rows, int64_t width) {
  K = k_rows;
  N = width;
  packed = true;
  base = nullptr;
  ld = 0;
  ensure_shape(storage, {panel_count(width), K, kPanelWidth});
  return storage.data();
}

void PanelMatrix::pack_columns(const float* src, int64_t ld_src, int64_t k_rows, int64_t col0, int64_t width) {
  float* dst = packed_storage(k_rows, width);
  const int64_t panels = panel_count(width);
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t c = col0 + p * kPanelWidth, w = std::min(kPanelWidth, width - p * kPanelWidth);
    for (int64_t k = 0; k < K; ++k) {
      float* d = dst + (p * K + k) * kPanelWidth;
      std::memcpy(d, src + k * ld_src + c, static_cast<size_t>(w) * sizeof(float));
      std::fill(d + w, d + kPanelWidth, 0.0f);
    }
  }
}

void PanelMatrix::pack_transposed(const float* src, int64_t ld_src, int64_t width, int64_t col0, int64_t k) {
  float* dst = packed_storage(k, width);
  const int64_t panels = panel_count(width);
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t w = std::min(kPanelWidth, width - p * kPanelWidth);
    float* d = dst + p * K * kPanelWidth;
    for (int64_t j = 0; j < kPanelWidth; ++j) {
      if (j >= w) {
        for (int64_t kk = 0; kk < K; ++kk) d[kk * kPanelWidth + j] = 0.0f;
        continue;
      }
      const float* s = src + (p * kPanelWidth + j) * ld_src + col0;
      for (int64_t kk = 0; kk < K; ++kk) d[kk * kPanelWidth + j] = s[kk];
    }
  }
}

void PanelMatrix::view_columns(const float* src, int64_t ld_src, int64_t k_rows, int64_t col0, int64_t width) {
  K = k_rows;
  N = width;
  packed = false;
  base = src + col0;
  ld = ld_src;
}

// ---------------------------------------------------------------- kernels

namespace {

constexpr int kRows = static_cast<int>(kTileRows);

// Portable kernel: the same order of operations per element (a sum over k
// from zero, then added to C); the compiler may or may not fuse the
// multiply-adds, so its bits can differ from the AVX2 kernel's.
template <int MR>
void tile_portable(int64_t K, const float* A, int64_t lda, int64_t aks, const float* P, int64_t ldp, int width, float* C,
                   int64_t ldc, bool accumulate) {
  float acc[MR][kPanelWidth] = {};
  for (int64_t k = 0; k < K; ++k) {
    const float* p = P + k * ldp;
    for (int r = 0; r < MR; ++r) {
      const float a = A[r * lda + k * aks];
      for (int j = 0; j < width; ++j) acc[r][j] += a * p[j];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
    for (int j = 0; j < width; ++j) c[j] = accumulate ? c[j] + acc[r][j] : acc[r][j];
  }
}

#ifdef SEQNET_X86
// AVX2 + FMA: 2 x MR accumulators of 8 floats. With MaskedLoad the panel
// is a view whose last columns lie outside it (an unpacked tail).
template <int MR, bool MaskedLoad>
__attribute__((target("avx2,fma"))) void tile_avx2(int64_t K, const float* A, int64_t lda, int64_t aks, const float* P,
                                                    int64_t ldp, int width, float* C, int64_t ldc, bool accumulate) {
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    c0[r] = _mm256_setzero_ps();
    c1[r] = _mm256_setzero_ps();
  }
  // C's rows are read only at the end: fetch them while the sum runs.
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + kPanelWidth - 1), _MM_HINT_T0);
  }
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), lanes);
  const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - 8), lanes);
  for (int64_t k = 0; k < K; ++k) {
    const float* p = P + k * ldp;
    const __m256 b0 = MaskedLoad ? _mm256_maskload_ps(p, m0) : _mm256_loadu_ps(p);
    const __m256 b1 = MaskedLoad ? _mm256_maskload_ps(p + 8, m1) : _mm256_loadu_ps(p + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r * lda + k * aks);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
    if (width == kPanelWidth) {
      if (accumulate) {
        _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), c0[r]));
        _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), c1[r]));
      } else {
        _mm256_storeu_ps(c, c0[r]);
        _mm256_storeu_ps(c + 8, c1[r]);
      }
    } else {
      __m256 v0 = c0[r], v1 = c1[r];
      if (accumulate) {
        v0 = _mm256_add_ps(_mm256_maskload_ps(c, m0), v0);
        v1 = _mm256_add_ps(_mm256_maskload_ps(c + 8, m1), v1);
      }
      _mm256_maskstore_ps(c, m0, v0);
      _mm256_maskstore_ps(c + 8, m1, v1);
    }
  }
}

bool cpu_has_avx2_fma();

// A few rows (M < kRows) against NP full panels at once: more independent
// sums in flight (a single row's two accumulators would wait on the FMA
// latency). Every element is still one sum over k in order.
template <int MR, int NP>
__attribute__((target("avx2,fma"))) void wide_avx2(int64_t K, const float* A, int64_t lda, int64_t aks, const float* P,
                                                    int64_t ldp, int64_t pstride, float* C, int64_t ldc,
                                                    bool accumulate) {
  __m256 acc[MR][2 * NP];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 12
    for (int q = 0; q < 2 * NP; ++q) acc[r][q] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    // MR broadcasts, then one panel half at a time: MR + 2 NP MR + 1
    // registers, at most 16.
    __m256 a[MR];
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) a[r] = _mm256_broadcast_ss(A + r * lda + k * aks);
#pragma GCC unroll 12
    for (int q = 0; q < 2 * NP; ++q) {
      const __m256 b = _mm256_loadu_ps(P + (q / 2) * pstride + k * ldp + (q % 2) * 8);
#pragma GCC unroll 12
      for (int r = 0; r < MR; ++r) acc[r][q] = _mm256_fmadd_ps(a[r], b, acc[r][q]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 12
    for (int q = 0; q < 2 * NP; ++q) {
      float* c = C + r * ldc + q * 8;
      _mm256_storeu_ps(c, accumulate ? _mm256_add_ps(_mm256_loadu_ps(c), acc[r][q]) : acc[r][q]);
    }
}

using WideFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t, bool);

// The kernel and its panel count for M < kRows rows (null: none).
WideFn wide_for(int64_t rows, int& panels) {
  if (!cpu_has_avx2_fma()) return nullptr;
  switch (rows) {
    case 1: panels = 6; return &wide_avx2<1, 6>;
    case 2: panels = 3; return &wide_avx2<2, 3>;
    case 3: panels = 2; return &wide_avx2<3, 2>;
    default: return nullptr;
  }
}

bool cpu_has_avx2_fma() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
}
#endif

using TileFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, int, float*, int64_t, bool);

template <int MR>
TileFn pick_tile(bool masked_load) {
#ifdef SEQNET_X86
  if (cpu_has_avx2_fma()) return masked_load ? &tile_avx2<MR, true> : &tile_avx2<MR, false>;
#endif
  (void)masked_load;
  return &tile_portable<MR>;
}

TileFn tile_for(int rows, bool masked_load) {
  switch (rows) {
    case 6: return pick_tile<6>(masked_load);
    case 5: return pick_tile<5>(masked_load);
    case 4: return pick_tile<4>(masked_load);
    case 3: return pick_tile<3>(masked_load);
    case 2: return pick_tile<2>(masked_load);
    default: return pick_tile<1>(masked_load);
  }
}

}  // namespace

bool panel_product_vectorized() {
#ifdef SEQNET_X86
  return cpu_has_avx2_fma();
#else
  return false;
#endif
}

void panel_product(int64_t M, const float* A, int64_t lda, const PanelMatrix& W, int64_t c0, int64_t c1, float* C,
                   int64_t ldc, bool accumulate, int64_t a_k_stride) {
  const int64_t aks = a_k_stride;
  if (M <= 0 || c1 <= c0) return;
  const int64_t K = W.K;
  if (K == 0) {
    if (!accumulate)
      for (int64_t r = 0; r < M; ++r) std::fill(C + r * ldc, C + r * ldc + (c1 - c0), 0.0f);
    return;
  }
  int64_t col = c0;
#ifdef SEQNET_X86
  int group = 0;
  if (const WideFn wide = M < kRows ? wide_for(M, group) : nullptr) {
    const int64_t pstride = W.packed ? K * kPanelWidth : kPanelWidth;
    for (; col + group * kPanelWidth <= c1; col += group * kPanelWidth) {
      const float* P = W.packed ? W.storage.data() + (col / kPanelWidth) * K * kPanelWidth : W.base + col;
      wide(K, A, lda, aks, P, W.packed ? kPanelWidth : W.ld, pstride, C + (col - c0), ldc, accumulate);
    }
  }
#endif
  for (; col < c1; col += kPanelWidth) {
    const int width = static_cast<int>(std::min(kPanelWidth, c1 - col));
    const float* P;
    int64_t ldp;
    bool masked_load = false;
    if (W.packed) {
      P = W.storage.data() + (col / kPanelWidth) * K * kPanelWidth;
      ldp = kPanelWidth;
    } else {
      P = W.base + col;
      ldp = W.ld;
      masked_load = width < kPanelWidth;
    }
    float* Cc = C + (col - c0);
    int64_t r = 0;
    const TileFn full = tile_for(kRows, masked_load);
    for (; r + kRows <= M; r += kRows) full(K, A + r * lda, lda, aks, P, ldp, width, Cc + r * ldc, ldc, accumulate);
    if (r < M) {
      tile_for(static_cast<int>(M - r), masked_load)(K, A + r * lda, lda, aks, P, ldp, width, Cc + r * ldc, ldc,
                                                      accumulate);
    }
  }
}

// ---------------------------------------------------------------- the team

namespace {

// Steps below this much work run on the calling thread: a barrier costs
// about a microsecond, and waking the helper more.
constexpr double kMinTeamStepFlops = 4.0e5;

// How long a waiting thread spins before it sleeps: inside a time loop the
// other thread arrives within microseconds; between loops the helper stays
// ready for the next layer's call a little longer.
constexpr auto kBarrierSpin = std::chrono::microseconds(200);
constexpr auto kIdleSpin = std::chrono::microseconds(500);

inline void cpu_relax() {
#ifdef SEQNET_X86
  _mm_pause();
#endif
}

// Waits until `word` differs from `seen`: spins for `spin`, then sleeps on
// the word (C++20 atomic wait); `sleepers` tells the waker to notify.
void wait_change(const std::atomic<uint32_t>& word, uint32_t seen, std::atomic<int>& sleepers,
                 std::chrono::microseconds spin) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (word.load(std::memory_order_acquire) != seen) return;
    cpu_relax();
    if ((i & 255) == 255 && std::chrono::steady_clock::now() - start > spin) break;
  }
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  while (word.load(std::memory_order_seq_cst) == seen) word.wait(seen, std::memory_order_seq_cst);
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

void bump(std::atomic<uint32_t>& word, const std::atomic<int>& sleepers) {
  word.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers.load(std::memory_order_seq_cst) > 0) word.notify_all();
}

struct Job {
  int64_t steps = 0;
  int phases = 0;
  int64_t blocks = 0;
  int threads = 0;
  const std::function<void(int64_t, int, int64_t, int64_t)>* body = nullptr;
};

class Team {
 public:
  static Team& instance() {
    static Team* team = [] {
      auto* t = new Team();  // never destroyed: helpers may still sleep at exit
      pthread_atfork(nullptr, nullptr, [] { instance().after_fork_in_child(); });
      return t;
    }();
    return *team;
  }

  // Runs `job` on job.threads threads (the caller is thread 0, helper i is
  // thread i). False when another thread is using the team.
  bool run(Job& job) {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    while (static_cast<int>(helpers_.size()) < job.threads - 1) {
      helpers_.push_back(std::make_unique<Helper>());
      Helper* h = helpers_.back().get();
      const int index = static_cast<int>(helpers_.size());
      const uint32_t seen = h->start.load();
      std::thread([this, h, index, seen] { helper_loop(*h, index, seen); }).detach();
    }
    job_ = &job;
    arrived_.store(0, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    for (int i = 0; i < job.threads - 1; ++i) bump(helpers_[i]->start, helpers_[i]->sleepers);
    work(job, 0);
    // The helpers leave the job before it goes out of scope.
    while (finished_.load(std::memory_order_acquire) != job.threads - 1) cpu_relax();
    job_ = nullptr;
    return true;
  }

 private:
  struct Helper {
    std::atomic<uint32_t> start{0};  // bumped to hand this helper a job
    std::atomic<int> sleepers{0};
  };

  void helper_loop(Helper& h, int index, uint32_t seen) {
    for (;;) {
      wait_change(h.start, seen, h.sleepers, kIdleSpin);
      seen = h.start.load(std::memory_order_acquire);
      work(*job_, index);
      finished_.fetch_add(1, std::memory_order_release);
    }
  }

  void barrier(int threads) {
    const uint32_t gen = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      bump(phase_, phase_sleepers_);
    } else {
      wait_change(phase_, gen, phase_sleepers_, kBarrierSpin);
    }
  }

  void work(const Job& job, int index) {
    const int64_t b0 = job.blocks * index / job.threads, b1 = job.blocks * (index + 1) / job.threads;
    for (int64_t s = 0; s < job.steps; ++s) {
      for (int p = 0; p < job.phases; ++p) {
        if (b0 < b1) (*job.body)(s, p, b0, b1);
        barrier(job.threads);
      }
    }
  }

  void after_fork_in_child() {
    // The helpers did not survive the fork: forget them (new ones start on
    // demand).
    helpers_.clear();
    new (&busy_) std::mutex();
  }

  std::mutex busy_;
  std::vector<std::unique_ptr<Helper>> helpers_;
  Job* job_ = nullptr;
  std::atomic<uint32_t> phase_{0};
  std::atomic<int> phase_sleepers_{0};
  std::atomic<int> arrived_{0};
  std::atomic<int> finished_{0};
};

}  // namespace

void run_blocked_steps(int64_t steps, int phases, int64_t blocks, double step_flops,
                       const std::function<void(int64_t s, int phase, int64_t b0, int64_t b1)>& body) {
  if (steps <= 0 || phases <= 0 || blocks <= 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(num_threads(), blocks));
  if (threads > 1 && step_flops >= kMinTeamStepFlops) {
    Job job;
    job.steps = steps;
    job.phases = phases;
    job.blocks = blocks;
    job.threads = threads;
    job.body = &body;
    if (Team::instance().run(job)) return;
  }
  for (int64_t s = 0; s < steps; ++s)
    for (int p = 0; p < phases; ++p) body(s, p, 0, blocks);
}

}  // namespace seqnet::ops
