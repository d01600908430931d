#include "io/weight_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::io {

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

std::vector<ModelLayer> model_weight_layers(const Model& model) {
  std::vector<ModelLayer> out;
  for (const auto& np : named_params(model)) {
    const std::string layer = np.name.substr(0, np.name.find('/'));
    if (out.empty() || out.back().layer != layer) out.push_back({layer, {}, {}});
    out.back().names.push_back(np.name);
    out.back().params.push_back(np.param);
  }
  return out;
}

namespace {

template <class L>
std::string layer_list(const std::vector<L>& ls) {
  std::string s;
  for (size_t i = 0; i < ls.size() && i < 12; ++i) s += (i ? ", " : "") + ls[i].layer;
  if (ls.size() > 12) s += fmt::format(" and {} more", ls.size() - 12);
  return s;
}

std::string shown(const std::string& name) { return name.size() > 200 ? printable(name.substr(0, 200)) + "..." : printable(name); }

}  // namespace

std::vector<const FileWeight*> match_by_order(const std::vector<ModelLayer>& model, const std::string& model_name,
                                              const std::vector<FileLayer>& file, const std::string& source) {
  if (file.size() != model.size()) {
    throw ValueError(fmt::format("{}: load_weights matches layers by order: the file has {} layer(s) with weights "
                                 "({}) but model \"{}\" has {} ({}); load by_name to match by layer name",
                                 source, file.size(), layer_list(file), model_name, model.size(), layer_list(model)));
  }
  std::vector<const FileWeight*> found;
  for (size_t i = 0; i < file.size(); ++i) {
    const FileLayer& a = file[i];
    const ModelLayer& b = model[i];
    if (a.weights.size() != b.params.size()) {
      throw ValueError(fmt::format("{}: layer {} of the file ('{}') has {} weight(s) but layer {} of the model ('{}') "
                                   "has {}",
                                   source, i, shown(a.layer), a.weights.size(), i, b.layer, b.params.size()));
    }
    for (size_t k = 0; k < a.weights.size(); ++k) {
      const FileWeight& w = a.weights[k];
      if (w.shape != b.params[k]->value.shape()) {
        throw ShapeError(fmt::format("{}: weight '{}' of the file has shape {} but its counterpart in the model, "
                                     "'{}', needs {} (layer {}: '{}' in the file, '{}' in the model)",
                                     source, shown(w.name), shape_str(w.shape), b.names[k],
                                     shape_str(b.params[k]->value.shape()), i, shown(a.layer), b.layer));
      }
      found.push_back(&w);
    }
  }
  return found;
}

std::vector<const FileWeight*> match_by_name(const std::vector<ModelLayer>& model, const std::string& model_name,
                                             const std::vector<FileLayer>& file, const std::string& source,
                                             bool skip_mismatch) {
  std::map<std::string, const FileLayer*> by_name;
  for (const auto& l : file) by_name.emplace(l.layer, &l);
  std::vector<const FileWeight*> found;
  size_t namesakes = 0;
  for (const ModelLayer& l : model) {
    const auto it = by_name.find(l.layer);
    const FileLayer* f = it == by_name.end() ? nullptr : it->second;
    if (f != nullptr) ++namesakes;
    bool take = f != nullptr;
    if (take && f->weights.size() != l.params.size()) {
      if (!skip_mismatch) {
        throw ValueError(fmt::format("{}: layer '{}' has {} weight(s) in the file but {} in the model (skip_mismatch "
                                     "skips such layers)",
                                     source, l.layer, f->weights.size(), l.params.size()));
      }
      take = false;
    }
    for (size_t k = 0; take && k < l.params.size(); ++k) {
      const FileWeight& w = f->weights[k];
      if (w.shape == l.params[k]->value.shape()) continue;
      if (skip_mismatch) {
        take = false;
        break;
      }
      throw ShapeError(fmt::format("{}: weight '{}' has shape {} in the file but the model needs {}", source,
                                   shown(w.name), shape_str(w.shape), shape_str(l.params[k]->value.shape())));
    }
    for (size_t k = 0; k < l.params.size(); ++k) found.push_back(take ? &f->weights[k] : nullptr);
  }
  if (namesakes == 0 && !model.empty()) {
    std::vector<FileLayer> sorted(file.size());
    std::transform(file.begin(), file.end(), sorted.begin(), [](const FileLayer& l) { return FileLayer{l.layer, {}}; });
    std::sort(sorted.begin(), sorted.end(), [](const FileLayer& a, const FileLayer& b) { return a.layer < b.layer; });
    throw ValueError(fmt::format("{}: load_weights by_name: no layer of model \"{}\" ({}) has a namesake in the file "
                                 "({})",
                                 source, model_name, layer_list(model), layer_list(sorted)));
  }
  return found;
}

std::vector<const FileWeight*> match_all_by_name(const std::vector<ModelLayer>& model,
                                                 const std::vector<FileLayer>& file, const std::string& source) {
  std::map<std::string, const FileLayer*> by_name;
  for (const auto& l : file) {
    if (!by_name.emplace(l.layer, &l).second) {
      throw IOError(fmt::format("{}: the weights of layer '{}' appear twice", source, shown(l.layer)));
    }
  }
  std::vector<const FileWeight*> found;
  for (const ModelLayer& l : model) {
    const auto it = by_name.find(l.layer);
    if (it == by_name.end()) {
      throw IOError(fmt::format("{}: the weights of layer '{}' are missing ({} weight(s): {})", source, l.layer,
                                l.names.size(), l.names.front()));
    }
    const FileLayer& f = *it->second;
    if (f.weights.size() != l.params.size()) {
      throw IOError(fmt::format("{}: layer '{}' has {} weight(s) in the file but the model needs {}", source, l.layer,
                                f.weights.size(), l.params.size()));
    }
    for (size_t k = 0; k < l.params.size(); ++k) {
      const FileWeight& w = f.weights[k];
      if (w.shape != l.params[k]->value.shape()) {
        throw ShapeError(fmt::format("{}: weight '{}' has shape {} in the file but the model's '{}' needs {}", source,
                                     shown(w.name), shape_str(w.shape), l.names[k],
                                     shape_str(l.params[k]->value.shape())));
      }
      found.push_back(&w);
    }
    by_name.erase(it);
  }
  if (!by_name.empty()) {
    std::vector<FileLayer> extra;
    for (const auto& [name, l] : by_name) extra.push_back({name, {}});
    throw IOError(fmt::format("{}: {} layer(s) with weights in the file match no layer of the model: {}", source,
                              extra.size(), layer_list(extra)));
  }
  return found;
}

void copy_matched(const std::vector<ModelLayer>& model, const std::vector<const FileWeight*>& found) {
  // Everything is read before anything is assigned: a read that fails
  // leaves the model as it was.
  std::vector<std::pair<Param*, Tensor>> values;
  size_t i = 0;
  for (const ModelLayer& l : model) {
    for (Param* p : l.params) {
      if (found[i] != nullptr) {
        Tensor t(p->value.shape());
        found[i]->read(t);
        values.emplace_back(p, std::move(t));
      }
      ++i;
    }
  }
  for (auto& [p, t] : values) p->value = std::move(t);
}

}  // namespace seqnet::io
