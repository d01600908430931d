"""Data sets. IMDB cannot be downloaded here; spam_assassin stands in for it
with the same load_data shape (the SpamAssassin mail corpus, which
scripts/install-deps installs; SEQNET_DATA_DIR points elsewhere)."""

from seqnet.keras.datasets import spam_assassin

__all__ = ["spam_assassin"]
