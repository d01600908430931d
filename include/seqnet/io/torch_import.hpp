#pragma once
// Importing PyTorch weights into a seqnet model built to match.
//
// A PyTorch state_dict is exported by tools/export_torch_state_dict.py as
// .npz or .safetensors (float tensors under their PyTorch names). The
// mapping from PyTorch modules to seqnet layers is explicit: each entry names
// a module prefix of the state dict, which of its stacked layers (for
// multi-layer nn.LSTM/GRU/RNN), and the seqnet layer that receives it. The
// kind of conversion follows the seqnet layer's class:
//
//   seqnet layer                     PyTorch module and conversion
//   LSTM                             nn.LSTM layer k: kernel = weight_ih_lk^T,
//                                    recurrent_kernel = weight_hh_lk^T,
//                                    bias = bias_ih_lk + bias_hh_lk (gate
//                                    order i, f, g, o is Keras's i, f, c, o)
//   GRU (reset_after = true)         nn.GRU layer k: gate blocks r, z, n
//                                    reordered to Keras's z, r, h, transposed;
//                                    bias (2, 3H) = [bias_ih; bias_hh]
//   SimpleRNN                        nn.RNN layer k (tanh or relu: build the
//                                    SimpleRNN with the same activation)
//   Bidirectional(LSTM/GRU/...)      layer k and its "_reverse" twin
//   Dense, TimeDistributed(Dense)    nn.Linear: kernel = weight^T, bias
//   Embedding                        nn.Embedding: embeddings = weight
//
// Everything is checked before any weight changes: every mapped module's
// keys present with the shapes the seqnet layer needs (a missing key, a
// wrong shape, a bias that one side has and the other lacks, proj_size, are
// errors that name the key and both shapes), every key of the state dict
// used by some mapping (or listed in `ignore`), and every seqnet layer with
// weights mapped (unless allow_unmapped_layers).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seqnet/files.hpp"
#include "seqnet/model/model.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::io {

// A PyTorch state dict: names ("encoder.rnn.weight_ih_l0") and tensors.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

// Reads a state dict saved by tools/export_torch_state_dict.py: an .npz
// archive or a .safetensors file (told apart by content) of at most
// `max_bytes` bytes, on disk and (.npz) inflated. Throws IOError / ValueError
// as load_npz / SafetensorsFile, and IOError naming the limit beyond it.
StateDict load_state_dict(const std::string& path, int64_t max_bytes = kDefaultMaxFileBytes);

// The most bytes a state dict for `model` can need, its architecture being
// known before the weights are read: every weight value of the model as
// float64, 1 KiB of names and headers per weight, and 16 MiB for keys left
// unused (--ignore). A bound for load_state_dict.
int64_t state_dict_byte_limit(const Model& model);

struct TorchMapping {
  // Module prefix in the state dict ("encoder.rnn"; "" for keys without
  // one, as in the state dict of a bare nn.LSTM).
  std::string module;
  // Which stacked layer of a multi-layer nn.LSTM/GRU/RNN (the "l<k>" of
  // its keys). Default: 0.
  int torch_layer = 0;
  // Name of the seqnet layer that receives the weights.
  std::string layer;
};

// Parses "module[:k]=layer" (e.g. "encoder.rnn:1=lstm_1", "fc=dense",
// "=lstm" for a bare module). Throws ValueError for another form.
TorchMapping parse_torch_mapping(std::string_view spec);

struct TorchImportOptions {
  // State-dict keys deliberately left unused. Default: none.
  std::vector<std::string> ignore{};
  // Allow seqnet layers with weights that no mapping covers (they keep
  // their weights). Default: false (an error names them).
  bool allow_unmapped_layers = false;
  // Run the initializers of the weights no mapping covers, after the
  // import succeeded: for a model built with
  // ConfigOptions::skip_initializers, so that no initializer runs for a
  // weight the state dict overwrites. Default: false.
  bool initialize_unmapped_layers = false;
};

// Checks the mapping against the model before any state dict is read: every
// named layer exists, has weights, and is mapped once; layer indices are not
// negative. Throws ValueError naming the entry. import_torch_state_dict
// checks the same first.
void check_torch_mapping(const Model& model, const std::vector<TorchMapping>& mapping);

// Sets the weights of `model`'s mapped layers from `state_dict`. The model
// must be built (its layers have weights). Returns one line per converted
// weight ("encoder.rnn.weight_ih_l0 -> lstm/kernel (transposed)"). Throws
// ValueError (unknown layer, unsupported layer class, unused keys, unmapped
// layers) or ShapeError (a shape that does not fit), naming the keys and
// layers involved; the model is unchanged when it throws.
std::vector<std::string> import_torch_state_dict(Model& model, const StateDict& state_dict,
                                                 const std::vector<TorchMapping>& mapping,
                                                 const TorchImportOptions& options = {});

}  // namespace seqnet::io
