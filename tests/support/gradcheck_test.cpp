// Meta-tests: the gradient checker and the test helpers must be able to fail.
// A tiny layer y = x * w + x^2 (w one weight per feature) with a backward
// that can be broken on purpose.

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::random_tensor;

namespace {

enum class Bug { None, InputElement, WeightElement, OverwritesGrad, Everything, ModifiesDout };

class Toy : public Layer {
 public:
  explicit Toy(Bug bug) : Layer("Toy", ""), bug_(bug) {}

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override { return {in.at(0)}; }
  void build(const std::vector<Shape>& in) override { w_ = &add_param("w", {in[0].back()}, "ones"); }
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) override {
    const Tensor& x = in[0];
    const int64_t F = x.dim(-1);
    Tensor y(x.shape());
    for (int64_t i = 0; i < x.size(); ++i) y[i] = x[i] * (w_->value[i % F] + 0.5f) + x[i] * x[i];
    return {y};
  }
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override {
    const Tensor& x = cache.inputs[0];
    const Tensor& d = dout[0];
    const int64_t F = x.dim(-1);
    Tensor dx(x.shape());
    for (int64_t i = 0; i < x.size(); ++i) {
      dx[i] = d[i] * (w_->value[i % F] + 0.5f + 2.0f * x[i]);
      if (bug_ == Bug::OverwritesGrad) {
        if (i < F) w_->grad[i % F] = 0.0f;  // forgets what was there
      }
      w_->grad[i % F] += d[i] * x[i];
    }
    if (bug_ == Bug::InputElement) dx[0] *= 1.5f;
    if (bug_ == Bug::WeightElement) w_->grad[1] += 0.25f;
    if (bug_ == Bug::Everything)
      for (float& v : dx) v = -v;
    if (bug_ == Bug::ModifiesDout) const_cast<float*>(d.data())[0] += 1.0f;
    return {dx};
  }

 private:
  Bug bug_;
  Param* w_ = nullptr;
};

// Input in [0.2, 1) so that a few elements are checked; F = 3 weights.
std::vector<Tensor> toy_input() { return {random_tensor({2, 3}, 5, 0.2f, 1.0f)}; }

}  // namespace

TEST(GradCheck, CorrectLayerPasses) {
  Toy toy(Bug::None);
  const double worst = expect_gradients_match(toy, toy_input(), {});
  EXPECT_LE(worst, 1.0);
  EXPECT_GT(worst, 0.0);  // something was compared
}

TEST(GradCheck, WrongInputGradientElementFails) {
  Toy toy(Bug::InputElement);
  EXPECT_NONFATAL_FAILURE(expect_gradients_match(toy, toy_input(), {}), "gradient of input 0[0]");
}

TEST(GradCheck, WrongWeightGradientElementFails) {
  Toy toy(Bug::WeightElement);
  EXPECT_NONFATAL_FAILURE(expect_gradients_match(toy, toy_input(), {}), "gradient of w[1]");
}

TEST(GradCheck, BackwardThatOverwritesInsteadOfAddingFails) {
  // The weight gradients are pre-filled before backward(); a backward that
  // overwrites them is caught (here: every weight element once).
  Toy toy(Bug::OverwritesGrad);
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    expect_gradients_match(toy, toy_input(), {});
  }
  int weight_failures = 0;
  for (int i = 0; i < failures.size(); ++i) {
    if (std::string(failures.GetTestPartResult(i).message()).find("gradient of w[") != std::string::npos)
      ++weight_failures;
  }
  EXPECT_EQ(weight_failures, 3);
}

TEST(GradCheck, EverythingWrongReportsManyFailures) {
  Toy toy(Bug::Everything);
  ::testing::TestPartResultArray failures;
  double worst = 0;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    worst = expect_gradients_match(toy, toy_input(), {});
  }
  EXPECT_EQ(failures.size(), 6);  // every input element
  EXPECT_GT(worst, 1.0);
}

TEST(GradCheck, BackwardThatModifiesOutputGradientFails) {
  Toy toy(Bug::ModifiesDout);
  EXPECT_NONFATAL_FAILURE(expect_gradients_match(toy, toy_input(), {}, {.check_weights = false}),
                          "backward modified output gradient 0");
}

TEST(GradCheck, RealLayerPassesWithTightTolerance) {
  layers::Dense d(3, {.activation = "tanh"});
  const double worst = expect_gradients_match(d, {random_tensor({2, 4}, 1)}, {}, {.rtol = 1e-2, .atol = 1e-3});
  EXPECT_LE(worst, 1.0);
}

TEST(Helpers, ExpectThrowMsgFailsWhenNothingThrows) {
  EXPECT_NONFATAL_FAILURE(EXPECT_THROW_MSG((void)0, seqnet::ValueError, "x"), "did not throw");
}

TEST(Helpers, ExpectThrowMsgFailsOnMissingSubstring) {
  EXPECT_NONFATAL_FAILURE(EXPECT_THROW_MSG(throw seqnet::ValueError("abc"), seqnet::ValueError, "xyz"),
                          "does not contain");
}

TEST(Helpers, ExpectThrowMsgFailsOnWrongType) {
  EXPECT_NONFATAL_FAILURE(EXPECT_THROW_MSG(throw seqnet::ValueError("abc"), seqnet::ShapeError, "abc"),
                          "wrong exception type");
}

TEST(Helpers, ExpectThrowMsgPasses) {
  EXPECT_THROW_MSG(throw seqnet::ShapeError("LSTM \"lstm\": got (2, 3)"), seqnet::ShapeError, "LSTM \"lstm\"",
                   "(2, 3)");
}

TEST(Helpers, ExpectNearFails) {
  Tensor a({2}, {1.0f, 2.0f}), b({2}, {1.0f, 2.5f});
  EXPECT_NONFATAL_FAILURE(seqnet::testing::expect_near(a, b, 0.1, "ab"), "worst element 1");
}

TEST(Helpers, RegularizationCheckerPassesOnDense) {
  layers::Dense d(2, {.kernel_regularizer = regularizers::l1_l2(0.1f, 0.2f)});
  d.compute_output_shapes({{None, 3}});
  const double p = seqnet::testing::expect_regularization_gradients_match(d);
  EXPECT_GT(p, 0.0);
}
