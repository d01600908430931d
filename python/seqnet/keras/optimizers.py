"""Keras optimizers: SGD, RMSprop, Adam, Adagrad, with Keras's arguments."""

import inspect


class Optimizer:
    _class_name = None

    def __init__(self, **config):
        if "lr" in config:  # Keras 2's old name
            config["learning_rate"] = config.pop("lr")
        self._config = config

    def get_config(self):
        return {"name": self._class_name, **self._config}

    @property
    def learning_rate(self):
        return self._config["learning_rate"]

    def serialize(self):
        return {"class_name": self._class_name, "config": self.get_config()}


def _optimizer(class_name, **defaults):
    def __init__(self, learning_rate=defaults["learning_rate"], *, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **kwargs):
        options = {k: kwargs.pop(k, v) for k, v in defaults.items() if k != "learning_rate"}
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        kwargs.pop("name", None)
        if kwargs:
            raise TypeError(f"{class_name}() got an unexpected keyword argument '{next(iter(kwargs))}'")
        Optimizer.__init__(self, learning_rate=float(learning_rate), clipnorm=clipnorm, clipvalue=clipvalue,
                           global_clipnorm=global_clipnorm, **options)

    cls = type(class_name, (Optimizer,), {"_class_name": class_name, "__init__": __init__,
                                          "__doc__": f"Keras's {class_name}; defaults {defaults}."})
    cls.__module__ = __name__
    return cls


SGD = _optimizer("SGD", learning_rate=0.01, momentum=0.0, nesterov=False)
RMSprop = _optimizer("RMSprop", learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)
Adam = _optimizer("Adam", learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)
Adagrad = _optimizer("Adagrad", learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a Keras name ('adam') or an optimizer object."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"unknown optimizer '{identifier}'; expected one of {', '.join(_BY_NAME)}")
        return _BY_NAME[key]()
    raise TypeError(f"an optimizer must be a name or a seqnet.keras.optimizers object, got {type(identifier).__name__}")


__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "Adagrad", "get"]
del inspect
