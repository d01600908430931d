#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace seqnet::testing {

void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.file << ":" << c.name; }

std::vector<FixtureCase> fixture_cases(const std::string& file) {
  std::vector<FixtureCase> out;
  try {
    std::ifstream in(std::string(SEQNET_FIXTURE_DIR) + "/" + file);
    if (!in) throw std::runtime_error("missing");
    const nlohmann::json doc = nlohmann::json::parse(in);
    for (const nlohmann::json& c : doc.at("cases")) {
      out.push_back({file, c.at("name").get<std::string>(), std::make_shared<const nlohmann::json>(c)});
    }
  } catch (const std::exception&) {
    out.clear();
  }
  if (out.empty()) out.push_back({file, "unreadable_fixture", nullptr});
  return out;
}

std::string fixture_case_name(const ::testing::TestParamInfo<FixtureCase>& info) { return info.param.name; }

void FixtureParityTest::expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  seqnet::testing::expect_close(got, want, rtol_, what);
  if (got.shape() != want.shape()) return;
  const double err = relative_error(got, want);
  if (err >= worst_) {
    worst_ = err;
    worst_what_ = what;
  }
}

void FixtureParityTest::TearDown() {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3e", worst_);
  RecordProperty("worst_relative_error", std::string(buf) + " (" + worst_what_ + ")");
}

nlohmann::json load_fixture(const std::string& file) {
  const std::string path = std::string(SEQNET_FIXTURE_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "missing fixture " << path << " (regenerate with tests/fixtures/generate_torch_fixtures.py)";
    throw std::runtime_error("missing fixture " + path);
  }
  return nlohmann::json::parse(in);
}

Tensor to_tensor(const nlohmann::json& j) {
  Shape shape = j.at("shape").get<Shape>();
  std::vector<float> data = j.at("data").get<std::vector<float>>();
  return Tensor(shape, data);
}

Tensor case_tensor(const nlohmann::json& c, const std::string& name) {
  if (!c.at("tensors").contains(name)) {
    throw std::runtime_error("fixture case " + c.value("name", std::string("?")) + " has no tensor " + name);
  }
  return to_tensor(c.at("tensors").at(name));
}

double relative_error(const Tensor& got, const Tensor& want) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(got[i] - want[i])));
    scale = std::max(scale, static_cast<double>(std::abs(want[i])));
  }
  return diff / std::max(scale, 1e-30);
}

void expect_close(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  ASSERT_EQ(shape_str(got.shape()), shape_str(want.shape())) << what << ": shape";
  const double err = relative_error(got, want);
  EXPECT_LE(err, rtol) << what << ": relative error " << err << " exceeds " << rtol;
  ::testing::Test::RecordProperty(what, std::to_string(err));
}

}  // namespace seqnet::testing
