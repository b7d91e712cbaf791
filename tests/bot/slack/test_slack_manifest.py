"""slack/manifest.yml: valid for Slack, and in step with the command registry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.slack import events, slash
from commands.parser import Kind

MANIFEST = Path(__file__).resolve().parents[3] / "slack" / "manifest.yml"
URL = "https://YOUR-HOST/slack/events"


# -- a reader for the block-style YAML subset the manifest uses (the project has no YAML library)


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#(?![^\"]*\"$).*$", "", raw).rstrip()  # comments, not inside quotes
        if line.strip():
            assert "\t" not in line, f"tab in {raw!r}"
            out.append((len(line) - len(line.lstrip(" ")), line.strip()))
    return out


def _scalar(text: str) -> Any:
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    return int(text) if text.isdigit() else text


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if lines[i][1].startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            rest = lines[i][1][2:]
            if re.match(r"^[\w.-]+:(\s|$)", rest):  # "- key: value" starts a mapping
                lines[i] = (indent + 2, rest)
                item, i = _block(lines, i, indent + 2)
            else:
                item, i = _scalar(rest), i + 1
            items.append(item)
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        key, colon, rest = lines[i][1].partition(":")
        assert colon and key not in mapping, f"bad or repeated key in {lines[i]!r}"
        rest, i = rest.strip(), i + 1
        if rest == ">-":  # a folded block: the more-indented lines joined by spaces
            folded = []
            while i < len(lines) and lines[i][0] > indent:
                folded.append(lines[i][1])
                i += 1
            mapping[key] = " ".join(folded)
        elif rest:
            mapping[key] = _scalar(rest)
        elif i < len(lines) and lines[i][0] > indent:
            mapping[key], i = _block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


def read_manifest() -> dict[str, Any]:
    lines = _lines(MANIFEST.read_text(encoding="utf-8"))
    manifest, end = _block(lines, 0, 0)
    assert end == len(lines), f"could not read from {lines[end]!r}: check the indentation"
    return manifest


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return read_manifest()


def test_every_command_slack_offers_is_in_the_manifest_and_nothing_else(manifest: dict[str, Any]) -> None:
    listed = [c["command"] for c in manifest["features"]["slash_commands"]]

    assert len(listed) == len(set(listed))
    assert set(listed) == set(slash.exposed())
    assert "/cop-help" in listed and "/setup" in listed


def test_commands_are_well_formed(manifest: dict[str, Any]) -> None:
    specs = slash.exposed()
    for command in manifest["features"]["slash_commands"]:
        name = command["command"]
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", name)
        assert command["url"] == URL
        assert 0 < len(command["description"]) <= 2000 and len(command.get("usage_hint", "")) <= 1000
        spec = specs[name]
        if spec.options:
            assert command.get("usage_hint"), f"{name} takes options: give a usage hint"
        # Mentions arrive as ids only when Slack escapes the text: needed where a user is named.
        names_someone = any(o.kind in (Kind.USER, Kind.CHANNEL, Kind.ROLE) for o in spec.options)
        assert command["should_escape"] is names_someone, name


def test_scopes_events_interactivity_and_socket_mode(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    settings = manifest["settings"]

    assert scopes == [
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "reactions:read",
        "reactions:write",
        "users:read",
        "usergroups:read",
        "channels:read",
        "groups:read",
    ]
    assert settings["event_subscriptions"] == {"request_url": URL, "bot_events": list(events.EVENT_HANDLERS)}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": URL}
    assert settings["socket_mode_enabled"] is False
    assert "set this to true" in MANIFEST.read_text(encoding="utf-8")


def test_members_can_type_commands_in_their_dm_with_copbot(manifest: dict[str, Any]) -> None:
    """Reminders (with their buttons) and late answers arrive in the member's DM with copbot;
    without the Messages tab open for typing there, Slack greyed out the composer, so a member
    could not answer with /claims or /release where the reminder asked."""
    assert manifest["features"]["app_home"] == {
        "home_tab_enabled": False,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def test_display_information_fits_slacks_limits(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]

    assert 0 < len(info["name"]) <= 35 and len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-f]{6}", info["background_color"])
    assert manifest["features"]["bot_user"]["display_name"] == "copbot"
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}


def test_the_setup_guide_counts_every_host_to_replace() -> None:
    """docs/slack.md said four places; the manifest has one per command, plus events and
    interactivity: an admin who replaced four left the other commands failing."""
    guide = (MANIFEST.parents[1] / "docs" / "slack.md").read_text(encoding="utf-8")
    places = MANIFEST.read_text(encoding="utf-8").count("YOUR-HOST/")
    commands = len(slash.exposed())
    assert places == commands + 2
    assert f"({places} places: each of the {commands} slash commands, events and" in " ".join(guide.split())
