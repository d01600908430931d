"""Runs one example listing unchanged, for the example tests.

    python run_listing.py LISTING.py

The listing runs with runpy as __main__, with its own folder first on
sys.path and sys.argv = [LISTING.py], as `python LISTING.py` runs it. Before
that, seqnet.keras.models.Model.fit is wrapped so that a quick version of a
long tutorial program can run; the environment says how:

  SEQNET_EXAMPLE_MAX_EPOCHS   each fit runs at most this many epochs
  SEQNET_EXAMPLE_MAX_SAMPLES  each fit trains on at most the first N samples
  SEQNET_EXAMPLE_MAX_FITS     each model trains in at most N fit calls; later
                              calls return an empty History at once (for the
                              listings that call fit thousands of times on
                              one sample each)
  SEQNET_EXAMPLE_HISTORY      a JSON file that receives one record per fit
                              that trained: {"model": index of the model in
                              the order models were first fitted, "name":
                              the model's name, "epochs": epochs asked,
                              "samples": training samples, "history":
                              History.history}; written also when the
                              listing fails
  SEQNET_EXAMPLE_SEED         seeds random, numpy.random and seqnet

Where matplotlib is not installed, a stand-in whose functions do nothing is
put in sys.modules so that plotting lines run (and draw nothing). Where
pandas is not installed, a stand-in with the little the echo listings use
(DataFrame(2-D array), .shift(n), .dropna(inplace=True), .values, and
concat(frames, axis=1)) is put in its place, computing what pandas computes.
"""

import importlib.util
import inspect
import json
import os
import random
import runpy
import sys
import types
import weakref

import numpy as np


def _env_int(name):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


# -- stand-ins for missing plotting / data-frame packages ---------------------

class _Nothing:
    """Any attribute, any call: itself. Plotting calls become no-ops."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __iter__(self):
        return iter(())


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Nothing()


def _stub_matplotlib():
    if importlib.util.find_spec("matplotlib") is not None:
        return
    mpl = _StubModule("matplotlib")
    mpl.__path__ = []
    pyplot = _StubModule("matplotlib.pyplot")
    mpl.pyplot = pyplot
    sys.modules["matplotlib"] = mpl
    sys.modules["matplotlib.pyplot"] = pyplot


class _DataFrame:
    """The part of pandas.DataFrame the echo listings use (2-D, numeric)."""

    def __init__(self, data):
        self._v = np.asarray(data)
        if self._v.ndim == 1:
            self._v = self._v[:, None]
        if self._v.ndim != 2:
            raise ValueError("DataFrame stand-in: 1-D or 2-D data only")

    def shift(self, periods=1):
        v = self._v.astype(np.float64)  # as pandas: a shift brings NaN, so floats
        out = np.full_like(v, np.nan)
        n = len(v)
        if periods >= 0:
            if periods < n:
                out[periods:] = v[:n - periods]
        else:
            if -periods < n:
                out[:n + periods] = v[-periods:]
        return _DataFrame(out)

    def dropna(self, inplace=False):
        keep = ~np.isnan(self._v.astype(np.float64)).any(axis=1)
        if inplace:
            self._v = self._v[keep]
            return None
        return _DataFrame(self._v[keep])

    @property
    def values(self):
        return self._v

    def __len__(self):
        return len(self._v)


def _concat(frames, axis=0):
    arrays = [f.values for f in frames]
    return _DataFrame(np.concatenate(arrays, axis=1 if axis in (1, "columns") else 0))


def _stub_pandas():
    if importlib.util.find_spec("pandas") is not None:
        return
    pd = types.ModuleType("pandas")
    pd.DataFrame = _DataFrame
    pd.concat = _concat
    sys.modules["pandas"] = pd


# -- the fit wrapper ----------------------------------------------------------

def _first(data, n):
    """The first n samples of x or y (an array or a list of arrays)."""
    if data is None:
        return None
    if isinstance(data, (list, tuple)):
        return type(data)(_first(d, n) for d in data)
    return data[:n] if len(data) > n else data


def _n_samples(data):
    if isinstance(data, (list, tuple)):
        return _n_samples(data[0]) if data else 0
    return len(data)


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _wrap_fit(records):
    from seqnet.keras import models
    from seqnet.keras.callbacks import History

    max_epochs = _env_int("SEQNET_EXAMPLE_MAX_EPOCHS")
    max_samples = _env_int("SEQNET_EXAMPLE_MAX_SAMPLES")
    max_fits = _env_int("SEQNET_EXAMPLE_MAX_FITS")
    original = models.Model.fit
    signature = inspect.signature(original)
    model_index = weakref.WeakKeyDictionary()
    fits_done = weakref.WeakKeyDictionary()
    counter = [0]

    def fit(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        arguments = bound.arguments
        if self not in model_index:
            model_index[self] = counter[0]
            counter[0] += 1
            fits_done[self] = 0
        if max_fits is not None and fits_done[self] >= max_fits:
            return History({}, [])
        fits_done[self] += 1
        epochs = arguments.get("epochs", signature.parameters["epochs"].default)
        if max_epochs is not None:
            epochs = min(int(epochs), max_epochs)
            arguments["epochs"] = epochs
        if max_samples is not None:
            arguments["x"] = _first(arguments.get("x"), max_samples)
            arguments["y"] = _first(arguments.get("y"), max_samples)
        history = original(*bound.args, **bound.kwargs)
        records.append({"model": model_index[self], "name": self.name, "epochs": int(epochs),
                        "samples": _n_samples(arguments.get("x")), "history": _plain(history.history)})
        return history

    fit.__doc__ = original.__doc__
    models.Model.fit = fit


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    listing = os.path.abspath(argv[1])
    seed = _env_int("SEQNET_EXAMPLE_SEED")
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed)
        from seqnet.keras import utils
        if hasattr(utils, "set_random_seed"):
            utils.set_random_seed(seed)
        else:
            from seqnet import _seqnet
            _seqnet.set_seed(seed)
    _stub_matplotlib()
    _stub_pandas()
    records = []
    _wrap_fit(records)
    out = os.environ.get("SEQNET_EXAMPLE_HISTORY")
    sys.argv = [listing]
    sys.path.insert(0, os.path.dirname(listing))
    try:
        runpy.run_path(listing, run_name="__main__")
    finally:
        if out:
            with open(out, "w") as f:
                json.dump(records, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
