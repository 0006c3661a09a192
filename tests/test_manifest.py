"""The Teams app package validates against Microsoft's published manifest schema."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from bot import House
from dialogs.turn import HelpEntry
from edge.manifest import (
    MANIFEST_VERSION,
    PLACEHOLDER_BOT_ID,
    build_manifest,
    write_package,
)

# From npm @microsoft/app-manifest 1.1.2: build/json-schemas/teams/v1.30/ (MIT licence).
SCHEMA = Path(__file__).parent / "data" / "MicrosoftTeams.v1.30.schema.json"
BOT_ID = "1f2e3d4c-5b6a-4789-8abc-def012345678"

COURSES = [HelpEntry("Hitta utbildningar", f"utbildning om demens {i}") for i in range(8)]
MANY = [
    ("kurser", COURSES),
    ("kontakter", [HelpEntry("Hitta en kollega med rätt kompetens", "vem kan läkemedel?")]),
    ("påminnelser", [HelpEntry("Påminna dig", "påminn mig om nätverksmötet på måndag kl 9 tack")]),
]


def validate(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # The schema declares draft-04 but uses draft-06's "const" (manifestVersion); add it.
    validator = jsonschema.validators.extend(
        jsonschema.Draft4Validator, {"const": jsonschema.Draft6Validator.VALIDATORS["const"]}
    )
    validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(manifest)


def test_the_bots_own_commands_make_a_valid_manifest(house: House) -> None:
    manifest = build_manifest(BOT_ID, house.bot.help_entries())

    validate(manifest)
    assert manifest["manifestVersion"] == MANIFEST_VERSION
    bot = manifest["bots"][0]
    assert bot["botId"] == BOT_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is True
    assert manifest["name"]["short"] == "Nätverksboten"
    assert [entry["scopes"] for entry in bot["commandLists"]] == [
        ["personal"],
        ["team"],
        ["groupChat"],
    ]
    assert bot["commandLists"][0]["commands"][0]["title"] == "hjälp"


def test_each_capability_gets_a_place_in_the_ten_commands() -> None:
    manifest = build_manifest(BOT_ID, MANY)

    validate(manifest)
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    assert len(commands) == 10
    titles = [command["title"] for command in commands]
    assert "vem kan läkemedel?" in titles
    # Picking a command sends its title, so a long example stays whole.
    assert "påminn mig om nätverksmötet på måndag kl 9 tack" in titles


def test_without_an_app_id_the_package_warns_and_uses_a_placeholder(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        manifest = build_manifest("", MANY)

    validate(manifest)
    assert manifest["bots"][0]["botId"] == PLACEHOLDER_BOT_ID
    assert "MicrosoftAppId" in caplog.text


def test_a_bad_app_id_is_refused() -> None:
    with pytest.raises(ValueError, match="GUID"):
        build_manifest("my-bot", MANY)


def test_the_app_id_is_stable_and_not_the_bot_id() -> None:
    first = build_manifest(BOT_ID, MANY)["id"]
    assert first == build_manifest(BOT_ID.upper(), [])["id"]
    assert first != BOT_ID


def test_the_package_holds_the_manifest_and_icons_teams_accepts(tmp_path: Path) -> None:
    path = tmp_path / "natverksboten.zip"
    write_package(path, BOT_ID, MANY)

    with zipfile.ZipFile(path) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        package.extractall(tmp_path)
    validate(manifest)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    with Image.open(tmp_path / "color.png") as color:
        assert color.format == "PNG"
        assert color.size == (192, 192)
    with Image.open(tmp_path / "outline.png") as outline:
        assert outline.format == "PNG"
        assert outline.size == (32, 32)
        rgba = outline.convert("RGBA")
        pixels = [rgba.getpixel((x, y)) for y in range(32) for x in range(32)]
    drawn = [pixel for pixel in pixels if isinstance(pixel, tuple) and pixel[3] > 0]
    corner = pixels[0]
    assert isinstance(corner, tuple) and corner[3] == 0, "a transparent background"
    assert 0.1 < len(drawn) / len(pixels) < 0.7, "the outline icon shows a mark"
    assert all(pixel[:3] == (255, 255, 255) for pixel in drawn), "only white on transparent"


def test_the_teams_package_command_lists_the_composed_bots_commands_without_a_database(
    house: House, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot as bot_module

    # Nothing listens there: the command must not need the database at all.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    out = tmp_path / "natverksboten.zip"
    assert bot_module.main(["teams-package", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    validate(manifest)
    assert manifest == build_manifest("", house.bot.help_entries())
