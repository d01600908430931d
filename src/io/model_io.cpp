// Model::save / load_model / save_weights / load_weights.

#include "seqnet/io/model_io.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <set>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/io/json.hpp"
#include "seqnet/io/safetensors.hpp"
#include "seqnet/random.hpp"

namespace seqnet {

namespace {

using json = nlohmann::json;

struct NamedParam {
  std::string name;
  Param* param;
};

// Every weight of the model under "<layer>/<path>", layers in model order.
std::vector<NamedParam> named_params(const Model& model) {
  std::vector<NamedParam> out;
  std::set<std::string> seen;
  for (const auto& layer : model.unique_layers()) {
    const std::string& ln = layer->name();
    if (ln.empty() || ln.find('/') != std::string::npos) {
      throw ValueError(fmt::format("{}: layer names must be non-empty and contain no '/' to be saved",
                                   layer->describe()));
    }
    if (ln == "optimizer" || ln == "states") {
      throw ValueError(fmt::format("{}: the names 'optimizer' and 'states' are reserved in model files; rename the "
                                   "layer",
                                   layer->describe()));
    }
    layer->visit_params([&](const std::string& path, Param& p) {
      std::string name = ln + "/" + path;
      if (!seen.insert(name).second) {
        throw ValueError(fmt::format("Model \"{}\": two weights are named '{}'; layer names must be unique to save",
                                     model.name(), name));
      }
      out.push_back({std::move(name), &p});
    });
  }
  return out;
}

// A layer that keeps states itself, with the name its states are saved
// under: "<layer>" or "<layer>/<sublayer path>".
struct NamedStateful {
  std::string name;
  Layer* layer;
};

void collect_stateful(Layer& l, const std::string& prefix, std::vector<NamedStateful>& out) {
  bool wrapper = false;
  l.visit_sublayers([&](const std::string& path, Layer& sub) {
    wrapper = true;
    collect_stateful(sub, path.empty() ? prefix : prefix + "/" + path, out);
  });
  if (!wrapper && l.is_stateful()) out.push_back({prefix, &l});
}

std::vector<NamedStateful> stateful_layers(const Model& model) {
  std::vector<NamedStateful> out;
  for (const auto& layer : model.unique_layers()) collect_stateful(*layer, layer->name(), out);
  return out;
}

json random_state_json(const GeneratorState& st) {
  json s = json::array();
  for (uint64_t w : st.s) s.push_back(std::to_string(w));
  uint64_t bits = 0;
  std::memcpy(&bits, &st.spare, sizeof bits);
  return json{{"s", s}, {"have_spare", st.have_spare}, {"spare_bits", std::to_string(bits)}};
}

uint64_t parse_u64(const json& v, const std::string& what) {
  if (!v.is_string()) throw IOError(fmt::format("{}: expected a decimal string", what));
  const std::string s = v.get<std::string>();
  if (s.empty() || s.size() > 20) throw IOError(fmt::format("{}: invalid number '{}'", what, s.substr(0, 32)));
  uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') throw IOError(fmt::format("{}: invalid number '{}'", what, s.substr(0, 32)));
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) throw IOError(fmt::format("{}: number out of range", what));
    x = x * 10 + d;
  }
  return x;
}

GeneratorState parse_random_state(const json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("s") || !j["s"].is_array() || j["s"].size() != 4 || !j.contains("have_spare") ||
      !j["have_spare"].is_boolean() || !j.contains("spare_bits")) {
    throw IOError(fmt::format("{}: malformed random_state", what));
  }
  GeneratorState st;
  for (size_t i = 0; i < 4; ++i) st.s[i] = parse_u64(j["s"][i], what + ": random_state");
  st.have_spare = j["have_spare"].get<bool>();
  const uint64_t bits = parse_u64(j["spare_bits"], what + ": random_state");
  std::memcpy(&st.spare, &bits, sizeof bits);
  if ((st.s[0] | st.s[1] | st.s[2] | st.s[3]) == 0 || !std::isfinite(st.spare)) {
    throw IOError(fmt::format("{}: invalid random_state", what));
  }
  return st;
}

// The checked header of a model or weights file.
struct FileHeader {
  std::string content;
  const std::map<std::string, std::string>* meta;
};

FileHeader check_header(const io::SafetensorsFile& f) {
  const auto& meta = f.metadata();
  auto it = meta.find("format");
  if (it == meta.end() || it->second != "seqnet") {
    throw IOError(fmt::format("{}: not a seqnet model file (its __metadata__ has no format \"seqnet\")", f.source()));
  }
  it = meta.find("version");
  int version = -1;
  if (it != meta.end() && !it->second.empty() && it->second.size() <= 6 &&
      it->second.find_first_not_of("0123456789") == std::string::npos) {
    version = std::stoi(it->second);
  }
  if (version < 1) throw IOError(fmt::format("{}: missing or invalid format version", f.source()));
  if (version > kModelFormatVersion) {
    throw IOError(fmt::format("{}: written in model format version {}, newer than this build reads ({}); upgrade "
                              "seqnet",
                              f.source(), version, kModelFormatVersion));
  }
  it = meta.find("content");
  const std::string content = it == meta.end() ? "model" : it->second;
  if (content != "model" && content != "weights") {
    throw IOError(fmt::format("{}: unknown content '{}'", f.source(), content.substr(0, 32)));
  }
  for (const auto& t : f.tensors()) {
    if (t.dtype != io::DType::F32) {
      throw IOError(fmt::format("{}: tensor '{}' has dtype {}; seqnet model files hold F32", f.source(), printable(t.name),
                                io::dtype_name(t.dtype)));
    }
  }
  return {content, &meta};
}

// Finds tensor `name`, checks its shape, and records it as used.
const io::TensorInfo& expect_tensor(const io::SafetensorsFile& f, const std::string& name, const Shape& shape,
                                    const char* what, std::set<std::string>& used) {
  const io::TensorInfo* t = f.find(name);
  if (t == nullptr) throw IOError(fmt::format("{}: {} '{}' is missing", f.source(), what, printable(name)));
  if (t->shape != shape) {
    throw ShapeError(fmt::format("{}: {} '{}' has shape {} in the file but the model needs {}", f.source(), what, name,
                                 shape_str(t->shape), shape_str(shape)));
  }
  used.insert(name);
  return *t;
}

void copy_into(const io::SafetensorsFile& f, const io::TensorInfo& t, Tensor& dst) {
  const std::string_view raw = f.raw(t);
  std::memcpy(dst.data(), raw.data(), raw.size());
}

// Matches every weight; copies only after all matched (all or nothing).
void apply_weights(const Model& model, const io::SafetensorsFile& f, std::set<std::string>& used) {
  const auto params = named_params(model);
  std::vector<const io::TensorInfo*> found;
  found.reserve(params.size());
  for (const auto& np : params) found.push_back(&expect_tensor(f, np.name, np.param->value.shape(), "weight", used));
  for (size_t i = 0; i < params.size(); ++i) copy_into(f, *found[i], params[i].param->value);
}

void check_all_used(const io::SafetensorsFile& f, const std::set<std::string>& used, bool ignore_optimizer,
                    bool ignore_states) {
  std::vector<std::string> extra;
  for (const auto& t : f.tensors()) {
    if (used.count(t.name)) continue;
    if (ignore_optimizer && t.name.rfind("optimizer/", 0) == 0) continue;
    if (ignore_states && t.name.rfind("states/", 0) == 0) continue;
    extra.push_back(t.name);
  }
  if (extra.empty()) return;
  std::string list;
  for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + std::string("'") + extra[i] + "'";
  if (extra.size() > 5) list += fmt::format(" and {} more", extra.size() - 5);
  throw IOError(fmt::format("{}: {} tensor(s) match no weight, state or optimizer slot of the model: {}", f.source(),
                            extra.size(), list));
}

}  // namespace

// ---------------------------------------------------------------- save

std::string save_model_to_bytes(const Model& model, bool include_optimizer, bool weights_only) {
  std::map<std::string, std::string> meta{{"format", "seqnet"},
                                          {"version", std::to_string(kModelFormatVersion)},
                                          {"content", weights_only ? "weights" : "model"}};
  std::vector<io::NamedTensor> tensors;
  const auto params = named_params(model);
  json order = json::array();
  for (const auto& np : params) {
    tensors.push_back({np.name, np.param->value});
    order.push_back(np.name);
  }
  // The tensors of a safetensors file are sorted by name; load_weights
  // matches layers by their order in the model (Keras's default), so the
  // order is kept here.
  meta["weight_order"] = order.dump();
  if (!weights_only) {
    meta["model_config"] = model_to_json(model);
    for (const auto& s : stateful_layers(model)) {
      const auto& states = s.layer->states();
      for (size_t k = 0; k < states.size(); ++k) {
        tensors.push_back({fmt::format("states/{}/{}", s.name, k), states[k]});
      }
    }
    if (include_optimizer && model.compiled()) {
      meta["training_config"] = training_config(model).dump();
      Optimizer& opt = model.optimizer();
      for (const auto& np : params) {
        opt.visit_state({np.param}, [&](const Param&, const std::string& slot, Tensor& t) {
          tensors.push_back({fmt::format("optimizer/{}/{}", np.name, slot), t});
        });
      }
      const json state{{"optimizer_iterations", std::to_string(opt.iterations())},
                       {"random_state", random_state_json(global_generator().state())}};
      meta["training_state"] = state.dump();
    }
  }
  return io::serialize_safetensors(tensors, meta);
}

void Model::save(const std::string& path, bool include_optimizer) const {
  write_file_atomic(path, save_model_to_bytes(*this, include_optimizer, false));
}

void Model::save_weights(const std::string& path) const {
  write_file_atomic(path, save_model_to_bytes(*this, false, true));
}

// ---------------------------------------------------------------- load

namespace {

// The weights of one layer, in its visit_params order.
struct LayerWeights {
  std::string layer;
  std::vector<std::string> names;  // "<layer>/<path>" (file) ...
  std::vector<Param*> params;      // ... or the model's weights
};

// Consecutive runs of one layer name ("<layer>/..."), in order.
void group_by_layer(const std::string& name, std::vector<LayerWeights>& out) {
  const std::string layer = name.substr(0, name.find('/'));
  if (out.empty() || out.back().layer != layer) out.push_back({layer, {}, {}});
  out.back().names.push_back(name);
}

std::string layer_list(const std::vector<LayerWeights>& ls) {
  std::string s;
  for (size_t i = 0; i < ls.size() && i < 12; ++i) s += (i ? ", " : "") + ls[i].layer;
  if (ls.size() > 12) s += fmt::format(" and {} more", ls.size() - 12);
  return s;
}

// The file's weight names in the order they were saved ("weight_order";
// files written before it was kept have none: empty).
std::vector<std::string> saved_weight_order(const io::SafetensorsFile& f) {
  const auto it = f.metadata().find("weight_order");
  if (it == f.metadata().end()) return {};
  const json order = io::parse_untrusted_json(it->second, f.source() + ": weight_order");
  std::vector<std::string> out;
  std::set<std::string> seen;
  if (!order.is_array()) throw IOError(fmt::format("{}: weight_order must be a list of tensor names", f.source()));
  for (const auto& n : order) {
    if (!n.is_string()) throw IOError(fmt::format("{}: weight_order must be a list of tensor names", f.source()));
    const std::string name = n.get<std::string>();
    const std::string shown = name.size() > 200 ? name.substr(0, 200) + "..." : name;
    if (f.find(name) == nullptr) {
      throw IOError(fmt::format("{}: weight '{}' is missing (weight_order names it)", f.source(), shown));
    }
    if (!seen.insert(name).second) throw IOError(fmt::format("{}: weight_order names '{}' twice", f.source(), shown));
    out.push_back(name);
  }
  for (const auto& t : f.tensors()) {
    if (t.name.rfind("optimizer/", 0) == 0 || t.name.rfind("states/", 0) == 0 || seen.count(t.name)) continue;
    throw IOError(fmt::format("{}: weight_order leaves out the weight '{}'", f.source(),
                              t.name.size() > 200 ? t.name.substr(0, 200) + "..." : t.name));
  }
  return out;
}

// Pairs the model's layers with weights with the file's, by position, and
// checks that each pair has the same number of weights of the same shapes.
// Returns the file tensor of every model weight, in named_params order.
std::vector<const io::TensorInfo*> match_by_order(const Model& model, const io::SafetensorsFile& f,
                                                  const std::vector<std::string>& order,
                                                  std::set<std::string>& used) {
  std::vector<LayerWeights> in_file, in_model;
  for (const auto& n : order) group_by_layer(n, in_file);
  for (const auto& np : named_params(model)) {
    group_by_layer(np.name, in_model);
    in_model.back().params.push_back(np.param);
  }
  if (in_file.size() != in_model.size()) {
    throw ValueError(fmt::format("{}: load_weights matches layers by order: the file has {} layer(s) with weights "
                                 "({}) but model \"{}\" has {} ({}); load by_name to match by layer name",
                                 f.source(), in_file.size(), layer_list(in_file), model.name(), in_model.size(),
                                 layer_list(in_model)));
  }
  std::vector<const io::TensorInfo*> found;
  for (size_t i = 0; i < in_file.size(); ++i) {
    const LayerWeights& a = in_file[i];
    const LayerWeights& b = in_model[i];
    if (a.names.size() != b.params.size()) {
      throw ValueError(fmt::format("{}: layer {} of the file ('{}') has {} weight(s) but layer {} of the model ('{}') "
                                   "has {}",
                                   f.source(), i, a.layer, a.names.size(), i, b.layer, b.params.size()));
    }
    for (size_t k = 0; k < a.names.size(); ++k) {
      const io::TensorInfo* t = f.find(a.names[k]);
      if (t->shape != b.params[k]->value.shape()) {
        throw ShapeError(fmt::format("{}: weight '{}' of the file has shape {} but its counterpart in the model, "
                                     "'{}/{}', needs {} (layer {}: '{}' in the file, '{}' in the model)",
                                     f.source(), a.names[k], shape_str(t->shape), b.layer, b.params[k]->name,
                                     shape_str(b.params[k]->value.shape()), i, a.layer, b.layer));
      }
      used.insert(a.names[k]);
      found.push_back(t);
    }
  }
  return found;
}

// Keras's by_name: a layer of the model takes the weights of the file's
// layer of the same name; layers only one side has are skipped. Returns the
// file tensor of every model weight (null where skipped), in named_params
// order. Throws ValueError when no layer matches.
std::vector<const io::TensorInfo*> match_by_name(const Model& model, const io::SafetensorsFile& f,
                                                 const LoadWeightsOptions& options, std::set<std::string>& used) {
  std::map<std::string, size_t> file_layers;  // layer -> number of weights
  for (const auto& t : f.tensors()) {
    if (t.name.rfind("optimizer/", 0) == 0 || t.name.rfind("states/", 0) == 0) continue;
    ++file_layers[t.name.substr(0, t.name.find('/'))];
  }
  std::vector<LayerWeights> in_model;
  const auto params = named_params(model);
  for (const auto& np : params) {
    group_by_layer(np.name, in_model);
    in_model.back().params.push_back(np.param);
  }
  std::vector<const io::TensorInfo*> found;
  size_t namesakes = 0;
  for (const LayerWeights& l : in_model) {
    const auto it = file_layers.find(l.layer);
    bool take = it != file_layers.end();
    if (take) ++namesakes;
    if (take && it->second != l.params.size()) {
      if (!options.skip_mismatch) {
        throw ValueError(fmt::format("{}: layer '{}' has {} weight(s) in the file but {} in the model (skip_mismatch "
                                     "skips such layers)",
                                     f.source(), l.layer, it->second, l.params.size()));
      }
      take = false;
    }
    for (size_t k = 0; take && k < l.names.size(); ++k) {
      const io::TensorInfo* t = f.find(l.names[k]);
      if (t == nullptr) throw IOError(fmt::format("{}: weight '{}' is missing", f.source(), l.names[k]));
      if (t->shape != l.params[k]->value.shape()) {
        if (options.skip_mismatch) {
          take = false;
          break;
        }
        throw ShapeError(fmt::format("{}: weight '{}' has shape {} in the file but the model needs {}", f.source(),
                                     l.names[k], shape_str(t->shape), shape_str(l.params[k]->value.shape())));
      }
    }
    for (size_t k = 0; k < l.names.size(); ++k) {
      const io::TensorInfo* t = take ? f.find(l.names[k]) : nullptr;
      if (t != nullptr) used.insert(l.names[k]);
      found.push_back(t);
    }
  }
  if (namesakes == 0 && !in_model.empty()) {
    std::vector<LayerWeights> names;
    for (const auto& [layer, n] : file_layers) names.push_back({layer, {}, {}});
    throw ValueError(fmt::format("{}: load_weights by_name: no layer of model \"{}\" ({}) has a namesake in the file "
                                 "({})",
                                 f.source(), model.name(), layer_list(in_model), layer_list(names)));
  }
  return found;
}

}  // namespace

void Model::load_weights(const std::string& path, const LoadWeightsOptions& options) {
  const auto f = io::SafetensorsFile::read(path);
  check_header(f);
  std::set<std::string> used;
  // Check everything before copying anything.
  const auto params = named_params(*this);
  const std::vector<std::string> order = options.by_name ? std::vector<std::string>{} : saved_weight_order(f);
  std::vector<const io::TensorInfo*> found;
  if (options.by_name) {
    found = match_by_name(*this, f, options, used);
  } else if (!order.empty()) {
    found = match_by_order(*this, f, order, used);
    check_all_used(f, used, true, true);
  } else {
    // A file that kept no order (written by seqnet before it did) is
    // matched by name, strictly, as it was then.
    for (const auto& np : params) {
      found.push_back(&expect_tensor(f, np.name, np.param->value.shape(), "weight", used));
    }
    check_all_used(f, used, true, true);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (found[i] != nullptr) copy_into(f, *found[i], params[i].param->value);
  }
}

std::unique_ptr<Model> load_model_from_bytes(std::string bytes, const std::string& source, const LoadOptions& options) {
  const auto f = io::SafetensorsFile::parse(std::move(bytes), source);
  const FileHeader h = check_header(f);
  if (h.content != "model") {
    throw IOError(fmt::format("{}: holds only weights (written by save_weights); build the model and call "
                              "load_weights",
                              source));
  }
  auto it = h.meta->find("model_config");
  if (it == h.meta->end()) throw IOError(fmt::format("{}: no model_config in __metadata__", source));
  // Rebuilding may allocate no more weight values than the file holds.
  int64_t budget = 0;
  for (const auto& t : f.tensors()) budget += t.numel();
  const json cfg = io::parse_untrusted_json(it->second, source + ": model_config");
  std::unique_ptr<Model> model;
  try {
    model = model_from_config(cfg, {.max_params = budget, .skip_initializers = true});
  } catch (const Error& e) {
    throw IOError(fmt::format("{}: model_config: {}", source, e.what()));
  }
  std::set<std::string> used;
  apply_weights(*model, f, used);

  // Stateful layers' states (absent when they had not run yet).
  for (const auto& s : stateful_layers(*model)) {
    std::vector<Tensor> states;
    for (int k = 0; k < s.layer->num_states(); ++k) {
      const std::string name = fmt::format("states/{}/{}", s.name, k);
      const io::TensorInfo* t = f.find(name);
      if (t == nullptr) break;
      used.insert(name);
      states.push_back(f.to_tensor(*t));
    }
    if (states.empty()) continue;
    try {
      s.layer->reset_states(states);
    } catch (const Error& e) {
      throw IOError(fmt::format("{}: states of '{}': {}", source, s.name, e.what()));
    }
  }

  const auto tc = h.meta->find("training_config");
  const bool has_training = tc != h.meta->end();
  if (has_training && options.compile) {
    const json tcj = io::parse_untrusted_json(tc->second, source + ": training_config");
    try {
      compile_from_training_config(*model, tcj);
    } catch (const Error& e) {
      throw IOError(fmt::format("{}: training_config: {} (load with compile = false to skip it)", source, e.what()));
    }
  }
  const auto ts = h.meta->find("training_state");
  json state;
  if (ts != h.meta->end()) state = io::parse_untrusted_json(ts->second, source + ": training_state");
  if (has_training && options.compile) {
    Optimizer& opt = model->optimizer();
    if (state.is_object() && state.contains("optimizer_iterations")) {
      const uint64_t n = parse_u64(state["optimizer_iterations"], source + ": optimizer_iterations");
      if (n > static_cast<uint64_t>(INT64_MAX)) throw IOError(fmt::format("{}: optimizer_iterations too large", source));
      opt.set_iterations(static_cast<int64_t>(n));
    }
    // Check every slot, then copy.
    std::vector<std::pair<const io::TensorInfo*, Tensor*>> slots;
    for (const auto& np : named_params(*model)) {
      opt.visit_state({np.param}, [&](const Param&, const std::string& slot, Tensor& t) {
        const std::string name = fmt::format("optimizer/{}/{}", np.name, slot);
        slots.emplace_back(&expect_tensor(f, name, t.shape(), "optimizer slot", used), &t);
      });
    }
    for (auto& [info, t] : slots) copy_into(f, *info, *t);
  }
  check_all_used(f, used, !(has_training && options.compile), false);
  if (options.restore_random_state && state.is_object() && state.contains("random_state")) {
    global_generator().set_state(parse_random_state(state["random_state"], source + ": training_state"));
  }
  return model;
}

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options) {
  return load_model_from_bytes(read_file(path, options.max_file_bytes), path, options);
}

}  // namespace seqnet
