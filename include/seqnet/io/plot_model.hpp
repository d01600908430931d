#pragma once
// Keras's plot_model: a diagram of a model's layers and how they connect,
// rendered by Graphviz's dot (Debian package graphviz, installed by
// scripts/install-deps).
//
//   plot_model(model, "model.png", {.show_shapes = true});
//
// One box per layer ("name: Class", and with show_shapes its input and
// output shapes, None for a free dimension, "multiple" for a layer called
// several times), an arrow per connection. The format follows the file's
// extension: .png, .svg, .pdf, .jpg/.jpeg, .gif, or .dot for the Graphviz
// source itself. The file is written atomically (dot renders into a
// temporary name that is renamed when it succeeds).

#include <string>

#include "seqnet/model/model.hpp"

namespace seqnet {

struct PlotModelOptions {
  // Input and output shapes in each box. Default: false (as Keras).
  bool show_shapes = false;
  // "name: Class" rather than "Class". Default: true.
  bool show_layer_names = true;
  // Graphviz rankdir: "TB" (top to bottom) or "LR" (left to right).
  // Default: "TB".
  std::string rankdir = "TB";
  // Resolution of raster images. Default: 96.
  int dpi = 96;
};

// The model as Graphviz dot source. Throws ValueError for a rankdir other
// than TB/LR or a dpi outside [1, 1200], and for a Sequential model not yet
// built.
std::string model_to_dot(const Model& model, const PlotModelOptions& options = {});

// Writes the diagram to `to_file`. Throws ValueError as model_to_dot and for
// an extension other than the ones above; IOError when dot is not installed
// (saying to install graphviz), when it fails (with its error output) or
// when the file cannot be written.
void plot_model(const Model& model, const std::string& to_file = "model.png", const PlotModelOptions& options = {});

}  // namespace seqnet
