#pragma once
// The products inside a recurrent layer's time loop, and the threads that
// share them (library internals, for implementing cells).
//
// A step's recurrent product C (+)= A . W has a small A (the B rows of h, or
// of the gate gradients) and a weight W that is the same for every step.
// W is cut into panels of kPanelWidth columns; each panel is stored K-major
// and contiguous (packed once per sequence), so that the micro-kernel streams
// it from cache while it holds a tile of C in registers. A layer works on
// blocks of kPanelWidth units: a block owns one panel of every gate, so the
// fused gate kernel of the block runs right after its products, on the same
// thread, and the threads of a step share nothing but A.
//
// Every element of C is a sum over k in increasing order, started from zero
// and then added to C (or stored): the same operations whichever thread,
// tile size or packing computes it. So results do not depend on the number
// of threads (or on whether W was packed); only on the CPU's instruction set
// (AVX2 with FMA, or portable code).

#include <cstdint>
#include <functional>

#include "seqnet/tensor.hpp"

namespace seqnet::ops {

inline constexpr int64_t kPanelWidth = 16;
// The rows of C a kernel holds in registers (with kPanelWidth columns).
inline constexpr int64_t kTileRows = 6;

inline int64_t panel_count(int64_t width) { return (width + kPanelWidth - 1) / kPanelWidth; }

// How a packed PanelMatrix holds its values. Packing picks it from the
// calling thread's compute_precision() (ops/gemm.hpp):
// - Float32: panel p is K x kPanelWidth floats, row k = W[k][16p .. 16p+15].
// - BFloat16Pairs (bfloat16, CPUs with AVX512_BF16): ceil(K/2) rows of
//   kPanelWidth 32-bit words, word (q, j) = bf16(W[2q][c]) in its low half
//   and bf16(W[2q+1][c]) in its high half (zero past K): VDPBF16PS's layout.
// - BFloat16Emulated (bfloat16 elsewhere): 2 ceil(K/2) rows of floats, the
//   bf16-rounded rows in the order 1, 0, 3, 2, ...: the float32 kernel then
//   adds the exact products in the order VDPBF16PS does (odd k, then even),
//   so both give the same bits (subnormal sums apart).
enum class PanelFormat { Float32, BFloat16Pairs, BFloat16Emulated };

// A (K, N) weight as panels of kPanelWidth columns. Either packed (each
// panel contiguous, the last one zero-padded; see PanelFormat) or a view of
// the row-major float32 matrix itself (worth it when A has few rows and
// every panel is used once; never in bfloat16, where view_columns packs).
struct PanelMatrix {
  int64_t K = 0, N = 0;
  bool packed = false;
  PanelFormat format = PanelFormat::Float32;
  int64_t panel_rows = 0;       // rows per packed panel (K, ceil(K/2) or 2 ceil(K/2))
  const float* base = nullptr;  // unpacked: the matrix, row stride ld
  int64_t ld = 0;
  Tensor storage;  // packed panels

  // Columns [col0, col0 + width) of the row-major (K, ld) matrix `src`,
  // packed. Reuses the storage when the size matches.
  void pack_columns(const float* src, int64_t ld_src, int64_t k_rows, int64_t col0, int64_t width);
  // The transpose of rows [0, width) and columns [col0, col0 + k) of the
  // row-major matrix `src` (row stride ld_src), packed: panel p holds
  // src[(16p + j) * ld_src + col0 + k] at (k, j).
  void pack_transposed(const float* src, int64_t ld_src, int64_t width, int64_t col0, int64_t k);
  // An unpacked view of columns [col0, col0 + width) of (K, ld_src) `src`.
  void view_columns(const float* src, int64_t ld_src, int64_t k_rows, int64_t col0, int64_t width);

 private:
  // Sets the fields for packed (k_rows, width) and returns the panels' storage.
  float* packed_storage(int64_t k_rows, int64_t width);
};

// C[:, c0:c1] = A . W[:, c0:c1] (accumulate: +=) for the M rows of A
// (W.K columns; A[r][k] at A[r * lda + k * a_k_stride]) and the columns
// c0 <= c1 of W, c0 a multiple of kPanelWidth. C's column 0 is W's column c0.
void panel_product(int64_t M, const float* A, int64_t lda, const PanelMatrix& W, int64_t c0, int64_t c1, float* C,
                   int64_t ldc, bool accumulate, int64_t a_k_stride = 1);

// Whether panel_product runs the AVX2/FMA kernel on this CPU (else portable code).
bool panel_product_vectorized();
// Whether bfloat16 panels use AVX512_BF16 on this CPU (else emulation).
bool panel_product_bf16_hardware();
// Tests: pack bfloat16 panels in the emulated format even where the CPU has
// AVX512_BF16 (so both paths are tested on one machine). Not thread-safe.
void force_bf16_emulation(bool on);

// float32 -> bfloat16, to nearest even; subnormals become signed zeros (as
// VDPBF16PS reads them), NaN stays a (quiet) NaN, overflow gives infinity.
uint16_t bf16_bits(float f);
// The float32 value of bf16_bits(f).
float bf16_round(float f);
// dst[i] = bf16_bits(src[i]) for i < n, vectorized (VCVTNEPS2BF16 where the
// CPU has AVX512_BF16, AVX2 integer code otherwise); the same bits.
void bf16_convert(const float* src, int64_t n, uint16_t* dst);

// The work of a step product of `rows` rows by a k x n weight matrix, in
// flops, for run_blocked_steps: 2 rows k n, or, with very few rows, the time
// of reading the weights from L2 (each float about as long as 6 flops at
// peak: a 512 KB kernel takes 5 us to read at 100 GB/s on one core, its
// FMAs for one row 2 us). Single-step inference is bound by that reading,
// which the two cores share from their own caches (LSTM 1x1x128x128 at 2
// threads: 6.9 -> 5.0 us, GRU 4.9 -> 3.8 us).
double step_work(int64_t rows, int64_t k, int64_t n);

// Runs a time loop of `steps` steps, each of `phases` phases, over `blocks`
// unit blocks: body(s, phase, b0, b1) must process blocks [b0, b1) of that
// phase of step index s (steps run s = 0, 1, ..., steps - 1; the caller maps
// them to time). Every thread finishes a phase before any starts the next
// (one barrier per phase). Each thread owns the same blocks for the whole
// loop. Runs on the threads of ops::num_threads() (one persistent helper
// thread per extra core, spinning only inside the loop) when a step has
// enough work (`step_flops`), else on the calling thread. The body must not
// throw.
void run_blocked_steps(int64_t steps, int phases, int64_t blocks, double step_flops,
                       const std::function<void(int64_t s, int phase, int64_t b0, int64_t b1)>& body);

}  // namespace seqnet::ops
