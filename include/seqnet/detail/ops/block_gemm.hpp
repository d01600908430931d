#pragma once

// The AVX-512 blocked product behind ops::gemm's large products
// (src/ops/block_gemm.cpp). Internal: call ops::gemm.

#include <cstdint>

namespace seqnet::ops {

// Whether block_gemm runs on this CPU (AVX-512F).
bool block_gemm_available();

// C = op(A) op(B), or C += op(A) op(B) with accumulate, row-major, on the
// calling thread. An element's bits depend on K only (fixed depth blocks,
// each summed in ascending k), not on M, N or where the element lies: any
// cut of C between threads gives the same result. False, with C untouched,
// when it cannot run (no AVX-512, or no memory for the thread's packing
// buffers); it never throws.
bool block_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);

}  // namespace seqnet::ops
