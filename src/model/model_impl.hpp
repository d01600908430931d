#pragma once
// The inside of a Model: the analysed graph, its execution plan and its
// training configuration. Seen only by the Model's own member functions:
// model.cpp (graph, execution), summary.cpp, and train/ (fit.cpp and the
// training engine, which implement compile/fit/evaluate/predict). Everyone
// else uses Model's public accessors.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet {

struct Model::Impl {
  std::string name;
  std::vector<SymbolicTensor> inputs, outputs;
  // Every node of the graph in execution order, input placeholders included.
  std::vector<std::shared_ptr<GraphNode>> nodes;

  // One layer call of the plan: value slots of its inputs and outputs, and
  // the cache that keeps its workspaces across batches.
  struct Step {
    GraphNode* node = nullptr;
    std::vector<int> in, out;
    std::unique_ptr<Cache> cache;
  };
  std::vector<Step> steps;
  std::vector<int> input_slots, output_slots;
  int num_slots = 0;
  std::vector<Tensor> values, masks, grads;
  std::vector<char> grad_owned;

  // Training configuration (compile()).
  bool compiled = false;
  std::shared_ptr<Optimizer> optimizer;
  std::vector<std::shared_ptr<Loss>> losses;  // one per output
  std::vector<float> loss_weights;            // one per output
  std::vector<std::string> metric_names;
  std::vector<std::vector<std::unique_ptr<Metric>>> metrics;  // [output][metric]
  std::vector<std::string> output_names;                      // log prefixes

  // Analyses the graph between inputs and outputs and builds the plan.
  void build(const std::vector<SymbolicTensor>& in, const std::vector<SymbolicTensor>& out);
  // Runs the graph. With training, caches are filled for backward().
  void forward(const std::vector<Tensor>& x, bool training);
  // Back-propagates output gradients (empty = none) through the last
  // training forward; adds into the weights' gradients. `after_step(i)`,
  // when given, is called once the backward pass is through steps[i] (for
  // every i, from the last step to the first, also where a step had no
  // gradient to pass back): the gradients of weights used only by steps
  // i and later are then final.
  void backward(const std::vector<Tensor>& doutputs, const std::function<void(size_t)>& after_step = {});
  // The layers of the plan, each once, in order.
  std::vector<std::shared_ptr<Layer>> unique_layers(bool include_inputs) const;
  std::vector<Param*> params() const;
  double regularization_penalty() const;
  void add_regularization_gradients() const;
  std::string describe() const;
  // Where masks can flow, asked of the graph without data: for every value
  // slot, for every model input, whether the mask forward() puts there can
  // come from that input's padding. Each step's layer says through
  // Layer::compute_mask, run on small probe tensors (batch and time 1),
  // whether it makes a mask from its inputs' values (Masking,
  // Embedding(mask_zero)) and whether it passes its inputs' masks on. A layer
  // whose compute_mask throws on the probes is taken to pass masks on.
  std::vector<std::vector<bool>> mask_sources() const;

  // A lower estimate of the memory one forward pass (with training, also
  // its backward pass) over a batch of `batch` samples shaped like `x`
  // needs, from the shapes alone: every output the plan keeps, and each
  // layer's Layer::working_bytes. Throws as the layers' shape checks.
  struct MemoryPlan {
    double bytes = 0.0;             // all together
    double per_sample_outputs = 0;  // bytes of the model's outputs per sample
    std::string biggest;            // the layer needing the most, described
    double biggest_bytes = 0.0;
    Shape biggest_input;
  };
  MemoryPlan plan_memory(const std::vector<Tensor>& x, int64_t batch, bool training) const;
};

}  // namespace seqnet
