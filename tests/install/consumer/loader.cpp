// A program outside seqnet that only loads a model from its Keras JSON and
// names no layer class in its code: every built-in layer must still be
// registered when it links the (static) library. Exits non-zero and says
// why when anything is off.
#include <seqnet/io/config.hpp>

#include <cstdio>
#include <exception>

int main() {
  try {
    const auto names = seqnet::registered_layers();
    std::printf("registered layers %zu\n", names.size());
    if (names.size() < 24) {
      std::fprintf(stderr, "expected the 24 built-in layer classes or more\n");
      return 1;
    }
    const char* json = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 2], "name": "in"}},
        {"class_name": "LayerNormalization", "config": {"name": "ln"}},
        {"class_name": "GRU", "config": {"name": "gru", "units": 4}},
        {"class_name": "Dense", "config": {"name": "d", "units": 1}}]}})";
    auto model = seqnet::model_from_json(json);
    // LayerNormalization 2*2, GRU 3*4*(2 + 4 + 2), Dense 4 + 1.
    if (model->count_params() != 4 + 96 + 5) {
      std::fprintf(stderr, "unexpected parameter count %lld\n", static_cast<long long>(model->count_params()));
      return 1;
    }
    std::printf("loaded\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loader: %s\n", e.what());
    return 1;
  }
  return 0;
}
