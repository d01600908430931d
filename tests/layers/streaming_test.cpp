// Streaming a sequence one step at a time through a stateful layer gives the
// bits of the whole sequence at once. A call with few rows in all (T * B <= 4)
// projects its inputs inside the time loop, each thread its own units
// (Recurrent::forward_impl); a longer call of a small layer projects them all
// before the loop with ops::gemm, which takes the same kernel for so small a
// product. Both must sum the same terms in the same order, and the gates'
// activations must not depend on where in memory a step's gates lie (see
// packetwise in src/ops/activations.cpp), for every cell and on 1 or 2
// threads (where a step is large enough, the threads share it).

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace seqnet;
using seqnet::testing::copy_params;
using seqnet::testing::random_tensor;
using seqnet::testing::run;

namespace {

// x[:, t0:t0+n, :]
Tensor steps(const Tensor& x, int64_t t0, int64_t n) {
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor out({B, n, F});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(out.data() + b * n * F, x.data() + (b * T + t0) * F, static_cast<size_t>(n * F) * sizeof(float));
  return out;
}

bool same_bits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0;
}

using Make = std::function<std::shared_ptr<layers::Recurrent>(bool stateful)>;

// Runs x whole through one layer and step by step through a stateful copy;
// every step's output must have the whole run's bits.
void expect_streaming_bits(const std::string& what, const Make& make, const Tensor& x) {
  const int64_t B = x.dim(0), T = x.dim(1);
  auto whole = make(false);
  auto stream = make(true);
  whole->compute_output_shapes({x.shape()});
  stream->compute_output_shapes({x.shape()});
  copy_params(*whole, *stream);
  const Tensor y = run(*whole, {x})[0];  // (B, T, H)
  const int64_t H = y.dim(2);
  for (int64_t t = 0; t < T; ++t) {
    const Tensor yt = run(*stream, {steps(x, t, 1)})[0];  // (B, 1, H)
    for (int64_t b = 0; b < B; ++b) {
      ASSERT_TRUE(same_bits(yt.data() + b * H, y.data() + (b * T + t) * H, H))
          << what << ": step " << t << ", sample " << b << " differs from the whole sequence";
    }
  }
}

std::vector<std::pair<std::string, Make>> cells(int64_t units) {
  std::vector<std::pair<std::string, Make>> out;
  out.emplace_back("LSTM", [units](bool stateful) {
    return std::make_shared<layers::LSTM>(units, LSTMOptions{.return_sequences = true, .stateful = stateful});
  });
  for (bool reset_after : {true, false}) {
    out.emplace_back(reset_after ? "GRU reset_after" : "GRU", [units, reset_after](bool stateful) {
      return std::make_shared<layers::GRU>(
          units, GRUOptions{.return_sequences = true, .stateful = stateful, .reset_after = reset_after});
    });
  }
  out.emplace_back("SimpleRNN", [units](bool stateful) {
    return std::make_shared<layers::SimpleRNN>(units,
                                               SimpleRNNOptions{.return_sequences = true, .stateful = stateful});
  });
  return out;
}

}  // namespace

TEST(Streaming, SingleStepsGiveTheBitsOfTheWholeSequence) {
  // Small enough that the whole sequence's projection takes the step kernel
  // (ops::gemm), with units that end in a partial panel.
  const Tensor x = random_tensor({2, 7, 5}, 7);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const auto& [name, make] : cells(21)) {
      set_seed(3);
      expect_streaming_bits(name + ", " + std::to_string(threads) + " thread(s)", make, x);
    }
  }
  set_num_threads(0);
}

TEST(Streaming, ThreadsSharingAStepGiveTheBitsOfOneThread) {
  // Steps of a batch of 4 with 128 inputs and units: enough work for both
  // threads to share each step, projection included (the gated cells; a
  // SimpleRNN step stays on one thread).
  const Tensor x = random_tensor({4, 3, 128}, 11);
  for (const auto& [name, make] : cells(128)) {
    std::vector<Tensor> outs;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      set_seed(5);
      auto layer = make(true);
      layer->compute_output_shapes({x.shape()});
      Tensor all({x.dim(0), x.dim(1), 128});
      for (int64_t t = 0; t < x.dim(1); ++t) {
        const Tensor yt = run(*layer, {steps(x, t, 1)})[0];
        for (int64_t b = 0; b < x.dim(0); ++b)
          std::memcpy(all.data() + (b * x.dim(1) + t) * 128, yt.data() + b * 128, 128 * sizeof(float));
      }
      outs.push_back(all);
    }
    set_num_threads(0);
    EXPECT_TRUE(same_bits(outs[0].data(), outs[1].data(), outs[0].size())) << name << ": 1 and 2 threads differ";
    EXPECT_GT(max_abs_diff(outs[0], Tensor(outs[0].shape())), 0.0f) << name;
  }
}
