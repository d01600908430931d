"""keras.utils: to_categorical."""

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encoding of integer class ids, as Keras's to_categorical."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: expected integer class ids, got dtype {y.dtype}")
    if y.size and (np.any(y < 0) or np.any(y != np.floor(y))):
        raise ValueError("to_categorical: class ids must be non-negative integers")
    ids = y.astype(np.int64)
    shape = ids.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    ids = ids.ravel()
    if num_classes is None:
        num_classes = int(ids.max()) + 1 if ids.size else 0
    if ids.size and ids.max() >= num_classes:
        raise ValueError(f"to_categorical: class id {int(ids.max())} is not below num_classes {num_classes}")
    out = np.zeros((ids.size, num_classes), dtype=dtype)
    out[np.arange(ids.size), ids] = 1
    return out.reshape(shape + (num_classes,))


def set_random_seed(seed):
    """Seeds seqnet's generator (weights, shuffling, dropout), as Keras's
    keras.utils.set_random_seed seeds Python's, NumPy's and the backend's."""
    from seqnet import _seqnet
    _seqnet.set_seed(int(seed))


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=True,
               rankdir="TB", expand_nested=False, dpi=96, **kwargs):
    """Keras's plot_model: the model's layers and connections drawn by
    Graphviz (PNG, SVG, PDF, JPG, GIF by the file's extension, or .dot)."""
    if kwargs:
        raise TypeError(f"plot_model() got an unexpected keyword argument '{next(iter(kwargs))}'")
    from seqnet import _seqnet
    _seqnet.plot_model(model._core, str(to_file), bool(show_shapes), bool(show_layer_names), rankdir, int(dpi))


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir="TB", dpi=96):
    """The Graphviz source plot_model renders, as text."""
    from seqnet import _seqnet
    return _seqnet.model_to_dot(model._core, bool(show_shapes), bool(show_layer_names), rankdir, int(dpi))


__all__ = ["to_categorical", "set_random_seed", "plot_model", "model_to_dot"]
