#pragma once
// Internal: pairing the weights a file holds with a model's, for every
// format (seqnet's .safetensors, Keras's HDF5 files, TF.js shards).
//
// A file is described as its layers with weights, in the file's order, each
// with its weights in the layer's order (name, shape, and how to read the
// values). The model side is its weights under "<layer>/<path>" in
// Model::unique_layers order. Matching checks everything before anything is
// copied, so a failed load leaves the model as it was.

#include <functional>
#include <string>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet::io {

struct FileWeight {
  std::string name;  // as the file names it, for messages
  Shape shape;
  std::function<void(Tensor&)> read;  // fills a tensor of `shape`
};

struct FileLayer {
  std::string layer;
  std::vector<FileWeight> weights;
};

// Every weight of the model under "<layer>/<path>", layers in model order.
// Throws ValueError for a layer name that cannot name weights in a file
// (empty, with '/', or the reserved "optimizer" and "states") and for two
// weights of one name.
struct NamedParam {
  std::string name;
  Param* param;
};
std::vector<NamedParam> named_params(const Model& model);

// The model's weights grouped by layer, in model order; layer names are
// checked as Model::save checks them.
struct ModelLayer {
  std::string layer;
  std::vector<std::string> names;  // "<layer>/<path>"
  std::vector<Param*> params;
};
std::vector<ModelLayer> model_weight_layers(const Model& model);

// Keras's default: the i-th layer with weights of the file gives the i-th
// of the model, weight by weight, shapes checked. Returns the file weight
// of every model weight, in model order. Throws ValueError / ShapeError
// naming `source`, both layers and the weight.
std::vector<const FileWeight*> match_by_order(const std::vector<ModelLayer>& model, const std::string& model_name,
                                              const std::vector<FileLayer>& file, const std::string& source);

// Keras's by_name: a model layer takes the weights of the file layer of
// its name; layers only one side has are skipped (null entries). With
// skip_mismatch a layer whose weights differ in number or shape is
// skipped too, else it is an error. No namesake at all is an error.
std::vector<const FileWeight*> match_by_name(const std::vector<ModelLayer>& model, const std::string& model_name,
                                             const std::vector<FileLayer>& file, const std::string& source,
                                             bool skip_mismatch);

// Every layer of the model must find its namesake in the file with the same
// number of weights of the same shapes, and every file layer must be used
// (a whole-model load). Throws IOError / ShapeError.
std::vector<const FileWeight*> match_all_by_name(const std::vector<ModelLayer>& model,
                                                 const std::vector<FileLayer>& file, const std::string& source);

// Copies file weight found[i] into model weight i (null: left as is).
void copy_matched(const std::vector<ModelLayer>& model, const std::vector<const FileWeight*>& found);

}  // namespace seqnet::io
