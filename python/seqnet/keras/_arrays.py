"""Conversion of user data to the float32 C-ordered arrays the core takes."""

import numpy as np


def as_float32(x, what):
    """One array as float32, C-contiguous (copied only where the dtype or
    the layout needs it). Booleans, integers and floats convert as Keras
    converts them; object, complex and string arrays raise TypeError."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what}: expected a numeric array (bool, int or float), got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.float32)


def as_list(x, what, count):
    """`count` float32 arrays from one array (count 1) or a list of them."""
    if x is None:
        return []
    if isinstance(x, dict):
        raise TypeError(f"{what}: a dict of arrays must be keyed by the model's input or output names")
    if isinstance(x, (list, tuple)) and (count > 1 or (len(x) == 1 and isinstance(x[0], np.ndarray))):
        if len(x) != count:
            raise ValueError(f"{what}: expected {count} array{'s' if count != 1 else ''} (one per model "
                             f"{'input' if 'x' in what else 'output'}), got {len(x)}")
        return [as_float32(a, f"{what}[{i}]") for i, a in enumerate(x)]
    if count != 1:
        raise ValueError(f"{what}: the model has {count} {'inputs' if 'x' in what else 'outputs'}, so pass a list of "
                         f"{count} arrays")
    return [as_float32(x, what)]


def check_finite(arrays, what):
    """Raises ValueError naming the array and the first position of a NaN or
    Inf (training on them would turn every weight into NaN)."""
    for i, a in enumerate(arrays):
        bad = ~np.isfinite(a)
        if bad.any():
            pos = tuple(int(v) for v in np.argwhere(bad)[0])
            raise ValueError(f"{what}[{i}] holds {a[pos]} at index {pos}; the data must be finite")
