"""The neutral vocabulary between front ends and the core: who asks, what they ask, the reply."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from storage.claims import Person
from storage.models import WorkLink
from storage.store import Store
from storage.text import display_name

T = TypeVar("T")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Actor:
    """The person a request comes from, as their platform describes them."""

    platform: str
    community_id: str
    user_id: str
    display_name: str
    is_moderator: bool = False
    is_admin: bool = False
    # A direct message outside any community (a Discord DM): ``community_id`` is then only a
    # placeholder, and commands whose data belongs to a community refuse (CommandSpec.community).
    direct: bool = False
    # Whether ``display_name`` is the name the platform shows for them now (False: a stand-in,
    # when Slack could not be asked), which their stored claims and submissions then take on.
    named: bool = True

    def __post_init__(self) -> None:
        # Names come from every platform as their users typed them: cleaned here, once, for
        # every card, list, history and moderator post that shows them.
        cleaned = display_name(self.display_name, self.user_id)
        if cleaned is not self.display_name:
            object.__setattr__(self, "display_name", cleaned)

    @property
    def person(self) -> Person:
        """The storage view of this actor."""
        return Person(self.platform, self.community_id, self.user_id, self.display_name)


@dataclass(frozen=True)
class UserRef:
    """Another user named in a command: by platform id when known, else by display name."""

    user_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Request:
    """A parsed command: its name, its arguments, and who sent it."""

    command: str
    actor: Actor
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A link shown as its label, then ``note`` as inert text beside it (``<url> — note``).

    The label is copbot's own words or the URL itself; what a member wrote goes in ``note``,
    never in the label, where it could pass for another address.
    """

    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class ChannelRef:
    """A channel named inside a :class:`RefLine`, by its platform id."""

    id: str


@dataclass(frozen=True)
class RefLine:
    """A line of copbot's own words naming channels: a renderer shows each :class:`ChannelRef`
    as the platform's clickable reference to the channel (``<#id>``: it pings nobody), so a
    member finds the channel by its name; where there is none (the console), as ``#id``."""

    parts: tuple[str | ChannelRef, ...]

    @property
    def plain(self) -> str:
        """The line as plain text, each channel as ``#id``."""
        return "".join(part if isinstance(part, str) else f"#{part.id}" for part in self.parts)


# Where copbot's own text (a platform's refusal of a post) names a channel: ``<#id>``, as Discord
# and Slack write a channel reference.
CHANNEL_REF = re.compile(r"<#([A-Za-z0-9]{1,40})>")


def ref_line(text: str) -> str | RefLine:
    """copbot's own ``text`` (never a member's) with each ``<#id>`` in it a :class:`ChannelRef`;
    ``text`` itself when it names no channel so."""
    pieces = CHANNEL_REF.split(text)
    if len(pieces) == 1:
        return text
    # split() puts each id at an odd index, the text around it (perhaps "") at the even ones.
    return RefLine(tuple(ChannelRef(piece) if i % 2 else piece for i, piece in enumerate(pieces) if piece))


MORE_LINES = "… and {} more"


def more_line(count: int, hint: str = "") -> str:
    """How many lines are left out ("… and 7 more"), then where they are listed when ``hint``
    names it ("… and 7 more: /problem 2.4 all")."""
    return MORE_LINES.format(count) + (f": {hint}" if hint else "")


@dataclass(frozen=True)
class Section:
    """A titled block of lines; a line is plain text, a link or a :class:`RefLine`. ``more``: how
    many further lines the core left out (a card's existing work), shown as a last "… and N
    more"; ``hint``: the command that lists them all, said after that count ("… and 7 more:
    /problem 2.4 all"), also where a platform leaves out more of the lines for want of room."""

    title: str
    lines: tuple[str | Link | RefLine, ...]
    more: int = 0
    hint: str = ""

    @property
    def shown_lines(self) -> tuple[str | Link | RefLine, ...]:
        """The lines, then "… and N more" for those left out."""
        return (*self.lines, more_line(self.more, self.hint)) if self.more else self.lines


@dataclass(frozen=True)
class ReplyField:
    """A short name/value pair (category, difficulty…).

    ``ref`` names a channel, role or user (``("channel", id)``) that a renderer shows as a
    clickable reference instead of ``value``; it never pings (mentions stay off).
    """

    name: str
    value: str
    ref: tuple[str, str] | None = None


class ButtonStyle(StrEnum):
    """How prominent a button is."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """An action button; front ends encode ``action`` and ``target`` in a persistent id."""

    label: str
    action: str
    target: str = ""
    style: ButtonStyle = ButtonStyle.SECONDARY

    @property
    def custom_id(self) -> str:
        """The id a platform keeps on the button: ``cop:<action>:<target>``."""
        return f"cop:{self.action}:{self.target}"


# The longest button id every platform carries (Discord's custom_id: 100 characters).
BUTTON_ID_MAX = 100


def parse_custom_id(custom_id: str) -> tuple[str, str] | None:
    """The (action, target) of a button id made by :attr:`Button.custom_id`, or None."""
    parts = custom_id.split(":", 2)
    if len(parts) != 3 or parts[0] != "cop":
        return None
    return parts[1], parts[2]


# Record ids are SQL INTEGERs (PostgreSQL's is 32-bit): a button naming a larger one names nothing.
MAX_RECORD_ID = 2**31 - 1


def record_id(target: str) -> int | None:
    """The database id a button or form names (ASCII digits only), or None when it names none.

    Not ``str.isdigit``: it accepts digits such as ``²`` that ``int`` refuses, and ``isdecimal``
    alone accepts other scripts' digits, which no id copbot writes contains.
    """
    if not (target.isascii() and target.isdecimal()) or len(target) > 10:
        return None
    value = int(target)
    return value if value <= MAX_RECORD_ID else None


@dataclass(frozen=True)
class Reply:
    """A platform-neutral answer; each front end renders it its own way.

    Text is plain (never markup): renderers escape it, so user text cannot ping anyone.
    ``mention`` is the one user a renderer may really ping.
    """

    text: str = ""
    title: str | None = None
    url: str | None = None
    difficulty: str | None = None
    fields: tuple[ReplyField, ...] = ()
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: str | None = None
    private: bool = True
    mention: str | None = None
    error: bool = False
    # Buttons (by custom id) of the message whose button was pressed that have nothing left to
    # do (an answered reminder's): the front end takes them off that message, so that nobody
    # presses them again expecting something.
    spent: tuple[str, ...] = ()
    # A line the message whose button was pressed gains as it loses its ``spent`` buttons: what
    # the press did ("3.11: released 2026-12-26"), so that a reminder left without buttons still
    # says how it was answered, to the claimant later and to whoever reads the reminder channel.
    answered: str = ""
    # What a problem card whose Claim or Release was pressed shows now (who holds it, which
    # buttons): the front end puts it in place of that card (see :meth:`refreshing`), so that the
    # next reader is not told a problem is free when it was just claimed, or the reverse.
    refresh: Reply | None = None
    # What a list whose button was pressed shows now (a /pending list after a decision): the front
    # end puts it in place of that list, one holding a ``spent`` button (see :meth:`refreshing`),
    # so that the submission decided no longer shows there with buttons inviting a second decision.
    relist: Reply | None = None

    def refreshing(self, pressed: Sequence[Button]) -> Reply | None:
        """What the message with buttons ``pressed`` should now show, or None to leave it: a list
        holding a spent button is :attr:`relist`; otherwise only a card of the same problem
        (holding its Claim button) is refreshed, and its Another random keeps the filters it had."""
        if self.relist is not None and any(b.custom_id in self.spent for b in pressed):
            return self.relist
        new = self.refresh
        claim = next((b for b in new.buttons if b.action == "claim"), None) if new else None
        if new is None or claim is None or not any(b.custom_id == claim.custom_id for b in pressed):
            return None
        again = next((b for b in pressed if b.action == "random"), None)
        buttons = tuple(again if again and b.action == "random" else b for b in new.buttons)
        return Reply(**{**new.__dict__, "buttons": buttons})


class Effects(Protocol):
    """What the platforms do after a command changed something (posting to moderators…)."""

    async def submitted(self, link: WorkLink) -> str:
        """Post a new submission to its moderators: "posted", "no_channel", "later" (the
        platform refused; it is retried at the next sweep), "blocked" (copbot may not post in
        the moderator channel, or it is gone: it waits until an admin mends that), "refused" (the
        platform refused the message itself, for good: moderators decide it with /pending), or "nowhere"
        (no platform of the submission's is served here, as in the console: it waits in
        /pending)."""

    async def decided(self, link: WorkLink) -> None:
        """Show a decision (or its undoing) on the moderator post and tell the submitter."""

    async def refresh(self, link: WorkLink) -> None:
        """Bring the moderator post up to date if it shows an older state than ``link`` has."""

    async def settings_changed(self, platform: str, community_id: str) -> None:
        """A community's settings changed (e.g. a moderator channel appeared), or what refused
        its moderator posts may have been mended (an admin's /setup, copbot invited to the
        moderator channel): what waits for a post, or a move, is tried now."""

    async def record_posts(self, only: int | None = None) -> int:
        """Record the moderator posts made while the database was away (all, or only submission
        ``only``'s); returns how many it recorded."""


@dataclass
class Context:
    """Everything a command needs besides its request: storage, time, chance and settings."""

    store: Store
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)
    stale_after_days: int = 30
    stale_grace_days: int = 14
    submissions_per_hour: int = 10
    # The most open claims a member may hold in a community that set none with /setup max_claims
    # (MAX_CLAIMS); None: no limit.
    max_claims: int | None = None
    page_size: int = 5
    effects: Effects | None = None
    # /setup options a platform takes from copbot's own settings instead (Slack's channels and
    # moderators: SLACK_MODERATOR_CHANNEL…), by platform, then option: that setting's name, and the
    # field /setup shows for it. Filled by the platform's front end.
    fixed_settings: dict[str, dict[str, tuple[str, ReplyField]]] = field(default_factory=dict)
    # The problem /random (or the card whose Another random button they pressed) last showed each
    # person, by (platform, user id): their next /random picks another. In this process only,
    # the latest RECENT_PICKS people (see commands.random_problem).
    shown: dict[tuple[str, str], str] = field(default_factory=dict)


class CommandError(Exception):
    """A user's mistake, answered privately with the message; never logged as a failure.

    ``spent``: as :attr:`Reply.spent`, for a press that changed nothing because what its
    buttons act on has moved on (an answered reminder's claim that ended meanwhile); ``refresh``
    as :attr:`Reply.refresh` (a card's Release pressed after the claim ended); ``answered`` as
    :attr:`Reply.answered` (what the pressed reminder then says about that claim)."""

    def __init__(self, message: str = "", *, spent: tuple[str, ...] = (), answered: str = "") -> None:
        super().__init__(message)
        self.spent = spent
        self.answered = answered
        self.refresh: Reply | None = None  # see Reply.refresh
        self.relist: Reply | None = None  # see Reply.relist


class UnknownProblem(CommandError):
    """No problem has that number."""


class UnknownCommand(CommandError):
    """No command has that name."""


class BadArgument(CommandError):
    """An argument that cannot be read."""


class NotYourClaim(CommandError):
    """Only the claimant can do this to a claim."""


class TooManyClaims(CommandError):
    """A new claim past the community's cap on a member's open claims."""


class NotAllowed(CommandError):
    """The actor lacks the role this needs."""


def page_of(items: Sequence[T], wanted: int, size: int) -> tuple[Sequence[T], int, int]:
    """Page ``wanted`` (1-based; past the end: the last) of ``items`` cut in pages of ``size``:
    its items, its number and how many pages there are (at least one)."""
    pages = max(1, (len(items) + size - 1) // size)
    page = min(wanted, pages)
    return items[(page - 1) * size : page * size], page, pages


def past_the_last(wanted: int, pages: int) -> str:
    """What to say when page ``wanted`` is past the last of ``pages`` (page_of shows the last):
    "There are only 2 pages; here is page 2.", or "" when that page exists."""
    if wanted <= pages:
        return ""
    return (
        "There is only 1 page; here it is."
        if pages == 1
        else f"There are only {pages} pages; here is page {pages}."
    )
