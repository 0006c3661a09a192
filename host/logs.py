"""JSON-lines logging, written off the event loop."""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
from typing import Any


class JsonLines(logging.Formatter):
    """One JSON object per line; only the fields we put there on purpose (no message text)."""

    FIELDS = (
        "activity_id",
        "conversation_id",
        "activity_type",
        "capability",
        "duration_ms",
        "path",
        "job",
        "reminder_id",
        "status",
    )

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _RecordQueue(logging.handlers.QueueHandler):
    """Hands each record to the writer thread as it is: formatting and the write to stderr (a
    pipe that may be slow to drain) happen there, not on the event loop in the middle of a turn."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record  # same process: no need to flatten it for pickling


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.handlers.QueueListener(records, handler)
    writer.start()
    atexit.register(writer.stop)  # writes what is queued before the process ends
    root = logging.getLogger()
    root.handlers[:] = [_RecordQueue(records)]
    root.setLevel(level)
    # botbuilder and msrest log request bodies at DEBUG/INFO; keep them quiet above DEBUG.
    for noisy in (
        "msrest",
        "botbuilder",
        "botframework",
        "urllib3",
        "aiohttp.access",
        "msal",
        "apscheduler",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
