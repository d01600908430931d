// libFuzzer target: a model file on arbitrary bytes, loaded and then run.
// A model that loads gets one fixed small input per model input (None
// dimensions replaced by batch 2 and time 3, values 0 and 1 so that
// Embedding indices are valid) and predicts under a small memory limit.
// Anything but success or a seqnet::Error (ResourceError for a model too
// large for the limit included) is a finding.

#include <seqnet/seqnet.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr int64_t kBatch = 2;
constexpr int64_t kTime = 3;
// Most elements of one input tensor: larger inputs are not run.
constexpr int64_t kMaxInputElements = int64_t{1} << 20;
constexpr int64_t kMaxMemoryBytes = int64_t{64} << 20;

// The concrete shape of a symbolic input (None batch -> kBatch, other None
// dimensions -> kTime), or nothing when it is too large to allocate.
std::optional<seqnet::Shape> concrete_shape(const seqnet::Shape& symbolic) {
  seqnet::Shape shape;
  int64_t elements = 1;
  for (size_t i = 0; i < symbolic.size(); ++i) {
    int64_t d = symbolic[i];
    if (d < 0) d = i == 0 ? kBatch : kTime;
    if (d > kMaxInputElements) return std::nullopt;
    elements *= d;
    if (elements > kMaxInputElements) return std::nullopt;
    shape.push_back(d);
  }
  return shape;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto model = seqnet::load_model_from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz",
                                               {.compile = false, .restore_random_state = false});
    seqnet::Tensors x;
    int batch_size = static_cast<int>(kBatch);
    bool runnable = !model->inputs().empty();
    for (const auto& input : model->inputs()) {
      const auto shape = concrete_shape(input.shape());
      if (!shape) {
        runnable = false;
        break;
      }
      // A fixed batch size (stateful models) is the batch size predict must use.
      if (!shape->empty() && input.shape()[0] > 0) batch_size = static_cast<int>((*shape)[0]);
      seqnet::Tensor t(*shape, 0.0f);
      for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i % 2);
      x.push_back(t);
    }
    if (runnable) {
      const seqnet::Tensors y = model->predict(x, {.batch_size = batch_size, .max_memory_bytes = kMaxMemoryBytes});
      // One output per model output, each with one row per sample.
      if (y.size() != model->outputs().size()) __builtin_trap();
      const int64_t samples = x[0].shape().empty() ? -1 : x[0].shape()[0];
      for (const auto& out : y)
        if (samples >= 0 && (out.shape().empty() || out.shape()[0] != samples)) __builtin_trap();
    }
  } catch (const seqnet::Error&) {
  }
  seqnet::clear_session();
  return 0;
}
