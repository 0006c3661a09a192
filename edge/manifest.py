"""The Teams app package: manifest.json and the two icons, zipped for upload to Teams.

The manifest follows Teams manifest schema v1.30 (the newest GA version in npm
`@microsoft/app-manifest` 1.1.2); tests/test_manifest.py validates it against that schema.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class HelpEntry(Protocol):
    """One command of the menu (dialogs.turn.HelpEntry is one)."""

    @property
    def what(self) -> str: ...

    @property
    def example(self) -> str: ...


MANIFEST_VERSION = "1.30"
SCHEMA_URL = (
    f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}"
    "/MicrosoftTeams.schema.json"
)
ASSETS = Path(__file__).resolve().parent / "assets"
ICONS = ("color.png", "outline.png")
ACCENT_COLOR = "#0E6E76"  # the teal of color.png
SCOPES = ("personal", "team", "groupChat")
# Teams shows at most 10 commands per list (the v1.30 schema allows 12; the docs say 10).
MAX_COMMANDS = 10
# Picking a command types its title into the compose box, so titles are the examples, whole.
# Teams' docs suggest 32 characters (longer ones are cut short in the menu); the schema allows
# 128. Examples that fit 32 go first.
SHORT_TITLE = 32
MAX_TITLE = 128
MAX_DESCRIPTION = 128

# Used when MicrosoftAppId is unset, so a developer can still build and inspect a package.
PLACEHOLDER_BOT_ID = "00000000-0000-0000-0000-000000000000"
# The Teams app id must stay the same across versions of the package, and differ between
# deployments; deriving it from the bot id does both.
_APP_NAMESPACE = uuid.UUID("5c1c7c2e-7b1e-4d53-9a77-4f1f6f0e2b8a")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class Texts:
    NAME_SHORT = "Nätverksboten"
    NAME_FULL = "Nätverksboten – för kommunala vård- och omsorgsnätverk"
    DESCRIPTION_SHORT = "Utbildningar, kollegor, påminnelser och mötestider för ditt nätverk"
    DESCRIPTION_FULL = (
        "Nätverksboten hjälper kommunala nätverk inom vård och omsorg att samarbeta. "
        "Fråga efter kostnadsfria utbildningar, hitta kollegor med rätt kompetens, "
        "få påminnelser om möten och deadlines och hitta en mötestid som passar alla. "
        "Skriv till boten som till en kollega, till exempel ”hjälp”. I kanaler och "
        "gruppchattar svarar den när du @nämner den. Samordnare kan skicka utbildnings- "
        "och kontaktlistor som filer."
    )
    HELP_TITLE = "hjälp"
    HELP_DESCRIPTION = "Visa vad Nätverksboten kan hjälpa till med"
    DEVELOPER = "Nätverksboten"


@dataclass(frozen=True)
class Developer:
    """Who publishes the app; Teams shows these links on the app's details page."""

    name: str = Texts.DEVELOPER
    website_url: str = "https://example.org/natverksboten"
    privacy_url: str = "https://example.org/natverksboten/integritet"
    terms_url: str = "https://example.org/natverksboten/villkor"


def app_version() -> str:
    try:
        return metadata.version("natverksboten")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def teams_app_id(bot_id: str) -> str:
    return str(uuid.uuid5(_APP_NAMESPACE, bot_id.lower()))


def build_manifest(
    app_id: str,
    commands: Sequence[tuple[str, Sequence[HelpEntry]]],
    *,
    version: str | None = None,
    developer: Developer | None = None,
) -> dict[str, Any]:
    """The manifest.json for the bot registered as `app_id` (MicrosoftAppId).

    `commands` is each capability's name and help entries, in the bot's order, as
    `NatverksBot.help_entries()` returns them.
    """
    bot_id = app_id.strip()
    if not bot_id:
        logger.warning(
            "MicrosoftAppId is not set: the package uses the placeholder bot id %s and will "
            "not work in Teams. Set MicrosoftAppId to the bot's Azure app registration id.",
            PLACEHOLDER_BOT_ID,
        )
        bot_id = PLACEHOLDER_BOT_ID
    elif not _GUID.match(bot_id):
        raise ValueError(f"MicrosoftAppId {bot_id!r} is not a GUID")
    developer = developer or Developer()
    command_list = _commands(commands)
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version or app_version(),
        "id": teams_app_id(bot_id),
        "developer": {
            "name": developer.name,
            "websiteUrl": developer.website_url,
            "privacyUrl": developer.privacy_url,
            "termsOfUseUrl": developer.terms_url,
        },
        "name": {"short": Texts.NAME_SHORT, "full": Texts.NAME_FULL},
        "description": {"short": Texts.DESCRIPTION_SHORT, "full": Texts.DESCRIPTION_FULL},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": bot_id,
                "scopes": list(SCOPES),
                # Coordinators send the course catalogue and competence bank as files.
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": [scope], "commands": command_list} for scope in SCOPES],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        # A bot without tabs or sign-in cards loads nothing from other domains.
        "validDomains": [],
        "defaultInstallScope": "personal",
        "defaultGroupCapability": {"team": "bot", "groupchat": "bot"},
    }


def write_package(
    path: str | Path,
    app_id: str,
    commands: Sequence[tuple[str, Sequence[HelpEntry]]],
    **options: Any,
) -> None:
    """The zip to upload in Teams: manifest.json and the two icons at the top level."""
    manifest = build_manifest(app_id, commands, **options)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for icon in ICONS:
            package.write(ASSETS / icon, icon)
    # Written in one go so a failed build never leaves half a package behind.
    Path(path).write_bytes(buffer.getvalue())


def _commands(groups: Sequence[tuple[str, Sequence[HelpEntry]]]) -> list[dict[str, str]]:
    """The menu: "hjälp", then the capabilities' examples taken in turns, so that each is in
    the menu even when together they have more than Teams shows. A capability's first entry
    is its main one; of the rest, those short enough to read whole in the menu go first."""
    picked = [{"title": Texts.HELP_TITLE, "description": Texts.HELP_DESCRIPTION}]
    seen = {Texts.HELP_TITLE}
    queues = [
        list(entries[:1])
        + sorted(entries[1:], key=lambda entry: len(_clean(entry.example)) > SHORT_TITLE)
        for _, entries in groups
    ]
    while len(picked) < MAX_COMMANDS and any(queues):
        for queue in queues:
            if not queue or len(picked) >= MAX_COMMANDS:
                continue
            entry = queue.pop(0)
            title = _shorten(_clean(entry.example), MAX_TITLE)
            if title and title.lower() not in seen:
                seen.add(title.lower())
                picked.append(
                    {"title": title, "description": _shorten(_clean(entry.what), MAX_DESCRIPTION)}
                )
    return picked


def _clean(text: str) -> str:
    return " ".join(text.split())


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"
