// plot_model / model_to_dot (seqnet/io/plot_model.hpp).

#include "seqnet/io/plot_model.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "process.hpp"
#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "seqnet/layers/layer.hpp"
#include "seqnet/model/symbolic.hpp"

namespace seqnet {

namespace {

// Text inside a dot record label: the record's own punctuation escaped.
std::string record_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr("{}|<>\"\\", c) != nullptr) out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string shape_text(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0) out += ", ";
    out += s[i] == None ? "None" : std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

std::string shapes_text(const std::vector<Shape>& shapes) {
  if (shapes.size() == 1) return shape_text(shapes[0]);
  std::string out = "[";
  for (size_t i = 0; i < shapes.size(); ++i) out += (i > 0 ? ", " : "") + shape_text(shapes[i]);
  return out + "]";
}

}  // namespace

std::string model_to_dot(const Model& model, const PlotModelOptions& o) {
  if (o.rankdir != "TB" && o.rankdir != "LR") {
    throw ValueError(fmt::format("plot_model: rankdir must be \"TB\" or \"LR\", got \"{}\"", o.rankdir));
  }
  if (o.dpi < 1 || o.dpi > 1200) throw ValueError(fmt::format("plot_model: dpi must be in [1, 1200], got {}", o.dpi));
  if (model.nodes().empty()) {
    throw ValueError(fmt::format("plot_model: model \"{}\" is not built yet (give its first layer an input shape, or "
                                 "call it on data first)",
                                 model.name()));
  }
  // One box per layer, in the graph's order; its calls (nodes) give the shapes.
  std::vector<const Layer*> order;
  std::map<const Layer*, std::vector<const GraphNode*>> calls;
  for (const auto& n : model.nodes()) {
    const Layer* l = n->layer.get();
    if (calls.find(l) == calls.end()) order.push_back(l);
    calls[l].push_back(n.get());
  }
  std::map<const Layer*, size_t> id;
  for (size_t i = 0; i < order.size(); ++i) id[order[i]] = i;

  std::string dot = fmt::format("digraph G {{\n  rankdir={};\n  concentrate=true;\n  dpi={};\n", o.rankdir, o.dpi);
  dot += "  node [shape=record, fontname=\"Helvetica\"];\n";
  for (const Layer* l : order) {
    const auto& nodes = calls[l];
    const bool is_input = nodes.front()->is_input;
    const std::string cls = is_input ? "InputLayer" : l->class_name();
    std::string title = o.show_layer_names ? record_text(l->name()) + ": " + record_text(cls) : record_text(cls);
    std::string label = title;
    if (o.show_shapes) {
      std::string in = "multiple", out = "multiple";
      if (nodes.size() == 1) {
        std::vector<Shape> ins;
        for (const auto& t : nodes[0]->inputs) ins.push_back(t.shape());
        out = shapes_text(nodes[0]->output_shapes);
        in = is_input ? out : shapes_text(ins);
      }
      label = fmt::format("{{{}|{{input:|output:}}|{{{{{}}}|{{{}}}}}}}", title, record_text(in), record_text(out));
    }
    dot += fmt::format("  n{} [label=\"{}\"];\n", id[l], label);
  }
  std::set<std::pair<size_t, size_t>> edges;
  for (const auto& n : model.nodes()) {
    for (const auto& t : n->inputs) {
      const auto e = std::pair{id[t.node()->layer.get()], id[n->layer.get()]};
      if (edges.insert(e).second) dot += fmt::format("  n{} -> n{};\n", e.first, e.second);
    }
  }
  return dot + "}\n";
}

void plot_model(const Model& model, const std::string& to_file, const PlotModelOptions& options) {
  namespace fs = std::filesystem;
  std::string ext = fs::path(to_file).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::vector<std::pair<std::string, std::string>> formats{
      {".png", "png"}, {".svg", "svg"}, {".pdf", "pdf"}, {".jpg", "jpg"}, {".jpeg", "jpg"}, {".gif", "gif"},
      {".dot", "dot"}};
  const auto f = std::find_if(formats.begin(), formats.end(), [&](const auto& p) { return p.first == ext; });
  if (f == formats.end()) {
    throw ValueError(fmt::format("plot_model: cannot tell the format of '{}' from its extension; use .png, .svg, "
                                 ".pdf, .jpg, .gif or .dot",
                                 to_file));
  }
  const std::string dot = model_to_dot(model, options);
  const fs::path parent = fs::path(to_file).parent_path();
  if (!parent.empty()) ensure_writable_directory(parent.string());
  if (f->second == "dot") {
    write_file_atomic(to_file, dot);
    return;
  }
  const std::string exe = detail::find_program("dot");
  if (exe.empty()) {
    throw IOError(fmt::format("plot_model: cannot render '{}': Graphviz's dot was not found on PATH; install "
                              "graphviz (scripts/install-deps, or apt-get install graphviz)",
                              to_file));
  }
  const std::string src = detail::temp_name_beside(to_file + ".dot"), tmp = detail::temp_name_beside(to_file);
  auto cleanup = [&] {
    ::unlink(src.c_str());
    ::unlink(tmp.c_str());
  };
  std::string output;
  int status = 0;
  try {
    write_file_atomic(src, dot);
    status = detail::run_program(exe, "dot", {"-T" + f->second, "-o", tmp, src}, output);
  } catch (...) {
    cleanup();
    throw;
  }
  if (status != 0 || !detail::non_empty_file(tmp)) {
    cleanup();
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    throw IOError(fmt::format("plot_model: cannot render '{}': dot {}{}{}", to_file,
                              status != 0 ? fmt::format("exited with status {}", status) : std::string("wrote nothing"),
                              output.empty() ? "" : ": ", output));
  }
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), to_file.c_str()) != 0) {
    const int e = errno;
    cleanup();
    throw IOError(fmt::format("plot_model: cannot write '{}': rename failed: {}", to_file, std::strerror(e)));
  }
  ::unlink(src.c_str());
}

}  // namespace seqnet
