"""Floors for catalogue search on the tune half of the frozen question set (storage level).

The held-out half is measured by bench/search_quality.py and never asserted or tuned on.
Figures at the time of writing: courses 36/45 first, 37/45 among three, 17/17 no-answer;
contacts 33/37, 33/37, 11/11 (words only: 36/45, 36/45, 17/17 and 29/37, 29/37, 11/11).
"""

from __future__ import annotations

from bench.search_quality import measure


def test_tune_half_floors() -> None:
    tallies = measure(words_only=False, show_misses=False)  # fails if anyone without consent
    courses, contacts = tallies[("tune", "course")], tallies[("tune", "contact")]
    assert (courses.asked, contacts.asked) == (45, 37)
    assert courses.first >= 36 and courses.top3 >= 37
    assert courses.none_right == courses.none_asked == 17
    assert contacts.first >= 33 and contacts.top3 >= 33
    assert contacts.none_right == contacts.none_asked == 11
