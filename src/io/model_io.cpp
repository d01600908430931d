// Model::save / load_model / save_weights / load_weights.

#include "seqnet/io/model_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/config.hpp"
#include "seqnet/io/json.hpp"
#include "seqnet/io/safetensors.hpp"
#include "seqnet/io/keras.hpp"
#include "io/keras_internal.hpp"
#include "io/weight_matching.hpp"
#include "seqnet/random.hpp"

namespace seqnet {

namespace {

using json = nlohmann::json;

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
  const auto params = io::named_params(model);
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

// The kept states of the model's stateful layers that the file holds
// (absent for layers that had not run yet), recorded as used.
std::vector<std::pair<NamedStateful, std::vector<Tensor>>> saved_states(const Model& model,
                                                                         const io::SafetensorsFile& f,
                                                                         std::set<std::string>& used) {
  std::vector<std::pair<NamedStateful, std::vector<Tensor>>> out;
  for (const auto& s : stateful_layers(model)) {
    std::vector<Tensor> states;
    for (int k = 0; k < s.layer->num_states(); ++k) {
      const std::string name = fmt::format("states/{}/{}", s.name, k);
      const io::TensorInfo* t = f.find(name);
      if (t == nullptr) break;
      used.insert(name);
      states.push_back(f.to_tensor(*t));
    }
    if (!states.empty()) out.emplace_back(s, std::move(states));
  }
  return out;
}

void apply_states(std::vector<std::pair<NamedStateful, std::vector<Tensor>>>& states, const std::string& source) {
  for (auto& [s, st] : states) {
    try {
      s.layer->reset_states(st);
    } catch (const Error& e) {
      throw IOError(fmt::format("{}: states of '{}': {}", source, s.name, e.what()));
    }
  }
}

// The optimizer's iteration count in a training_state.
int64_t saved_iterations(const json& state, const std::string& source) {
  const uint64_t n = parse_u64(state["optimizer_iterations"], source + ": optimizer_iterations");
  if (n > static_cast<uint64_t>(INT64_MAX)) throw IOError(fmt::format("{}: optimizer_iterations too large", source));
  return static_cast<int64_t>(n);
}

// Matches every optimizer slot of the model with the file's tensor (creating
// the slots of a fresh optimizer), to be copied by the caller.
void match_slots(Model& model, const io::SafetensorsFile& f, std::set<std::string>& used,
                 std::vector<std::pair<const io::TensorInfo*, Tensor*>>& copies) {
  Optimizer& opt = model.optimizer();
  for (const auto& np : io::named_params(model)) {
    opt.visit_state({np.param}, [&](const Param&, const std::string& slot, Tensor& t) {
      const std::string name = fmt::format("optimizer/{}/{}", np.name, slot);
      copies.emplace_back(&expect_tensor(f, name, t.shape(), "optimizer slot", used), &t);
    });
  }
}

}  // namespace

// ---------------------------------------------------------------- save

std::string save_model_to_bytes(const Model& model, bool include_optimizer, bool weights_only) {
  std::map<std::string, std::string> meta{{"format", "seqnet"},
                                          {"version", std::to_string(kModelFormatVersion)},
                                          {"content", weights_only ? "weights" : "model"}};
  std::vector<io::NamedTensor> tensors;
  const auto params = io::named_params(model);
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

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string save_model_bytes(const Model& model, std::string_view format, bool include_optimizer) {
  if (format == "keras") return io::keras_archive_bytes(model, include_optimizer);
  if (format == "h5") return io::keras_h5_bytes(model, include_optimizer, false);
  if (format == "safetensors") return save_model_to_bytes(model, include_optimizer, false);
  throw ValueError(fmt::format("save: unknown format '{}'; expected safetensors, keras or h5", format));
}

void Model::save(const std::string& path, bool include_optimizer) const {
  const char* format = ends_with(path, ".keras")                            ? "keras"
                       : ends_with(path, ".h5") || ends_with(path, ".hdf5") ? "h5"
                                                                            : "safetensors";
  write_file_atomic(path, save_model_bytes(*this, format, include_optimizer));
}

void Model::save_weights(const std::string& path) const {
  if (ends_with(path, ".weights.h5")) {
    write_file_atomic(path, io::keras3_weights_file_bytes(*this));
  } else if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
    write_file_atomic(path, io::keras_h5_bytes(*this, false, true));
  } else {
    write_file_atomic(path, save_model_to_bytes(*this, false, true));
  }
}

// ---------------------------------------------------------------- load

namespace {

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

// The file's weights grouped by layer ("<layer>/..." runs), in `order`.
std::vector<io::FileLayer> file_layers(const io::SafetensorsFile& f, const std::vector<std::string>& order) {
  std::vector<io::FileLayer> out;
  for (const auto& n : order) {
    const std::string layer = n.substr(0, n.find('/'));
    if (out.empty() || out.back().layer != layer) out.push_back({layer, {}});
    const io::TensorInfo* t = f.find(n);
    out.back().weights.push_back({n, t->shape, [&f, t](Tensor& dst) { copy_into(f, *t, dst); }});
  }
  return out;
}

}  // namespace

void Model::load_weights(const std::string& path, const LoadWeightsOptions& options) {
  std::string bytes = read_file(path);
  if (io::detect_model_file_format(bytes) == io::ModelFileFormat::KerasHdf5) {
    io::load_keras_weights(*this, std::move(bytes), path, options);
    return;
  }
  const auto f = io::SafetensorsFile::parse(std::move(bytes), path);
  check_header(f);
  // Check everything before copying anything.
  const auto layers = io::model_weight_layers(*this);
  std::vector<std::string> order = options.by_name ? std::vector<std::string>{} : saved_weight_order(f);
  std::vector<io::FileLayer> in_file;
  std::vector<const io::FileWeight*> found;
  if (options.by_name) {
    order = saved_weight_order(f);
    if (order.empty()) {
      // No saved order: the file's names, each layer's in the order of the
      // model's namesake weights where it has them.
      std::map<std::string, size_t> rank;
      for (const auto& np : io::named_params(*this)) rank.emplace(np.name, rank.size());
      for (const auto& t : f.tensors()) {
        if (t.name.rfind("optimizer/", 0) != 0 && t.name.rfind("states/", 0) != 0) order.push_back(t.name);
      }
      auto key = [&](const std::string& n) {
        const auto it = rank.find(n);
        return std::make_pair(n.substr(0, n.find('/')), it == rank.end() ? rank.size() : it->second);
      };
      std::stable_sort(order.begin(), order.end(),
                       [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
    }
    in_file = file_layers(f, order);
    found = io::match_by_name(layers, name(), in_file, path, options.skip_mismatch);
  } else if (!order.empty()) {
    in_file = file_layers(f, order);
    found = io::match_by_order(layers, name(), in_file, path);
  } else {
    // A file that kept no order (written by seqnet before it did) is
    // matched by name, strictly, as it was then.
    std::set<std::string> used;
    for (const auto& np : io::named_params(*this)) {
      const io::TensorInfo& t = expect_tensor(f, np.name, np.param->value.shape(), "weight", used);
      in_file.push_back({np.name, {{np.name, t.shape, [&f, &t](Tensor& dst) { copy_into(f, t, dst); }}}});
    }
    check_all_used(f, used, true, true);
    for (const auto& l : in_file) found.push_back(&l.weights[0]);
  }
  io::copy_matched(layers, found);
}

std::unique_ptr<Model> load_model_from_bytes(std::string bytes, const std::string& source, const LoadOptions& options) {
  switch (io::detect_model_file_format(bytes)) {
    case io::ModelFileFormat::KerasHdf5:
      return io::load_keras_hdf5_model(std::move(bytes), source, options);
    case io::ModelFileFormat::KerasArchive:
      return io::load_keras_archive(std::move(bytes), source, options);
    case io::ModelFileFormat::TfjsJson:
      return io::load_tfjs_model(std::move(bytes), source, options);
    default:
      break;
  }
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
  auto states = saved_states(*model, f, used);
  apply_states(states, source);

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
    if (state.is_object() && state.contains("optimizer_iterations")) {
      model->optimizer().set_iterations(saved_iterations(state, source));
    }
    // Check every slot, then copy.
    std::vector<std::pair<const io::TensorInfo*, Tensor*>> slots;
    match_slots(*model, f, used, slots);
    for (auto& [info, t] : slots) copy_into(f, *info, *t);
  }
  check_all_used(f, used, !(has_training && options.compile), false);
  if (options.restore_random_state && state.is_object() && state.contains("random_state")) {
    global_generator().set_state(parse_random_state(state["random_state"], source + ": training_state"));
  }
  return model;
}

void load_training_state(Model& model, const std::string& path, const LoadOptions& options) {
  const auto f = io::SafetensorsFile::parse(read_file(path, options.max_file_bytes), path);
  const FileHeader h = check_header(f);
  if (h.content != "model") {
    throw IOError(fmt::format("{}: holds only weights (written by save_weights); load_training_state needs a file "
                              "written by Model::save",
                              path));
  }
  std::set<std::string> used;
  // Everything is matched and checked before anything is copied.
  std::vector<std::pair<const io::TensorInfo*, Tensor*>> copies;
  for (const auto& np : io::named_params(model)) {
    copies.emplace_back(&expect_tensor(f, np.name, np.param->value.shape(), "weight", used), &np.param->value);
  }
  auto states = saved_states(model, f, used);
  const bool restore_optimizer = options.compile && model.compiled();
  const auto ts = h.meta->find("training_state");
  json state;
  if (ts != h.meta->end()) state = io::parse_untrusted_json(ts->second, path + ": training_state");
  std::optional<int64_t> iterations;
  std::optional<float> learning_rate;
  if (restore_optimizer) {
    const auto tc = h.meta->find("training_config");
    if (tc == h.meta->end() || !state.is_object() || !state.contains("optimizer_iterations")) {
      throw IOError(fmt::format("{}: holds no optimizer state (saved from an uncompiled model or with "
                                "include_optimizer = false); load it with compile = false to set the weights only",
                                path));
    }
    const json tcj = io::parse_untrusted_json(tc->second, path + ": training_config");
    const json* oc = tcj.is_object() && tcj.contains("optimizer_config") ? &tcj["optimizer_config"] : nullptr;
    const std::string mine = model.optimizer().name();
    if (oc == nullptr || !oc->is_object() || !oc->contains("class_name") || !(*oc)["class_name"].is_string() ||
        (*oc)["class_name"].get<std::string>() != mine) {
      const std::string theirs = oc && oc->is_object() && oc->contains("class_name") && (*oc)["class_name"].is_string()
                                     ? (*oc)["class_name"].get<std::string>()
                                     : std::string("none");
      throw IOError(fmt::format("{}: its optimizer is {} but the model is compiled with {}", path,
                                printable(theirs.substr(0, 40)), mine));
    }
    if (oc->contains("config") && (*oc)["config"].is_object() && (*oc)["config"].contains("learning_rate")) {
      const json& lr = (*oc)["config"]["learning_rate"];
      if (lr.is_number() && std::isfinite(lr.get<double>()) && lr.get<double>() > 0) {
        learning_rate = static_cast<float>(lr.get<double>());
      }
    }
    iterations = saved_iterations(state, path);
    match_slots(model, f, used, copies);
  }
  check_all_used(f, used, !restore_optimizer, false);
  std::optional<GeneratorState> random;
  if (options.restore_random_state && state.is_object() && state.contains("random_state")) {
    random = parse_random_state(state["random_state"], path + ": training_state");
  }
  apply_states(states, path);
  for (auto& [info, t] : copies) copy_into(f, *info, *t);
  if (iterations) model.optimizer().set_iterations(*iterations);
  if (learning_rate) model.optimizer().set_learning_rate(*learning_rate);
  if (random) global_generator().set_state(*random);
}

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options) {
  return load_model_from_bytes(read_file(path, options.max_file_bytes), path, options);
}

}  // namespace seqnet
