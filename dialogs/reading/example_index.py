"""The model part: the example utterances of dialogs/examples.py as vectors."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from storage.embeddings import Embedder, Vectors

logger = logging.getLogger(__name__)


class ExampleIndex:
    """The example utterances as vectors: computed once (cached on disk), then shared."""

    def __init__(
        self, embedder: Embedder, examples: dict[str, tuple[str, ...]], cache: Path | None
    ) -> None:
        self._embedder = embedder
        self._examples = examples
        self._cache = cache
        self._lock = threading.Lock()
        self._matrix: Vectors | None = None
        self._labels: list[str] = []
        self._queries: OrderedDict[str, Vectors] = OrderedDict()
        self._query_lock = threading.Lock()

    def _fingerprint(self) -> str:
        data = json.dumps([self._embedder.name, self._examples], sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:16]

    def ready(self) -> tuple[Vectors, list[str]]:
        """The example matrix; computes (or reads) it on first use. Blocking: use a thread."""
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    labels = [i for i, texts in self._examples.items() for _ in texts]
                    texts = [t for ts in self._examples.values() for t in ts]
                    matrix = self._read_cache(len(texts))
                    if matrix is None:
                        matrix = self._embedder.queries(texts)
                        self._write_cache(matrix)
                    self._labels = labels
                    self._matrix = matrix
        assert self._matrix is not None
        return self._matrix, self._labels

    @property
    def is_ready(self) -> bool:
        return self._matrix is not None

    def vector(self, text: str) -> Vectors:
        """The question's vector (an LRU of recent questions). Blocking: use a thread."""
        key = " ".join(text.lower().split())
        with self._query_lock:
            found = self._queries.get(key)
            if found is not None:
                self._queries.move_to_end(key)
                return found
        vector: Vectors = self._embedder.queries([text])[0]
        with self._query_lock:
            self._queries[key] = vector
            while len(self._queries) > 4096:
                self._queries.popitem(last=False)
        return vector

    def nearest(self, text: str) -> tuple[Vectors, list[tuple[str, float]]]:
        matrix, labels = self.ready()
        vector = self.vector(text)
        sims = matrix @ vector
        best: dict[str, float] = {}
        for label, sim in zip(labels, sims.tolist(), strict=True):
            if sim > best.get(label, -1.0):
                best[label] = sim
        return vector, sorted(best.items(), key=lambda kv: kv[1], reverse=True)

    def _cache_file(self) -> Path | None:
        return self._cache / f"intents-{self._fingerprint()}.npy" if self._cache else None

    def _read_cache(self, rows: int) -> Vectors | None:
        path = self._cache_file()
        if path is None or not path.exists():
            return None
        try:
            matrix = np.load(path)
        except (OSError, ValueError):
            return None
        if matrix.shape != (rows, self._embedder.dim):
            return None
        vectors: Vectors = matrix.astype(np.float32)
        return vectors

    def _write_cache(self, matrix: Vectors) -> None:
        path = self._cache_file()
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            with tmp.open("wb") as f:
                np.save(f, matrix)
            tmp.replace(path)
        except OSError:
            logger.warning("could not cache the intent examples", exc_info=True)
