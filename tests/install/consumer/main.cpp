// A tiny program outside seqnet: an LSTM model, one prediction, its shape
// checked, and the output through an in-memory .npz round trip (so that the
// link needs OpenBLAS, libzip and fmt behind the library). Exits non-zero
// and says why when anything is off.
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <cstdio>
#include <exception>

using namespace seqnet;

int main() {
  try {
    set_seed(7);
    auto input = Input({5, 3});
    auto seq = LSTM(8, {.return_sequences = true})(input);
    auto last = LSTM(8)(seq[0]);
    auto output = Dense(2, {.activation = "softmax"})(last[0]);
    Model model({input}, {output}, "consumer");

    Tensor x({7, 5, 3});
    for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 11) / 11.0f - 0.5f;
    const Tensors outputs = model.predict(x);
    if (outputs.size() != 1) {
      std::fprintf(stderr, "expected one output, got %zu\n", outputs.size());
      return 1;
    }
    const Tensor& y = outputs[0];
    std::printf("output shape %s\n", shape_str(y.shape()).c_str());
    if (y.shape() != Shape{7, 2}) {
      std::fprintf(stderr, "expected output shape (7, 2)\n");
      return 1;
    }
    for (int64_t b = 0; b < 7; ++b) {
      const float sum = y.at(b, 0) + y.at(b, 1);
      if (!std::isfinite(sum) || std::fabs(sum - 1.0f) > 1e-5f) {
        std::fprintf(stderr, "row %lld of the softmax sums to %g\n", static_cast<long long>(b), sum);
        return 1;
      }
    }

    const auto back = data::parse_npz(data::serialize_npz({{"y", y}}, /*compress=*/true));
    if (back.size() != 1 || back[0].first != "y" || !back[0].second.same_shape(y) || back[0].second.at(3, 1) != y.at(3, 1)) {
      std::fprintf(stderr, "the .npz round trip changed the output\n");
      return 1;
    }
    std::printf("ok\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
