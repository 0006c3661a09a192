"""Stand-ins for what cannot run here: the wall clock and Microsoft's Bot Connector service."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web


@dataclass
class FakeClock:
    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current = self.current + timedelta(**delta)
        return self.current

    async def sleep(self, seconds: float) -> None:
        """What the bot waits (Teams' Retry-After, the send limiter's spacing) passes on this
        clock at once: nothing in a test waits in real time."""
        await asyncio.sleep(0)
        # rounded up to the clock's microsecond: a wait of 2e-7 s (float rounding of a stored
        # time) must still move the clock, or the waiter asks again at the same moment forever
        self.current = self.current + timedelta(microseconds=max(math.ceil(seconds * 1e6), 1))


@dataclass
class Sent:
    method: str
    path: str
    conversation_id: str
    body: dict[str, Any]
    id: str = ""  # the activity id the connector gave a posted message

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            a.get("content") or {}
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass
class FakeConnector:
    """A tiny Bot Connector: records what the bot sends; can answer 429/403 on demand."""

    sent: list[Sent] = field(default_factory=list)
    # conversation id -> queue of (status, headers) to answer before succeeding
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Teams user id -> the account as the member lookup answers it (email, userPrincipalName,
    # aadObjectId, ...); anyone else gets 404, as from Teams for someone not in the chat.
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    member_lookups: list[str] = field(default_factory=list)
    url: str = ""
    # Every Adaptive Card the bot sends through this connector is checked against the 1.5 schema
    # and Teams' rules; the `connector` fixture fails a test that sent an invalid one.
    invalid_cards: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _new_message: asyncio.Event | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put)
        app.router.add_get("/v3/conversations/{cid}/members", self._members)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged_members)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self._member)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        queued = self.failures.get(cid)
        if queued:
            status, headers = queued.pop(0)
            return web.json_response(
                {"error": {"code": str(status)}}, status=status, headers=headers
            )
        body = await request.json()
        self._check_cards(body)
        sent_id = f"sent-{next(self._ids)}"
        self.sent.append(Sent("POST", request.path, cid, body, sent_id))
        if self._new_message:
            self._new_message.set()
        return web.json_response({"id": sent_id})

    async def _put(self, request: web.Request) -> web.Response:
        queued = self.failures.get(request.match_info["cid"])
        if queued:
            status, headers = queued.pop(0)
            return web.json_response(
                {"error": {"code": str(status)}}, status=status, headers=headers
            )
        body = await request.json()
        self._check_cards(body)
        self.sent.append(Sent("PUT", request.path, request.match_info["cid"], body))
        return web.json_response({"id": request.match_info["aid"]})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        member = (body.get("members") or [{}])[0]
        cid = f"personal-{member.get('id', next(self._ids))}"
        self.sent.append(Sent("CREATE", request.path, cid, body))
        return web.json_response({"id": cid, "serviceUrl": self.url})

    async def _members(self, request: web.Request) -> web.Response:
        return web.json_response(self.members.get(request.match_info["cid"], []))

    async def _member(self, request: web.Request) -> web.Response:
        user_id = request.match_info["uid"]
        self.member_lookups.append(user_id)
        person = self.people.get(user_id)
        if person is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}},
                status=404,
            )
        return web.json_response({"id": user_id, **person})

    async def _paged_members(self, request: web.Request) -> web.Response:
        return web.json_response({"members": self.members.get(request.match_info["cid"], [])})

    def _check_cards(self, body: dict[str, Any]) -> None:
        from tests.cardcheck import card_problems, cards_in

        for card in cards_in(body):
            self.invalid_cards.extend(card_problems(card))

    # --- reading what was sent ------------------------------------------------------
    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [
            s.text
            for s in self.sent
            if s.method == "POST"
            and (conversation_id is None or s.conversation_id == conversation_id)
        ]

    def messages(self, conversation_id: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if s.method in ("POST", "PUT")
            and s.body.get("type") == "message"
            and (conversation_id is None or s.conversation_id == conversation_id)
        ]

    def clear(self) -> None:
        self.sent.clear()
