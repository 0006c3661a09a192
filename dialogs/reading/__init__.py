"""One reading of every message: intents with confidence and the entities in it.

`Reader.read(text, memory, ...)` runs once per incoming message, before any capability sees it:

1. Rules settle the unambiguous command forms ("mina påminnelser", "ta bort påminnelse 2",
   "lägg till mig i kompetensbanken", "remind me on Friday at 3pm to ...").
2. The conversation's memory (what the last answer was about, a question the bot asked) reads
   follow-ups ("och i Alingsås?", "visa fler", "den andra") and free answers ("eftermiddag").
3. Otherwise the nearest of the example utterances in dialogs/examples.py decides, by a
   sentence-embedding model (storage/embeddings.py) run on a worker thread; its vector is kept
   on the reading so catalogue search need not compute it again.

Entities are read every time: municipality (storage/municipalities.py), audience roles and the
topic (storage/language.py), the time expression (scheduler/when.py), mentioned people, numbers
and ordinals, yes/no, group names in command forms. Nothing here answers or stores anything.

The parts: model.py (Intent, Reading, Memory), rules.py (the command forms and word helpers),
example_index.py (the example utterances as vectors) and reader.py (Reader, shared_reader).
"""

from dialogs.reading.example_index import ExampleIndex
from dialogs.reading.model import MEMORY_MINUTES, SEARCHES, SMALL_TALK, Intent, Memory, Reading
from dialogs.reading.reader import (
    COMMAND_MARGIN,
    COMMAND_MIN,
    SMALL_TALK_MIN,
    Reader,
    shared_reader,
)
from dialogs.reading.rules import asks_for_course, reminder_parts

__all__ = [
    "COMMAND_MARGIN",
    "COMMAND_MIN",
    "MEMORY_MINUTES",
    "SEARCHES",
    "SMALL_TALK",
    "SMALL_TALK_MIN",
    "ExampleIndex",
    "Intent",
    "Memory",
    "Reader",
    "Reading",
    "asks_for_course",
    "reminder_parts",
    "shared_reader",
]
