"""Fast JSON and HTTP for Bot Framework activities: msrest's generic path is most of a turn's CPU.

msrest validates and walks every attribute of every model through several layers of callbacks;
for the activities this bot builds itself, a direct walk over the same attribute maps gives the
same JSON (tests/test_wire.py holds them equal) at a fraction of the cost.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import botbuilder.schema as schema
import requests
from botbuilder.schema import ResourceResponse
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError
from msrest.pipeline import Request, Response, SansIOHTTPPolicy
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.async_requests import AsyncRequestsCredentialsPolicy
from msrest.pipeline.requests import RequestsContext
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import Model
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from requests.structures import CaseInsensitiveDict
from yarl import URL

ModelT = TypeVar("ModelT", bound=Model)


def to_wire(value: Any) -> Any:
    """A schema model (or anything inside one) as the JSON the Bot Connector expects."""
    if isinstance(value, Model):
        out: dict[str, Any] = {}
        for attribute, info in type(value)._attribute_map.items():
            item = getattr(value, attribute, None)
            if item is None:
                continue
            if info["type"] == "iso-8601" and isinstance(item, datetime):
                out[info["key"]] = _iso(item)
            else:
                out[info["key"]] = to_wire(item)
        extra = getattr(value, "additional_properties", None)
        if extra:
            for key, item in extra.items():
                out.setdefault(key, to_wire(item))
        return out
    if isinstance(value, str | int | float | bool) or value is None:
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return _iso(value)
    return value


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    fraction = f"{moment.microsecond:06d}" if moment.microsecond else "000"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


class FastBodySerializer:
    """Stands in for a connector client's msrest Serializer; only `body` takes the fast path."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if isinstance(data, Model):
            return to_wire(data)
        return self._inner.body(data, data_type, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def speed_up(connector_client: Any, sessions: HttpSessions) -> Any:
    """A ConnectorClient with the fast body serializer, sending over aiohttp, and replies
    and proactive messages sent directly (FastConversations)."""
    operations = connector_client.conversations
    if not isinstance(operations, FastConversations):
        operations._serialize = FastBodySerializer(operations._serialize)
        send_with_aiohttp(connector_client, sessions)
        connector_client.conversations = FastConversations(operations, sessions)
    return connector_client


# --- sending over aiohttp ----------------------------------------------------------------------
# msrest sends each Bot Connector call through `requests` on a worker thread. An aiohttp session
# on the bot's own loop does the same work for a fraction of the CPU; authentication still runs
# through msrest's credentials policy, which signs a requests.Session we only read headers from.

RETRIED_STATUSES = frozenset({408, *range(500, 600)}) - {501, 505}
RETRIES = 3
BACKOFF_SECONDS = 0.8
# A Retry-After up to this is waited here; a longer one is the caller's to judge (the Sender
# hands it to the database as the next attempt instead of holding a lease meanwhile).
RETRY_AFTER_IN_CALL = 10.0


class _BufferedResponse(AsyncClientResponse):
    def __init__(self, request: ClientRequest, status: int, headers: Any, reason: str, body: bytes):
        super().__init__(request, None)
        # msrest's HttpOperationError keeps only `internal_response`: without this an
        # ErrorResponseException would lose the status and Retry-After (429/403 handling).
        self.internal_response = self
        self.status_code = status
        self.headers = headers
        self.reason = reason
        self._body = body

    def body(self) -> bytes:
        return self._body


class AiohttpSender(AsyncHTTPSender[ClientRequest, AsyncClientResponse]):
    """An msrest pipeline sender on a shared aiohttp session (one per event loop)."""

    def __init__(self, sessions: HttpSessions) -> None:
        self._sessions = sessions
        self._carrier = requests.Session()  # credentials write their Authorization header here

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None

    def build_context(self) -> Any:
        return RequestsContext(session=self._carrier)  # type: ignore[no-untyped-call]

    async def send(
        self, request: Request[ClientRequest], **config: Any
    ) -> Response[ClientRequest, AsyncClientResponse]:
        http: ClientRequest = request.http_request
        carrier = request.context.session if request.context else self._carrier
        headers = {**dict(carrier.headers), **dict(http.headers)}
        for name in ("User-Agent", "Accept-Encoding", "Connection"):
            if name in carrier.headers and name not in http.headers:
                headers.pop(name, None)
        status, reply_headers, reason, body = await fetch(
            self._sessions, http.method, http.url, headers, http.data
        )
        return Response(request, _BufferedResponse(http, status, reply_headers, reason, body))


async def fetch(
    sessions: HttpSessions, method: str, url: str, headers: Mapping[str, str], data: Any
) -> tuple[int, Any, str, bytes]:
    """One Bot Connector call with msrest's retry rules: status, headers, reason and body."""
    session = sessions.get()
    target = URL(url, encoded=True)  # as quoted by msrest: yarl would unquote ":" "@" "="
    attempt = 0
    while True:
        try:
            async with session.request(method, target, headers=headers, data=data) as response:
                body = await response.read()
                wait = _retry_after(response.headers)
                retried = response.status in RETRIED_STATUSES and attempt < RETRIES
                if retried and (wait is None or wait <= RETRY_AFTER_IN_CALL):
                    raise _Retry(wait)
                return response.status, response.headers, response.reason or "", body
        except (TimeoutError, _Retry, aiohttp.ClientConnectionError) as error:
            if attempt >= RETRIES:
                raise ClientRequestError(f"Bot Connector request failed: {error!r}") from error
            told = error.wait if isinstance(error, _Retry) else None
            await asyncio.sleep(told if told is not None else BACKOFF_SECONDS * (2**attempt))
            attempt += 1


def _retry_after(headers: Any) -> float | None:
    """Teams' Retry-After in seconds (502, 503 and 504 may carry one too), if it gave one."""
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(float(raw), 0.0) if raw is not None else None
    except ValueError:
        return None


TOKEN_REUSE_SECONDS = 300.0


class FastConversations:
    """A connector client's conversation operations, with the two calls every answer makes
    (reply to an activity, send to a conversation) made directly: the same URL, headers,
    credentials, body, retries, result and errors as the generated msrest code, for about
    1 ms less CPU per message. Every other operation goes to the generated code."""

    def __init__(self, inner: Any, sessions: HttpSessions) -> None:
        self._inner = inner
        self._sessions = sessions
        self._carrier = requests.Session()
        self._token: str | None = None
        self._token_at = -math.inf

    async def _authorization(self) -> str | None:
        """The Authorization header the credentials would set. A token (MSAL: discovery on
        first use, a call to Entra ID on refresh, both blocking HTTP) is fetched on a worker
        thread and reused for TOKEN_REUSE_SECONDS; MSAL renews it well before it runs out."""
        credentials = self._inner.config.credentials
        if credentials is None:
            return None
        app_id = getattr(credentials, "microsoft_app_id", None)
        fetch_token = getattr(credentials, "get_access_token", None)
        if fetch_token is None:  # credentials of another kind: let them sign as msrest would
            signed: str | None = credentials.signed_session(self._carrier).headers.get(
                "Authorization"
            )
            return signed
        if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
            return None
        now = time.monotonic()
        if self._token is None or now - self._token_at > TOKEN_REUSE_SECONDS:
            self._token = await asyncio.to_thread(fetch_token)
            self._token_at = now
        return f"Bearer {self._token}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def reply_to_activity(
        self,
        conversation_id: str,
        activity_id: str,
        activity: Any,
        *,
        custom_headers: dict[str, str] | None = None,
        raw: bool = False,
        **operation_config: Any,
    ) -> Any:
        if custom_headers or raw or operation_config:
            return await self._inner.reply_to_activity(
                conversation_id,
                activity_id,
                activity,
                custom_headers=custom_headers,
                raw=raw,
                **operation_config,
            )
        path = f"/v3/conversations/{_quote(conversation_id)}/activities/{_quote(activity_id)}"
        return await self._post(path, activity, {"x-ms-conversation-id": conversation_id})

    async def send_to_conversation(
        self,
        conversation_id: str,
        activity: Any,
        *,
        custom_headers: dict[str, str] | None = None,
        raw: bool = False,
        **operation_config: Any,
    ) -> Any:
        if custom_headers or raw or operation_config:
            return await self._inner.send_to_conversation(
                conversation_id,
                activity,
                custom_headers=custom_headers,
                raw=raw,
                **operation_config,
            )
        path = f"/v3/conversations/{_quote(conversation_id)}/activities"
        return await self._post(path, activity, {})

    async def _post(self, path: str, activity: Any, extra: dict[str, str]) -> Any:
        url = self._inner._client.format_url(path)  # the generated code's own URL joining
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            **extra,
            "User-Agent": self._inner.config.user_agent,
        }
        authorization = await self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        body = json.dumps(to_wire(activity)).encode()
        status, reply_headers, reason, data = await fetch(
            self._sessions, "POST", url, headers, body
        )
        if status not in (200, 201, 202):
            request = ClientRequest("POST", url)
            request.headers = CaseInsensitiveDict(headers)
            raise ErrorResponseException(
                self._inner._deserialize,
                _BufferedResponse(request, status, reply_headers, reason, data),
            )
        if not data:
            return None  # Teams answers a proactive send with 202 and no body
        try:
            found = json.loads(data)
        except ValueError:
            return None
        return ResourceResponse(id=found.get("id")) if isinstance(found, dict) else None


def _quote(value: str) -> str:
    return quote(str(value), safe="")


class _Retry(Exception):
    def __init__(self, wait: float | None = None) -> None:
        super().__init__(wait)
        self.wait = wait


class HttpSessions:
    """One aiohttp ClientSession per event loop, closed with the bot."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._by_loop: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._proxied = any(name.lower().endswith("_proxy") for name in environ)

    def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._by_loop.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                # HTTPS_PROXY and friends, as requests would honour them; looked up per request,
                # so only when the environment names a proxy at all.
                trust_env=self._proxied,
                timeout=aiohttp.ClientTimeout(total=100),
            )
            self._by_loop[loop] = session
        return session

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        session = self._by_loop.pop(loop, None)
        if session is not None:
            await session.close()


def send_with_aiohttp(connector_client: Any, sessions: HttpSessions) -> None:
    """Rebuilds the client's pipeline as msrest would, with the aiohttp sender at its end."""
    config = connector_client.config
    credentials = config.credentials
    policies: list[Any] = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    if credentials:
        if isinstance(credentials, AsyncHTTPPolicy | SansIOHTTPPolicy):
            policies.insert(1, credentials)
        else:
            policies.insert(1, AsyncRequestsCredentialsPolicy(credentials))  # type: ignore[no-untyped-call]
    config.pipeline = AsyncPipeline(policies, AiohttpSender(sessions))


# --- reading activities --------------------------------------------------------------------------
def from_wire(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """An incoming activity (or any schema model) from its JSON, as msrest's Deserializer would
    build it: known keys to attributes, the rest kept in `additional_properties`."""
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    for attribute, info in model._attribute_map.items():
        key = info["key"]
        known.add(key)
        if key in data and data[key] is not None:
            kwargs[attribute] = _convert(info["type"], data[key])
    instance = model(**kwargs)
    extra = {key: value for key, value in data.items() if key not in known}
    if extra:
        instance.additional_properties = extra
    return instance


def _convert(type_name: str, value: Any) -> Any:
    if type_name.startswith("[") and isinstance(value, list):
        return [_convert(type_name[1:-1], item) for item in value]
    if type_name.startswith("{") and isinstance(value, dict):
        return {key: _convert(type_name[1:-1], item) for key, item in value.items()}
    if type_name == "iso-8601":
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return None
        return None
    if type_name in ("str", "bool", "int", "object", "float"):
        return value
    model = getattr(schema, type_name, None)
    if isinstance(model, type) and issubclass(model, Model) and isinstance(value, dict):
        return from_wire(model, value)
    return value
