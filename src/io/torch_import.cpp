#include "seqnet/io/torch_import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "seqnet/data/npy.hpp"
#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "seqnet/io/safetensors.hpp"

namespace seqnet::io {

namespace {

struct Pending {
  Param* dst;
  Tensor value;
};

std::string join_key(const std::string& module, const std::string& name) {
  return module.empty() ? name : module + "." + name;
}

Param* find_param(Layer& l, const std::string& path) {
  Param* out = nullptr;
  l.visit_params([&](const std::string& p, Param& param) {
    if (p == path) out = &param;
  });
  return out;
}

class Importer {
 public:
  explicit Importer(const StateDict& sd) {
    for (const auto& [k, t] : sd) {
      if (!keys_.emplace(k, &t).second) throw ValueError(fmt::format("import-torch: key '{}' appears twice", k));
    }
  }

  bool has(const std::string& key) const { return keys_.count(key) != 0; }

  // The tensor under `key`, checked against `shape`; `why` explains the
  // expected shape.
  const Tensor& take(const std::string& key, const Shape& shape, const std::string& who, const std::string& why) {
    auto it = keys_.find(key);
    if (it == keys_.end()) {
      std::string near;
      const std::string prefix = key.substr(0, key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
      int shown = 0;
      for (const auto& [k, t] : keys_) {
        if (!prefix.empty() && k.rfind(prefix, 0) != 0) continue;
        if (shown++ < 8) near += (near.empty() ? "" : ", ") + k;
      }
      throw ValueError(fmt::format("import-torch: the state dict has no key '{}' (needed for {}){}", key, who,
                                   near.empty() ? "" : "; keys there: " + near));
    }
    const Tensor& t = *it->second;
    if (t.shape() != shape) {
      throw ShapeError(fmt::format("import-torch: '{}' has shape {} but {} needs {} ({})", key, shape_str(t.shape()),
                                   who, shape_str(shape), why));
    }
    if (!used_.insert(key).second) {
      throw ValueError(fmt::format("import-torch: key '{}' is mapped twice", key));
    }
    return t;
  }

  void recurrent(layers::Recurrent& r, const std::string& module, int k, const std::string& suffix,
                 std::vector<Pending>& out, std::vector<std::string>& report) {
    const std::string& cls = r.class_name();
    const int64_t H = r.units(), G = r.gates(), I = r.kernel().value.dim(0);
    const std::string who = r.describe();
    const char* torch_cls = cls == "LSTM" ? "nn.LSTM" : cls == "GRU" ? "nn.GRU" : "nn.RNN";
    if (cls != "LSTM" && cls != "GRU" && cls != "SimpleRNN") {
      throw ValueError(fmt::format("import-torch: {} is not an LSTM, GRU or SimpleRNN", who));
    }
    const std::string sfx = fmt::format("_l{}{}", k, suffix);
    if (has(join_key(module, "weight_hr" + sfx))) {
      throw ValueError(fmt::format("import-torch: '{}' belongs to an {} with proj_size > 0, which seqnet does not "
                                   "have",
                                   join_key(module, "weight_hr" + sfx), torch_cls));
    }
    if (cls == "GRU" && r.bias() != nullptr && !static_cast<const layers::GRU&>(r).reset_after()) {
      throw ValueError(fmt::format("import-torch: {} must be built with reset_after = true to take nn.GRU weights "
                                   "(PyTorch applies the reset gate after the recurrent product)",
                                   who));
    }
    const std::string why = fmt::format("{} with hidden_size {} and input_size {}: ({}*hidden, input)", torch_cls, H,
                                        I, G);
    const Tensor& wih = take(join_key(module, "weight_ih" + sfx), {G * H, I}, who, why);
    const Tensor& whh = take(join_key(module, "weight_hh" + sfx), {G * H, H}, who,
                             fmt::format("{}*hidden, hidden", G));
    const bool torch_bias = has(join_key(module, "bias_ih" + sfx)) || has(join_key(module, "bias_hh" + sfx));
    if (torch_bias && r.bias() == nullptr) {
      throw ValueError(fmt::format("import-torch: '{}' has biases but {} has use_bias = false", module, who));
    }
    if (!torch_bias && r.bias() != nullptr) {
      throw ValueError(fmt::format("import-torch: '{}' has no biases ({}(bias=False)); build {} with use_bias = "
                                   "false",
                                   join_key(module, "bias_ih" + sfx), torch_cls, who));
    }
    // Keras gate block j comes from PyTorch gate block perm[j].
    const int perm_gru[3] = {1, 0, 2};
    auto src_block = [&](int64_t j) { return cls == "GRU" ? perm_gru[j] : j; };
    Tensor kernel({I, G * H}), rec({H, G * H});
    for (int64_t j = 0; j < G; ++j) {
      const int64_t sb = src_block(j);
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t i = 0; i < I; ++i) kernel.at(i, j * H + h) = wih.at(sb * H + h, i);
        for (int64_t i = 0; i < H; ++i) rec.at(i, j * H + h) = whh.at(sb * H + h, i);
      }
    }
    out.push_back({&r.kernel(), kernel});
    out.push_back({&r.recurrent_kernel(), rec});
    const std::string dst = r.name();
    report.push_back(fmt::format("{} -> {}/kernel (transposed{})", join_key(module, "weight_ih" + sfx), dst,
                                 cls == "GRU" ? ", gates r,z,n -> z,r,h" : ""));
    report.push_back(fmt::format("{} -> {}/recurrent_kernel (transposed{})", join_key(module, "weight_hh" + sfx), dst,
                                 cls == "GRU" ? ", gates r,z,n -> z,r,h" : ""));
    if (!torch_bias) return;
    const Tensor& bih = take(join_key(module, "bias_ih" + sfx), {G * H}, who, "(gates*hidden,)");
    const Tensor& bhh = take(join_key(module, "bias_hh" + sfx), {G * H}, who, "(gates*hidden,)");
    Param* b = r.bias();
    Tensor bias(b->value.shape());
    if (cls == "GRU") {
      for (int64_t j = 0; j < G; ++j)
        for (int64_t h = 0; h < H; ++h) {
          bias[j * H + h] = bih[src_block(j) * H + h];
          bias[G * H + j * H + h] = bhh[src_block(j) * H + h];
        }
      report.push_back(fmt::format("{} + {} -> {}/bias (rows: input, recurrent)", join_key(module, "bias_ih" + sfx),
                                   join_key(module, "bias_hh" + sfx), dst));
    } else {
      for (int64_t i = 0; i < G * H; ++i) bias[i] = bih[i] + bhh[i];
      report.push_back(fmt::format("{} + {} -> {}/bias (summed)", join_key(module, "bias_ih" + sfx),
                                   join_key(module, "bias_hh" + sfx), dst));
    }
    out.push_back({b, bias});
  }

  void linear(Layer& dense, const std::string& name, const std::string& module, std::vector<Pending>& out,
              std::vector<std::string>& report) {
    Param* kernel = find_param(dense, "kernel");
    Param* bias = find_param(dense, "bias");
    const int64_t I = kernel->value.dim(0), U = kernel->value.dim(1);
    const std::string who = dense.describe();
    const Tensor& w = take(join_key(module, "weight"), {U, I}, who,
                           fmt::format("nn.Linear({}, {}) weight: (out_features, in_features)", I, U));
    Tensor k({I, U});
    for (int64_t i = 0; i < I; ++i)
      for (int64_t u = 0; u < U; ++u) k.at(i, u) = w.at(u, i);
    out.push_back({kernel, k});
    report.push_back(fmt::format("{} -> {}/kernel (transposed)", join_key(module, "weight"), name));
    const bool torch_bias = has(join_key(module, "bias"));
    if (torch_bias != (bias != nullptr)) {
      throw ValueError(fmt::format("import-torch: '{}' {} a bias but {} {}", module, torch_bias ? "has" : "has no",
                                   who, bias != nullptr ? "has one" : "has use_bias = false"));
    }
    if (bias != nullptr) {
      out.push_back({bias, take(join_key(module, "bias"), {U}, who, "(out_features,)").clone()});
      report.push_back(fmt::format("{} -> {}/bias", join_key(module, "bias"), name));
    }
  }

  void embedding(layers::Embedding& e, const std::string& module, std::vector<Pending>& out,
                 std::vector<std::string>& report) {
    Param* p = find_param(e, "embeddings");
    const Tensor& w = take(join_key(module, "weight"), p->value.shape(), e.describe(),
                           "nn.Embedding weight: (num_embeddings, embedding_dim)");
    out.push_back({p, w.clone()});
    report.push_back(fmt::format("{} -> {}/embeddings", join_key(module, "weight"), e.name()));
  }

  const std::set<std::string>& used() const { return used_; }
  const std::map<std::string, const Tensor*>& keys() const { return keys_; }

 private:
  std::map<std::string, const Tensor*> keys_;
  std::set<std::string> used_;
};

}  // namespace

StateDict load_state_dict(const std::string& path, int64_t max_bytes) {
  std::string bytes = read_file(path, max_bytes);
  StateDict out;
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == 'K') {
    data::NpzLimits limits;
    if (max_bytes >= 0) limits.max_total_bytes = std::min<uint64_t>(limits.max_total_bytes, max_bytes);
    for (auto& [k, t] : data::parse_npz(bytes, path, limits)) out.emplace_back(k, t);
    return out;
  }
  const auto f = SafetensorsFile::parse(std::move(bytes), path);
  for (const auto& info : f.tensors()) out.emplace_back(info.name, f.to_tensor(info));
  return out;
}

int64_t state_dict_byte_limit(const Model& model) {
  int64_t values = 0, weights = 0;
  for (const auto& l : model.unique_layers()) {
    for (const Param* p : l->params()) {
      values += p->value.size();
      ++weights;
    }
  }
  return 8 * values + 1024 * weights + (int64_t{16} << 20);
}

void check_torch_mapping(const Model& model, const std::vector<TorchMapping>& mapping) {
  std::set<const Layer*> mapped;
  for (const auto& m : mapping) {
    LayerRef ref = model.get_layer(m.layer);
    Layer& l = *ref;
    if (!mapped.insert(&l).second) {
      throw ValueError(fmt::format("import-torch: layer '{}' is mapped twice", m.layer));
    }
    if (l.params().empty()) {
      throw ValueError(fmt::format("import-torch: {} has no weights (is the model built?)", l.describe()));
    }
    if (m.torch_layer < 0) {
      throw ValueError(fmt::format("import-torch: mapping of '{}': torch layer index {} is negative", m.layer,
                                   m.torch_layer));
    }
  }
}

TorchMapping parse_torch_mapping(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq + 1 >= spec.size()) {
    throw ValueError(fmt::format("import-torch: mapping '{}' must look like module[:layer_index]=seqnet_layer", spec));
  }
  TorchMapping m;
  m.layer = std::string(spec.substr(eq + 1));
  std::string_view left = spec.substr(0, eq);
  const auto colon = left.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view k = left.substr(colon + 1);
    if (k.empty() || k.size() > 4 || k.find_first_not_of("0123456789") != std::string_view::npos) {
      throw ValueError(fmt::format("import-torch: mapping '{}': '{}' is not a layer index", spec, k));
    }
    m.torch_layer = std::stoi(std::string(k));
    left = left.substr(0, colon);
  }
  m.module = std::string(left);
  return m;
}

std::vector<std::string> import_torch_state_dict(Model& model, const StateDict& state_dict,
                                                 const std::vector<TorchMapping>& mapping,
                                                 const TorchImportOptions& options) {
  check_torch_mapping(model, mapping);
  Importer imp(state_dict);
  std::vector<Pending> pending;
  std::vector<std::string> report;
  std::set<const Layer*> mapped;
  for (const auto& m : mapping) {
    LayerRef ref = model.get_layer(m.layer);
    Layer& l = *ref;
    mapped.insert(&l);
    // Wrappers are walked through their sublayers: two recurrent sublayers
    // are the directions of one bidirectional nn.LSTM / nn.GRU / nn.RNN
    // (the second takes the "_reverse" weights); one sublayer is applied per
    // step (TimeDistributed) and takes the module's weights itself.
    std::vector<Layer*> subs;
    l.visit_sublayers([&](const std::string&, Layer& sub) { subs.push_back(&sub); });
    auto* rnn = dynamic_cast<layers::Recurrent*>(&l);
    const bool two_directions = subs.size() == 2 && dynamic_cast<layers::Recurrent*>(subs[0]) != nullptr &&
                                dynamic_cast<layers::Recurrent*>(subs[1]) != nullptr;
    if (rnn != nullptr) {
      imp.recurrent(*rnn, m.module, m.torch_layer, "", pending, report);
    } else if (two_directions) {
      imp.recurrent(static_cast<layers::Recurrent&>(*subs[0]), m.module, m.torch_layer, "", pending, report);
      imp.recurrent(static_cast<layers::Recurrent&>(*subs[1]), m.module, m.torch_layer, "_reverse", pending, report);
    } else {
      if (m.torch_layer != 0) {
        throw ValueError(fmt::format("import-torch: {} takes a single-layer module; drop ':{}' from the mapping",
                                     l.describe(), m.torch_layer));
      }
      Layer& target = subs.size() == 1 ? *subs[0] : l;
      if (auto* e = dynamic_cast<layers::Embedding*>(&target); e != nullptr && subs.empty()) {
        imp.embedding(*e, m.module, pending, report);
      } else if (dynamic_cast<layers::Dense*>(&target) != nullptr) {
        imp.linear(target, l.name(), m.module, pending, report);
      } else {
        throw ValueError(fmt::format("import-torch: {} has no PyTorch counterpart; mappable layers are LSTM, GRU, "
                                     "SimpleRNN, Bidirectional, Dense, TimeDistributed(Dense) and Embedding",
                                     l.describe()));
      }
    }
  }
  std::set<std::string> ignore(options.ignore.begin(), options.ignore.end());
  std::vector<std::string> unused;
  for (const auto& [k, t] : imp.keys()) {
    if (!imp.used().count(k) && !ignore.count(k)) unused.push_back(k);
  }
  if (!unused.empty()) {
    std::string list;
    for (size_t i = 0; i < unused.size() && i < 8; ++i) list += (i ? ", " : "") + std::string("'") + unused[i] + "'";
    if (unused.size() > 8) list += fmt::format(" and {} more", unused.size() - 8);
    throw ValueError(fmt::format("import-torch: {} state-dict key(s) are not mapped to any seqnet layer: {} (map "
                                 "their module, or ignore them)",
                                 unused.size(), list));
  }
  if (!options.allow_unmapped_layers) {
    for (const auto& l : model.unique_layers()) {
      if (!l->params().empty() && !mapped.count(l.get())) {
        throw ValueError(fmt::format("import-torch: {} has weights but no mapping (map it, or allow unmapped "
                                     "layers)",
                                     l->describe()));
      }
    }
  }
  for (auto& p : pending) p.dst->value.copy_from(p.value);
  if (options.initialize_unmapped_layers) {
    for (const auto& l : model.unique_layers()) {
      if (!mapped.count(l.get())) l->initialize_weights();
    }
  }
  return report;
}

}  // namespace seqnet::io
