// Model::save / load_model / save_weights / load_weights.

#include "seqnet/io/model_io.hpp"

#include <fmt/format.h>

#include <cstring>
#include <set>

#include "seqnet/error.hpp"
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
      throw IOError(fmt::format("{}: tensor '{}' has dtype {}; seqnet model files hold F32", f.source(), t.name,
                                io::dtype_name(t.dtype)));
    }
  }
  return {content, &meta};
}

// Finds tensor `name`, checks its shape, and records it as used.
const io::TensorInfo& expect_tensor(const io::SafetensorsFile& f, const std::string& name, const Shape& shape,
                                    const char* what, std::set<std::string>& used) {
  const io::TensorInfo* t = f.find(name);
  if (t == nullptr) throw IOError(fmt::format("{}: {} '{}' is missing", f.source(), what, name));
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
  for (const auto& np : params) tensors.push_back({np.name, np.param->value});
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

void Model::load_weights(const std::string& path) {
  const auto f = io::SafetensorsFile::read(path);
  check_header(f);
  std::set<std::string> used;
  // Check everything before copying anything.
  const auto params = named_params(*this);
  std::vector<const io::TensorInfo*> found;
  for (const auto& np : params) found.push_back(&expect_tensor(f, np.name, np.param->value.shape(), "weight", used));
  check_all_used(f, used, true, true);
  for (size_t i = 0; i < params.size(); ++i) copy_into(f, *found[i], params[i].param->value);
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
  return load_model_from_bytes(read_file(path), path, options);
}

}  // namespace seqnet
