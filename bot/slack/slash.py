"""Slack's names for the core's commands (``/cop-help`` for ``help``), and Slack's ``/setup``.

Every other command in :data:`commands.registry.COMMANDS` keeps its own name, so a command a
later feature registers is reachable on Slack as soon as the manifest lists it. On Slack,
``/setup`` changes the numbers (stale days, the claim cap); the channels and moderators come from
copbot's SLACK_* settings (:data:`FROM_SETTINGS`), and /setup shows them.
"""

from __future__ import annotations

import re

from commands.registry import (
    COMMANDS,
    EXAMPLES,
    HELPS,
    NAMES,
    OPTION_SECTIONS,
    USAGES,
    CommandSpec,
    option_lines,
)
from commands.settings import RESETTABLE
from commands.types import Section

# Core name -> Slack name, where Slack's own name would clash (Slack reserves /help).
ALIASES = {"help": "cop-help"}
# The /setup options Slack takes from copbot's own settings (one per workspace, read at start), by
# the setting that holds each: /setup shows them, and refuses to change them.
FROM_SETTINGS = {
    "moderator_channel": "SLACK_MODERATOR_CHANNEL",
    "moderator_role": "SLACK_MODERATORS",
    "reminder_channel": "SLACK_REMINDER_CHANNEL",
}
_SETUP = [o for o in COMMANDS["setup"].options if o.name not in FROM_SETTINGS]
USAGES["slack", "setup"] = "/setup " + " ".join(f"[{o.name}]" for o in _SETUP)
HELPS["slack", "setup"] = (
    "show shows the settings; giving some of them changes those, then shows them all. stale_days "
    "is how long a claim stays fresh without news here; max_claims caps how many problems one member "
    "may hold at once (0: no cap; a member at the cap releases one before claiming another, and may "
    "always renew their own); setting either says how many claims or members it touches now. reset "
    "gives one of them back to the operator's default (STALE_AFTER_DAYS, MAX_CLAIMS). The moderator "
    "channel, moderators and reminder channel come from copbot's SLACK_MODERATOR_CHANNEL, "
    "SLACK_MODERATORS and SLACK_REMINDER_CHANNEL settings: /setup shows them."
)
_RESETTABLE = " or ".join(o.name for o in _SETUP if o.name in RESETTABLE)
OPTION_SECTIONS["slack", "setup"] = (
    Section(
        "Options",
        option_lines([o for o in _SETUP if o.name != "reset"])
        + (f"reset — a setting back to the operator's default: {_RESETTABLE}",),
    ),
)
EXAMPLES["slack", "setup"] = tuple(
    example for example in COMMANDS["setup"].examples if not any(o in example for o in FROM_SETTINGS)
)
# An admin may rename a command that clashes in their workspace to /cop-<name>.
PREFIX = "cop-"

# So that `/cop-help cop-help` (or cop-claim) explains the command as Slack names it.
NAMES.update(
    {("slack", PREFIX + core): core for core in COMMANDS} | {("slack", s): c for c, s in ALIASES.items()}
)

# What the front end listens to: every slash command, and every button copbot made.
COMMAND_PATTERN = re.compile(r"^/")
ACTION_PATTERN = re.compile(r"^cop:")

_REVERSE = {slack: core for core, slack in ALIASES.items()}
_MENTIONED = re.compile(r"(?<![\w/-])/(" + "|".join(map(re.escape, ALIASES)) + r")(?![\w-])")


def slash_name(command: str) -> str:
    """``help`` → ``/cop-help``; ``problem`` → ``/problem``."""
    return "/" + ALIASES.get(command, command)


def core_name(slash: str) -> str:
    """The core command a Slack command names: ``/cop-help`` → ``help``, ``/cop-claim`` → ``claim``."""
    name = slash.strip().removeprefix("/").lower()
    if name in _REVERSE:
        return _REVERSE[name]
    if name.startswith(PREFIX) and name.removeprefix(PREFIX) in COMMANDS:
        return name.removeprefix(PREFIX)
    return name


def exposed() -> dict[str, CommandSpec]:
    """Every command Slack offers, by its Slack name, in registry order."""
    return {slash_name(name): spec for name, spec in COMMANDS.items()}


def rename_in_text(text: str) -> str:
    """Point the core's ``/help`` hints at ``/cop-help``."""
    if "/" not in text:  # most text (names, titles, dates) names no command: skip the regex
        return text
    return _MENTIONED.sub(lambda m: slash_name(m.group(1)), text)
