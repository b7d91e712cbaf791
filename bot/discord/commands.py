"""The app command tree, built from the core's registry: a new core command appears here by itself.

Each core option becomes a typed Discord option by its kind (see :class:`CoreOption`); the values
Discord sends are handed back to the core as text it re-validates (``dispatch.run_named``), so a
value nobody suggested gets the same clear error as on every other front end.

One convention shapes a command differently: a command with a ``show`` flag among other options
(``/setup``) becomes a group with ``show`` and ``set`` subcommands, because Discord cannot mix
subcommands and options and a flag alone reads oddly (``/setup show:True``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterable
from typing import Any, Protocol

import discord
from discord import app_commands

from commands.levels import LEVELS
from commands.parser import Kind, Option
from commands.registry import (
    COMMANDS,
    EXAMPLES,
    OPTION_SECTIONS,
    USAGES,
    CommandSpec,
    option_lines,
)
from commands.types import Section

# Every level and range the core reads (10 of Discord's 25 choices), as the console and Slack
# take them: A, A-B, A-C, A-D, B, B-C…
DIFFICULTY_CHOICES = LEVELS
CHOICE_NOTES = {"A": "A (easiest)", "D": "D (hardest)"}
STRING_OPTION_MAX = 6000  # Discord's longest string option
DESCRIPTION_MAX = 100
CHOICES_MAX = 25
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
# The subcommands of a settings-shaped command (/setup), as Discord lists them.
SHOW = "show the current settings"
SET = "change settings, then show them all"
_OPTION_TYPES = {
    Kind.USER: discord.AppCommandOptionType.user,
    Kind.FLAG: discord.AppCommandOptionType.boolean,
    Kind.PAGE: discord.AppCommandOptionType.integer,
    Kind.CHANNEL: discord.AppCommandOptionType.channel,
    Kind.ROLE: discord.AppCommandOptionType.role,
}


class Host(Protocol):
    """What the tree calls: the front end runs commands and answers autocomplete."""

    async def run_command(
        self, interaction: discord.Interaction[Any], command: str, values: dict[str, Any]
    ) -> None:
        """Run core command ``command`` with raw option values and answer the interaction."""

    async def suggest(
        self, interaction: discord.Interaction[Any], command: str, kind: Kind, current: str
    ) -> list[app_commands.Choice[str]]:
        """At most 25 choices for an option of ``kind`` of core command ``command``, given what
        was typed so far by the interaction's user."""


def _short(text: str) -> str:
    text = " ".join(text.split()) or "…"
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


class CoreOption(app_commands.Transformer):
    """A core option as a Discord option; the value comes back as text the core can parse."""

    def __init__(self, option: Option) -> None:
        """Describe ``option`` to Discord."""
        super().__init__()
        self.option = option

    @property
    def type(self) -> discord.AppCommandOptionType:
        """The Discord option type for the core kind (numbers and categories are strings)."""
        return _OPTION_TYPES.get(self.option.kind, discord.AppCommandOptionType.string)

    @property
    def choices(self) -> list[app_commands.Choice[str | int | float]] | None:
        """Difficulties, command names (/help's) and an option's own choices (/setup's reset) are
        fixed lists; everything else is free or autocompleted."""
        if self.option.kind is Kind.CHOICE:
            return [app_commands.Choice(name=choice, value=choice) for choice in self.option.choices]
        if self.option.kind is Kind.DIFFICULTY:
            return [app_commands.Choice(name=CHOICE_NOTES.get(d, d), value=d) for d in DIFFICULTY_CHOICES]
        if self.option.kind is Kind.COMMAND:
            names: list[app_commands.Choice[str | int | float]] = [
                app_commands.Choice(name=_short(f"{name} — {spec.description}"), value=name)
                for name, spec in COMMANDS.items()
            ]
            # Discord takes at most 25 choices; past that the name is typed (the core checks it).
            return names if len(names) <= CHOICES_MAX else None
        return None

    @property
    def min_value(self) -> int | None:
        """A whole number's lowest value (pages start at 1)."""
        return self.option.minimum if self.option.kind is Kind.PAGE else None

    @property
    def max_value(self) -> int | None:
        """A whole number's highest value, or the text's length limit (Discord's max_length)."""
        if self.option.kind is Kind.PAGE:
            return self.option.maximum
        if self.option.kind in (Kind.TEXT, Kind.LINK):
            return min(self.option.max_length, STRING_OPTION_MAX)
        return None

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """Channels the bot can post in."""
        return [discord.ChannelType.text, discord.ChannelType.news]

    @property
    def _error_display_name(self) -> str:
        return self.option.name

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        """Users, channels and roles as the mention text the core reads; the rest unchanged."""
        kind = self.option.kind
        if kind is Kind.USER:
            name = str(getattr(value, "display_name", "") or "").replace(">", "")
            return f"<@{value.id}|{name}>" if name else f"<@{value.id}>"
        if kind is Kind.CHANNEL:
            return f"<#{value.id}>"
        if kind is Kind.ROLE:
            return f"<@&{value.id}>"
        return value


class SuggestedOption(CoreOption):
    """A string option answered with autocomplete (problem numbers, categories)."""

    def __init__(self, option: Option, host: Host, command: str) -> None:
        """Ask ``host`` for suggestions for an option of core command ``command``."""
        super().__init__(option)
        self.host = host
        self.command = command

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], value: str | int | float, /
    ) -> list[app_commands.Choice[str]]:
        """At most 25 choices, from the host's cached catalogue."""
        return (await self.host.suggest(interaction, self.command, self.option.kind, str(value)))[:25]


def _transformer(option: Option, host: Host, command: str) -> CoreOption:
    if option.kind in (Kind.NUMBER, Kind.CATEGORY):
        return SuggestedOption(option, host, command)
    return CoreOption(option)


def _command(
    host: Host,
    core_name: str,
    options: Iterable[Option],
    *,
    name: str,
    description: str,
    fixed: dict[str, Any] | None = None,
) -> app_commands.Command[Any, ..., None]:
    """A Discord command whose options are ``options``, running core command ``core_name``."""
    options = tuple(options)
    preset = dict(fixed or {})

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await host.run_command(interaction, core_name, {**values, **preset})

    # discord.py reads a command's options from its callback's signature: describe them there.
    first = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("interaction", first, annotation=discord.Interaction)]
    for option in options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_transformer(option, host, core_name),
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    setattr(callback, "__signature__", inspect.Signature(parameters))  # noqa: B010
    descriptions = {option.name: _short(option.description) for option in options}
    setattr(callback, "__discord_app_commands_param_description__", descriptions)  # noqa: B010
    return app_commands.Command(name=name, description=_short(description), callback=callback)


def _is_settings_shaped(spec: CommandSpec) -> bool:
    return len(spec.options) > 1 and any(o.name == "show" and o.kind is Kind.FLAG for o in spec.options)


def build_command(spec: CommandSpec, host: Host) -> app_commands.Command[Any, ..., None] | app_commands.Group:
    """The Discord shape of one core command."""
    command: app_commands.Command[Any, ..., None] | app_commands.Group
    if _is_settings_shaped(spec):
        command = app_commands.Group(name=spec.name, description=_short(spec.description))
        show = _command(host, spec.name, (), name="show", description=SHOW, fixed={"show": True})
        rest = [o for o in spec.options if o.name != "show"]
        change = _command(host, spec.name, rest, name="set", description=SET)
        command.add_command(show)
        command.add_command(change)
        shown = " ".join(o.name if o.required else f"[{o.name}]" for o in rest)
        USAGES["discord", spec.name] = f"/{spec.name} show · /{spec.name} set {shown}"
        # /help setup as Discord shows it: subcommands, and the options of ``set`` (no ``show``).
        OPTION_SECTIONS["discord", spec.name] = (
            Section("Subcommands", (f"show — {SHOW}", f"set — {SET}")),
            Section(f"Options of /{spec.name} set", option_lines(rest)),
        )
        # Its examples as Discord runs them: ``/setup stale_days:20`` is ``/setup set stale_days:20``.
        EXAMPLES["discord", spec.name] = tuple(
            example
            if example.split()[1:2] == ["show"]
            else example.replace(f"/{spec.name} ", f"/{spec.name} set ", 1)
            for example in spec.examples
        )
    else:
        command = _command(host, spec.name, spec.options, name=spec.name, description=spec.description)
    if spec.admin_only:
        # Discord hides it from members without Manage Server; the core checks again.
        command.default_permissions = ADMIN_PERMISSIONS
    # Discord offers it only in servers; the core refuses it in a DM all the same.
    command.guild_only = spec.community
    return command


class CopTree(app_commands.CommandTree[Any]):
    """The command tree; failures of the tree itself (unknown command, bad option) go to
    :meth:`on_error`, which the front end wires to a private answer."""

    error_handler: Any = None

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        """Answer the user privately instead of leaving "The application did not respond"."""
        if self.error_handler is not None:
            await self.error_handler(interaction, error)
        else:  # pragma: no cover - the front end always sets one
            await super().on_error(interaction, error)


def build_tree(client: discord.Client, host: Host, guild: discord.abc.Snowflake | None = None) -> CopTree:
    """Every registered core command on a new tree, in ``guild`` or global."""
    tree = CopTree(client)
    for spec in COMMANDS.values():
        tree.add_command(build_command(spec, host), guild=guild)
    return tree


def payload_hash(tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None = None) -> str:
    """A hash of what a sync would send: unchanged hash, nothing to sync."""
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
