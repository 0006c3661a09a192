"""The HTTP app: /api/messages with its checks before any Bot Framework work, /healthz,
/metrics and the meetings' calendar files, behind one middleware that never answers 500 for
what a client sent."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from botbuilder.schema import Activity, ActivityTypes

from dialogs.buttons import is_view
from dialogs.limits import activity_field_problems
from dialogs.turn import tenant_of
from edge.wire import from_wire
from host.house import House, lifetime
from host.settings import is_loopback
from scheduler.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from storage.db import ping

logger = logging.getLogger("natverksboten")

MAX_BODY_BYTES = 256 * 1024
# Real activities nest a dozen levels; 20,000 would exhaust the parser's recursion.
MAX_JSON_DEPTH = 64
# A body trickling in slower than this holds a connection for nothing.
BODY_READ_SECONDS = 30.0


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def read_body(request: web.Request) -> bytes:
    """The whole body, however many TCP writes it came in, bounded in size and time.

    `StreamReader.read(n)` returns only what is buffered so far: a body that arrives in pieces
    (TLS records, proxies) would be cut short and refused, and Teams does not retry a 4xx.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_SECONDS):
            while True:
                chunk = await request.content.read(MAX_BODY_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BadRequest(413, f"body over {MAX_BODY_BYTES} bytes")
    except TimeoutError as error:
        raise BadRequest(408, "the body did not arrive in time") from error
    except BadRequest:
        raise
    except Exception as error:  # the client closed early or sent a broken chunked body
        raise BadRequest(400, "could not read the body") from error
    if request.content_length is not None and size != request.content_length:
        raise BadRequest(400, "body shorter than its Content-Length")
    return b"".join(chunks)


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """True when brackets nest deeper than `limit`, counted outside strings, before parsing."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


async def read_activity(request: web.Request) -> Activity:
    """What the stock CloudAdapter would answer with a 500 or wrongly accept, checked first."""
    content_type = request.headers.get("Content-Type", "")
    if "application/json" not in content_type.lower():
        raise BadRequest(415, "Content-Type must be application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadRequest(413, f"body over {MAX_BODY_BYTES} bytes")
    raw = await read_body(request)
    if json_depth_exceeds(raw, MAX_JSON_DEPTH):
        raise BadRequest(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadRequest(400, "body is not JSON") from error
    if not isinstance(body, dict):
        raise BadRequest(400, "body is not a JSON object")
    problems = _activity_problems(body)
    if problems:
        raise BadRequest(400, "; ".join(problems))
    try:
        activity = from_wire(Activity, body)
    except Exception as error:
        raise BadRequest(400, "not a valid Activity") from error
    return activity


_OPTIONAL_STRINGS = ("id", "text", "channelId", "locale", "replyToId", "name", "textFormat")
_OPTIONAL_OBJECTS = ("from", "recipient", "channelData")


def _activity_problems(body: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(body.get("type"), str) or not body["type"]:
        problems.append("type must be a non-empty string")
    conversation = body.get("conversation")
    if (
        not isinstance(conversation, dict)
        or not isinstance(conversation.get("id"), str)
        or not (conversation.get("id"))
    ):
        problems.append("conversation.id must be a non-empty string")
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("http://", "https://")):
        problems.append("serviceUrl must be an http(s) URL")
    for name in _OPTIONAL_STRINGS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            problems.append(f"{name} must be a string")
    for name in _OPTIONAL_OBJECTS:
        if name in body and body[name] is not None and not isinstance(body[name], dict):
            problems.append(f"{name} must be an object")
    for name in ("entities", "attachments", "membersAdded", "membersRemoved"):
        value = body.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(item, dict) for item in value)
        ):
            problems.append(f"{name} must be a list of objects")
    problems.extend(activity_field_problems(body))  # ids the database could not key on
    return problems


def _is_refresh(activity: Activity) -> bool:
    """A card's automatic refresh: an Action.Execute of a view that Teams sends by itself."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action")
    verb = action.get("verb") if isinstance(action, dict) else None
    return (
        activity.type == ActivityTypes.invoke
        and value.get("trigger") == "automatic"
        and isinstance(verb, str)
        and is_view(verb)
    )


def addressed_by(activity: Activity) -> str | None:
    """Who sent an activity addressed to the bot (a personal chat, a card, an @mention), as the
    message-rate limit counts them (dialogs/limits.py); None for talk among people in a group."""
    sender = activity.from_property
    if sender is None:
        return None
    who: str | None = getattr(sender, "aad_object_id", None) or sender.id
    if _is_refresh(activity):
        return None  # Teams refreshing a card someone looks at: nothing they sent
    if (activity.conversation.conversation_type or "personal") == "personal":
        return who
    if activity.type == ActivityTypes.invoke or activity.value is not None:
        return who
    recipient = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        mentioned = (entity.additional_properties or {}).get("mentioned") or {}
        if recipient and mentioned.get("id") == recipient:
            return who
    return None


def build_app(house: House) -> web.Application:
    settings = house.settings

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            activity = await read_activity(request)
        except BadRequest as bad:
            logger.info("refused a request: %s %s", bad.status, bad.reason)
            return _problem(bad.status, bad.reason)
        # Who may talk to the bot is decided before any token work (which costs a thread).
        tenant = tenant_of(activity)
        if settings.allowed_tenants and (tenant or "").lower() not in settings.allowed_tenants:
            logger.info("refused an activity from a tenant not allowed")
            return _problem(403, "tenant not allowed")
        if settings.app_id and not tenant:
            # Teams always names the tenant; without one nobody can tell a member from a
            # stranger, and the competence bank is for the network's members only.
            logger.info("refused an activity without a tenant")
            return _problem(403, "activity without a tenant")
        auth_header = request.headers.get("Authorization", "")
        try:
            auth = await house.adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except PermissionError as error:
            logger.info("refused an unauthenticated request: %s", type(error).__name__)
            return _problem(401, "unauthorized")
        except OSError as error:
            # requests' ConnectionError is an OSError: the sign-in keys could not be fetched,
            # so the token can be neither accepted nor blamed.
            logger.warning("could not verify a token: %s", type(error).__name__)
            return _problem(503, "cannot verify the token right now")
        except Exception as error:
            logger.info("refused an unauthenticated request: %s", type(error).__name__)
            return _problem(401, "unauthorized")
        claimed: bool | None = False
        if activity.id and activity.type in (ActivityTypes.message, ActivityTypes.invoke):
            at = house.clock.now()
            sender = addressed_by(activity)
            claimed = house.ledger.claim_without_waiting(
                activity.conversation.id, activity.id, at, sender
            )
            if claimed is None:
                claimed = await asyncio.to_thread(
                    house.ledger.claim, activity.conversation.id, activity.id, at, sender
                )
            if not claimed:
                logger.info(
                    "acknowledged a retried activity without handling it again",
                    extra={"activity_id": activity.id},
                )
                return web.Response(status=200)
        invoke_response = await house.adapter.process_activity(auth, activity, house.bot.on_turn)
        if invoke_response:
            return web.json_response(
                data=invoke_response.body if invoke_response.body is not None else {},
                status=invoke_response.status,
            )
        return web.Response(status=201)

    async def metrics(request: web.Request) -> web.Response:
        # Operational figures only, but still not for the whole network: with a token set, only
        # for its holder (a reverse proxy on the same host is loopback too); else loopback only.
        token = settings.metrics_token
        if token:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, f"Bearer {token}".encode()):
                return _problem(403, "metrics need the token")
        elif not is_loopback(request.remote or ""):
            return _problem(404, "metrics are served on loopback or with a token")
        body = await asyncio.to_thread(house.metrics.render)
        return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})

    async def healthz(_: web.Request) -> web.Response:
        if await asyncio.to_thread(ping, house.engine):
            return web.json_response({"status": "ok", "database": "ok"})
        return web.json_response({"status": "unavailable", "database": "unavailable"}, status=503)

    async def ics(request: web.Request) -> web.Response:
        # A booked meeting's calendar file; the unguessable token in the URL is the only key.
        found = await house.polls.ics(request.match_info["token"])
        if found is None:
            return _problem(404, "no such meeting")
        (plain, written), body = found
        disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(written)}"
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": disposition},
        )

    async def run(_: web.Application) -> AsyncIterator[None]:
        async for running in lifetime(house):
            yield running

    @web.middleware
    async def never_500_for_input(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            logger.exception("request failed", extra={"path": request.path})
            return _problem(500, "internal error")

    app = web.Application(middlewares=[never_500_for_input], client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/ics/{token}.ics", ics)
    app.cleanup_ctx.append(run)
    app["house"] = house
    return app
