#include "model_commands.hpp"

#include <fmt/format.h>
#include <seqnet/io/config.hpp>
#include <seqnet/io/json.hpp>
#include <seqnet/io/keras.hpp>
#include <seqnet/files.hpp>
#include <seqnet/memory.hpp>
#include <seqnet/printable.hpp>
#include <seqnet/seqnet.hpp>

#include <cstdio>
#include <filesystem>
#include <set>
#include <iostream>

#include "cli_support.hpp"

namespace seqnet::cli {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "4000000", "512M", "4G", "2T" (powers of 1024): a byte count. Throws
// UsageError naming the option otherwise.
int64_t parse_bytes(const std::string& text, const char* option) {
  size_t used = 0;
  double v = -1.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string suffix = text.substr(used);
  double scale = 1.0;
  if (suffix == "K" || suffix == "KiB") scale = 1024.0;
  else if (suffix == "M" || suffix == "MiB") scale = 1024.0 * 1024.0;
  else if (suffix == "G" || suffix == "GiB") scale = 1024.0 * 1024.0 * 1024.0;
  else if (suffix == "T" || suffix == "TiB") scale = 1024.0 * 1024.0 * 1024.0 * 1024.0;
  else if (!suffix.empty()) used = 0;
  if (used == 0 || !(v > 0.0) || v * scale > 9.0e18) {
    throw UsageError(fmt::format("{} '{}' must be a positive byte count such as 4000000, 512M or 4G", option,
                                 printable(text.substr(0, 64))));
  }
  return static_cast<int64_t>(v * scale);
}

int summary(const std::string& path, int64_t max_file_bytes) {
  check_input_file(path, "model");
  std::string bytes = read_file(path, max_file_bytes);
  const io::ModelFileFormat format = io::detect_model_file_format(bytes);
  std::string about;
  if (format == io::ModelFileFormat::Safetensors) {
    const auto f = io::SafetensorsFile::parse(bytes, path);
    const auto it = f.metadata().find("version");
    about = fmt::format("seqnet model format version {}, {} tensors",
                        it == f.metadata().end() ? std::string("?") : it->second, f.tensors().size());
  } else {
    about = std::string(io::format_name(format));
  }
  auto model =
      load_model_from_bytes(std::move(bytes), path, {.compile = true, .restore_random_state = false});
  model->summary(std::cout);
  std::printf("File: %s (%s)\n", path.c_str(), about.c_str());
  std::printf("Inputs: ");
  for (size_t i = 0; i < model->inputs().size(); ++i) {
    std::printf("%s%s %s", i ? ", " : "", model->inputs()[i].node()->layer->name().c_str(),
                shape_str(model->inputs()[i].shape()).c_str());
  }
  std::printf("\nOutputs: ");
  for (size_t i = 0; i < model->outputs().size(); ++i) {
    std::printf("%s%s %s", i ? ", " : "", model->outputs()[i].describe().c_str(),
                shape_str(model->outputs()[i].shape()).c_str());
  }
  std::printf("\n");
  if (model->compiled()) {
    const auto tc = training_config(*model);
    std::printf("Compiled: optimizer %s (learning_rate %g), %lld updates so far; loss %s; metrics %s\n",
                model->optimizer().name().c_str(), static_cast<double>(model->optimizer().learning_rate()),
                static_cast<long long>(model->optimizer().iterations()), tc["loss"].dump().c_str(),
                tc["metrics"].dump().c_str());
  } else {
    std::printf("Not compiled (no training configuration in the file, or one seqnet cannot honour)\n");
  }
  return 0;
}

// One stderr line when inputs hold NaN or Inf values (prediction goes on:
// the user may want to see what comes out).
void warn_non_finite(const std::vector<std::string>& inputs, const Tensors& x) {
  std::string report;
  for (size_t k = 0; k < x.size(); ++k) {
    const long long samples = x[k].rank() >= 1 ? x[k].dim(0) : 1;
    const NonFinite nf = count_non_finite(x[k].data(), x[k].size(), samples);
    if (nf.nan == 0 && nf.inf == 0) continue;
    std::string what;
    if (nf.nan > 0) what = fmt::format("{} NaN", nf.nan);
    if (nf.inf > 0) what += fmt::format("{}{} Inf", what.empty() ? "" : " and ", nf.inf);
    report += fmt::format("{}{} holds {} value{} (in {} of {} samples)", report.empty() ? "" : "; ", inputs[k], what,
                          nf.nan + nf.inf == 1 ? "" : "s", nf.samples, samples);
  }
  if (!report.empty()) {
    std::fprintf(stderr, "seqnet: warning: %s; predictions from such samples are usually NaN\n", report.c_str());
  }
}

int predict(const std::string& path, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
            int batch_size, int64_t max_file_bytes, int64_t max_memory_bytes) {
  if (batch_size <= 0) throw UsageError(fmt::format("--batch-size must be positive, got {}", batch_size));
  for (const auto& o : outputs) {
    if (!ends_with(o, ".npy")) throw UsageError(fmt::format("--output '{}' must end in .npy", o));
  }
  check_input_file(path, "model");
  for (const auto& in : inputs) check_input_file(in, "--input");
  for (const auto& o : outputs) check_output_file(o, "--output");
  auto model = load_model(path, {.compile = false, .restore_random_state = false, .max_file_bytes = max_file_bytes});
  if (inputs.size() != model->inputs().size()) {
    std::string names;
    for (const auto& t : model->inputs()) {
      names += (names.empty() ? "" : ", ") + t.node()->layer->name() + " " + shape_str(t.shape());
    }
    throw UsageError(fmt::format("{} has {} input(s) ({}) but {} --input file(s) were given", path,
                                 model->inputs().size(), names, inputs.size()));
  }
  if (outputs.size() != model->outputs().size()) {
    throw UsageError(fmt::format("{} has {} output(s) but {} --output file(s) were given", path,
                                 model->outputs().size(), outputs.size()));
  }
  Tensors x;
  for (const auto& in : inputs) x.push_back(data::load_npy(in, max_file_bytes));
  warn_non_finite(inputs, x);
  Tensors y;
  try {
    y = model->predict(x, {.batch_size = batch_size, .max_memory_bytes = max_memory_bytes});
  } catch (const ResourceError& e) {
    throw ResourceError(fmt::format("{} (on the command line: --batch-size, --max-memory)", e.what()));
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    data::save_npy(outputs[k], y[k]);
    std::printf("%s: %s\n", outputs[k].c_str(), shape_str(y[k].shape()).c_str());
  }
  return 0;
}

// Throws ValueError when a mapping names a layer the architecture's config
// does not list (its top-level layers' names), before anything is built.
void check_mapped_names(const nlohmann::json& config, const std::vector<io::TorchMapping>& mapping,
                        const std::string& arch) {
  const nlohmann::json* layers = nullptr;
  if (config.is_object() && config.contains("config") && config["config"].is_object() &&
      config["config"].contains("layers") && config["config"]["layers"].is_array()) {
    layers = &config["config"]["layers"];
  }
  if (layers == nullptr) return;  // model_from_config names what is wrong
  std::set<std::string> names;
  std::string list;
  for (const auto& l : *layers) {
    if (!l.is_object() || !l.contains("config") || !l["config"].is_object()) continue;
    const auto& c = l["config"];
    if (!c.contains("name") || !c["name"].is_string()) continue;
    const std::string name = c["name"].get<std::string>();
    if (l.contains("class_name") && l["class_name"] == "InputLayer") continue;
    if (names.insert(name).second && names.size() <= 32) list += (list.empty() ? "" : ", ") + printable(name);
  }
  if (names.size() > 32) list += fmt::format(" and {} more", names.size() - 32);
  for (const auto& m : mapping) {
    if (!names.count(m.layer)) {
      throw ValueError(fmt::format("import-torch: --map names layer '{}', which {} does not have; its layers are: {}",
                                   printable(m.layer), arch, list));
    }
  }
}

int import_torch(const std::string& arch, const std::string& state_dict, const std::vector<std::string>& maps,
                 const std::vector<std::string>& ignore, bool allow_unmapped, const std::string& out,
                 int64_t max_file_bytes) {
  std::vector<io::TorchMapping> mapping;
  for (const auto& m : maps) {
    try {
      mapping.push_back(io::parse_torch_mapping(m));
    } catch (const ValueError& e) {
      throw UsageError(e.what());  // a malformed --map is a command-line mistake
    }
  }
  if (!ends_with(out, ".safetensors")) throw UsageError(fmt::format("--output '{}' must end in .safetensors", out));
  check_input_file(arch, "--model");
  check_input_file(state_dict, "--state-dict");
  check_output_file(out, "--output");
  // Everything is checked before work that the checks could make
  // pointless, and no step costs more than a bounded multiple of the files'
  // sizes. A model file: loaded (its weights are in it), the mapping checked
  // against it, then the state dict read with a limit from what the model
  // can hold. A JSON architecture: the mapping checked against the layer
  // names of the config, the state dict read (within --max-file-bytes),
  // then the model built without running initializers (the mapped weights
  // are overwritten; the unmapped ones, with --allow-unmapped, are
  // initialized after the import succeeded) and, without --allow-unmapped,
  // with no more weight values than the state dict holds: a 200-byte
  // architecture cannot make it allocate gigabytes for a state dict that
  // cannot fill them.
  std::unique_ptr<Model> model;
  io::StateDict sd;
  const bool from_json = ends_with(arch, ".json");
  if (from_json) {
    const nlohmann::json config = io::parse_untrusted_json(read_file(arch, max_file_bytes), arch);
    check_mapped_names(config, mapping, arch);
    sd = io::load_state_dict(state_dict, max_file_bytes);
    int64_t values = 0;
    for (const auto& [k, t] : sd) values += t.size();
    ConfigOptions build{.skip_initializers = true};
    if (!allow_unmapped) {
      build.max_params = values;
      build.limit_reason = fmt::format("the state dict {} holds only {} weight values", state_dict, values);
    }
    model = model_from_config(config, build);
  } else {
    model = load_model(arch, {.restore_random_state = false, .max_file_bytes = max_file_bytes});
  }
  io::check_torch_mapping(*model, mapping);
  if (!from_json) {
    const int64_t limit = max_file_bytes != kDefaultMaxFileBytes ? max_file_bytes : io::state_dict_byte_limit(*model);
    sd = io::load_state_dict(state_dict, limit);
  }
  const auto report = io::import_torch_state_dict(
      *model, sd, mapping,
      {.ignore = ignore, .allow_unmapped_layers = allow_unmapped, .initialize_unmapped_layers = from_json});
  for (const auto& line : report) std::printf("%s\n", line.c_str());
  model->save(out);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

// The format `convert` writes: --format, else from OUT's extension.
std::string output_format(const std::string& out, const std::string& format) {
  if (!format.empty()) {
    if (format == "safetensors" || format == "keras" || format == "h5" || format == "tfjs") return format;
    throw UsageError(fmt::format("--format '{}' must be one of safetensors, keras, h5, tfjs", printable(format)));
  }
  if (ends_with(out, ".safetensors")) return "safetensors";
  if (ends_with(out, ".keras")) return "keras";
  if (ends_with(out, ".h5") || ends_with(out, ".hdf5")) return "h5";
  if (ends_with(out, ".json") || ends_with(out, "/")) return "tfjs";
  throw UsageError(fmt::format("cannot tell the format of '{}' from its extension (.safetensors, .keras, .h5, a "
                               "TF.js model.json); give --format",
                               printable(out)));
}

int convert(const std::string& in, const std::string& out, const std::string& format, bool no_optimizer,
            int64_t max_file_bytes, int64_t shard_bytes) {
  const std::string f = output_format(out, format);
  check_input_file(in, "model");
  auto model = load_model(in, {.compile = !no_optimizer, .restore_random_state = false, .max_file_bytes = max_file_bytes});
  if (f == "tfjs") {
    const std::filesystem::path p(out);
    const std::string dir = ends_with(out, ".json") ? p.parent_path().string() : out;
    const std::string json_name = ends_with(out, ".json") ? p.filename().string() : "model.json";
    TfjsSaveOptions o{.model_json = json_name, .include_optimizer = !no_optimizer};
    if (shard_bytes > 0) o.shard_bytes = shard_bytes;
    save_tfjs(*model, dir.empty() ? "." : dir, o);
  } else {
    check_output_file(out, "OUT");
    // save() picks the format from the extension; --format may override it.
    const std::string ext = f == "safetensors" ? ".safetensors" : f == "keras" ? ".keras" : ".h5";
    if (ends_with(out, ext) || (f == "h5" && ends_with(out, ".hdf5"))) {
      model->save(out, !no_optimizer);
    } else {
      write_file_atomic(out, save_model_bytes(*model, f, !no_optimizer));
    }
  }
  std::printf("wrote %s (%s)\n", out.c_str(), f.c_str());
  return 0;
}

int plot(const std::string& path, const std::string& to_file, bool show_shapes, const std::string& rankdir,
         int64_t max_file_bytes) {
  check_input_file(path, "model");
  auto model = load_model_from_bytes(read_file(path, max_file_bytes), path, {.compile = false,
                                                                            .restore_random_state = false});
  plot_model(*model, to_file, {.show_shapes = show_shapes, .rankdir = rankdir});
  std::printf("wrote %s\n", to_file.c_str());
  return 0;
}

}  // namespace

void ModelCommands::add_to(CLI::App& app) {
  summary_ = app.add_subcommand("summary", "Print the architecture and training state of a model file");
  summary_->add_option("model", model_, "Model file: seqnet .safetensors, Keras .h5 or .keras (told by content)")->required();
  auto add_max_file_bytes = [this](CLI::App* cmd, const char* what) {
    cmd->add_option("--max-file-bytes", max_file_bytes_,
                    fmt::format("Most bytes to read from {} (4000000, 512M, 4G; default 4G)", what));
  };
  add_max_file_bytes(summary_, "the model file");

  predict_ = app.add_subcommand("predict", "Run a model file on .npy inputs and write .npy outputs");
  predict_->add_option("model", model_, "Model file: seqnet .safetensors, Keras .h5 or .keras")->required();
  predict_->add_option("--input", inputs_, "Input .npy file, one per model input, in the model's order")
      ->required();
  predict_->add_option("--output", outputs_, "Output .npy file (float32), one per model output, in order")
      ->required();
  predict_->add_option("--batch-size", batch_size_, "Samples per forward pass")->capture_default_str();
  predict_->add_option("--max-memory", max_memory_,
                       "Most bytes of activations and outputs to plan for (512M, 4G; default: half of this machine's "
                       "memory); a larger need is refused before predicting");
  add_max_file_bytes(predict_, "the model file and each input");

  import_ = app.add_subcommand("import-torch", "Import a PyTorch state dict into a seqnet model and save it");
  import_->add_option("--model", arch_, "The seqnet architecture: a model file (.safetensors) or Keras JSON (.json)")
      ->required();
  import_->add_option("--state-dict", state_dict_,
                      "PyTorch state dict (.npz or .safetensors from tools/export_torch_state_dict.py)")
      ->required();
  import_->add_option("--map", maps_, "MODULE[:K]=LAYER: torch module (layer K of a stack) -> seqnet layer")
      ->required();
  import_->add_option("--ignore", ignore_, "State-dict key to leave unused");
  import_->add_flag("--allow-unmapped", allow_unmapped_, "Let seqnet layers without a mapping keep their weights");
  import_->add_option("--output", out_, "Output model file (.safetensors)")->required();
  add_max_file_bytes(import_, "each file (default for the state dict: what the architecture can hold)");

  convert_ = app.add_subcommand("convert", "Convert a model file between seqnet, Keras and TensorFlow.js formats");
  convert_->add_option("in", convert_in_, "Model file: seqnet .safetensors, Keras .h5 or .keras, TF.js model.json")
      ->required();
  convert_->add_option("out", convert_out_,
                       "Output: .safetensors, .keras (Keras 3), .h5 (Keras 2), or a TF.js model.json or directory")
      ->required();
  convert_->add_option("--format", format_, "safetensors, keras, h5 or tfjs (default: from OUT's extension)");
  convert_->add_flag("--no-optimizer", no_optimizer_, "Leave out the training configuration and optimizer state");
  convert_->add_option("--shard-bytes", shard_bytes_, "TF.js: most bytes per weight shard (default 4M)");
  add_max_file_bytes(convert_, "the input model");

  plot_ = app.add_subcommand("plot", "Draw a model file's layers and connections (Graphviz: PNG, SVG, PDF or .dot)");
  plot_->add_option("model", model_, "Model file: seqnet .safetensors, Keras .h5 or .keras, TF.js model.json")
      ->required();
  plot_->add_option("--to-file", plot_file_, "Output file; its extension picks the format")->capture_default_str();
  plot_->add_flag("--show-shapes", show_shapes_, "Show each layer's input and output shapes");
  plot_->add_option("--rankdir", rankdir_, "TB (top to bottom) or LR (left to right)")
      ->check(CLI::IsMember({"TB", "LR"}))
      ->capture_default_str();
  add_max_file_bytes(plot_, "the model file");
}

bool ModelCommands::selected() const {
  return (summary_ != nullptr && summary_->parsed()) || (predict_ != nullptr && predict_->parsed()) ||
         (import_ != nullptr && import_->parsed()) || (convert_ != nullptr && convert_->parsed()) ||
         (plot_ != nullptr && plot_->parsed());
}

int ModelCommands::run() const {
  const int64_t max_file_bytes =
      max_file_bytes_.empty() ? kDefaultMaxFileBytes : parse_bytes(max_file_bytes_, "--max-file-bytes");
  if (summary_->parsed()) return summary(model_, max_file_bytes);
  if (plot_->parsed()) return plot(model_, plot_file_, show_shapes_, rankdir_, max_file_bytes);
  if (predict_->parsed()) {
    const int64_t max_memory = max_memory_.empty() ? 0 : parse_bytes(max_memory_, "--max-memory");
    return predict(model_, inputs_, outputs_, batch_size_, max_file_bytes, max_memory);
  }
  if (convert_->parsed()) {
    const int64_t shard = shard_bytes_.empty() ? 0 : parse_bytes(shard_bytes_, "--shard-bytes");
    return convert(convert_in_, convert_out_, format_, no_optimizer_, max_file_bytes, shard);
  }
  return import_torch(arch_, state_dict_, maps_, ignore_, allow_unmapped_, out_, max_file_bytes);
}

}  // namespace seqnet::cli
