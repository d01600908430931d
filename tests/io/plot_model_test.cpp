// plot_model / model_to_dot: the Graphviz source names every layer once,
// with its shapes, and every connection once; rendering writes a real image
// atomically; bad options and unbuilt models are refused.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

using namespace seqnet;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::unique_ptr<Model> encoder_decoder() {
  clear_session();
  auto enc_in = Input({None, 5}, {.name = "enc"});
  auto enc = LSTM(8, {.return_state = true})(enc_in);
  auto dec_in = Input({None, 5}, {.name = "dec"});
  auto dec = LSTM(8, {.return_sequences = true})(dec_in, {.initial_state = {enc[1], enc[2]}});
  auto shared = Dense(5, {.activation = "softmax", .name = "a{b}|c"});
  auto out = shared(dec[0]);
  return std::make_unique<Model>(std::vector<SymbolicTensor>{enc_in, dec_in}, std::vector<SymbolicTensor>{out[0]});
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(PlotModel, DotNamesLayersShapesAndConnections) {
  auto m = encoder_decoder();
  const std::string dot = model_to_dot(*m, {.show_shapes = true});
  EXPECT_EQ(count(dot, "[label="), 5u) << dot;  // two inputs, two LSTMs, the Dense
  EXPECT_NE(dot.find("enc: InputLayer"), std::string::npos) << dot;
  EXPECT_NE(dot.find("lstm_1: LSTM|{input:|output:}|{{[(None, None, 5), (None, 8), (None, 8)]}|{(None, None, 8)}}"),
            std::string::npos)
      << dot;
  // Record punctuation in a name is escaped.
  EXPECT_NE(dot.find("a\\{b\\}\\|c: Dense"), std::string::npos) << dot;
  // enc -> lstm, dec -> lstm_1, lstm -> lstm_1 (once, though two states flow), lstm_1 -> dense.
  EXPECT_EQ(count(dot, " -> "), 4u) << dot;
  EXPECT_EQ(model_to_dot(*m).find("input:"), std::string::npos);
  EXPECT_NE(model_to_dot(*m, {.show_layer_names = false}).find("label=\"LSTM\""), std::string::npos);
}

TEST(PlotModel, ALayerCalledTwiceShowsMultiple) {
  clear_session();
  auto a = Input({3}), b = Input({3});
  auto shared = Dense(2);
  auto out = Add()({shared(a)[0], shared(b)[0]});
  Model m({a, b}, {out[0]});
  const std::string dot = model_to_dot(m, {.show_shapes = true});
  EXPECT_NE(dot.find("dense: Dense|{input:|output:}|{{multiple}|{multiple}}"), std::string::npos) << dot;
}

TEST(PlotModel, RefusesBadOptionsAndUnbuiltModels) {
  auto m = encoder_decoder();
  EXPECT_THROW(model_to_dot(*m, {.rankdir = "BT"}), ValueError);
  EXPECT_THROW(model_to_dot(*m, {.dpi = 0}), ValueError);
  EXPECT_THROW(plot_model(*m, "model.bmp"), ValueError);
  Sequential unbuilt;
  unbuilt.add(LSTM(3));
  EXPECT_THROW(model_to_dot(unbuilt), ValueError);
}

TEST(PlotModel, RendersImagesAtomically) {
  if (!fs::exists("/usr/bin/dot")) GTEST_SKIP() << "Graphviz's dot is not installed";
  const fs::path dir = fs::temp_directory_path() / ("seqnet_plot_model_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto m = encoder_decoder();
  plot_model(*m, (dir / "m.png").string(), {.show_shapes = true});
  plot_model(*m, (dir / "m.svg").string());
  plot_model(*m, (dir / "sub" / "m.dot").string());
  EXPECT_EQ(slurp((dir / "m.png").string()).substr(1, 3), "PNG");
  EXPECT_NE(slurp((dir / "m.svg").string()).find("<svg"), std::string::npos);
  EXPECT_EQ(slurp((dir / "sub" / "m.dot").string()), model_to_dot(*m));
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 3u) << "a temporary file was left behind";
  fs::remove_all(dir);
}
