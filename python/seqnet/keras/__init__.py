"""The parts of Keras the seed tutorials use, on seqnet's C++ core.

A tutorial listing runs after changing only its imports:
``from keras.models import Sequential`` becomes
``from seqnet.keras.models import Sequential``, ``import keras`` becomes
``import seqnet.keras as keras``.
"""

from seqnet.keras import callbacks, datasets, initializers, layers, losses, metrics, mixed_precision, models, optimizers, preprocessing, regularizers, utils
from seqnet.keras.layers import Input
from seqnet.keras.models import Model, Sequential

__all__ = ["callbacks", "datasets", "initializers", "layers", "losses", "metrics", "mixed_precision", "models", "optimizers", "preprocessing", "regularizers",
           "utils", "Input", "Model", "Sequential"]
