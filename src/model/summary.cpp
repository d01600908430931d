// Model::summary(): Keras's table, in the layout the tutorials print
// (Keras 2.3/2.4): 65 columns and three fields for sequential-like models,
// 98 columns with "Connected to" for other functional models.

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "model/model_impl.hpp"
#include "seqnet/printable.hpp"

namespace seqnet {

namespace {

std::string py_shape(const Shape& s) {
  // Python tuple repr: (None, 4, 10), (None,)
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += s[i] == None ? std::string("None") : std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// Keras's print_row: each field is cut at its column end, padded to it, and
// the last character before the next field becomes a space.
std::string row(const std::vector<std::string>& fields, const std::vector<int>& positions) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0 && !line.empty()) line.back() = ' ';
    line += fields[i];
    if (static_cast<int>(line.size()) > positions[i]) line.resize(static_cast<size_t>(positions[i]));
    line.append(static_cast<size_t>(positions[i]) - line.size(), ' ');
  }
  return line;
}

}  // namespace

void Model::summary(std::ostream& out) const {
  const Impl& m = *impl_;
  if (m.outputs.empty()) {
    out << "Model: \"" << printable(m.name) << "\"\n(not built yet: add an input or call fit/predict)\n";
    return;
  }
  // Sequential-like: a plain chain of single-input calls without shared layers.
  bool chain = is_sequential() || (m.inputs.size() == 1 && m.outputs.size() == 1);
  if (chain && !is_sequential()) {
    int prev_slot = m.input_slots[0];
    std::vector<const Layer*> seen;
    for (const auto& s : m.steps) {
      if (s.in.size() != 1 || s.in[0] != prev_slot || s.out.size() != 1 ||
          std::find(seen.begin(), seen.end(), s.node->layer.get()) != seen.end()) {
        chain = false;
        break;
      }
      seen.push_back(s.node->layer.get());
      prev_slot = s.out[0];
    }
  }
  const int width = chain ? 65 : 98;
  std::vector<int> pos;
  std::vector<std::string> header;
  if (chain) {
    pos = {static_cast<int>(width * .45), static_cast<int>(width * .85), width};
    header = {"Layer (type)", "Output Shape", "Param #"};
  } else {
    pos = {static_cast<int>(width * .33), static_cast<int>(width * .55), static_cast<int>(width * .67), width};
    header = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
  }
  const std::string under(static_cast<size_t>(width), '_'), equal(static_cast<size_t>(width), '=');
  out << "Model: \"" << printable(m.name) << "\"\n" << under << "\n" << row(header, pos) << "\n" << equal << "\n";

  // The nodes of each layer that belong to this model.
  auto model_nodes_of = [&](const Layer* l) {
    std::vector<const GraphNode*> ns;
    for (const auto& n : m.nodes)
      if (n->layer.get() == l) ns.push_back(n.get());
    return ns;
  };
  const auto layers = m.unique_layers(!is_sequential());
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer* l = layers[i].get();
    const auto ns = model_nodes_of(l);
    std::string shape = "multiple";
    if (!ns.empty()) {
      const auto& shapes = ns[0]->output_shapes;
      bool same = true;
      for (const auto* n : ns) same = same && n->output_shapes == shapes;
      if (same) {
        if (shapes.size() == 1 && !ns[0]->is_input) {
          shape = py_shape(shapes[0]);
        } else {
          shape = "[";
          for (size_t k = 0; k < shapes.size(); ++k) shape += (k ? ", " : "") + py_shape(shapes[k]);
          shape += "]";
        }
      }
    }
    const std::string title = printable(l->name()) + " (" + printable(l->class_name()) + ")";
    const std::string params = std::to_string(layers[i]->count_params());
    if (chain) {
      out << row({title, shape, params}, pos) << "\n";
    } else {
      std::vector<std::string> connections;
      for (const auto* n : ns)
        for (const auto& x : n->inputs) connections.push_back(printable(x.describe()));
      out << row({title, shape, params, connections.empty() ? "" : connections[0]}, pos) << "\n";
      for (size_t k = 1; k < connections.size(); ++k) out << row({"", "", "", connections[k]}, pos) << "\n";
    }
    out << (i + 1 == layers.size() ? equal : under) << "\n";
  }
  int64_t trainable = 0, frozen = 0;
  for (const Param* p : m.params()) (p->trainable ? trainable : frozen) += p->value.size();
  out << "Total params: " << with_commas(trainable + frozen) << "\n"
      << "Trainable params: " << with_commas(trainable) << "\n"
      << "Non-trainable params: " << with_commas(frozen) << "\n"
      << under << "\n";
}

}  // namespace seqnet
