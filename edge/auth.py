"""Bot Framework authentication that reuses connector clients and checks tokens off the loop."""

from __future__ import annotations

import asyncio
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)

from edge.wire import HttpSessions, speed_up
from host.settings import Settings


class _ReusedConnectors(ConnectorFactory):  # type: ignore[misc]  # botbuilder is untyped
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


class BotAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
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
        audience: str = self._inner.get_originating_audience()
        return audience

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
