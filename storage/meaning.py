"""Meaning-based search: catalogue entries as vectors, stored, kept current, fused with words.

Each searchable entry (a course, a consenting contact) has one vector in ``entry_vector``,
computed by the `Embedder` when the entry is imported or changed and stored with the model's
name and a digest of the text embedded. At start the stored vectors are read, never recomputed:
only entries without one (or with a changed text, or from another model) are embedded, a few at
once at start and many (a 100,000-course import) by a background thread, batch by batch, each
batch committed and searchable at once. Until an entry has its vector, only its words find it.

In memory the vectors are kept as float16 (half the size of float32); above a few thousand
entries a question is first compared with a 64-dimensional projection of them (float32, the
catalogue's principal directions) and only the best few hundred are compared in full, so a
question over 100,000 courses reads 26 MB, not 150.

How a question and an entry are judged alike is relative to the catalogue: besides the cosine
similarity, each match has a z-score, how far above the question's mean similarity to the whole
catalogue it lies (in standard deviations). Both moments are exact and cheap (the catalogue's
mean vector and covariance matrix), and the z-score is what says "this is really about that",
whatever the question's length or language.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Integer, LargeBinary, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.db import rowcount
from storage.embeddings import Embedder, Vectors
from storage.models import Base

logger = logging.getLogger(__name__)

BATCH = 32  # entries embedded and committed together
INLINE = 200  # at most this many missing vectors are computed before start-up goes on
COARSE_FROM = 4096  # entries above which a question is first compared in 64 dimensions
COARSE_DIM = 64
COARSE_KEEP = 400  # entries compared in full after the coarse pass


class EntryVector(Base):
    """The vector of one catalogue entry, as the named model computed it from the digested text."""

    __tablename__ = "entry_vector"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "course" | "contact"
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    model: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(32))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


class VectorStore:
    """The stored vectors of one kind of entry."""

    def __init__(self, sessions: sessionmaker[Session], kind: str) -> None:
        self._sessions = sessions
        self.kind = kind

    def load(self, model: str, dim: int) -> tuple[list[int], list[str], Vectors]:
        """Every stored vector of this model: ids, digests and the rows (float32)."""
        ids: list[int] = []
        digests: list[str] = []
        blobs: list[bytes] = []
        with self._sessions() as session:
            rows = session.execute(
                select(EntryVector.entry_id, EntryVector.digest, EntryVector.vector)
                .where(EntryVector.kind == self.kind, EntryVector.model == model)
                .execution_options(yield_per=5000)
            )
            for entry_id, text_digest, blob in rows:
                if len(blob) == 4 * dim:
                    ids.append(entry_id)
                    digests.append(text_digest)
                    blobs.append(blob)
        matrix = np.frombuffer(b"".join(blobs), dtype="<f4").astype(np.float32)
        return ids, digests, matrix.reshape(-1, dim)

    def save(self, model: str, ids: Sequence[int], digests: Sequence[str], rows: Vectors) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(EntryVector).where(
                    EntryVector.kind == self.kind, EntryVector.entry_id.in_(list(ids))
                )
            )
            session.add_all(
                EntryVector(kind=self.kind, entry_id=i, model=model, digest=d, vector=_blob(row))
                for i, d, row in zip(ids, digests, rows, strict=True)
            )

    def delete(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._sessions.begin() as session:
            for start in range(0, len(ids), 5000):
                session.execute(
                    delete(EntryVector).where(
                        EntryVector.kind == self.kind,
                        EntryVector.entry_id.in_(list(ids[start : start + 5000])),
                    )
                )

    def forget_other_models(self, model: str) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(EntryVector).where(EntryVector.kind == self.kind, EntryVector.model != model)
            )
            return rowcount(result)


def forget_entry(session: Session, kind: str, entry_id: int, slots: int = 1) -> None:
    """Inside a repository's own transaction: the entry's vectors go with the entry (``slots``:
    vectors per entry, keyed ``entry_id * slots + n``)."""
    first = entry_id * slots
    session.execute(
        delete(EntryVector).where(
            EntryVector.kind == kind,
            EntryVector.entry_id >= first,
            EntryVector.entry_id < first + slots,
        )
    )


@dataclass(frozen=True)
class Near:
    key: int
    similarity: float  # cosine
    z: float  # standard deviations above the question's mean similarity to the catalogue


class VectorIndex:
    """Vectors in memory by entry id: add, replace, remove, and the nearest to a question."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        self._rows = np.zeros((0, dim), dtype=np.float16)
        self._ids = np.zeros(0, dtype=np.int64)
        self._n = 0
        self._row_of: dict[int, int] = {}
        self.digests: dict[int, str] = {}
        self._sum = np.zeros(dim, dtype=np.float64)
        self._outer = np.zeros((dim, dim), dtype=np.float64)
        self._basis: npt.NDArray[np.float32] | None = None
        self._basis_n = 0
        self._coarse = np.zeros((0, COARSE_DIM), dtype=np.float32)
        self._version = 0  # changes with every put and remove
        self._moments_of = -1
        self._mean = np.zeros(dim, dtype=np.float64)
        self._second = np.zeros((dim, dim), dtype=np.float64)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: int) -> bool:
        return key in self._row_of

    def put(self, keys: Sequence[int], digests: Sequence[str], rows: Vectors) -> None:
        if not len(keys):
            return
        with self._lock:
            self._version += 1
            self._remove([k for k in keys if k in self._row_of])
            count = len(keys)
            self._reserve(self._n + count)
            half = rows.astype(np.float16)
            start, end = self._n, self._n + count
            self._rows[start:end] = half
            self._ids[start:end] = keys
            for offset, (key, text_digest) in enumerate(zip(keys, digests, strict=True)):
                self._row_of[key] = start + offset
                self.digests[key] = text_digest
            self._n = end
            exact = half.astype(np.float64)
            self._sum += exact.sum(axis=0)
            self._outer += exact.T @ exact
            if self._basis is not None:
                self._coarse[start:end] = half.astype(np.float32) @ self._basis
            self._rebasis_if_grown()

    def remove(self, keys: Sequence[int]) -> None:
        with self._lock:
            self._version += 1
            self._remove([k for k in keys if k in self._row_of])

    def _remove(self, keys: Sequence[int]) -> None:
        for key in keys:
            row = self._row_of.pop(key)
            del self.digests[key]
            exact = self._rows[row].astype(np.float64)
            self._sum -= exact
            self._outer -= np.outer(exact, exact)
            last = self._n - 1
            if row != last:  # the last row moves into the gap
                moved = int(self._ids[last])
                self._rows[row] = self._rows[last]
                self._ids[row] = moved
                if self._basis is not None:
                    self._coarse[row] = self._coarse[last]
                self._row_of[moved] = row
            self._n = last

    def reserve(self, size: int) -> None:
        """Room for ``size`` entries at once (a catalogue read at start), not by doubling."""
        with self._lock:
            self._reserve(size)

    def _reserve(self, size: int) -> None:
        if size <= len(self._rows):
            return
        capacity = max(size, 2 * len(self._rows), 64)
        rows = np.zeros((capacity, self.dim), dtype=np.float16)
        rows[: self._n] = self._rows[: self._n]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self._n] = self._ids[: self._n]
        self._rows, self._ids = rows, ids
        if self._basis is not None:
            coarse = np.zeros((capacity, COARSE_DIM), dtype=np.float32)
            coarse[: self._n] = self._coarse[: self._n]
            self._coarse = coarse

    def _rebasis_if_grown(self) -> None:
        """The catalogue's principal directions, worked out again whenever it has doubled."""
        n = self._n
        if n < COARSE_FROM or (self._basis is not None and n < 2 * self._basis_n):
            return
        mean = self._sum / n
        covariance = self._outer / n - np.outer(mean, mean)
        _, vectors = np.linalg.eigh(covariance)  # ascending eigenvalues
        basis = np.ascontiguousarray(vectors[:, ::-1][:, :COARSE_DIM], dtype=np.float32)
        coarse = np.zeros((len(self._rows), COARSE_DIM), dtype=np.float32)
        for start in range(0, n, 8192):
            end = min(n, start + 8192)
            coarse[start:end] = self._rows[start:end].astype(np.float32) @ basis
        self._basis, self._basis_n, self._coarse = basis, n, coarse

    def nearest(
        self, question: npt.NDArray[np.float32], limit: int = 30, among: Sequence[int] = ()
    ) -> tuple[list[Near], dict[int, Near]]:
        """The ``limit`` nearest entries, best first, and the entries of ``among`` (when known)."""
        with self._lock:
            n = self._n
            if n == 0:
                return [], {}
            q = np.asarray(question, dtype=np.float32).reshape(-1)
            mean, second = self._moments()
            centre = float(q @ mean)
            spread = max(float(q @ second @ q) - centre**2, 1e-8) ** 0.5
            if self._basis is None or n <= COARSE_KEEP:
                rows = np.arange(n)
                sims = self._rows[:n].astype(np.float32) @ q
            else:
                rough = self._coarse[:n] @ (q @ self._basis)
                keep = min(COARSE_KEEP, n)
                rows = np.argpartition(rough, n - keep)[n - keep :]
                sims = self._rows[rows].astype(np.float32) @ q
            take = min(limit, len(rows))
            best = np.argpartition(sims, len(sims) - take)[len(sims) - take :]
            best = best[np.lexsort((self._ids[rows[best]], -sims[best]))]
            zs = (sims[best] - centre) / spread
            found = [
                Near(int(self._ids[rows[i]]), float(sims[i]), float(z))
                for i, z in zip(best, zs, strict=True)
            ]
            keys = [key for key in among if key in self._row_of]
            known: dict[int, Near] = {}
            if keys:
                at = np.fromiter(
                    (self._row_of[key] for key in keys), dtype=np.int64, count=len(keys)
                )
                known_sims = (self._rows[at].astype(np.float32) @ q).tolist()
                for key, sim in zip(keys, known_sims, strict=True):
                    known[key] = Near(key, sim, (sim - centre) / spread)
            return found, known

    def _moments(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The catalogue's mean vector and second moment, worked out once per change."""
        if self._moments_of != self._version:
            n = self._n
            self._mean, self._second = self._sum / n, self._outer / n
            self._moments_of = self._version
        return self._mean, self._second


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def pending(self) -> int:
        return self.total - self.done


class Meanings:
    """The vectors of one kind of entry, kept current with the entries' texts.

    ``want(texts)`` says which entries exist now and what each says; vectors of entries gone are
    dropped, those missing or stale computed: at once when few, else by a background thread.
    """

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        *,
        answer_z: float | None = None,
        inline: int = INLINE,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.answer_z = answer_z  # see fuse(); None: ANSWER_Z
        self.inline = inline  # at most this many computed before want() returns
        self.index = VectorIndex(embedder.dim)
        self._lock = threading.RLock()
        self._loaded = False
        self._pending: dict[int, str] = {}  # id -> text, in the order to compute
        self._total = 0
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def kind(self) -> str:
        return self.store.kind

    def progress(self) -> Progress:
        with self._lock:
            return Progress(self._total - len(self._pending), self._total)

    def want(
        self,
        texts: Mapping[int, str],
        *,
        background: bool = True,
        report: Callable[[Progress], None] | None = None,
    ) -> Progress:
        """Bring the vectors in line with these entries (id -> text to embed)."""
        with self._lock:
            self._load_once()
            wanted = {key: digest(text) for key, text in texts.items()}
            gone = [key for key in self.index.digests if key not in wanted]
            if gone:
                self.index.remove(gone)
                self.store.delete(gone)
            have = self.index.digests
            self._pending = {key: texts[key] for key, d in wanted.items() if have.get(key) != d}
            self._total = len(wanted)
            missing = len(self._pending)
        if missing:
            logger.info("%s vectors: %d of %d to compute", self.kind, missing, len(wanted))
        if missing <= self.inline or not background:
            self.compute_pending(report)
        else:
            self._start_worker()
        return self.progress()

    def put(self, texts: Mapping[int, str], replacing: Sequence[int] = ()) -> None:
        """Entries added or changed now (a self-service edit): embedded at once. ``replacing``:
        keys whose vectors go (an entry's former vectors)."""
        stale = [key for key in replacing if key not in texts]
        if stale:
            self.drop(stale)
        fresh = {k: t for k, t in texts.items() if self.index.digests.get(k) != digest(t)}
        if not fresh:
            return
        keys, digests = list(fresh), [digest(t) for t in fresh.values()]
        rows = self.embedder.passages(list(fresh.values()))
        self.store.save(self.embedder.name, keys, digests, rows)
        self.index.put(keys, digests, rows)

    def drop(self, keys: Sequence[int]) -> None:
        self.index.remove(keys)
        self.store.delete(keys)

    def _load_once(self) -> None:
        if self._loaded:
            return
        started = time.perf_counter()
        dropped = self.store.forget_other_models(self.embedder.name)
        ids, digests, rows = self.store.load(self.embedder.name, self.embedder.dim)
        self.index.reserve(len(ids))
        for start in range(0, len(ids), 8192):
            end = start + 8192
            self.index.put(ids[start:end], digests[start:end], rows[start:end])
        self._loaded = True
        logger.info(
            "%s vectors: %d read in %.2f s%s",
            self.kind,
            len(ids),
            time.perf_counter() - started,
            f" ({dropped} of another model dropped)" if dropped else "",
        )

    def compute_pending(self, report: Callable[[Progress], None] | None = None) -> int:
        """Embed every pending entry, a batch at a time (each committed); returns how many."""
        computed = 0
        last_log = time.monotonic()
        while not self._stopping.is_set():
            with self._lock:
                batch = list(self._pending.items())[:BATCH]
            if not batch:
                break
            keys = [key for key, _ in batch]
            digests = [digest(text) for _, text in batch]
            rows = self.embedder.passages([text for _, text in batch])
            try:
                self.store.save(self.embedder.name, keys, digests, rows)
            except IntegrityError:  # another process stored the same entries meanwhile
                logger.info("%s vectors: a batch was stored by another process", self.kind)
            with self._lock:
                for key, (_, text) in zip(keys, batch, strict=True):
                    if self._pending.get(key) == text:
                        del self._pending[key]
                self.index.put(keys, digests, rows)
            computed += len(keys)
            progress = self.progress()
            if report is not None:
                report(progress)
            if time.monotonic() - last_log >= 10 or not progress.pending:
                last_log = time.monotonic()
                logger.info(
                    "%s vectors: %d of %d computed", self.kind, progress.done, progress.total
                )
        return computed

    def _start_worker(self) -> None:
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                return  # it takes the new pending set on its next batch
            self._worker = threading.Thread(
                target=self.compute_pending, name=f"{self.kind}-vectors", daemon=True
            )
            self._worker.start()

    def stop(self) -> None:
        self._stopping.set()

    def wait(self, timeout: float | None = None) -> Progress:
        """Until the background computation (if any) has finished; how far it came."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self.progress()

    def nearest(
        self, question: npt.NDArray[np.float32], limit: int = 30, among: Sequence[int] = ()
    ) -> tuple[list[Near], dict[int, Near]]:
        return self.index.nearest(question, limit, among)

    def question_vector(
        self, text: str, given: npt.NDArray[np.float32] | None
    ) -> npt.NDArray[np.float32] | None:
        """The question's vector: the one the turn's reading computed, else embedded here."""
        if not len(self.index):
            return None
        if given is not None:
            return np.asarray(given, dtype=np.float32).reshape(-1)
        vector: npt.NDArray[np.float32] = self.embedder.queries([text])[0]
        return vector


# --- fusion ----------------------------------------------------------------------------------

SEMANTIC_WEIGHT = 0.5  # a meaning match's weight against the words' (each scaled to 0..1)
SEMANTIC_SPAN = 3.0  # z-scores from SHOW_Z to SHOW_Z + this count from nothing to fully
SHOW_Z = 2.0  # a meaning match this far above the catalogue's mean joins the words' hits
RELATIVE_Z = 0.8  # a meaning match alone must reach this share of the best one's z-score
ANSWER_Z = 3.45  # without any word match, a meaning match must be this strong to be an answer


@dataclass(frozen=True)
class Fused:
    key: Hashable
    score: float
    lexical_rank: int | None  # 1-based, None when no word matched
    near: Near | None


def fuse(
    lexical: Sequence[tuple[Hashable, float]],
    near: Sequence[Near],
    known: Mapping[int, Near],
    *,
    show_z: float | None = None,
    answer_z: float | None = None,
    semantic_weight: float | None = None,
    lexical_strength: float = 1.0,
) -> list[Fused]:
    """Words' hits (key and score, best first) and meaning's nearest, as one best-first list.

    A blend of the two evidences: a word hit counts its score over the best word hit's (so the
    index's fine distinctions, "webbkurs" preferring a web course, survive); a meaning match
    adds ``semantic_weight`` times how far its z-score lies above ``show_z`` (up to
    SEMANTIC_SPAN), so a weak meaning match stays weak however weak the others are; below
    ``show_z`` it adds nothing. Without any word hit, the question is answered only by a
    meaning match that stands out clearly (``answer_z``); else it has no answer, which the
    caller says honestly. ``lexical_strength`` (0..1) scales the words' side: how much of the
    question the best word hit answers, so a hit on one word of two does not outweigh a meaning
    match that stands out.
    """
    show_z = SHOW_Z if show_z is None else show_z
    answer_z = ANSWER_Z if answer_z is None else answer_z
    weight = SEMANTIC_WEIGHT if semantic_weight is None else semantic_weight
    by_key: dict[Hashable, Near] = {n.key: n for n in near}
    by_key.update(known.items())
    best_z = max((n.z for n in by_key.values()), default=0.0)
    if not lexical and best_z < answer_z:
        return []
    best_lexical = max((score for _, score in lexical), default=0.0) or 1.0
    scores: dict[Hashable, tuple[float, int | None]] = {}
    for rank, (key, score) in enumerate(lexical, start=1):
        scores[key] = (lexical_strength * score / best_lexical, rank)
    # a meaning match alone (no word hit) must also be near the best one, as in the words' index
    floor_alone = max(show_z, best_z * RELATIVE_Z)
    for key, found in by_key.items():
        if found.z < show_z or (key not in scores and found.z < floor_alone):
            continue
        part, word_rank = scores.get(key, (0.0, None))
        scores[key] = (part + weight * min(1.0, (found.z - show_z) / SEMANTIC_SPAN), word_rank)
    fused = [
        Fused(key, round(score, 6), rank, by_key.get(key)) for key, (score, rank) in scores.items()
    ]
    fused.sort(
        key=lambda f: (
            -f.score,
            f.lexical_rank if f.lexical_rank is not None else 10**9,
            -(f.near.similarity if f.near else 0.0),
        )
    )
    return fused
