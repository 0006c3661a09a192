"""Meaning as vectors: the one interface every use of a sentence-embedding model goes through.

A deployment with access to a model hub may swap in another model; everything else in the bot
sees only `Embedder`. Vectors are float32, one row per text, L2-normalised, so a dot product is
the cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """A sentence-embedding model. `name` changes whenever vectors stop being comparable."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for questions people ask (shape: len(texts) x dim)."""
        ...

    def passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors for catalogue entries and examples (shape: len(texts) x dim)."""
        ...
