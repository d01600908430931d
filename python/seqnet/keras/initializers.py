"""Keras weight initializers, as objects for layers' *_initializer arguments
(strings such as 'glorot_uniform' work too). seqnet draws from its own
seeded generator (seqnet.keras.utils.set_random_seed), so `seed` is accepted
and ignored, as seqnet's config reader does."""


class Initializer:
    class_name = None

    def __init__(self, **config):
        self._config = config

    def get_config(self):
        return dict(self._config)

    def __repr__(self):
        return f"{self.class_name}({self._config})"


def _initializer(class_name, **defaults):
    def __init__(self, *args, **kwargs):
        names = list(defaults)
        if len(args) > len(names):
            raise TypeError(f"{class_name}() takes at most {len(names)} positional arguments")
        config = dict(defaults)
        for k, v in zip(names, args):
            config[k] = v
        for k, v in kwargs.items():
            if k not in defaults and k != "seed":
                raise TypeError(f"{class_name}() got an unexpected keyword argument '{k}'")
            config[k] = v
        Initializer.__init__(self, **config)

    cls = type(class_name, (Initializer,), {"class_name": class_name, "__init__": __init__})
    cls.__module__ = __name__
    return cls


Zeros = _initializer("Zeros")
Ones = _initializer("Ones")
Constant = _initializer("Constant", value=0.0)
RandomNormal = _initializer("RandomNormal", mean=0.0, stddev=0.05)
RandomUniform = _initializer("RandomUniform", minval=-0.05, maxval=0.05)
TruncatedNormal = _initializer("TruncatedNormal", mean=0.0, stddev=0.05)
GlorotUniform = _initializer("GlorotUniform")
GlorotNormal = _initializer("GlorotNormal")
HeUniform = _initializer("HeUniform")
HeNormal = _initializer("HeNormal")
LecunUniform = _initializer("LecunUniform")
LecunNormal = _initializer("LecunNormal")
Orthogonal = _initializer("Orthogonal", gain=1.0)
Identity = _initializer("Identity", gain=1.0)

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal",
           "Identity"]
