"""The search index: kept up to date in place, it answers as one built afresh."""

from __future__ import annotations

from dataclasses import replace

from storage.courses import FIELD_WEIGHTS, CourseView
from storage.search import Hit, SearchIndex
from tests.course_questions import demo_courses, read_questions


def put(index: SearchIndex[CourseView], course: CourseView) -> None:
    fields = {
        "title": course.title,
        "topics": course.topics,
        "audiences": course.audiences,
        "format": course.format,
        "description": course.description,
    }
    index.add(course.id, course, fields, {"audience": course.audiences})


def answers(index: SearchIndex[CourseView]) -> dict[str, list[tuple[object, float, float]]]:
    """Every question's hits (which, score, coverage); asking also fills what a question
    works out on first use, which a later change must not leave stale."""
    found: dict[str, list[tuple[object, float, float]]] = {}
    for question in read_questions():
        hits: list[Hit[CourseView]] = index.search(question.text, limit=0)
        found[question.text] = [(hit.key, hit.score, hit.coverage) for hit in hits]
    return found


def afresh(index: SearchIndex[CourseView]) -> SearchIndex[CourseView]:
    # Equal scores rank the earlier key first: add in the same order.
    fresh: SearchIndex[CourseView] = SearchIndex(FIELD_WEIGHTS, audience_facet="audience")
    for course in index.items():
        put(fresh, course)
    return fresh


def test_an_index_changed_in_place_answers_as_one_built_afresh() -> None:
    courses = demo_courses()
    copies = [replace(course, id=course.id + 1000) for course in courses]  # values shared
    index: SearchIndex[CourseView] = SearchIndex(FIELD_WEIGHTS, audience_facet="audience")
    for number, course in enumerate(courses + copies):
        other = courses[(number + 7) % len(courses)]
        put(index, replace(course, title=other.title, description=other.description))
    assert answers(index) == answers(afresh(index))

    for course in copies[::3] + courses[1::3]:
        index.remove(course.id)
    assert answers(index) == answers(afresh(index))

    for course in courses + copies[1::2]:
        put(index, course)
    assert answers(index) == answers(afresh(index))

    for course in [copy for copy in copies if copy.id not in index]:
        put(index, course)
    assert len(index) == len(courses) + len(copies)
    assert answers(index) == answers(afresh(index))
