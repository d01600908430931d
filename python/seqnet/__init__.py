"""seqnet: recurrent sequence models on a C++ core.

``import seqnet.keras as keras`` gives the Keras API the tutorials use
(models, layers, optimizers, losses, callbacks, utils, preprocessing).
"""

from seqnet import _seqnet  # noqa: F401  (the C++ core)

__version__ = "0.1.0"
