"""Keras models: Sequential, Model (functional), load_model, model_from_json."""

import json

from seqnet import _seqnet
from seqnet.keras import callbacks as _callbacks
from seqnet.keras import layers as _layers
from seqnet.keras import losses as _losses
from seqnet.keras import metrics as _metrics
from seqnet.keras import optimizers as _optimizers
from seqnet.keras._arrays import as_float32, as_list, check_finite


def _wrap_layer(core):
    """A Python layer object for a C++ layer (of a loaded model)."""
    cls = getattr(_layers, core.class_name, _layers.Layer)
    obj = object.__new__(cls)
    obj._core, obj._input_args = core, {}
    return obj


class Model:
    """A functional model: Model(inputs=, outputs=, name=)."""

    def __init__(self, inputs=None, outputs=None, name=None, _core=None, **kwargs):
        if kwargs:
            raise TypeError(f"Model() got an unexpected keyword argument '{next(iter(kwargs))}'")
        self.stop_training = False
        self._layer_objects = {}
        if _core is not None:
            self._core = _core
            return
        if inputs is None or outputs is None:
            raise ValueError("Model: give inputs= and outputs= (symbolic tensors)")
        self._single_output = not isinstance(outputs, (list, tuple))
        ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        self._core = _seqnet.Model([t._core for t in ins], [t._core for t in outs], name or "")

    # -- structure
    @property
    def name(self):
        return self._core.name

    @property
    def inputs(self):
        return [_layers.KerasTensor(t) for t in self._core.inputs]

    @property
    def outputs(self):
        return [_layers.KerasTensor(t) for t in self._core.outputs]

    @property
    def input(self):
        ins = self.inputs
        return ins[0] if len(ins) == 1 else ins

    @property
    def output(self):
        outs = self.outputs
        return outs[0] if len(outs) == 1 else outs

    @property
    def layers(self):
        out = []
        for core in self._core.layers():
            if core.name not in self._layer_objects:
                self._layer_objects[core.name] = _wrap_layer(core)
            out.append(self._layer_objects[core.name])
        return out

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in layers]}")

    def count_params(self):
        return self._core.count_params()

    def summary(self, print_fn=None):
        text = self._core.summary_string()
        (print_fn or print)(text.rstrip("\n"))

    def to_json(self, **kwargs):
        return json.dumps(json.loads(self._core.to_json()), **kwargs)

    def get_weights(self):
        return self._core.get_weights()

    def set_weights(self, weights):
        self._core.set_weights([as_float32(w, "set_weights") for w in weights])

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        self._core.save(str(filepath), include_optimizer)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        self._core.save_weights(str(filepath))

    def load_weights(self, filepath, **kwargs):
        self._core.load_weights(str(filepath))

    def reset_states(self):
        self._core.reset_states()

    # -- training
    @property
    def optimizer(self):
        """The compiled optimizer: its learning_rate can be read and set
        during training (ReduceLROnPlateau, LearningRateScheduler)."""
        return _OptimizerHandle(self._core)

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs):
        for k in kwargs:
            raise TypeError(f"compile() got an unexpected keyword argument '{k}'")
        if loss is None:
            raise ValueError("compile: a loss is required")
        opt = _optimizers.get(optimizer)
        losses = loss if isinstance(loss, (list, tuple)) else [loss]
        if isinstance(loss, dict):
            raise TypeError("compile: losses as a dict are not supported; pass one loss or a list")
        mets = [] if metrics is None else [_metrics.serialize(m) for m in metrics]
        weights = [] if loss_weights is None else [float(w) for w in loss_weights]
        self._core.compile(json.dumps(opt.serialize()), [json.dumps(_losses.serialize(l)) for l in losses],
                           weights, mets)

    def _counts(self):
        """The numbers of inputs and outputs (a Sequential model not built
        yet has one of each)."""
        return max(1, len(self._core.inputs)), max(1, len(self._core.outputs))

    def _by_name(self, data, tensors, what):
        """A dict of arrays keyed by the inputs' (outputs') layer names, as
        Keras takes it, in the model's order."""
        if not isinstance(data, dict):
            return data
        names = [t.layer_name for t in tensors]
        unknown = [k for k in data if k not in names]
        missing = [n for n in names if n not in data]
        if unknown or missing:
            raise ValueError(f"{what}: the dict's keys must be the model's {'input' if 'x' in what else 'output'} "
                             f"names {names}; unknown {unknown}, missing {missing}")
        return [data[n] for n in names]

    def _xy(self, x, y, what):
        x = self._by_name(x, self._core.inputs, f"{what}: x")
        y = self._by_name(y, self._core.outputs, f"{what}: y")
        n_in, n_out = self._counts()
        xs = as_list(x, f"{what}: x", n_in)
        ys = as_list(y, f"{what}: y", n_out) if y is not None else []
        check_finite(xs, f"{what}: x")
        check_finite(ys, f"{what}: y")
        # As Keras: targets (n,) for an output (None, 1) gain the last axis.
        for k, out in enumerate(self._core.outputs if ys else []):
            if ys[k].ndim == len(out.shape) - 1 and out.shape[-1] == 1:
                ys[k] = ys[k][..., None]
        return xs, ys

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0, **kwargs):
        for k in kwargs:
            raise TypeError(f"fit() got an unexpected keyword argument '{k}'")
        xs, ys = self._xy(x, y, "fit")
        vx, vy = [], []
        if validation_data is not None:
            if len(validation_data) == 3:
                raise ValueError("fit: validation_data with sample weights is not supported")
            vx, vy = self._xy(validation_data[0], validation_data[1], "fit (validation_data)")
        verbose = 1 if verbose == "auto" else int(verbose)
        cbs = list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, _callbacks.Callback):
                raise TypeError(f"fit: callbacks must be seqnet.keras.callbacks.Callback objects, got "
                                f"{type(cb).__name__}")
            cb.set_model(self)
            cb.set_params({"epochs": epochs, "verbose": verbose})
        self.stop_training = False
        history, epoch = self._core.fit(xs, ys, int(epochs), int(batch_size or 32), verbose, float(validation_split),
                                        vx, vy, bool(shuffle), int(initial_epoch),
                                        _callbacks._Dispatch(cbs, self) if cbs else None)
        h = _callbacks.History(history, list(epoch))
        h.set_model(self)
        self.history = h
        return h

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False, **kwargs):
        for k in kwargs:
            raise TypeError(f"evaluate() got an unexpected keyword argument '{k}'")
        xs, ys = self._xy(x, y, "evaluate")
        verbose = 1 if verbose == "auto" else int(verbose)
        logs = self._core.evaluate(xs, ys, int(batch_size or 32), verbose)
        if return_dict:
            return dict(logs)
        values = [v for _, v in logs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        for k in kwargs:
            raise TypeError(f"predict() got an unexpected keyword argument '{k}'")
        verbose = 0 if verbose == "auto" else int(verbose)
        x = self._by_name(x, self._core.inputs, "predict: x")
        out = self._core.predict(as_list(x, "predict: x", self._counts()[0]), int(batch_size or 32), verbose)
        return out[0] if len(out) == 1 else out

    def train_on_batch(self, x, y=None, return_dict=False, **kwargs):
        for k in kwargs:
            raise TypeError(f"train_on_batch() got an unexpected keyword argument '{k}'")
        xs, ys = self._xy(x, y, "train_on_batch")
        logs = self._core.train_on_batch(xs, ys)
        if return_dict:
            return dict(logs)
        values = [v for _, v in logs]
        return values[0] if len(values) == 1 else values


class _OptimizerHandle:
    def __init__(self, core):
        self._core = core

    @property
    def learning_rate(self):
        return self._core.get_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._core.set_learning_rate(float(value))

    lr = learning_rate


class Sequential(Model):
    """A stack of layers: Sequential([layers...]) or Sequential() + add()."""

    def __init__(self, layers=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"Sequential() got an unexpected keyword argument '{next(iter(kwargs))}'")
        super().__init__(_core=_seqnet.Sequential(name or ""))
        self._has_input = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, _layers.KerasTensor):
            self._core.add_input(layer._core)
            self._has_input = True
            return
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"Sequential.add: expected a layer, got {type(layer).__name__}")
        if not self._has_input and (layer._input_args or layer._class_name == "Embedding"):
            # Keras builds a first Embedding without input_length on (None, None).
            self._core.add_input(_input_from(layer)._core)
        self._has_input = True
        self._core.add_layer(layer._core)
        self._layer_objects[layer.name] = layer


def _input_from(layer):
    a = layer._input_args
    batch = a.get("batch_size")
    if "batch_input_shape" in a:
        shape = list(a["batch_input_shape"])
        return _layers.Input(shape=tuple(shape[1:]), batch_size=shape[0])
    if "input_shape" in a:
        return _layers.Input(shape=tuple(a["input_shape"]), batch_size=batch)
    if "input_length" in a:
        return _layers.Input(shape=(a["input_length"],), batch_size=batch)
    if "input_dim" in a:
        return _layers.Input(shape=(a["input_dim"],), batch_size=batch)
    return _layers.Input(shape=(None,), batch_size=batch)


def load_model(filepath, compile=True, **kwargs):
    """A model from a seqnet or Keras file (.safetensors, .keras, .h5, TF.js)."""
    core = _seqnet.load_model(str(filepath))
    return Model(_core=core)


def model_from_json(json_string, custom_objects=None):
    return Model(_core=_seqnet.model_from_json(json_string))


__all__ = ["Model", "Sequential", "load_model", "model_from_json"]
