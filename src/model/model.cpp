#include "seqnet/model/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <queue>
#include <set>
#include <sstream>

#include "model/model_impl.hpp"
#include "seqnet/error.hpp"
#include "seqnet/layers/recurrent.hpp"

namespace seqnet {

// ---------------------------------------------------------------- Tensors

const Tensor& Tensors::operator[](size_t i) const {
  if (i >= items_.size()) {
    throw ValueError(fmt::format("Tensors: index {} is out of range ({} tensors)", i, items_.size()));
  }
  return items_[i];
}

Tensor& Tensors::operator[](size_t i) {
  if (i >= items_.size()) {
    throw ValueError(fmt::format("Tensors: index {} is out of range ({} tensors)", i, items_.size()));
  }
  return items_[i];
}

Tensors::operator Tensor() const {
  if (items_.size() != 1) {
    throw ValueError(fmt::format("expected a single tensor, got a list of {}; index it with [i]", items_.size()));
  }
  return items_[0];
}

LossSpec::LossSpec(const char* name) : loss(make_loss(name)) {}
LossSpec::LossSpec(const std::string& name) : loss(make_loss(name)) {}
OptimizerSpec::OptimizerSpec(const char* name) : optimizer(make_optimizer(name)) {}
OptimizerSpec::OptimizerSpec(const std::string& name) : optimizer(make_optimizer(name)) {}

// ---------------------------------------------------------------- graph

namespace {

using Key = std::pair<const GraphNode*, int>;

Key key_of(const SymbolicTensor& t) { return {t.node().get(), t.index()}; }

}  // namespace

std::string Model::Impl::describe() const { return fmt::format("Model \"{}\"", name); }

void Model::Impl::build(const std::vector<SymbolicTensor>& in, const std::vector<SymbolicTensor>& out) {
  if (in.empty()) throw ValueError(fmt::format("{}: a model needs at least one input", describe()));
  if (out.empty()) throw ValueError(fmt::format("{}: a model needs at least one output", describe()));
  std::map<Key, int> slot_of;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i].valid()) throw ValueError(fmt::format("{}: input {} is an empty symbolic tensor", describe(), i));
    if (!slot_of.emplace(key_of(in[i]), static_cast<int>(i)).second) {
      throw ValueError(fmt::format("{}: input {} ({}) is listed twice", describe(), i, in[i].describe()));
    }
  }
  // Collect the nodes the outputs depend on, stopping at the model inputs.
  std::map<const GraphNode*, std::shared_ptr<GraphNode>> found;
  std::vector<SymbolicTensor> stack;
  std::vector<std::string> path;  // for the error message
  for (size_t k = 0; k < out.size(); ++k) {
    if (!out[k].valid()) throw ValueError(fmt::format("{}: output {} is an empty symbolic tensor", describe(), k));
    stack.push_back(out[k]);
  }
  while (!stack.empty()) {
    SymbolicTensor t = stack.back();
    stack.pop_back();
    if (slot_of.count(key_of(t))) continue;
    const auto& node = t.node();
    if (node->is_input) {
      std::string names;
      for (const auto& x : in) names += (names.empty() ? "" : ", ") + x.describe();
      throw ValueError(fmt::format("{}: graph disconnected: the outputs depend on input '{}', which is not among the "
                                   "model's inputs ({})",
                                   describe(), node->layer->name(), names));
    }
    if (found.emplace(node.get(), node).second) {
      for (const auto& x : node->inputs) stack.push_back(x);
    }
  }
  // Topological order (Kahn), ties broken by creation order.
  std::map<const GraphNode*, int> pending;
  std::map<const GraphNode*, std::vector<const GraphNode*>> consumers;
  for (const auto& [ptr, node] : found) {
    int deps = 0;
    std::set<const GraphNode*> producers;
    for (const auto& x : node->inputs) {
      if (slot_of.count(key_of(x))) continue;
      producers.insert(x.node().get());
    }
    for (const GraphNode* p : producers) {
      consumers[p].push_back(ptr);
      ++deps;
    }
    pending[ptr] = deps;
  }
  auto cmp = [](const GraphNode* a, const GraphNode* b) { return a->id > b->id; };
  std::priority_queue<const GraphNode*, std::vector<const GraphNode*>, decltype(cmp)> ready(cmp);
  for (const auto& [ptr, deps] : pending)
    if (deps == 0) ready.push(ptr);
  std::vector<std::shared_ptr<GraphNode>> order;
  while (!ready.empty()) {
    const GraphNode* n = ready.top();
    ready.pop();
    order.push_back(found.at(n));
    for (const GraphNode* c : consumers[n])
      if (--pending[c] == 0) ready.push(c);
  }
  if (order.size() != found.size()) throw Error(fmt::format("{}: the graph has a cycle", describe()));

  // Input placeholders first (in input order), then the layer calls.
  nodes.clear();
  for (const auto& x : in) {
    if (x.node()->is_input && std::find(nodes.begin(), nodes.end(), x.node()) == nodes.end()) nodes.push_back(x.node());
  }
  nodes.insert(nodes.end(), order.begin(), order.end());

  // Slots: model inputs, then every output of every step.
  num_slots = static_cast<int>(in.size());
  input_slots.clear();
  for (size_t i = 0; i < in.size(); ++i) input_slots.push_back(static_cast<int>(i));
  steps.clear();
  for (const auto& node : order) {
    Step s;
    s.node = node.get();
    for (const auto& x : node->inputs) s.in.push_back(slot_of.at(key_of(x)));
    for (size_t k = 0; k < node->output_shapes.size(); ++k) {
      slot_of[{node.get(), static_cast<int>(k)}] = num_slots;
      s.out.push_back(num_slots++);
    }
    s.cache = node->layer->make_cache();
    steps.push_back(std::move(s));
  }
  output_slots.clear();
  output_names.clear();
  for (const auto& o : out) {
    output_slots.push_back(slot_of.at(key_of(o)));
    output_names.push_back(o.node()->layer->name());
  }
  inputs = in;
  outputs = out;
}

Model::Impl::MemoryPlan Model::Impl::plan_memory(const std::vector<Tensor>& x, int64_t batch, bool training) const {
  std::vector<Shape> shapes(static_cast<size_t>(num_slots));
  for (size_t i = 0; i < x.size() && i < input_slots.size(); ++i) {
    Shape s = x[i].shape();
    if (!s.empty()) s[0] = batch;
    shapes[input_slots[i]] = s;
  }
  MemoryPlan plan;
  std::vector<Shape> ins;
  for (const auto& s : steps) {
    ins.clear();
    for (int slot : s.in) ins.push_back(shapes[slot]);
    const Layer& layer = *s.node->layer;
    const std::vector<Shape> outs = layer.output_shapes_for(ins);
    double out_bytes = 0.0;
    for (size_t k = 0; k < outs.size() && k < s.out.size(); ++k) {
      shapes[s.out[k]] = outs[k];
      out_bytes += 4.0 * shape_elements(outs[k]);
    }
    // Training keeps each output's gradient too.
    const double bytes = out_bytes * (training ? 2.0 : 1.0) + layer.working_bytes(ins, training);
    plan.bytes += bytes;
    if (bytes > plan.biggest_bytes) {
      plan.biggest_bytes = bytes;
      plan.biggest = layer.describe();
      plan.biggest_input = ins.empty() ? Shape{} : ins[0];
    }
  }
  for (int slot : output_slots) plan.per_sample_outputs += 4.0 * shape_elements(shapes[slot]) / static_cast<double>(batch);
  return plan;
}

void Model::Impl::forward(const std::vector<Tensor>& x, bool training) {
  values.assign(static_cast<size_t>(num_slots), Tensor());
  masks.assign(static_cast<size_t>(num_slots), Tensor());
  for (size_t i = 0; i < x.size(); ++i) values[input_slots[i]] = x[i];
  std::vector<Tensor> ins, in_masks;
  for (auto& s : steps) {
    ins.clear();
    in_masks.clear();
    for (int slot : s.in) {
      ins.push_back(values[slot]);
      in_masks.push_back(masks[slot]);
    }
    CallArgs args;
    args.training = training;
    args.mask = in_masks[0];
    args.masks = in_masks;
    std::vector<Tensor> outs = s.node->layer->forward(ins, args, training ? s.cache.get() : nullptr);
    const Tensor out_mask = s.node->layer->compute_mask(ins, in_masks);
    for (size_t k = 0; k < outs.size() && k < s.out.size(); ++k) {
      values[s.out[k]] = outs[k];
      if (k == 0 || outs[k].rank() >= 3) masks[s.out[k]] = out_mask;
    }
  }
}

void Model::Impl::backward(const std::vector<Tensor>& doutputs, const std::function<void(size_t)>& after_step) {
  grads.assign(static_cast<size_t>(num_slots), Tensor());
  grad_owned.assign(static_cast<size_t>(num_slots), 0);
  auto accumulate = [&](int slot, const Tensor& d) {
    if (d.empty()) return;
    Tensor& g = grads[slot];
    if (g.empty()) {
      g = d;
      return;
    }
    if (!grad_owned[slot]) {
      g = g.clone();
      grad_owned[slot] = 1;
    }
    for (int64_t i = 0; i < g.size(); ++i) g[i] += d[i];
  };
  for (size_t k = 0; k < doutputs.size(); ++k) accumulate(output_slots[k], doutputs[k]);
  std::vector<Tensor> douts;
  for (size_t i = steps.size(); i-- > 0;) {
    Step& step = steps[i];
    douts.clear();
    bool any = false;
    for (int slot : step.out) {
      douts.push_back(grads[slot]);
      any = any || !grads[slot].empty();
    }
    if (any) {
      std::vector<Tensor> dins = step.node->layer->backward(douts, *step.cache);
      for (size_t k = 0; k < dins.size() && k < step.in.size(); ++k) accumulate(step.in[k], dins[k]);
    }
    if (after_step) after_step(i);
  }
}

std::vector<std::shared_ptr<Layer>> Model::Impl::unique_layers(bool include_inputs) const {
  std::vector<std::shared_ptr<Layer>> out;
  for (const auto& n : nodes) {
    if (n->is_input && !include_inputs) continue;
    if (std::find(out.begin(), out.end(), n->layer) == out.end()) out.push_back(n->layer);
  }
  return out;
}

std::vector<Param*> Model::Impl::params() const {
  std::vector<Param*> out;
  for (const auto& l : unique_layers(false)) {
    for (Param* p : l->params())
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

double Model::Impl::regularization_penalty() const {
  double s = 0;
  for (const auto& l : unique_layers(false)) s += l->regularization_penalty();
  return s;
}

void Model::Impl::add_regularization_gradients() const {
  for (const auto& l : unique_layers(false)) l->add_regularization_gradients();
}

std::vector<std::vector<bool>> Model::Impl::mask_sources() const {
  const size_t I = inputs.size();
  const auto n = static_cast<size_t>(num_slots);
  std::vector<std::vector<bool>> deps(n, std::vector<bool>(I, false));  // which inputs a value depends on
  std::vector<std::vector<bool>> from(n, std::vector<bool>(I, false));  // which inputs a mask comes from
  std::vector<Shape> shapes(n);
  for (size_t i = 0; i < I; ++i) {
    deps[static_cast<size_t>(input_slots[i])][i] = true;
    shapes[static_cast<size_t>(input_slots[i])] = inputs[i].shape();
  }
  // A tensor of the symbolic shape with batch and time (and any None) 1.
  auto probe = [](Shape s) {
    for (size_t d = 0; d < s.size(); ++d)
      if (d < 2 || s[d] == None) s[d] = 1;
    return Tensor(s);
  };
  const auto any = [](const std::vector<bool>& v) { return std::find(v.begin(), v.end(), true) != v.end(); };
  for (const auto& s : steps) {
    std::vector<Tensor> ins, no_masks, masks_in;
    std::vector<bool> dep(I, false), passed(I, false);
    bool masked_input = false;
    for (int slot : s.in) {
      const auto u = static_cast<size_t>(slot);
      ins.push_back(probe(shapes[u]));
      no_masks.emplace_back();
      masks_in.push_back(any(from[u]) ? Tensor({1, 1}, 1.0f) : Tensor());
      masked_input = masked_input || any(from[u]);
      for (size_t i = 0; i < I; ++i) {
        dep[i] = dep[i] || deps[u][i];
        passed[i] = passed[i] || from[u][i];
      }
    }
    bool makes = false, passes = masked_input;
    try {
      makes = !s.node->layer->compute_mask(ins, no_masks).empty();
      if (masked_input) passes = !s.node->layer->compute_mask(ins, masks_in).empty();
    } catch (const Error&) {
      makes = false;
      passes = masked_input;
    }
    std::vector<bool> out(I, false);
    for (size_t i = 0; i < I; ++i) out[i] = (makes && dep[i]) || (passes && passed[i]);
    for (size_t k = 0; k < s.out.size(); ++k) {
      const auto u = static_cast<size_t>(s.out[k]);
      shapes[u] = s.node->output_shapes.at(k);
      deps[u] = dep;
      // As forward(): the mask goes to the first output and to sequence outputs.
      if (k == 0 || shapes[u].size() >= 3) from[u] = out;
    }
  }
  return from;
}

// ---------------------------------------------------------------- Model

Model::Model(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs,
             const std::string& name)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = name.empty() ? unique_name("model") : name;
  impl_->build(inputs, outputs);
}

Model::Model(const std::string& name) : impl_(std::make_unique<Impl>()) { impl_->name = name; }

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

void Model::set_graph(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs) {
  impl_->build(inputs, outputs);
}

bool Model::has_graph() const { return !impl_->outputs.empty(); }

void Model::ensure_graph(const Tensors&) {
  if (!has_graph()) throw ValueError(fmt::format("{}: the model has no layers", impl_->describe()));
}

const std::string& Model::name() const { return impl_->name; }
const std::vector<SymbolicTensor>& Model::inputs() const { return impl_->inputs; }
const std::vector<SymbolicTensor>& Model::outputs() const { return impl_->outputs; }

std::vector<std::shared_ptr<Layer>> Model::unique_layers(bool include_inputs) const {
  return impl_->unique_layers(include_inputs);
}

const std::vector<std::shared_ptr<GraphNode>>& Model::nodes() const { return impl_->nodes; }

const std::vector<std::shared_ptr<Loss>>& Model::losses() const { return impl_->losses; }
const std::vector<float>& Model::loss_weights() const { return impl_->loss_weights; }
const std::vector<std::string>& Model::output_names() const { return impl_->output_names; }
const std::vector<std::string>& Model::metric_names() const { return impl_->metric_names; }

std::vector<LayerRef> Model::layers() const {
  std::vector<LayerRef> out;
  for (const auto& l : impl_->unique_layers(!is_sequential())) out.emplace_back(l);
  return out;
}

LayerRef Model::get_layer(const std::string& name) const {
  std::string names;
  for (const auto& l : layers()) {
    if (l.name() == name) return l;
    names += (names.empty() ? "" : ", ") + l.name();
  }
  throw ValueError(fmt::format("{}: no layer named '{}'; its layers are: {}", impl_->describe(), name, names));
}

LayerRef Model::get_layer(int index) const {
  const auto all = layers();
  if (index < 0 || index >= static_cast<int>(all.size())) {
    throw ValueError(fmt::format("{}: layer index {} is out of range ({} layers)", impl_->describe(), index,
                                 all.size()));
  }
  return all[static_cast<size_t>(index)];
}

std::vector<Param*> Model::params() const { return impl_->params(); }

int64_t Model::count_params() const {
  int64_t n = 0;
  for (Param* p : params()) n += p->value.size();
  return n;
}

namespace {

// Keras's get_weights order: trainable weights first, then frozen ones, each
// group in layer order.
std::vector<Param*> keras_weight_order(std::vector<Param*> ps) {
  std::stable_partition(ps.begin(), ps.end(), [](const Param* p) { return p->trainable; });
  return ps;
}

}  // namespace

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> w;
  for (Param* p : keras_weight_order(params())) w.push_back(p->value.clone());
  return w;
}

void Model::set_weights(const std::vector<Tensor>& weights) const {
  const auto ps = keras_weight_order(params());
  if (ps.size() != weights.size()) {
    throw ValueError(fmt::format("{}: set_weights expected {} arrays, got {}", impl_->describe(), ps.size(),
                                 weights.size()));
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i]->value.shape() != weights[i].shape()) {
      throw ShapeError(fmt::format("{}: weight {} ({}) has shape {}, got {}", impl_->describe(), i, ps[i]->name,
                                   shape_str(ps[i]->value.shape()), shape_str(weights[i].shape())));
    }
  }
  for (size_t i = 0; i < ps.size(); ++i) ps[i]->value.copy_from(weights[i]);
}

void Model::reset_states() {
  for (const auto& l : impl_->unique_layers(false)) l->reset_states();
}

bool Model::stateful() const {
  for (const auto& l : impl_->unique_layers(false))
    if (l->is_stateful()) return true;
  return false;
}

void Model::summary() const { summary(std::cout); }

std::string Model::summary_string() const {
  std::ostringstream ss;
  summary(ss);
  return ss.str();
}

// ---------------------------------------------------------------- Sequential

Sequential::Sequential(const std::string& name) : Model(name.empty() ? unique_name("sequential") : name) {}

Sequential::Sequential(const std::vector<LayerRef>& layers, const std::string& name) : Sequential(name) {
  for (const auto& l : layers) add(l);
}

void Sequential::add(const SymbolicTensor& input) {
  if (input_.valid() || !pending_.empty()) {
    throw ValueError(fmt::format("Sequential \"{}\": the input must be added before any layer", this->name()));
  }
  if (!input.valid() || !input.node()->is_input) {
    throw ValueError(fmt::format("Sequential \"{}\": add() takes an Input(...) tensor or a layer", this->name()));
  }
  input_ = input;
  last_ = input;
}

void Sequential::connect(const LayerRef& layer) {
  SymbolicTensors out = layer(last_);
  if (out.size() != 1) {
    throw ValueError(fmt::format("Sequential \"{}\": all layers must have a single output; {} has {} (use the "
                                 "functional API for return_state)",
                                 this->name(), layer->describe(), out.size()));
  }
  last_ = out[0];
}

void Sequential::add(const LayerRef& layer) {
  if (!layer.valid()) throw ValueError(fmt::format("Sequential \"{}\": add() got an empty layer", this->name()));
  if (layer->num_outputs() != 1) {
    throw ValueError(fmt::format("Sequential \"{}\": all layers must have a single output; {} has {} (use the "
                                 "functional API for return_state)",
                                 this->name(), layer->describe(), layer->num_outputs()));
  }
  pending_.push_back(layer);
  if (input_.valid()) {
    connect(layer);
    set_graph({input_}, {last_});
  }
}

void Sequential::ensure_graph(const Tensors& x) {
  if (has_graph()) return;
  if (pending_.empty()) throw ValueError(fmt::format("Sequential \"{}\": the model has no layers", this->name()));
  if (x.size() != 1 || x[0].rank() < 1) {
    throw ValueError(fmt::format("Sequential \"{}\": expected one input array to build the model, got {}",
                                 this->name(), x.size()));
  }
  // Build from the data: (None, rest of the data's shape), as Keras does.
  Shape per_sample(x[0].shape().begin() + 1, x[0].shape().end());
  input_ = Input(per_sample);
  last_ = input_;
  for (const auto& l : pending_) connect(l);
  set_graph({input_}, {last_});
}

}  // namespace seqnet
