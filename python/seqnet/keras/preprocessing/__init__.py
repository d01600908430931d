"""keras.preprocessing: sequence.pad_sequences."""

from seqnet.keras.preprocessing import sequence

__all__ = ["sequence"]
