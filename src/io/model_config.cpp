// Model <-> Keras 2 architecture JSON (Sequential and Functional).

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "layers/param_guard.hpp"
#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/io/json.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet {

namespace {

using json = nlohmann::json;

// Bounds that keep rebuilding fast (graph analysis is quadratic in places).
constexpr size_t kMaxLayers = 2000;
constexpr size_t kMaxNodes = 20000;

// A layer name that can name weights in a file: non-empty, no '/'.
void check_layer_name(const Layer& l) {
  if (l.name().empty()) throw ValueError(fmt::format("{}: a layer needs a name to be serialized", l.describe()));
  if (l.name().find('/') != std::string::npos) {
    throw ValueError(fmt::format("{}: layer names must not contain '/' to be serialized", l.describe()));
  }
}

// The layer's config with "trainable" taken from its weights' flags.
json layer_entry_config(Layer& l) {
  json c = l.get_config();
  if (!c.is_object()) throw ValueError(fmt::format("{}: get_config() did not return an object", l.describe()));
  const auto ps = l.params();
  if (!ps.empty() && c.contains("trainable")) {
    bool any = false;
    for (Param* p : ps) any = any || p->trainable;
    c["trainable"] = any;
  }
  return c;
}

}  // namespace

// ---------------------------------------------------------------- to config

namespace {

// Checks that `model` is built and that its inputs are Input() tensors.
void check_model_inputs(const Model& model) {
  const auto& inputs = model.inputs();
  if (model.outputs().empty()) {
    throw ValueError(fmt::format("Model \"{}\": the model is not built yet; give it an Input (or fit it) before "
                                 "serializing",
                                 model.name()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].node()->is_input) {
      throw ValueError(fmt::format("Model \"{}\": input {} ({}) is not an Input() tensor; only models whose inputs "
                                   "are Input() tensors can be serialized",
                                   model.name(), i, inputs[i].describe()));
    }
  }
}

// Checks that each of `layers` has a name that can name weights, and that
// no two share one.
void check_layer_names(const Model& model, const std::vector<std::shared_ptr<Layer>>& layers) {
  std::set<std::string> names;
  for (const auto& l : layers) {
    check_layer_name(*l);
    if (!names.insert(l->name()).second) {
      throw ValueError(fmt::format("Model \"{}\": two layers are named '{}'; layer names must be unique to be "
                                   "serialized",
                                   model.name(), l->name()));
    }
  }
}

// The config of Sequential `model`: its InputLayer, then its other layers
// (each used once) in order.
json sequential_config(const Model& model, const std::vector<std::shared_ptr<Layer>>& layers) {
  const auto& nodes = model.nodes();
  const auto calls = std::count_if(nodes.begin(), nodes.end(), [](const auto& n) { return !n->is_input; });
  if (static_cast<size_t>(calls) + 1 != layers.size()) {
    throw ValueError(fmt::format("Sequential \"{}\": a layer is used twice; use the functional API to share "
                                 "layers",
                                 model.name()));
  }
  json list = json::array();
  list.push_back(layer_to_keras(*model.inputs()[0].node()->layer));
  for (const auto& l : layers) {
    if (l->class_name() == "InputLayer") continue;
    list.push_back({{"class_name", l->class_name()}, {"config", layer_entry_config(*l)}});
  }
  return {{"name", model.name()}, {"layers", list}};
}

// The calls of each layer of a model in node_index order, and each call's
// number among them: Keras renumbers each layer's calls among those inside
// the model.
struct CallNumbers {
  std::map<const GraphNode*, int> new_index;
  std::map<const Layer*, std::vector<const GraphNode*>> calls;
};

CallNumbers number_calls(const Model& model) {
  CallNumbers out;
  for (const auto& n : model.nodes()) out.calls[n->layer.get()].push_back(n.get());
  for (auto& [layer, ns] : out.calls) {
    std::sort(ns.begin(), ns.end(), [](const GraphNode* a, const GraphNode* b) { return a->node_index < b->node_index; });
    for (size_t k = 0; k < ns.size(); ++k) out.new_index[ns[k]] = static_cast<int>(k);
  }
  return out;
}

// A reference to tensor `t`: [layer name, call number, output index].
json tensor_ref(const SymbolicTensor& t, const CallNumbers& numbers) {
  return json::array({t.node()->layer->name(), numbers.new_index.at(t.node().get()), t.index()});
}

// The entry of layer `l` in a functional config: class name, config, name
// and the tensor references of each of its calls.
json functional_layer_entry(const std::shared_ptr<Layer>& l, CallNumbers& numbers) {
  json entry;
  entry["class_name"] = l->class_name();
  entry["config"] = l->class_name() == "InputLayer" ? l->get_config() : layer_entry_config(*l);
  entry["name"] = l->name();
  json inbound = json::array();
  for (const GraphNode* n : numbers.calls[l.get()]) {
    if (n->is_input) continue;
    json node = json::array();
    for (const auto& t : n->inputs) {
      json r = tensor_ref(t, numbers);
      r.push_back(json::object());
      node.push_back(r);
    }
    inbound.push_back(node);
  }
  entry["inbound_nodes"] = inbound;
  return entry;
}

// The config of functional `model`: its layers with their calls, and the
// references of its inputs and outputs.
json functional_config(const Model& model, const std::vector<std::shared_ptr<Layer>>& layers) {
  CallNumbers numbers = number_calls(model);
  json list = json::array();
  for (const auto& l : layers) list.push_back(functional_layer_entry(l, numbers));
  json ins = json::array(), outs = json::array();
  for (const auto& t : model.inputs()) ins.push_back(tensor_ref(t, numbers));
  for (const auto& t : model.outputs()) outs.push_back(tensor_ref(t, numbers));
  return {{"name", model.name()}, {"trainable", true}, {"layers", list}, {"input_layers", ins},
          {"output_layers", outs}};
}

}  // namespace

json model_to_config(const Model& model) {
  check_model_inputs(model);
  const auto layers = model.unique_layers(true);
  check_layer_names(model, layers);
  json out;
  const bool sequential = dynamic_cast<const Sequential*>(&model) != nullptr;
  if (sequential) {
    const json config = sequential_config(model, layers);
    out["class_name"] = "Sequential";
    out["config"] = config;
  } else {
    const json config = functional_config(model, layers);
    out["class_name"] = "Functional";
    out["config"] = config;
  }
  out["keras_version"] = "2.13.1";
  out["backend"] = "seqnet";
  return out;
}

std::string model_to_json(const Model& model, int indent) {
  try {
    return model_to_config(model).dump(indent);
  } catch (const json::exception& e) {
    throw ValueError(fmt::format("Model \"{}\": cannot write its config as JSON: {}", model.name(), e.what()));
  }
}

std::string Model::to_json(int indent) const { return model_to_json(*this, indent); }

// ---------------------------------------------------------------- from config

namespace {

// An Input() tensor from an InputLayer config.
SymbolicTensor make_input(const json& config, const std::string& fallback_name) {
  const ConfigReader r(config, fmt::format("InputLayer \"{}\" config", fallback_name));
  r.expect("sparse", false, "seqnet inputs are dense");
  r.expect("ragged", false, "seqnet inputs are dense (pad sequences and use Masking)");
  if (r.has("dtype")) {
    const std::string dt = r.get_string("dtype");
    static const std::set<std::string> ok{"float32", "float64", "float16", "int32", "int64", "int8", "int16",
                                          "uint8",   "bool"};
    if (!ok.count(dt)) throw ValueError(fmt::format("{}: unsupported input dtype '{}'", r.context(), printable(dt)));
  }
  const char* key = r.has("batch_input_shape") ? "batch_input_shape" : "batch_shape";
  Shape bs = r.get_shape(key, true);
  if (bs.size() < 2) {
    throw ValueError(fmt::format("{}: `{}` must hold the batch axis and at least one more", r.context(), key));
  }
  InputOptions o;
  o.batch_size = bs[0] == None ? 0 : bs[0];
  if (o.batch_size > (int64_t{1} << 20)) {
    throw ValueError(fmt::format("{}: a fixed batch size of {} is too large", r.context(), o.batch_size));
  }
  o.name = r.name();
  if (o.name.empty()) o.name = fallback_name;
  return Input(Shape(bs.begin() + 1, bs.end()), o);
}

struct Ref {
  std::string layer;
  int64_t node = 0;
  int64_t tensor = 0;
};

Ref parse_ref(const json& r, const std::string& context, bool allow_kwargs, const json** kwargs = nullptr) {
  if (!r.is_array() || r.size() < 3 || r.size() > 4 || !r[0].is_string() || !r[1].is_number_integer() ||
      !r[2].is_number_integer()) {
    throw ValueError(fmt::format("{}: a tensor reference must be [layer_name, node_index, tensor_index{}]", context,
                                 allow_kwargs ? ", kwargs" : ""));
  }
  Ref out{r[0].get<std::string>(), r[1].get<int64_t>(), r[2].get<int64_t>()};
  if (out.node < 0 || out.node >= static_cast<int64_t>(kMaxNodes) || out.tensor < 0 || out.tensor > 1024) {
    throw ValueError(fmt::format("{}: invalid node or tensor index in the reference to '{}'", context,
                                 out.layer.substr(0, 256)));
  }
  if (r.size() == 4) {
    if (!allow_kwargs) throw ValueError(fmt::format("{}: unexpected call arguments", context));
    if (!r[3].is_null() && !r[3].is_object()) throw ValueError(fmt::format("{}: call arguments must be an object", context));
    if (kwargs != nullptr && r[3].is_object() && !r[3].empty()) *kwargs = &r[3];
  }
  return out;
}

// One inbound node: its tensor references, with the call arguments Keras
// may attach to them. initial_state given as a keyword (older writers) is
// turned into the extra inputs seqnet takes; null arguments are ignored;
// anything else changes the call and is an error.
std::vector<Ref> parse_node(const json& node, const std::string& context) {
  std::vector<Ref> refs;
  const json* kwargs = nullptr;
  for (const auto& ref : node) refs.push_back(parse_ref(ref, context, true, &kwargs));
  if (kwargs == nullptr) return refs;
  for (auto it = kwargs->begin(); it != kwargs->end(); ++it) {
    if (it.value().is_null()) continue;
    if (it.key() == "initial_state" && it.value().is_array()) {
      std::vector<Ref> states;
      for (const auto& s : it.value()) states.push_back(parse_ref(s, context + ": initial_state", false));
      if (refs.size() == 1) {
        refs.insert(refs.end(), states.begin(), states.end());
        continue;
      }
      bool same = refs.size() == states.size() + 1;
      for (size_t i = 0; same && i < states.size(); ++i) {
        same = refs[i + 1].layer == states[i].layer && refs[i + 1].node == states[i].node &&
               refs[i + 1].tensor == states[i].tensor;
      }
      if (same) continue;
    }
    throw ValueError(fmt::format("{}: call argument '{}' = {} is not supported (seqnet layer calls take tensors "
                                 "only)",
                                 context, it.key().substr(0, 64),
                                 it.value().dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 80)));
  }
  return refs;
}

// [[name, node, tensor], ...] (or a single [name, node, tensor]).
std::vector<Ref> parse_endpoints(const ConfigReader& r, const std::string& key) {
  if (!r.has(key)) throw ValueError(fmt::format("{}: `{}` is required", r.context(), key));
  const json& v = r.json().at(key);
  if (!v.is_array()) throw ValueError(fmt::format("{}: `{}` must be a list", r.context(), key));
  std::vector<Ref> out;
  if (!v.empty() && v[0].is_string()) {
    out.push_back(parse_ref(v, r.context() + ": " + key, false));
    return out;
  }
  if (v.size() > kMaxNodes) throw ValueError(fmt::format("{}: `{}` is too long", r.context(), key));
  for (const auto& e : v) out.push_back(parse_ref(e, r.context() + ": " + key, false));
  if (out.empty()) throw ValueError(fmt::format("{}: `{}` is empty", r.context(), key));
  return out;
}

void apply_trainable(const std::vector<std::pair<std::shared_ptr<Layer>, bool>>& flags) {
  for (const auto& [layer, trainable] : flags) {
    if (trainable) continue;
    for (Param* p : layer->params()) p->trainable = false;
  }
}

bool trainable_flag(const json& config) {
  if (!config.is_object()) return true;
  auto it = config.find("trainable");
  return it == config.end() || !it->is_boolean() || it->get<bool>();
}

std::unique_ptr<Model> sequential_from_config(const json& config) {
  const json* list = &config;
  std::string name;
  static const json kEmpty = json::object();
  const ConfigReader r(config.is_object() ? config : kEmpty, "Sequential config");
  if (config.is_object()) {
    name = r.name();
    if (!r.has("layers") || !r.json().at("layers").is_array()) {
      throw ValueError("Sequential config: `layers` must be a list");
    }
    list = &r.json().at("layers");
  } else if (!config.is_array()) {  // Keras < 2.3 wrote the list alone
    throw ValueError("Sequential config: expected an object with `layers`");
  }
  if (list->size() > kMaxLayers) throw ValueError("Sequential config: too many layers");
  auto model = std::make_unique<Sequential>(name);
  std::vector<std::pair<std::shared_ptr<Layer>, bool>> flags;
  bool have_input = false;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    if (!e.is_object() || !e.contains("class_name") || !e["class_name"].is_string() || !e.contains("config")) {
      throw ValueError(fmt::format("Sequential config: layer {} must be {{\"class_name\", \"config\"}}", i));
    }
    const json& c = e["config"];
    if (e["class_name"] == "InputLayer") {
      if (i != 0) throw ValueError("Sequential config: an InputLayer may only come first");
      model->add(make_input(c, name.empty() ? "input_1" : name + "_input"));
      have_input = true;
      continue;
    }
    if (!have_input && c.is_object() && (c.contains("batch_input_shape") || c.contains("batch_shape"))) {
      // Older Keras kept the input shape in the first layer's config.
      json ic = json::object();
      for (const char* k : {"batch_input_shape", "batch_shape", "dtype"})
        if (c.contains(k)) ic[k] = c[k];
      if (ic.contains("dtype") && !ic["dtype"].is_string()) ic.erase("dtype");
      std::string lname = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "layer";
      ic["name"] = lname + "_input";
      model->add(make_input(ic, lname + "_input"));
      have_input = true;
    } else if (!have_input && i == 0 && config.is_object() && r.has("build_input_shape")) {
      json ic = {{"batch_input_shape", r.json().at("build_input_shape")}, {"name", "input_1"}};
      model->add(make_input(ic, "input_1"));
      have_input = true;
    }
    auto layer = layer_from_config(e);
    model->add(LayerRef(layer));
    flags.emplace_back(layer, trainable_flag(c));
  }
  if (have_input) apply_trainable(flags);
  return model;
}

// One entry of a Functional layer list: the layer and its calls' inputs.
struct LayerEntry {
  std::string name;
  std::shared_ptr<Layer> layer;  // null for an InputLayer
  std::vector<std::vector<Ref>> nodes;
  size_t done = 0;
};

// A call of a layer: (layer name, call number).
using CallKey = std::pair<std::string, int64_t>;

// A Functional model being rebuilt: the entries in list order, their index
// by name, the outputs of every call made so far, the trainable flags.
struct FunctionalGraph {
  std::vector<LayerEntry> entries;
  std::map<std::string, size_t> by_name;
  std::map<CallKey, SymbolicTensors> created;
  std::vector<std::pair<std::shared_ptr<Layer>, bool>> flags;
};

// The name of layer entry `e` (number i), from the entry or its config `c`.
std::string entry_name(const json& e, const json& c, size_t i) {
  if (e.contains("name") && e["name"].is_string()) return e["name"].get<std::string>();
  if (c.is_object() && c.contains("name") && c["name"].is_string()) return c["name"].get<std::string>();
  throw ValueError(fmt::format("Functional config: layer {} has no name", i));
}

// The inbound nodes of layer entry `e` into en.nodes; total_nodes counts
// the calls of all layers.
void parse_inbound_nodes(const json& e, const std::string& ctx, LayerEntry& en, size_t& total_nodes) {
  if (!e.contains("inbound_nodes") || !e["inbound_nodes"].is_array()) {
    throw ValueError(fmt::format("{}: `inbound_nodes` must be a list", ctx));
  }
  for (const auto& node : e["inbound_nodes"]) {
    if (node.is_object()) {
      throw ValueError(fmt::format("{}: inbound nodes in the Keras 3 format ({{\"args\", \"kwargs\"}}) are not "
                                   "supported; save the model with Keras 2",
                                   ctx));
    }
    if (!node.is_array() || node.empty()) {
      throw ValueError(fmt::format("{}: an inbound node must be a non-empty list of tensor references", ctx));
    }
    if (++total_nodes > kMaxNodes) throw ValueError("Functional config: too many layer calls");
    en.nodes.push_back(parse_node(node, ctx));
  }
}

// The layer entries of `list` into g: each layer built from its config (an
// InputLayer's tensor made at once), with the references of its calls.
void parse_layers(const json& list, FunctionalGraph& g) {
  size_t total_nodes = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    if (!e.is_object() || !e.contains("class_name") || !e["class_name"].is_string() || !e.contains("config")) {
      throw ValueError(fmt::format("Functional config: layer {} must be {{\"class_name\", \"config\", \"name\", "
                                   "\"inbound_nodes\"}}",
                                   i));
    }
    const json& c = e["config"];
    LayerEntry en;
    en.name = entry_name(e, c, i);
    if (g.by_name.count(en.name)) {
      throw ValueError(fmt::format("Functional config: two layers are named '{}'", en.name.substr(0, 256)));
    }
    const std::string ctx = fmt::format("Functional config: layer '{}'", en.name.substr(0, 256));
    if (e["class_name"] == "InputLayer") {
      json ic = c;
      if (ic.is_object() && !ic.contains("name")) ic["name"] = en.name;
      g.created[{en.name, 0}] = SymbolicTensors({make_input(ic, en.name)});
      en.done = 0;
    } else {
      en.layer = layer_from_config(e);
      if (en.layer->name() != en.name) {
        throw ValueError(fmt::format("{}: its config names it '{}'", ctx, en.layer->name()));
      }
      g.flags.emplace_back(en.layer, trainable_flag(c));
      parse_inbound_nodes(e, ctx, en, total_nodes);
    }
    g.by_name[en.name] = g.entries.size();
    g.entries.push_back(std::move(en));
  }
}

// How many calls the layer named `n` has (an InputLayer has one).
int64_t calls_of(const FunctionalGraph& g, const std::string& n) {
  const LayerEntry& en = g.entries[g.by_name.at(n)];
  return en.layer ? static_cast<int64_t>(en.nodes.size()) : 1;
}

// Every reference must name a layer call that exists.
void check_refs(const FunctionalGraph& g) {
  for (const auto& en : g.entries) {
    for (size_t k = 0; k < en.nodes.size(); ++k) {
      for (const auto& ref : en.nodes[k]) {
        if (!g.by_name.count(ref.layer)) {
          throw ValueError(fmt::format("Functional config: layer '{}' (call {}) refers to an unknown layer '{}'",
                                       en.name, k, ref.layer.substr(0, 256)));
        }
        if (ref.node >= calls_of(g, ref.layer)) {
          throw ValueError(fmt::format("Functional config: layer '{}' (call {}) refers to call {} of '{}', which has "
                                       "only {}",
                                       en.name, k, ref.node, ref.layer, calls_of(g, ref.layer)));
        }
      }
    }
  }
}

// The input tensors of the next call of `en`, whose producers have run.
std::vector<SymbolicTensor> next_call_inputs(const FunctionalGraph& g, const LayerEntry& en) {
  std::vector<SymbolicTensor> inputs;
  for (const auto& ref : en.nodes[en.done]) {
    const SymbolicTensors& outs = g.created.at({ref.layer, ref.node});
    if (ref.tensor >= static_cast<int64_t>(outs.size())) {
      throw ValueError(fmt::format("Functional config: layer '{}' (call {}) uses output {} of '{}' call {}, which "
                                   "has {} output(s)",
                                   en.name, en.done, ref.tensor, ref.layer, ref.node, outs.size()));
    }
    inputs.push_back(outs[static_cast<size_t>(ref.tensor)]);
  }
  return inputs;
}

// Kahn's algorithm over layer calls: call k of a layer waits for its input
// tensors and for call k - 1 of the same layer (so call numbers match).
// Among ready calls the layer listed first goes first: a list in
// execution order (as to_json writes it) is rebuilt in that very order, so
// the model's layer and weight order come back unchanged.
void connect_calls(FunctionalGraph& g) {
  std::map<CallKey, std::vector<size_t>> waiting;  // producer call -> entries whose next call waits on it
  std::vector<size_t> missing(g.entries.size(), 0);
  std::set<size_t> ready;
  auto schedule = [&](size_t i) {
    LayerEntry& en = g.entries[i];
    if (en.done >= en.nodes.size()) return;
    std::set<CallKey> deps;
    for (const auto& ref : en.nodes[en.done]) {
      CallKey k{ref.layer, ref.node};
      if (!g.created.count(k)) deps.insert(k);
    }
    missing[i] = deps.size();
    for (const auto& k : deps) waiting[k].push_back(i);
    if (deps.empty()) ready.insert(i);
  };
  for (size_t i = 0; i < g.entries.size(); ++i) schedule(i);
  while (!ready.empty()) {
    const size_t i = *ready.begin();
    ready.erase(ready.begin());
    LayerEntry& en = g.entries[i];
    std::vector<SymbolicTensor> inputs = next_call_inputs(g, en);
    const CallKey key{en.name, static_cast<int64_t>(en.done)};
    g.created[key] = call_layer(en.layer, inputs);
    ++en.done;
    auto it = waiting.find(key);
    if (it != waiting.end()) {
      for (size_t j : it->second)
        if (--missing[j] == 0) ready.insert(j);
      waiting.erase(it);
    }
    schedule(i);
  }
  for (const auto& en : g.entries) {
    if (en.done < en.nodes.size()) {
      throw ValueError(fmt::format("Functional config: the calls of layer '{}' cannot be connected (a cycle in "
                                   "inbound_nodes)",
                                   en.name));
    }
  }
}

// The tensor that endpoint `ref` (of `what`, "input_layers" or
// "output_layers") names among the calls made.
SymbolicTensor resolve_endpoint(const FunctionalGraph& g, const Ref& ref, const char* what) {
  auto it = g.created.find({ref.layer, ref.node});
  if (it == g.created.end()) {
    throw ValueError(fmt::format("Functional config: {} refers to '{}' call {}, which does not exist", what,
                                 ref.layer.substr(0, 256), ref.node));
  }
  if (ref.tensor >= static_cast<int64_t>(it->second.size())) {
    throw ValueError(fmt::format("Functional config: {} refers to output {} of '{}', which has {}", what,
                                 ref.tensor, ref.layer, it->second.size()));
  }
  return it->second[static_cast<size_t>(ref.tensor)];
}

std::unique_ptr<Model> functional_from_config(const json& config) {
  const ConfigReader r(config, "Functional config");
  const std::string name = r.name();
  if (!r.has("layers") || !r.json().at("layers").is_array()) {
    throw ValueError("Functional config: `layers` must be a list");
  }
  const json& list = r.json().at("layers");
  if (list.size() > kMaxLayers) throw ValueError("Functional config: too many layers");
  FunctionalGraph g;
  parse_layers(list, g);
  check_refs(g);
  connect_calls(g);
  std::vector<SymbolicTensor> ins, outs;
  for (const auto& ref : parse_endpoints(r, "input_layers")) {
    SymbolicTensor t = resolve_endpoint(g, ref, "input_layers");
    if (!t.node()->is_input) {
      throw ValueError(fmt::format("Functional config: input '{}' is not an InputLayer", ref.layer));
    }
    ins.push_back(t);
  }
  for (const auto& ref : parse_endpoints(r, "output_layers")) outs.push_back(resolve_endpoint(g, ref, "output_layers"));
  auto model = std::make_unique<Model>(ins, outs, name.empty() ? std::string("model") : name);
  apply_trainable(g.flags);
  return model;
}

}  // namespace

std::unique_ptr<Model> model_from_config(const json& config, const ConfigOptions& options) {
  if (!config.is_object() || !config.contains("class_name") || !config["class_name"].is_string() ||
      !config.contains("config")) {
    throw ValueError("model config: expected {\"class_name\": \"Sequential\" | \"Functional\", \"config\": {...}}");
  }
  const std::string cls = config["class_name"].get<std::string>();
  detail::ParamBuildGuard guard(options.max_params, options.skip_initializers,
                                options.limit_reason.empty()
                                    ? fmt::format("the limit is {} weight values in all", options.max_params)
                                    : options.limit_reason);
  try {
    if (cls == "Sequential") return sequential_from_config(config["config"]);
    if (cls == "Functional" || cls == "Model") return functional_from_config(config["config"]);
  } catch (const json::exception& e) {
    // Defensive: every access above is type-checked first.
    throw ValueError(fmt::format("model config: {}", e.what()));
  }
  throw ValueError(fmt::format("model config: unsupported model class '{}'; expected Sequential or Functional",
                               cls.substr(0, 64)));
}

std::unique_ptr<Model> model_from_json(std::string_view text, const ConfigOptions& options) {
  return model_from_config(io::parse_untrusted_json(text, "model JSON"), options);
}

}  // namespace seqnet
