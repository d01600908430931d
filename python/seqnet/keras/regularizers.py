"""Keras weight regularizers: l1, l2, l1_l2 (and L1, L2, L1L2)."""


class Regularizer:
    def __init__(self, class_name, **config):
        self.class_name, self._config = class_name, config

    def get_config(self):
        return dict(self._config)

    def __repr__(self):
        return f"{self.class_name}({self._config})"


def L1(l1=0.01):
    return Regularizer("L1", l1=float(l1))


def L2(l2=0.01):
    return Regularizer("L2", l2=float(l2))


def L1L2(l1=0.0, l2=0.0):
    return Regularizer("L1L2", l1=float(l1), l2=float(l2))


def l1(l1=0.01):
    return L1(l1)


def l2(l2=0.01):
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


def serialize(v):
    """A regularizer argument as the config the layers read."""
    if v is None:
        return None
    if isinstance(v, str):
        makers = {"l1": L1, "l2": L2, "l1_l2": l1_l2}
        if v not in makers:
            raise ValueError(f"unknown regularizer '{v}'; expected one of {', '.join(makers)}")
        v = makers[v]()
    if isinstance(v, Regularizer):
        return {"class_name": v.class_name, "config": v.get_config()}
    if isinstance(v, dict):
        return v
    raise TypeError(f"a regularizer must be None, a name or a seqnet.keras.regularizers object, got {type(v).__name__}")
