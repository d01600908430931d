#pragma once
// seqnet: recurrent sequence models in C++. Include this one header for the
// public API: tensors, every layer (through model/layer_ref.hpp, which holds
// their Keras-style factories), models, training, decoding, data utilities
// and model files.
//
// Not included, on purpose:
//   <seqnet/io/config.hpp>        Keras JSON configs (model_from_json,
//                                 layer_from_config, ConfigReader, the layer
//                                 registry); it brings <nlohmann/json.hpp>,
//                                 which users who never touch configs should
//                                 not pay for. model.to_json() and load_model
//                                 need no include of it.
//   <seqnet/io/json.hpp>          the bounded JSON parser for untrusted text.
//   <seqnet/detail/...>           kernels and layer caches: library internals
//                                 (for implementing layers and cells).

#include "seqnet/activations.hpp"
#include "seqnet/data/corpora.hpp"
#include "seqnet/data/datasets.hpp"
#include "seqnet/data/encoding.hpp"
#include "seqnet/data/evaluation.hpp"
#include "seqnet/data/ngram.hpp"
#include "seqnet/data/npy.hpp"
#include "seqnet/data/problems.hpp"
#include "seqnet/data/scaling.hpp"
#include "seqnet/data/sequences.hpp"
#include "seqnet/data/split.hpp"
#include "seqnet/data/tokenizer.hpp"
#include "seqnet/data/vocabulary.hpp"
#include "seqnet/decode/sampling.hpp"
#include "seqnet/decode/search.hpp"
#include "seqnet/decode/teacher_forcing.hpp"
#include "seqnet/distributed.hpp"
#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/checkpoint.hpp"
#include "seqnet/io/model_io.hpp"
#include "seqnet/io/plot_model.hpp"
#include "seqnet/io/safetensors.hpp"
#include "seqnet/io/torch_import.hpp"
#include "seqnet/layers/initializers.hpp"
#include "seqnet/layers/layer.hpp"
#include "seqnet/layers/regularizers.hpp"
#include "seqnet/memory.hpp"
#include "seqnet/mixed_precision.hpp"
#include "seqnet/model/layer_ref.hpp"
#include "seqnet/model/model.hpp"
#include "seqnet/model/symbolic.hpp"
#include "seqnet/plot.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/random.hpp"
#include "seqnet/tensor.hpp"
#include "seqnet/threads.hpp"
#include "seqnet/train/callbacks.hpp"
#include "seqnet/train/losses.hpp"
#include "seqnet/train/metrics.hpp"
#include "seqnet/train/optimizers.hpp"
#include "seqnet/train/truncated_bptt.hpp"
