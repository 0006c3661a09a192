"""Bot Framework's Storage on our database, so dialog and conversation state survive restarts."""

from __future__ import annotations

import asyncio
from typing import Any

import jsonpickle
from botbuilder.core import Storage

from scheduler.clock import Clock
from storage.conversations import EtagConflict, StateRepository

ETAG = "e_tag"


class SqlStorage(Storage):  # type: ignore[misc]  # botbuilder is untyped
    """E-tags as Bot Framework expects: a stale write raises instead of overwriting a newer one."""

    def __init__(self, repository: StateRepository, clock: Clock) -> None:
        super().__init__()
        self._repository = repository
        self._clock = clock

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if self._repository.reads_never_wait:
            rows = self._repository.read(list(keys))
        else:
            rows = await asyncio.to_thread(self._repository.read, list(keys))
        items: dict[str, Any] = {}
        for key, (data, etag) in rows.items():
            item = jsonpickle.decode(data, keys=True)
            _set_etag(item, str(etag))
            items[key] = item
        return items

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        for key, item in changes.items():
            etag = _get_etag(item)
            expected = None if etag in (None, "*") else int(etag)
            data = jsonpickle.encode(_without_etag(item), keys=True)
            try:
                new = await asyncio.to_thread(
                    self._repository.write, key, data, expected, self._clock.now()
                )
            except EtagConflict as error:
                raise KeyError(f"Etag conflict for {key}") from error
            _set_etag(item, str(new))

    async def delete(self, keys: list[str]) -> None:
        await asyncio.to_thread(self._repository.delete, list(keys))


def _get_etag(item: Any) -> str | None:
    value = item.get(ETAG) if isinstance(item, dict) else getattr(item, ETAG, None)
    if value == "":
        raise ValueError("e_tag missing")
    return value if value is None else str(value)


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item[ETAG] = etag
    elif hasattr(item, "__dict__"):
        item.e_tag = etag


def _without_etag(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if k != ETAG}
    return item
