"""Keras layers on seqnet's C++ layers.

Every layer is built from its Keras config by the C++ layer registry, so
each takes exactly the keyword arguments Keras spells (the names its config
has), with Keras's defaults; an argument the layer does not have raises
TypeError naming it, as Python does. The first layer of a Sequential model
may also take ``input_shape=``, ``batch_input_shape=``, ``batch_size=``,
``input_dim=`` and ``input_length=`` (Embedding), as in Keras.
"""

import json

from seqnet import _seqnet
from seqnet.keras import regularizers as _regularizers

__all__ = []

# Arguments about the model's input that Keras accepts on any first layer.
_INPUT_ARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "input_length")


class KerasTensor:
    """A symbolic tensor: the output of Input() or of a layer call."""

    def __init__(self, core):
        self._core = core

    @property
    def shape(self):
        return self._core.shape

    @property
    def name(self):
        return self._core.name

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} name={self.name}>"


def Input(shape=None, batch_size=None, name=None, batch_shape=None, dtype=None, **kwargs):
    """Keras's Input: `shape` without the batch axis (None for any length)."""
    if kwargs:
        raise TypeError(f"Input() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if dtype not in (None, "float32", "int32", "int64"):
        raise ValueError(f"Input: dtype must be float32 (or an integer type for ids), got {dtype!r}")
    if batch_shape is not None:
        if shape is not None:
            raise ValueError("Input: give shape or batch_shape, not both")
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    if shape is None:
        raise ValueError("Input: shape is required")
    if isinstance(shape, int):
        shape = (shape,)
    return KerasTensor(_seqnet.Input(list(shape), int(batch_size or 0), name or ""))


def _to_config_value(key, v):
    if isinstance(v, Layer):
        return {"class_name": v._class_name, "config": v.get_config()}
    if key == "dtype" and hasattr(v, "compute_dtype") and hasattr(v, "name"):  # a mixed_precision.Policy
        return v.name
    if key.endswith("regularizer"):
        return _regularizers.serialize(v)
    if isinstance(v, tuple):
        return [_to_config_value(key, e) for e in v]
    if hasattr(v, "get_config") and hasattr(v, "class_name"):  # an initializer object
        return {"class_name": v.class_name, "config": v.get_config()}
    return v


class Layer:
    """The base of every layer: holds the C++ layer."""

    _class_name = None
    _positional = ()
    _extra_args = ()  # Keras arguments the config leaves out

    def __init__(self, *args, **kwargs):
        cls = type(self).__name__
        if len(args) > len(self._positional):
            raise TypeError(f"{cls}() takes at most {len(self._positional)} positional argument"
                            f"{'s' if len(self._positional) != 1 else ''} ({len(args)} given)")
        for name, value in zip(self._positional, args):
            if name in kwargs:
                raise TypeError(f"{cls}() got multiple values for argument '{name}'")
            kwargs[name] = value
        popped = [k for k in _INPUT_ARGS if k in kwargs and k not in self._positional + self._extra_args]
        self._input_args = {k: kwargs.pop(k) for k in popped}
        if self._class_name == "Embedding" and "input_length" in kwargs:
            self._input_args["input_length"] = kwargs["input_length"]
        given = dict(kwargs)
        config = {k: _to_config_value(k, v) for k, v in kwargs.items() if k not in self._extra_args}
        self._core = _seqnet.layer_from_config(json.dumps({"class_name": self._class_name, "config": config}))
        known = set(json.loads(self._core.get_config_json())) | set(self._extra_args) | {"name", "trainable",
                                                                                         "dtype"}
        for k in given:
            if k not in known:
                raise TypeError(f"{cls}() got an unexpected keyword argument '{k}'")

    # -- Keras's Layer API
    @property
    def name(self):
        return self._core.name

    def get_config(self):
        return json.loads(self._core.get_config_json())

    @property
    def dtype_policy(self):
        from seqnet.keras.mixed_precision import Policy
        return Policy(self._core.dtype_policy_name)

    @property
    def compute_dtype(self):
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return "float32"

    @property
    def dtype(self):
        """The variables' dtype, as in Keras."""
        return self.variable_dtype

    def count_params(self):
        return self._core.count_params()

    def get_weights(self):
        return self._core.get_weights()

    def set_weights(self, weights):
        from seqnet.keras._arrays import as_float32
        self._core.set_weights([as_float32(w, f"{self.name}.set_weights") for w in weights])

    def reset_states(self):
        self._core.reset_states()

    @property
    def output(self):
        out = [KerasTensor(t) for t in self._core.output()]
        return out[0] if len(out) == 1 else out

    def __call__(self, inputs, initial_state=None, **kwargs):
        for k in kwargs:
            if k not in ("mask", "training"):
                raise TypeError(f"{type(self).__name__}.__call__() got an unexpected keyword argument '{k}'")
        as_list = isinstance(inputs, (list, tuple))
        ins = list(inputs) if as_list else [inputs]
        for i, t in enumerate(ins):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"{self.name}: input {i} must be a symbolic tensor (from Input() or a layer "
                                f"call), got {type(t).__name__}")
        states = []
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        out = [KerasTensor(t) for t in self._core.call([t._core for t in ins], as_list,
                                                       [s._core for s in states])]
        return out[0] if len(out) == 1 else out

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _layer(class_name, positional=(), extra=(), doc=None):
    cls = type(class_name, (Layer,), {"_class_name": class_name, "_positional": positional, "_extra_args": extra,
                                      "__doc__": doc or f"Keras's {class_name} (seqnet's C++ {class_name})."})
    cls.__module__ = __name__
    globals()[class_name] = cls
    __all__.append(class_name)
    return cls


_layer("Dense", ("units",))
_layer("Embedding", ("input_dim", "output_dim"), ("input_length",))
_layer("LSTM", ("units",))
_layer("GRU", ("units",))
_layer("SimpleRNN", ("units",))
_layer("Dropout", ("rate",))
_layer("Masking", ("mask_value",))
_layer("RepeatVector", ("n",))
_layer("Activation", ("activation",))
_layer("Flatten")
_layer("Reshape", ("target_shape",))
_layer("LayerNormalization")
_layer("Attention")
_layer("AdditiveAttention")
_layer("LuongAttention", ("units",))
_layer("AttentionDecoder", ("units", "output_dim"),
       doc="The seed tutorial's custom AttentionDecoder(units, output_dim) (Bahdanau attention decoder).")
_layer("Concatenate")
for _merge in ("Add", "Subtract", "Multiply", "Average", "Maximum"):
    _layer(_merge)
_layer("TimeDistributed", ("layer",))
_layer("Bidirectional", ("layer", "merge_mode"))


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


__all__ += ["Input", "Layer", "KerasTensor", "concatenate", "add"]
