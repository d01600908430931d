#pragma once
// Reference fixtures produced by PyTorch (tests/fixtures/generate_torch_fixtures.py)
// and comparison helpers.
//
// A fixture file is JSON: {"generator": ..., "cases": [{"name": ...,
// "config": {...}, "tensors": {"x": {"shape": [...], "data": [...]}, ...}}]}.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/tensor.hpp>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace seqnet::testing {

// Parses tests/fixtures/<file>. Fails the test (and throws) when missing.
nlohmann::json load_fixture(const std::string& file);
// {"shape": [...], "data": [...]} -> Tensor.
Tensor to_tensor(const nlohmann::json& j);
// The named tensor of a case: case["tensors"][name].
Tensor case_tensor(const nlohmann::json& c, const std::string& name);

// max |got - want| / max(max |want|, 1e-30): the tensor-relative error.
double relative_error(const Tensor& got, const Tensor& want);
// Expects equal shapes and relative_error <= rtol; prints the error.
void expect_close(const Tensor& got, const Tensor& want, double rtol, const std::string& what);

// One case of a fixture file, as a value-parameterized test's parameter.
struct FixtureCase {
  std::string file;
  std::string name;
  std::shared_ptr<const nlohmann::json> data;  // null when the file could not be read
};
void PrintTo(const FixtureCase& c, std::ostream* os);
// The cases of tests/fixtures/<file>. Runs while tests are registered, so it
// must not fail: an unreadable file becomes one case ("unreadable_fixture",
// no data) that fails when run.
std::vector<FixtureCase> fixture_cases(const std::string& file);
// The case's name, for INSTANTIATE_TEST_SUITE_P.
std::string fixture_case_name(const ::testing::TestParamInfo<FixtureCase>& info);

// A parity test over fixture cases whose expect_close keeps the case's worst
// relative error and records it as the test property worst_relative_error.
class FixtureParityTest : public ::testing::TestWithParam<FixtureCase> {
 protected:
  explicit FixtureParityTest(double rtol) : rtol_(rtol) {}
  void expect_close(const Tensor& got, const Tensor& want, const std::string& what);
  void TearDown() override;

 private:
  double rtol_;
  double worst_ = 0.0;
  std::string worst_what_ = "none";
};

}  // namespace seqnet::testing
