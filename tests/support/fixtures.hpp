#pragma once
// Reference fixtures produced by PyTorch (tests/fixtures/generate_torch_fixtures.py)
// and comparison helpers.
//
// A fixture file is JSON: {"generator": ..., "cases": [{"name": ...,
// "config": {...}, "tensors": {"x": {"shape": [...], "data": [...]}, ...}}]}.

#include <nlohmann/json.hpp>
#include <seqnet/tensor.hpp>

#include <string>

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

}  // namespace seqnet::testing
