// seqnet._seqnet: the C++ core for Python (pybind11). Thin: the Keras
// surface (names, keyword arguments, defaults) lives in the pure-Python
// package python/seqnet/keras; this module passes layers as Keras configs
// (JSON text) to the layer registry, arrays as float32 NumPy arrays, and
// turns seqnet's exceptions into Python's (ValueError for bad arguments and
// shapes, OSError for files, MemoryError for refused sizes).

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>
#include <seqnet/io/config.hpp>
#include <seqnet/seqnet.hpp>

#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace seqnet;

namespace {

using Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Arrays cross without a copy where the layout allows. In: a float32,
// C-ordered, writable array (what the Array caster passes through
// unchanged, or the converted copy it made) is lent to the tensor, which
// holds a reference to the NumPy object; read-only arrays are copied (they
// may be memory maps that must never be written). Out: a tensor nothing
// else shares (storage_use_count() == 1: predict's outputs, get_weights'
// copies) becomes the array's buffer, owned by a capsule; a shared one is
// copied.
//
// The last tensor handle may go on a thread that does not hold the GIL (a
// worker thread, or fit's thread while the GIL is released), where the
// reference cannot be dropped; it then waits in `pending` until the next
// call that converts arrays, which holds the GIL.
std::mutex pending_mutex;
std::vector<PyObject*> pending;

void drop_pending() {
  std::vector<PyObject*> drop;
  {
    std::lock_guard<std::mutex> lock(pending_mutex);
    drop.swap(pending);
  }
  for (PyObject* o : drop) Py_DECREF(o);
}

std::shared_ptr<const void> keep_alive(const py::handle& h) {
  h.inc_ref();
  return std::shared_ptr<const void>(h.ptr(), [](const void* p) {
    auto* o = static_cast<PyObject*>(const_cast<void*>(p));
    if (Py_IsInitialized() != 0 && PyGILState_Check() != 0) {
      Py_DECREF(o);
    } else {
      std::lock_guard<std::mutex> lock(pending_mutex);
      pending.push_back(o);
    }
  });
}

Shape shape_of(const py::array& a) {
  Shape s;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s.push_back(static_cast<int64_t>(a.shape(d)));
  return s;
}

Tensor to_tensor(const Array& a) {
  drop_pending();
  if (a.writeable()) return Tensor::borrow(shape_of(a), const_cast<float*>(a.data()), keep_alive(a));
  Tensor t = Tensor::uninitialized(shape_of(a));
  if (t.size() > 0) std::memcpy(t.data(), a.data(), static_cast<size_t>(t.size()) * sizeof(float));
  return t;
}

Tensors to_tensors(const std::vector<Array>& arrays) {
  std::vector<Tensor> out;
  for (const auto& a : arrays) out.push_back(to_tensor(a));
  return Tensors(out);
}

py::array_t<float> to_array(Tensor t) {
  drop_pending();
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  if (t.storage_use_count() == 1) {
    float* data = t.data();
    auto* owner = new Tensor(std::move(t));
    py::capsule base(owner, [](void* p) { delete static_cast<Tensor*>(p); });
    return py::array_t<float>(shape, data, base);
  }
  py::array_t<float> a(shape);
  if (t.size() > 0) std::memcpy(a.mutable_data(), t.data(), static_cast<size_t>(t.size()) * sizeof(float));
  return a;
}

// Takes the tensors' handles, so that those nothing else shares go out
// without a copy.
std::vector<py::array_t<float>> to_arrays(std::vector<Tensor> ts) {
  std::vector<py::array_t<float>> out;
  for (auto& t : ts) out.push_back(to_array(std::move(t)));
  return out;
}

// A symbolic shape with None for unknown dimensions.
py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = s[i] == None ? py::object(py::none()) : py::object(py::int_(s[i]));
  return t;
}

py::dict logs_dict(const Logs& logs) {
  py::dict d;
  for (const auto& [k, v] : logs.items()) d[py::str(k)] = v;
  return d;
}

void logs_back(const py::dict& d, Logs& logs) {
  for (const auto& [k, v] : d) logs.set(py::cast<std::string>(k), py::cast<double>(v));
}

// A Python object with Keras's callback methods, called with the GIL held.
// Ctrl-C (a pending KeyboardInterrupt) stops training after the batch.
class PyCallback : public Callback {
 public:
  PyCallback(py::object target, bool* interrupted) : target_(std::move(target)), interrupted_(interrupted) {}

  void on_train_begin(Logs& logs) override { call("on_train_begin", logs); }
  void on_train_end(Logs& logs) override { call("on_train_end", logs); }
  void on_epoch_begin(int epoch, Logs& logs) override { call("on_epoch_begin", logs, epoch); }
  void on_epoch_end(int epoch, Logs& logs) override { call("on_epoch_end", logs, epoch); }
  void on_batch_begin(int batch, Logs& logs) override { call("on_train_batch_begin", logs, batch); }
  void on_batch_end(int batch, Logs& logs) override {
    call("on_train_batch_end", logs, batch);
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      PyErr_Clear();
      *interrupted_ = true;
      model().stop_training = true;
    }
  }

 private:
  void call(const char* hook, Logs& logs, std::optional<int> index = std::nullopt) {
    if (target_.is_none()) return;
    py::gil_scoped_acquire gil;
    if (!py::hasattr(target_, hook)) return;
    py::dict d = logs_dict(logs);
    if (index) {
      target_.attr(hook)(*index, d);
    } else {
      target_.attr(hook)(d);
    }
    logs_back(d, logs);
    if (py::hasattr(target_, "stop_training_requested") && py::cast<bool>(target_.attr("stop_training_requested"))) {
      model().stop_training = true;
      target_.attr("stop_training_requested") = false;
    }
  }

  py::object target_;
  bool* interrupted_;
};

py::dict history_dict(const History& h) {
  py::dict d;
  for (const auto& k : h.keys()) d[py::str(k)] = h[k];
  return d;
}

}  // namespace

PYBIND11_MODULE(_seqnet, m) {
  m.doc() = "seqnet's C++ core (use seqnet.keras)";

  // Most specific first: pybind11 tries translators from the last registered.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const IOError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const ResourceError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const ShapeError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nlohmann::json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.def("set_seed", &set_seed);
  m.def("clear_session", &clear_session);
  m.def("set_num_threads", &set_num_threads);

  py::class_<SymbolicTensor>(m, "SymbolicTensor")
      .def_property_readonly("shape", [](const SymbolicTensor& t) { return shape_tuple(t.shape()); })
      .def_property_readonly("name", &SymbolicTensor::describe)
      .def_property_readonly("layer_name", [](const SymbolicTensor& t) { return t.layer().name(); });

  m.def(
      "Input",
      [](const std::vector<std::optional<int64_t>>& shape, int64_t batch_size, const std::string& name) {
        Shape s;
        for (const auto& d : shape) s.push_back(d ? *d : None);
        return Input(s, {.batch_size = batch_size, .name = name});
      },
      py::arg("shape"), py::arg("batch_size") = 0, py::arg("name") = "");

  py::class_<Layer, std::shared_ptr<Layer>>(m, "Layer")
      .def_property_readonly("name", &Layer::name)
      .def_property_readonly("dtype_policy_name", [](const Layer& l) { return l.dtype_policy().name(); })
      .def_property_readonly("class_name", &Layer::class_name)
      .def_property_readonly("built", &Layer::built)
      .def("get_config_json", [](const Layer& l) { return l.get_config().dump(); })
      .def("count_params",
           [](Layer& l) {
             int64_t n = 0;
             l.visit_params([&](const std::string&, Param& p) { n += p.value.size(); });
             return n;
           })
      .def("get_weights",
           [](Layer& l) {
             std::vector<Tensor> w;
             l.visit_params([&](const std::string&, Param& p) { w.push_back(p.value.clone()); });
             return to_arrays(w);
           })
      .def("set_weights",
           [](Layer& l, const std::vector<Array>& ws) {
             std::vector<Param*> ps;
             l.visit_params([&](const std::string&, Param& p) { ps.push_back(&p); });
             if (ws.size() != ps.size()) {
               throw ValueError(l.describe() + ": set_weights expected " + std::to_string(ps.size()) +
                                " arrays, got " + std::to_string(ws.size()));
             }
             // Every shape is checked before any weight changes; the values
             // are copied (the arrays stay the caller's).
             for (size_t i = 0; i < ps.size(); ++i) {
               if (shape_of(ws[i]) != ps[i]->value.shape()) {
                 throw ValueError(l.describe() + ": set_weights: weight " + std::to_string(i) + " ('" +
                                  ps[i]->name + "') has shape " + shape_str(ps[i]->value.shape()) + ", got " +
                                  shape_str(shape_of(ws[i])));
               }
             }
             for (size_t i = 0; i < ps.size(); ++i) ps[i]->value.copy_from(to_tensor(ws[i]));
           })
      .def("reset_states", [](Layer& l) { l.reset_states(); })
      .def(
          "call",
          [](const std::shared_ptr<Layer>& l, const std::vector<SymbolicTensor>& inputs, bool as_list,
             const std::vector<SymbolicTensor>& initial_state) {
            const LayerRef r(l);
            const CallOptions o{.initial_state = initial_state};
            SymbolicTensors out = as_list ? r(inputs, o) : r(inputs.at(0), o);
            return std::vector<SymbolicTensor>(out.begin(), out.end());
          },
          py::arg("inputs"), py::arg("as_list"), py::arg("initial_state") = std::vector<SymbolicTensor>{})
      .def("output", [](const std::shared_ptr<Layer>& l) {
        SymbolicTensors out = LayerRef(l).output();
        return std::vector<SymbolicTensor>(out.begin(), out.end());
      });

  m.def("layer_from_config", [](const std::string& json) { return layer_from_config(nlohmann::json::parse(json)); });

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](const std::vector<SymbolicTensor>& in, const std::vector<SymbolicTensor>& out,
                       const std::string& name) { return std::make_shared<Model>(in, out, name); }),
           py::arg("inputs"), py::arg("outputs"), py::arg("name") = "")
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("inputs", &Model::inputs)
      .def_property_readonly("outputs", &Model::outputs)
      .def_property_readonly("stateful", &Model::stateful)
      .def("layers",
           [](const Model& mdl) {
             std::vector<std::shared_ptr<Layer>> out;
             for (const auto& r : mdl.layers()) out.push_back(r.ptr());
             return out;
           })
      .def("compile",
           [](Model& mdl, const std::string& optimizer, const std::vector<std::string>& losses,
              const std::vector<float>& loss_weights, const std::vector<std::string>& metrics) {
             CompileOptions o;
             const auto opt = nlohmann::json::parse(optimizer);
             o.optimizer = opt.is_string() ? OptimizerSpec(opt.get<std::string>())
                                           : OptimizerSpec(optimizer_from_config(opt));
             o.loss.items.clear();
             for (const auto& l : losses) o.loss.items.emplace_back(loss_from_config(nlohmann::json::parse(l)));
             o.loss_weights = loss_weights;
             o.metrics = metrics;
             mdl.compile(o);
           })
      .def("fit",
           [](Model& mdl, const std::vector<Array>& x, const std::vector<Array>& y, int epochs, int batch_size,
              int verbose, double validation_split, const std::vector<Array>& vx, const std::vector<Array>& vy,
              bool shuffle, int initial_epoch, py::object callbacks) {
             Tensors tx = to_tensors(x), ty = to_tensors(y), tvx = to_tensors(vx), tvy = to_tensors(vy);
             bool interrupted = false;
             auto cb = std::make_shared<PyCallback>(std::move(callbacks), &interrupted);
             History h;
             {
               py::gil_scoped_release release;
               h = mdl.fit(tx, ty,
                           {.epochs = epochs, .batch_size = batch_size, .validation_split = validation_split,
                            .validation_data = {tvx, tvy}, .shuffle = shuffle, .verbose = verbose,
                            .callbacks = {cb}, .initial_epoch = initial_epoch});
             }
             if (interrupted) {
               PyErr_SetString(PyExc_KeyboardInterrupt, "fit stopped after the batch (Ctrl-C)");
               throw py::error_already_set();
             }
             return py::make_tuple(history_dict(h), h.epoch());
           })
      .def("evaluate",
           [](Model& mdl, const std::vector<Array>& x, const std::vector<Array>& y, int batch_size, int verbose) {
             Tensors tx = to_tensors(x), ty = to_tensors(y);
             Logs l;
             {
               py::gil_scoped_release release;
               l = mdl.evaluate(tx, ty, {.batch_size = batch_size, .verbose = verbose});
             }
             std::vector<std::pair<std::string, double>> out(l.items().begin(), l.items().end());
             return out;
           })
      .def("predict",
           [](Model& mdl, const std::vector<Array>& x, int batch_size, int verbose) {
             Tensors tx = to_tensors(x);
             Tensors out;
             {
               py::gil_scoped_release release;
               out = mdl.predict(tx, {.batch_size = batch_size, .verbose = verbose});
             }
             std::vector<Tensor> items = out.items();
             out = Tensors();
             return to_arrays(std::move(items));
           })
      .def("train_on_batch",
           [](Model& mdl, const std::vector<Array>& x, const std::vector<Array>& y) {
             Tensors tx = to_tensors(x), ty = to_tensors(y);
             Logs l;
             {
               py::gil_scoped_release release;
               l = mdl.train_on_batch(tx, ty);
             }
             std::vector<std::pair<std::string, double>> out(l.items().begin(), l.items().end());
             return out;
           })
      .def("get_learning_rate", [](const Model& mdl) { return mdl.optimizer().learning_rate(); })
      .def("set_learning_rate", [](const Model& mdl, float lr) { mdl.optimizer().set_learning_rate(lr); })
      .def("reset_states", &Model::reset_states)
      .def("summary_string", &Model::summary_string)
      .def("to_json", [](const Model& mdl) { return mdl.to_json(); })
      .def("save", &Model::save, py::arg("path"), py::arg("include_optimizer") = true)
      .def("save_weights", &Model::save_weights)
      .def("load_weights", [](Model& mdl, const std::string& path) { mdl.load_weights(path); })
      .def("get_weights", [](const Model& mdl) { return to_arrays(mdl.get_weights()); })
      .def("set_weights",
           [](const Model& mdl, const std::vector<Array>& ws) {
             std::vector<Tensor> t;
             for (const auto& a : ws) t.push_back(to_tensor(a));
             mdl.set_weights(t);
           })
      .def("count_params", &Model::count_params);

  py::class_<Sequential, Model, std::shared_ptr<Sequential>>(m, "Sequential")
      .def(py::init([](const std::string& name) { return std::make_shared<Sequential>(name); }),
           py::arg("name") = "")
      .def("add_layer", [](Sequential& s, const std::shared_ptr<Layer>& l) { s.add(LayerRef(l)); })
      .def("add_input", [](Sequential& s, const SymbolicTensor& t) { s.add(t); });

  // The SpamAssassin corpus in the shape of Keras's imdb.load_data: word
  // index lists (a Tokenizer fitted on the training mails, num_words as
  // Keras counts it) and 0/1 labels, split with seqnet's generator.
  m.def(
      "spam_assassin_load_data",
      [](std::optional<int64_t> num_words, double test_split, uint64_t seed) {
        data::TextDataset corpus = data::load_spam_assassin();
        Generator g(seed);
        const auto parts = data::split_indices(static_cast<int64_t>(corpus.size()),
                                               {.test = test_split, .generator = &g});
        auto texts_of = [&](const std::vector<int64_t>& idx) {
          std::vector<std::string> t;
          for (int64_t i : idx) t.push_back(corpus.texts[static_cast<size_t>(i)]);
          return t;
        };
        auto labels_of = [&](const std::vector<int64_t>& idx) {
          std::vector<int64_t> y;
          for (int64_t i : idx) y.push_back(corpus.labels[static_cast<size_t>(i)]);
          return y;
        };
        data::Tokenizer tok({.num_words = num_words});
        const auto train_texts = texts_of(parts.train);
        tok.fit_on_texts(train_texts);
        return py::make_tuple(tok.texts_to_sequences(train_texts), labels_of(parts.train),
                              tok.texts_to_sequences(texts_of(parts.test)), labels_of(parts.test));
      },
      py::arg("num_words") = std::nullopt, py::arg("test_split") = 0.5, py::arg("seed") = 113);

  m.def(
      "plot_model",
      [](const Model& mdl, const std::string& to_file, bool show_shapes, bool show_layer_names,
         const std::string& rankdir, int dpi) {
        plot_model(mdl, to_file,
                   {.show_shapes = show_shapes, .show_layer_names = show_layer_names, .rankdir = rankdir, .dpi = dpi});
      });
  m.def("model_to_dot", [](const Model& mdl, bool show_shapes, bool show_layer_names, const std::string& rankdir,
                           int dpi) {
    return model_to_dot(mdl,
                        {.show_shapes = show_shapes, .show_layer_names = show_layer_names, .rankdir = rankdir, .dpi = dpi});
  });

  m.def("set_global_policy", [](const std::string& name) { mixed_precision::set_global_policy(name); });
  m.def("global_policy_name", [] { return mixed_precision::global_policy().name(); });
  m.def("check_policy", [](const std::string& name) { (void)mixed_precision::Policy(name); });
  m.def("hardware_bfloat16", &mixed_precision::hardware_bfloat16);

  m.def("load_model", [](const std::string& path) { return std::shared_ptr<Model>(load_model(path)); });
  m.def("model_from_json",
        [](const std::string& json) { return std::shared_ptr<Model>(model_from_json(json)); });
}
