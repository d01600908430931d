"""The SpamAssassin public mail corpus (4150 ham, 1896 spam), shaped like
Keras's imdb.load_data: ((x_train, y_train), (x_test, y_test)) with x as
lists of word indices (1 = most frequent word in the training mails) and
y as 0 (ham) / 1 (spam). Stand-in for IMDB in the seed listings."""

import numpy as np

from seqnet import _seqnet


def load_data(num_words=None, test_split=0.5, seed=113, **kwargs):
    if kwargs:
        raise TypeError(f"load_data() got an unexpected keyword argument '{next(iter(kwargs))}'")
    x_train, y_train, x_test, y_test = _seqnet.spam_assassin_load_data(num_words, float(test_split), int(seed))
    return (_objects(x_train), np.array(y_train)), (_objects(x_test), np.array(y_test))


def _objects(seqs):
    """A 1-D object array of lists, as Keras's imdb.load_data returns."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


__all__ = ["load_data"]
