"""Slack's names for the core's commands: ``/cop-help`` for ``help``, ``setup`` kept off Slack.

Every other command in :data:`commands.registry.COMMANDS` keeps its own name, so a command a
later feature registers is reachable on Slack as soon as the manifest lists it.
"""

from __future__ import annotations

import re

from commands.registry import COMMANDS, NAMES, NOT_OFFERED, CommandSpec

# Core name -> Slack name, where Slack's own name would clash (Slack reserves /help).
ALIASES = {"help": "cop-help"}
# Core commands Slack does not offer, with what to tell someone who types them anyway.
NOT_ON_SLACK = {
    "setup": "On Slack, copbot takes its channels and moderators from its SLACK_* settings, and "
    "its stale days and claim cap from STALE_AFTER_DAYS and MAX_CLAIMS (ask whoever runs it; "
    "see docs/slack.md).",
}
NOT_OFFERED.update({("slack", name): reason for name, reason in NOT_ON_SLACK.items()})
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
    return {slash_name(name): spec for name, spec in COMMANDS.items() if name not in NOT_ON_SLACK}


def rename_in_text(text: str) -> str:
    """Point the core's ``/help`` hints at ``/cop-help``."""
    if "/" not in text:  # most text (names, titles, dates) names no command: skip the regex
        return text
    return _MENTIONED.sub(lambda m: slash_name(m.group(1)), text)
