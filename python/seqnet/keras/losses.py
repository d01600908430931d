"""Keras losses, by name or as objects."""

_NAMES = {
    "mse": "mse", "mean_squared_error": "mse", "mae": "mae", "mean_absolute_error": "mae",
    "categorical_crossentropy": "categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "binary_crossentropy": "binary_crossentropy", "huber": "huber", "huber_loss": "huber",
}


class Loss:
    def __init__(self, name, **config):
        self.name, self._config = name, config

    def serialize(self):
        if not self._config:
            return self.name
        return {"class_name": "Huber", "config": {"name": "huber_loss", **self._config}}


def MeanSquaredError():
    return Loss("mse")


def MeanAbsoluteError():
    return Loss("mae")


def CategoricalCrossentropy(from_logits=False):
    if from_logits:
        raise ValueError("CategoricalCrossentropy: from_logits=True is not supported; end the model with softmax")
    return Loss("categorical_crossentropy")


def SparseCategoricalCrossentropy(from_logits=False):
    if from_logits:
        raise ValueError("SparseCategoricalCrossentropy: from_logits=True is not supported; end the model with softmax")
    return Loss("sparse_categorical_crossentropy")


def BinaryCrossentropy(from_logits=False):
    if from_logits:
        raise ValueError("BinaryCrossentropy: from_logits=True is not supported; end the model with sigmoid")
    return Loss("binary_crossentropy")


def Huber(delta=1.0):
    return Loss("huber", delta=float(delta))


def serialize(loss):
    if isinstance(loss, Loss):
        return loss.serialize()
    if isinstance(loss, str):
        if loss not in _NAMES:
            raise ValueError(f"unknown loss '{loss}'; expected one of {', '.join(sorted(_NAMES))}")
        return loss
    raise TypeError(f"a loss must be a name or a seqnet.keras.losses object, got {type(loss).__name__}")


mse = mean_squared_error = "mse"
mae = mean_absolute_error = "mae"
categorical_crossentropy = "categorical_crossentropy"
sparse_categorical_crossentropy = "sparse_categorical_crossentropy"
binary_crossentropy = "binary_crossentropy"
