// Fused recurrent step kernels: one forward step against the formulas, with a
// masked row (state carried) and the recurrent-dropout operand h * rec_mask.
// (Their backward passes are proven through the layers' gradient checks.)

#include <gtest/gtest.h>
#include <seqnet/detail/ops/recurrent_kernels.hpp>

#include <cmath>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {
double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }
}  // namespace

TEST(RecurrentKernels, LSTMStepForward) {
  const int64_t B = 2, H = 3;
  Tensor z = seqnet::testing::random_tensor({B, 4 * H}, 1, -2, 2);
  const Tensor z0 = z.clone();
  const Tensor hp = seqnet::testing::random_tensor({B, H}, 2), cp = seqnet::testing::random_tensor({B, H}, 3);
  const Tensor rm({B, H}, {2, 0, 2, 0, 2, 2});
  const float mask[] = {1, 0};
  Tensor h({B, H}), c({B, H}), tc({B, H}), hd({B, H});
  ops::LSTMStepForward a;
  a.B = B;
  a.H = H;
  a.z = z.data();
  a.h_prev = hp.data();
  a.c_prev = cp.data();
  a.h = h.data();
  a.c = c.data();
  a.tc = tc.data();
  a.mask = mask;
  a.rec_mask = rm.data();
  a.h_dropped = hd.data();
  ops::lstm_step_forward(a);
  for (int64_t j = 0; j < H; ++j) {
    const double i = sig(z0.at(0, j)), f = sig(z0.at(0, H + j)), g = std::tanh(z0.at(0, 2 * H + j)),
                 o = sig(z0.at(0, 3 * H + j));
    const double cn = f * cp.at(0, j) + i * g;
    EXPECT_NEAR(c.at(0, j), cn, 1e-6);
    EXPECT_NEAR(h.at(0, j), o * std::tanh(cn), 1e-6);
    EXPECT_NEAR(hd.at(0, j), h.at(0, j) * rm.at(0, j), 1e-7);
    // Masked row: states carried, the dropout operand still written.
    EXPECT_EQ(h.at(1, j), hp.at(1, j));
    EXPECT_EQ(c.at(1, j), cp.at(1, j));
    EXPECT_EQ(hd.at(1, j), hp.at(1, j) * rm.at(1, j));
  }
}

TEST(RecurrentKernels, GRUStepForwardResetAfter) {
  const int64_t B = 1, H = 2;
  Tensor x = seqnet::testing::random_tensor({B, 3 * H}, 4);
  const Tensor x0 = x.clone();
  const Tensor inner = seqnet::testing::random_tensor({B, 3 * H}, 5), rb = seqnet::testing::random_tensor({3 * H}, 6);
  const Tensor hp = seqnet::testing::random_tensor({B, H}, 7);
  Tensor ih({B, H}), h({B, H});
  ops::GRUStepForward a;
  a.B = B;
  a.H = H;
  a.x = x.data();
  a.inner = inner.data();
  a.rec_bias = rb.data();
  a.inner_h = ih.data();
  a.h_prev = hp.data();
  a.h = h.data();
  ops::gru_step_forward(a);
  for (int64_t j = 0; j < H; ++j) {
    const double zz = sig(x0[j] + inner[j] + rb[j]);
    const double r = sig(x0[H + j] + inner[H + j] + rb[H + j]);
    const double hh = std::tanh(x0[2 * H + j] + r * (inner[2 * H + j] + rb[2 * H + j]));
    EXPECT_NEAR(h[j], zz * hp[j] + (1 - zz) * hh, 1e-6);
  }
}

TEST(RecurrentKernels, RNNStepForwardMaskedRow) {
  const int64_t B = 2, H = 2;
  const Tensor z({B, H}, {0.5f, -1.0f, 3.0f, 4.0f});
  const Tensor hp({B, H}, {0.1f, 0.2f, 0.3f, 0.4f});
  const float mask[] = {1, 0};
  Tensor h({B, H});
  ops::RNNStepForward a;
  a.B = B;
  a.H = H;
  a.act = ops::Act::Relu;
  a.z = z.data();
  a.h_prev = hp.data();
  a.h = h.data();
  a.mask = mask;
  ops::rnn_step_forward(a);
  seqnet::testing::expect_near(h, Tensor({B, H}, {0.5f, 0.0f, 0.3f, 0.4f}), 0, "relu step, masked row carried");
}
