"""Settings: read once from the environment (and an optional .env file), checked all at once."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}
YES = frozenset({"yes", "true", "1"})
YES_NO = YES | {"no", "false", "0"}
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


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
    # Off loopback with an app id, serving every tenant is an explicit choice (ALLOW_ANY_TENANT).
    allow_any_tenant: bool = False

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
        if demo_raw not in YES_NO:
            problems.append(f"LOAD_DEMO_DATA={demo_raw!r} must be yes or no.")

        any_tenant_raw = (get("ALLOW_ANY_TENANT", "no") or "no").lower()
        if any_tenant_raw not in YES_NO:
            problems.append(f"ALLOW_ANY_TENANT={any_tenant_raw!r} must be yes or no.")
        allowed_tenants = _split(get("ALLOWED_TENANTS"))
        allow_any_tenant = any_tenant_raw in YES
        if app_id and not is_loopback(host):
            # Served to the network: what is only careless on a developer's machine is refused.
            if not allowed_tenants and not allow_any_tenant:
                problems.append(
                    f"HOST={host} is not a loopback address and ALLOWED_TENANTS is empty, so "
                    "users of any Microsoft 365 organisation could talk to the bot and search the "
                    "competence bank. Set ALLOWED_TENANTS to your tenant id(s), comma-separated, "
                    "or set ALLOW_ANY_TENANT=yes if serving every organisation is intended."
                )
            if not public_url.startswith("https://"):
                shown = public_url or f"http://{host}:{port}"
                problems.append(
                    f"HOST={host} is not a loopback address, so PUBLIC_URL must be the https:// "
                    f"address users reach the bot at (calendar links would be {shown}/...). Set "
                    "PUBLIC_URL=https://your-bot.example.org."
                )

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
            allowed_tenants=allowed_tenants,
            coordinators=_split(get("COORDINATORS")),
            log_level=log_level,
            metrics_token=get("METRICS_TOKEN"),
            public_url=public_url or f"http://{host}:{port}",
            retention_days=retention,
            load_demo=demo_raw in YES,
            allow_any_tenant=allow_any_tenant,
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
