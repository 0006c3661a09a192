"""Nätverksboten: composition root, HTTP endpoint and command line.

`python bot.py` serves the bot; `python bot.py --help` lists the other commands.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import dataclasses
import gc
import ipaddress
import json
import logging
import logging.handlers
import os
import queue
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState, TurnContext, UserState
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from dialogs.bot import NatverksBot
from dialogs.contacts import CompetenceBank, describe_contact_import
from dialogs.courses import CourseQuestions, describe_import
from dialogs.groups import WorkingGroups
from dialogs.polls import Polls
from dialogs.questions import Questions
from dialogs.reminders import RemindMe
from dialogs.state import SqlStorage
from dialogs.turn import Capability, tenant_of
from dialogs.wire import HttpSessions, from_wire, speed_up
from scheduler.clock import Clock, SystemClock
from scheduler.delivery import TeamsSender
from scheduler.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from scheduler.metrics import Metrics
from scheduler.nudges import NudgeService, SearchMatcher, make_scheduler
from storage.contacts import (
    ContactDirectory,
    ContactRepository,
    export_contacts,
    import_contacts,
    load_demo_contacts_if_empty,
)
from storage.conversations import ActivityLedger, ConversationRepository, StateRepository
from storage.courses import (
    CourseCatalogue,
    CourseRepository,
    export_courses,
    import_courses,
    load_demo_courses_if_empty,
)
from storage.db import make_engine, make_sessions, migrate, ping
from storage.groups import GroupRepository
from storage.polls import PollRepository
from storage.reminders import ReminderRepository

logger = logging.getLogger("natverksboten")

MAX_BODY_BYTES = 256 * 1024
# Real activities nest a dozen levels; 20,000 would exhaust the parser's recursion.
MAX_JSON_DEPTH = 64
# A body trickling in slower than this holds a connection for nothing.
BODY_READ_SECONDS = 30.0
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
SORRY = "Något gick fel hos mig. Försök igen om en stund."


# --- settings ------------------------------------------------------------------------------
class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _split(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    host: str = "127.0.0.1"
    port: int = 3978
    database_url: str = "sqlite:///natverksboten.db"
    allowed_tenants: frozenset[str] = frozenset()
    coordinators: frozenset[str] = frozenset()
    log_level: str = "INFO"
    metrics_token: str = ""
    public_url: str = ""
    retention_days: int = 90
    load_demo: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Validates everything at once and reports one line per bad value."""
        problems: list[str] = []

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        app_id = get("MicrosoftAppId")
        app_password = get("MicrosoftAppPassword")
        app_type_raw = get("MicrosoftAppType", "MultiTenant") or "MultiTenant"
        app_type = APP_TYPES.get(app_type_raw.lower(), "")
        tenant = get("MicrosoftAppTenantId")
        if not app_type:
            problems.append(
                f"MicrosoftAppType={app_type_raw!r} is not one of MultiTenant, SingleTenant, "
                "UserAssignedMSI."
            )
        if app_id and app_type in ("MultiTenant", "SingleTenant") and not app_password:
            problems.append(f"MicrosoftAppPassword is required when MicrosoftAppType={app_type}.")
        if app_id and app_type in ("SingleTenant", "UserAssignedMSI") and not tenant:
            problems.append(f"MicrosoftAppTenantId is required when MicrosoftAppType={app_type}.")
        if not app_id and app_password:
            problems.append("MicrosoftAppPassword is set but MicrosoftAppId is empty.")

        host = get("HOST", "127.0.0.1") or "127.0.0.1"
        port_raw = get("PORT", "3978") or "3978"
        port = 0
        try:
            port = int(port_raw)
            if not 0 <= port <= 65535:
                raise ValueError
        except ValueError:
            problems.append(f"PORT={port_raw!r} is not a port number (0-65535).")
        if not app_id and not is_loopback(host):
            problems.append(
                f"HOST={host} is not a loopback address, but MicrosoftAppId is empty, so the bot "
                "would accept unauthenticated requests from the network. Set MicrosoftAppId, "
                "MicrosoftAppPassword (and MicrosoftAppType/MicrosoftAppTenantId) from your Azure "
                "bot registration, or serve on HOST=127.0.0.1."
            )

        database_url = get("DATABASE_URL") or "sqlite:///natverksboten.db"
        try:
            backend = make_url(database_url).get_backend_name()
            if backend not in ("sqlite", "postgresql"):
                problems.append(
                    f"DATABASE_URL uses {backend!r}; use sqlite:/// or postgresql+psycopg://."
                )
        except ArgumentError:
            problems.append(
                "DATABASE_URL is not a database URL (e.g. sqlite:///natverksboten.db or "
                "postgresql+psycopg://user:password@host/db)."
            )

        log_level = (get("LOG_LEVEL", "INFO") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            problems.append(
                f"LOG_LEVEL={log_level!r} is not one of {', '.join(sorted(LOG_LEVELS))}."
            )

        retention_raw = get("RETENTION_DAYS", "90") or "90"
        retention = 90
        try:
            retention = int(retention_raw)
            if retention < 1:
                raise ValueError
        except ValueError:
            problems.append(
                f"RETENTION_DAYS={retention_raw!r} is not a whole number of days (1 or more)."
            )

        public_url = get("PUBLIC_URL").rstrip("/")
        if public_url and not public_url.startswith(("http://", "https://")):
            problems.append(f"PUBLIC_URL={public_url!r} must start with http:// or https://.")

        demo_raw = (get("LOAD_DEMO_DATA", "yes") or "yes").lower()
        if demo_raw not in ("yes", "no", "true", "false", "1", "0"):
            problems.append(f"LOAD_DEMO_DATA={demo_raw!r} must be yes or no.")

        if problems:
            raise SettingsError(problems)
        return cls(
            app_id=app_id,
            app_password=app_password,
            app_type=app_type,
            app_tenant_id=tenant,
            host=host,
            port=port,
            database_url=database_url,
            allowed_tenants=_split(get("ALLOWED_TENANTS")),
            coordinators=_split(get("COORDINATORS")),
            log_level=log_level,
            metrics_token=get("METRICS_TOKEN"),
            public_url=public_url or f"http://{host}:{port}",
            retention_days=retention,
            load_demo=demo_raw in ("yes", "true", "1"),
        )

    def bot_framework(self) -> Any:
        """The configuration object botbuilder's ConfigurationBotFrameworkAuthentication reads."""

        class Config:
            APP_ID = self.app_id
            APP_PASSWORD = self.app_password
            APP_TYPE = self.app_type
            APP_TENANTID = self.app_tenant_id

        return Config()


def read_env(environ: Mapping[str, str], dotenv: Path = Path(".env")) -> dict[str, str]:
    """The process environment over an optional .env file (the environment wins)."""
    values: dict[str, str] = {}
    if dotenv.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(environ)
    return values


# --- Bot Framework plumbing ---------------------------------------------------------------
class _ReusedConnectors(ConnectorFactory):
    """One ConnectorClient per service URL and audience instead of one per activity.

    botbuilder 4.17.1 builds a new ConnectorClient for every activity, and msrest's
    ClientRetryPolicy builds a 999-element list in its constructor: most of a turn's CPU.
    """

    def __init__(
        self,
        inner: ConnectorFactory,
        cache: dict[tuple[str, str | None], Any],
        key: str,
        http: HttpSessions,
    ):
        self._inner = inner
        self._cache = cache
        self._key = key
        self._http = http

    async def create(self, service_url: str, audience: str = None) -> Any:  # type: ignore[assignment]
        cache_key = (f"{self._key}|{service_url}", audience)
        client = self._cache.get(cache_key)
        if client is None:
            client = speed_up(await self._inner.create(service_url, audience), self._http)
            self._cache[cache_key] = client
        return client


class BotAuthentication(BotFrameworkAuthentication):
    """Bot Framework authentication with reused connector clients, the keys fetched off the loop."""

    def __init__(self, settings: Settings, http: HttpSessions) -> None:
        self._inner = ConfigurationBotFrameworkAuthentication(settings.bot_framework())
        self.http = http
        self._connectors: dict[tuple[str, str | None], Any] = {}
        self._token_clients: dict[str, Any] = {}
        self._anonymous = not settings.app_id

    def _reuse(self, factory: ConnectorFactory | None, identity: ClaimsIdentity | None) -> Any:
        if factory is None:
            return None
        key = ""
        if identity is not None and identity.claims:
            key = str(identity.claims.get("aud") or identity.claims.get("appid") or "")
        return _ReusedConnectors(factory, self._connectors, key, self.http)

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        if self._anonymous and not auth_header:
            result = await self._inner.authenticate_request(activity, auth_header)
        else:
            # botframework-connector fetches the OpenID keys with a blocking requests.get:
            # run the whole validation on a worker thread with its own loop.
            result = await asyncio.to_thread(
                asyncio.run, self._inner.authenticate_request(activity, auth_header)
            )
        result.connector_factory = self._reuse(result.connector_factory, result.claims_identity)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._reuse(self._inner.create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        # Built for every activity by CloudAdapter, and as costly as a connector client.
        key = str((claims_identity.claims or {}).get("aud") or "") if claims_identity else ""
        client = self._token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


# --- retention -----------------------------------------------------------------------------
class Retention:
    """Daily purge of records older than RETENTION_DAYS (handled activities, delivered reminders,
    closed polls): each capability registers what it may forget."""

    def __init__(self, clock: Clock, keep: timedelta) -> None:
        self._clock = clock
        self.keep = keep
        self._purges: list[Callable[[datetime], int]] = []

    def add(self, purge: Callable[[datetime], int]) -> None:
        self._purges.append(purge)

    def run(self) -> int:
        cutoff = self._clock.now() - self.keep
        removed = 0
        for purge in self._purges:
            try:
                removed += purge(cutoff)
            except Exception:  # one table's trouble must not stop the others' purge
                logger.exception("retention purge failed")
        logger.info("retention purge done", extra={"status": removed})
        return removed

    async def run_daily(self) -> None:
        while True:
            await asyncio.to_thread(self.run)
            await asyncio.sleep(24 * 3600)


# --- composition ---------------------------------------------------------------------------
@dataclass
class House:
    """Everything with state or I/O, built once by compose() and handed to whoever needs it."""

    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    adapter: CloudAdapter
    bot: NatverksBot
    conversations: ConversationRepository
    ledger: ActivityLedger
    capabilities: list[Capability]
    metrics: Metrics
    retention: Retention
    nudges: Any = None
    on_start: list[Callable[[], Any]] = field(default_factory=list)
    on_stop: list[Callable[[], Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def compose(settings: Settings, clock: Clock) -> House:
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = make_sessions(engine)
    conversations = ConversationRepository(sessions)
    ledger = ActivityLedger(sessions)
    storage = SqlStorage(StateRepository(sessions), clock)
    conversation_state = ConversationState(storage)
    user_state = UserState(storage)
    http = HttpSessions(os.environ)
    adapter = CloudAdapter(BotAuthentication(settings, http))
    extras: dict[str, Any] = {}
    capabilities: list[Capability] = []
    nudges: Any = None
    metrics = Metrics()
    retention = Retention(clock, timedelta(days=settings.retention_days))
    retention.add(ledger.purge_older_than)

    # --- capabilities ---
    # (each capability's wiring: construct, then append to `capabilities` in answer order)
    # reminders, deadlines, watches and working groups (issues 7 and 8.1)
    groups = GroupRepository(sessions)
    # One sender for every proactive message, so Teams' rate limits are kept across capabilities.
    sender = TeamsSender(adapter, settings.app_id, conversations, clock)
    reminders = ReminderRepository(sessions)
    nudges = NudgeService(reminders, make_scheduler(engine), sender, clock)
    retention.add(reminders.purge_older_than)
    extras["groups"] = groups
    capabilities.append(WorkingGroups(groups, clock))
    capabilities.append(RemindMe(nudges, groups, clock))
    # availability polls and booked meetings (issue 8 items 2-6); started/stopped with the app
    poll_repository = PollRepository(sessions)
    polls = Polls(
        poll_repository,
        groups,
        nudges,
        sender,
        adapter,
        conversations,
        clock,
        app_id=settings.app_id,
        public_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        coordinators=settings.coordinators,
    )
    retention.add(poll_repository.purge_older_than)
    extras["polls"] = polls
    capabilities.append(polls)
    # free courses (issue 5): demo catalogue on first start, index built once, refreshed on import
    if settings.load_demo:
        load_demo_courses_if_empty(sessions, now=clock.now())
    courses = CourseCatalogue(CourseRepository(sessions))
    courses.refresh()
    extras["courses"] = courses
    # competence bank (issue 6): demo people on first start; index from the DB, kept current
    if settings.load_demo:
        load_demo_contacts_if_empty(sessions, now=clock.now())
    directory = ContactDirectory(ContactRepository(sessions))
    directory.warm_up()
    extras["contacts"] = directory
    bank = CompetenceBank(directory, clock)
    course_questions = CourseQuestions(courses, on_imported=nudges.on_courses_imported)
    capabilities.append(bank)  # "vem kan ...", self-service: before the course capability
    capabilities.append(Questions(course_questions, bank))  # "något om demens?": both
    capabilities.append(course_questions)
    nudges.use_courses(SearchMatcher(courses.search))  # "bevaka kurser om demens" (issue 7.7)
    # --- end capabilities ---

    bot = NatverksBot(
        capabilities,
        conversations,
        conversation_state,
        user_state,
        clock,
        settings.coordinators,
        metrics=metrics,
    )
    adapter.on_turn_error = _turn_error_handler(ledger)
    house = House(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        adapter=adapter,
        bot=bot,
        conversations=conversations,
        ledger=ledger,
        capabilities=capabilities,
        metrics=metrics,
        retention=retention,
        nudges=nudges,
        extras=extras,
    )
    house.on_stop.append(http.close)
    house.on_stop.append(ledger.close)
    if "polls" in extras:  # the poll deadline watch lives as long as the app
        house.on_start.append(extras["polls"].start)
        house.on_stop.append(extras["polls"].stop)
    return house


def _turn_error_handler(ledger: ActivityLedger) -> Callable[[TurnContext, Exception], Any]:
    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        activity = context.activity
        conversation_id = activity.conversation.id if activity.conversation else None
        logger.error(
            "turn failed",
            exc_info=error,
            extra={"activity_id": activity.id, "conversation_id": conversation_id},
        )
        if activity.id and conversation_id:
            # Nothing of this turn is kept as handled, so Teams' retry runs it again.
            await asyncio.to_thread(ledger.release, conversation_id, activity.id)
        if activity.type == ActivityTypes.message:
            try:
                await context.send_activity(SORRY)
            except Exception:  # the connector itself may be what failed
                logger.warning("could not send the apology", exc_info=True)

    return on_turn_error


# --- HTTP ----------------------------------------------------------------------------------
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
    return problems


def build_app(house: House) -> web.Application:
    settings = house.settings

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            activity = await read_activity(request)
        except BadRequest as bad:
            logger.info("refused a request: %s %s", bad.status, bad.reason)
            return _problem(bad.status, bad.reason)
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
        tenant = tenant_of(activity)
        if settings.allowed_tenants and (tenant or "").lower() not in settings.allowed_tenants:
            logger.info("refused an activity from a tenant not allowed")
            return _problem(403, "tenant not allowed")
        claimed = False
        if activity.id and activity.type in (ActivityTypes.message, ActivityTypes.invoke):
            at = house.clock.now()
            claimed = house.ledger.claim_without_waiting(activity.conversation.id, activity.id, at)
            if claimed is None:
                claimed = await asyncio.to_thread(
                    house.ledger.claim, activity.conversation.id, activity.id, at
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
        # Operational figures only, but still not for the whole network: loopback or a token.
        token = settings.metrics_token
        authorized = bool(token) and request.headers.get("Authorization") == f"Bearer {token}"
        if not authorized and not is_loopback(request.remote or ""):
            return _problem(403 if token else 404, "metrics are served on loopback or with a token")
        body = await asyncio.to_thread(house.metrics.render)
        return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})

    async def healthz(_: web.Request) -> web.Response:
        if await asyncio.to_thread(ping, house.engine):
            return web.json_response({"status": "ok", "database": "ok"})
        return web.json_response({"status": "unavailable", "database": "unavailable"}, status=503)

    async def ics(request: web.Request) -> web.Response:
        # A booked meeting's calendar file; the unguessable token in the URL is the only key.
        body = await house.extras["polls"].ics(request.match_info["token"])
        if body is None:
            return _problem(404, "no such meeting")
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="mote.ics"'},
        )

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        purging = asyncio.create_task(house.retention.run_daily())
        for start in house.on_start:
            result = start()
            if asyncio.iscoroutine(result):
                await result
        if house.nudges is not None:
            house.nudges.start()
        yield
        purging.cancel()
        if house.nudges is not None:
            await house.nudges.stop()
        for stop in house.on_stop:
            result = stop()
            if asyncio.iscoroutine(result):
                await result
        house.engine.dispose()

    @web.middleware
    async def never_500_for_input(request: web.Request, handler: Any) -> web.StreamResponse:
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
    if "polls" in house.extras:
        app.router.add_get("/ics/{token}.ics", ics)
    app.cleanup_ctx.append(lifetime)
    app["house"] = house
    return app


# --- logging -------------------------------------------------------------------------------
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


# --- command line --------------------------------------------------------------------------
def _settings_or_exit() -> Settings:
    try:
        return Settings.from_env(read_env(os.environ))
    except SettingsError as error:
        for problem in error.problems:
            print(f"Configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def serve(settings: Settings) -> None:
    house = compose(settings, SystemClock())
    # The search indexes and language resources built at start live as long as the process:
    # keep the collector from walking them (a 100-250 ms pause on the next question otherwise).
    gc.collect()
    gc.freeze()
    logger.info("serving on http://%s:%s/api/messages", settings.host, settings.port)
    web.run_app(
        build_app(house),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=30,
        access_log=None,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python bot.py", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the bot (the default)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    for verb in ("import", "export"):
        sub = commands.add_parser(verb, help=f"{verb} the course catalogue or the competence bank")
        sub.add_argument("what", choices=["courses", "contacts"])
        sub.add_argument("file", type=Path, help=".csv (semicolon-separated) or .xlsx")
        if verb == "import":
            sub.add_argument(
                "--replace", action="store_true", help="remove entries that are not in the file"
            )
    package = commands.add_parser("teams-package", help="write the Teams app package (zip)")
    package.add_argument("--out", type=Path, default=Path("natverksboten.zip"))
    backup = commands.add_parser("backup", help="a consistent copy of the SQLite database")
    backup.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = _settings_or_exit()
    setup_logging(settings.log_level)
    command = args.command or "serve"
    if command == "serve":
        serve(settings)
        return 0
    if command == "migrate":
        engine = make_engine(settings.database_url)
        migrate(engine)
        engine.dispose()
        print("The database schema is up to date.")
        return 0
    handler = COMMANDS.get(command)
    if handler is None:
        print(f"'{command}' is not available yet.", file=sys.stderr)
        return 2
    return int(handler(settings, args) or 0)


def backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the SQLite database (SQLite's online backup), bot running or not."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        print(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see README).",
            file=sys.stderr,
        )
        return 2
    source_path = Path(url.database or "")
    if not source_path.is_file():
        print(f"No database at {source_path}.", file=sys.stderr)
        return 2
    target: Path = args.file
    if target.exists():
        print(f"{target} exists already; choose a new file name.", file=sys.stderr)
        return 2
    with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    print(f"Backed up {source_path} to {target}.")
    return 0


# Commands beyond serve and migrate register here: name -> handler(settings, args) -> exit code.
COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int | None]] = {"backup": backup}
# import/export per catalogue: (verb, what) -> handler(settings, args) -> exit code.
SHEET_COMMANDS: dict[tuple[str, str], Callable[[Settings, argparse.Namespace], int | None]] = {}


def _sheet_command(settings: Settings, args: argparse.Namespace) -> int | None:
    handler = SHEET_COMMANDS.get((args.command, args.what))
    if handler is None:
        print(f"'{args.command} {args.what}' is not available yet.", file=sys.stderr)
        return 2
    return handler(settings, args)


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """The configured database, migrated, for one command-line run."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        yield make_sessions(engine)
    finally:
        engine.dispose()


def _import_courses(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings) as sessions:
        report = import_courses(sessions, args.file, replace=args.replace)
    print(describe_import(report), file=sys.stdout if report.ok else sys.stderr)
    if report.ok and report.added_ids:
        # Those watching a topic ("bevaka kurser om demens") are told; the running bot sends it.
        house = compose(dataclasses.replace(settings, load_demo=False), SystemClock())
        try:
            asyncio.run(house.nudges.on_courses_imported(report.added_ids))
        finally:
            house.engine.dispose()
    return 0 if report.ok else 1


def _import_contacts(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings) as sessions:
        report = import_contacts(sessions, args.file, replace=args.replace)
    print(describe_contact_import(report), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def _exporter(
    export: Callable[[sessionmaker[Session], Path], int], noun: str
) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        with _database(settings) as sessions:
            count = export(sessions, args.file)
        print(f"Exported {count} {noun} to {args.file}.")
        return 0

    return run


_export_courses = _exporter(export_courses, "courses")
_export_contacts = _exporter(export_contacts, "contacts")


COMMANDS["import"] = COMMANDS["export"] = _sheet_command
SHEET_COMMANDS[("import", "courses")] = _import_courses
SHEET_COMMANDS[("export", "courses")] = _export_courses
SHEET_COMMANDS[("import", "contacts")] = _import_contacts
SHEET_COMMANDS[("export", "contacts")] = _export_contacts


def _teams_package(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses
    import tempfile

    from dialogs.manifest import write_package

    # The command menu lists the help entries of the capabilities as compose() wires them;
    # a throwaway database keeps the real one untouched.
    with tempfile.TemporaryDirectory() as scratch:
        scratch_url = f"sqlite:///{Path(scratch) / 'package.db'}"
        house = compose(dataclasses.replace(settings, database_url=scratch_url), SystemClock())
        try:
            entries = house.bot.help_entries()
        finally:
            house.engine.dispose()
    write_package(args.out, settings.app_id, entries)
    print(f"Wrote the Teams app package {args.out}.")
    return 0


COMMANDS["teams-package"] = _teams_package


if __name__ == "__main__":
    sys.exit(main())
