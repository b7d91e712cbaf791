"""A neutral :class:`Reply` as a Discord message: one embed, persistent buttons, and the mention guard.

Everything a user wrote (problem text, notes, names) is escaped here, so it can neither render as
markdown nor as a mention; only ``Reply.mention`` may ping, and only that one user. copbot's own
links are the only masked links. Embed limits (title 256, description 4096, field 1024, 25 fields,
6000 in all) are enforced here too: a long section continues over several fields rather than
being cut.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any
from urllib.parse import quote, urlsplit

import discord
from discord.utils import escape_mentions

from bot.pressed import answers
from commands.links import URL_KEPT
from commands.types import (
    Button,
    ButtonStyle,
    Link,
    RefLine,
    Reply,
    ReplyField,
    Section,
    more_line,
    parse_custom_id,
)
from storage.text import bracketed, without_bidi, without_tail
from storage.text import clip as clip_text

log = logging.getLogger("copbot.discord")

# Persistent button ids: ``cop:<action>:<target>`` (see commands.types.Button.custom_id).
BUTTON_TEMPLATE = r"cop:(?P<action>[a-z_]+):(?P<target>.*)"
_BUTTON_RE = re.compile(BUTTON_TEMPLATE)

TITLE_MAX, DESCRIPTION_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 256, 4096, 256, 1024
FOOTER_MAX, EMBED_TOTAL_MAX, FIELDS_MAX = 2048, 6000, 25
BUTTONS_MAX, LABEL_MAX, CUSTOM_ID_MAX = 25, 80, 100
LABEL_MIN = 12  # the shortest label a masked link is worth showing
# An address in a masked link's label: Discord then shows the markdown as typed, not a link.
_ADDRESS = re.compile(r"https?://\w", re.IGNORECASE)
_LABEL_TAIL = ":;,.—– "  # what ends the words before an address in a label: kept out of the link
NOTE_AFTER = " — "  # between a link and its note

# Easiest green to hardest red; a range like A-C takes the colour of its middle.
LEVEL_COLOURS = (0x2ECC71, 0xF1C40F, 0xE67E22, 0xE74C3C)
NEUTRAL_COLOUR = 0x5865F2
ERROR_COLOUR = 0x992D22

_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}
_REF_FORMATS = {"channel": "<#{}>", "role": "<@&{}>", "user": "<@{}>"}
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_MENTION = re.compile(r"(?<=<)@([!&]?[0-9]+>)")
# Spans of user text kept as typed: a custom emoji (<:name:id>, which pings nobody), a URL in
# angle brackets (<https://…>, Discord's link without a preview), and a bare URL as Discord
# autolinks one (up to a space or "<"), clickable; inside a URL the characters of _URL_QUOTED
# are %-quoted (the same address to a browser).
_KEPT = re.compile(
    r"(?P<emoji><a?:[A-Za-z0-9_]{2,32}:[0-9]{15,21}>)"
    r"|<(?P<angled>https?://[^\s<>]+)>"
    r"|(?<![A-Za-z0-9])(?P<url>https?://[^\s<]+)",
    re.IGNORECASE,
)
_URL_QUOTED = {ord(ch): f"%{ord(ch):02X}" for ch in "\\[]|*`"}
# In angle brackets (<https://…>) a ">" would end the link as well.
_ANGLED_QUOTED = {**_URL_QUOTED, ord(">"): "%3E"}
# What ends a sentence rather than a URL: left out of it, as Discord's own autolink leaves it.
_URL_TAIL = ".,:;\"')]>*_~|`”’»"
# Discord's autolink runs to a space or "<" and ends on none of _AUTOLINK_LAST; what follows a
# URL up to there (_RUN, as copbot writes it: its first "]"s bare) is taken in unless it is all
# those. A URL in square brackets ends at the "]" that closes them (storage.text.bracketed).
_AUTOLINK_LAST = ".,:;\"')]"
_RUN = re.compile(r"[^\s<]*")
# Markdown anywhere in a line: emphasis, strike, spoilers, code, masked links, <t:…>/<#…> forms.
_INLINE = re.compile(r"[\\*_~`|\[\]<]")
# Markdown at the start of a line: quotes, headings, "-#" subtext, list items ("-", "+", "1.").
_LINE_START = re.compile(r"^([ \t]*)(?:([>#+-])|([0-9]+)\.(?=\s|$))", re.MULTILINE)
# What Discord's markdown (simple-markdown's preprocess) reads before anything else: a "\r" or
# "\r\n" as a line break, a form feed as nothing.
_LINE_BREAK = re.compile(r"\r\n?|\f")


def clip(markup: str, limit: int, *, links: bool = True) -> str:
    """:func:`storage.text.clip` of Discord markup (escaped text): a link it leaves out is not
    shown as text instead, which would have to be escaped."""
    return clip_text(markup, limit, links=links, readable=False)


def _escape_line_start(match: re.Match[str]) -> str:
    space, marker, number = match.groups()
    return f"{space}\\{marker}" if marker else f"{space}{number}\\."


@functools.lru_cache(maxsize=2048)
def escape(text: str) -> str:
    """User text made inert: every markdown character literal, no @everyone, no mention.

    Each character Discord reads as markdown gets its own backslash (discord.py's
    ``escape_markdown`` escapes a masked link as one span, so with two on a line everything
    between them stayed live). Bare URLs stay clickable and as typed: Discord reads no markdown
    inside one, and no mention (a zero-width space put after the "@" of
    ``https://medium.com/@heremaps/…`` made it a link to another page).
    Line breaks are written as Discord reads them ("\\r" and "\\r\\n" as "\\n"), so that a line
    a bare carriage return starts has its markdown escaped too. Bidi controls go
    (:func:`storage.text.without_bidi`): one left open in a problem's text, a name or a note
    turned the rest of the message around. Cached: cards repeat the same texts (problems, names).
    """
    text = _LINE_BREAK.sub(lambda found: "" if found.group() == "\f" else "\n", without_bidi(text))
    parts: list[str] = []
    start = 0
    # Searched again from where each span ends: a link in brackets ends before what the match
    # took in (``(https://x.org/a)https://x.org/b``), and a URL may follow it there.
    while (kept := _KEPT.search(text, start)) is not None:
        parts.append(_inert(text[start : kept.start()]))
        url = kept.group("url")
        if url is None:
            angled = kept.group("angled")
            parts.append(f"<{angled.translate(_URL_QUOTED)}>" if angled else kept.group())
            start = kept.end()
            continue
        url = without_tail(bracketed(url, text[: kept.start()]), _URL_TAIL)
        start = kept.start() + len(url)
        run = _RUN.match(text, start)  # what Discord's autolink would look at next
        after = run.group() if run else ""
        closing = len(after) - len(after.lstrip("]"))  # left bare, see below
        if (after[:closing] + _inert(after[closing:])).strip(_AUTOLINK_LAST) or text.startswith(
            "<", start + len(after)
        ):
            # Discord's autolink would run on into what follows (a closing quote: “…/notes”;
            # the words after the "]" closing [https://x.org/a]'s; the backslash keeping a "<"
            # after it literal), linking another page: in angle brackets the link ends where the
            # URL does.
            parts.append(f"<{url.translate(_ANGLED_QUOTED)}>")
            continue
        parts.append(url.translate(_URL_QUOTED))
        # A "]" right after it stays bare: a backslash there would become part of the link.
        while start < len(text) and text[start] == "]":
            parts.append("]")
            start += 1
    parts.append(_inert(text[start:]))
    return _LINE_START.sub(_escape_line_start, "".join(parts))


def _inert(text: str) -> str:
    """Text outside URLs and emoji: each markdown character escaped, no @everyone, @here or
    mention (escape_mentions only knows 17-20 digit ids; every <@…> form is broken whatever its
    length)."""
    text = _INLINE.sub(r"\\\g<0>", text)
    return _MENTION.sub("@\u200b\\1", escape_mentions(text)) if "@" in text else text


def colour(reply: Reply) -> int:
    """Red-brown for errors, by difficulty for problems, blurple otherwise."""
    if reply.error:
        return ERROR_COLOUR
    levels = "ABCD"
    first, _, last = (reply.difficulty or "").partition("-")
    if first not in levels or (last and last not in levels):
        return NEUTRAL_COLOUR
    middle = (levels.index(first) + levels.index(last or first)) / 2
    low, high = LEVEL_COLOURS[int(middle)], LEVEL_COLOURS[min(int(middle) + 1, 3)]
    share = middle - int(middle)
    channels = [
        round(((low >> shift) & 0xFF) * (1 - share) + ((high >> shift) & 0xFF) * share)
        for shift in (16, 8, 0)
    ]
    return (channels[0] << 16) | (channels[1] << 8) | channels[2]


def safe_url(url: str | None) -> str | None:
    """``url`` if it is http(s) with a host, with the characters that end a markdown link quoted."""
    if not url or len(url) > 2000 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(url, safe=URL_KEPT)


def link(line: Link, limit: int = FIELD_VALUE_MAX) -> str:
    """A masked link ``[label](url)`` for http(s) URLs, its label shortened to fit in ``limit``
    characters with the whole URL; anything else as inert text. The link's note follows as inert
    text (`` — note``), cut first."""
    shown = _link(line, limit)
    note = " ".join(line.note.split())
    room = limit - len(shown) - len(NOTE_AFTER)
    if not note or room < LABEL_MIN:
        return shown
    return shown + NOTE_AFTER + clip(escape(note), room)


def _link(line: Link, limit: int) -> str:
    url = safe_url(line.url)
    plain = " ".join(line.label.split()) or line.url
    label = escape(plain)
    if url is None:
        return f"{label} ({escape(line.url)})" if line.url and line.url != line.label else label
    address = _ADDRESS.search(plain)
    if address is not None:
        # Discord shows a masked link whose text holds an address as its raw markdown:
        # "[https://a.org/x](https://a.org/x)", brackets and all, on every card with approved work.
        return _addressed(plain, address.start(), url, limit)
    room = min(limit - len(url) - len("[]()"), 200)
    if room < LABEL_MIN:  # longer than the core now accepts (commands.links): an older link
        return clip(label, limit)
    return f"[{clip(label, room, links=False)}]({url})"


def _addressed(plain: str, at: int, url: str, limit: int) -> str:
    """A link whose label holds an address at ``at``: the link itself as a bare URL when the
    label is its address; else the words before the address as the masked link and the rest of
    the label after it as text (``[2.4](post): https://… from Ann``); if no words come before the
    address, the label as text and then the address it links to, bare."""
    bare = url.translate(_URL_QUOTED)
    if bare[-1] in _URL_TAIL:  # Discord's autolink would leave it out: the same address
        bare = bare[:-1] + f"%{ord(bare[-1]):02X}"
    if safe_url(plain) == url:
        return bare if len(bare) <= limit else clip(escape(plain), limit)
    masked = plain[:at].rstrip().rstrip(_LABEL_TAIL)
    room = min(limit - len(url) - len("[]()"), 200)
    if not masked or room < LABEL_MIN:
        after = NOTE_AFTER + bare  # the label, then the address it links to
        if limit - len(after) < LABEL_MIN:
            return clip(escape(plain), limit)
        return clip(escape(plain), limit - len(after)) + after
    head = f"[{clip(escape(masked), room, links=False)}]({url})"
    rest = escape(plain[len(masked) :])
    return head + clip(rest, limit - len(head)) if limit - len(head) >= LABEL_MIN else head


def field_value(field: ReplyField) -> str:
    """A field's value, or a clickable reference to a channel, role or user (never a ping)."""
    if field.ref is not None:
        kind, ident = field.ref
        if kind in _REF_FORMATS and _DIGITS.match(ident):
            return _REF_FORMATS[kind].format(ident)
    return _shown(escape(field.value))


def _shown(text: str) -> str:
    """``text``, or a dash where Discord would refuse it as blank."""
    return text if text.strip() else "—"


LINE_MAX = FIELD_VALUE_MAX - 40  # a line's most, with the "… and N more" line beside it
CONTINUED = " (continued)"


def referring(line: RefLine) -> str:
    """A :class:`RefLine`: its text escaped, each channel as Discord's ``<#id>`` (clickable, it
    pings nobody; an id that is no Discord id as plain text)."""
    return "".join(
        escape(part)
        if isinstance(part, str)
        else _REF_FORMATS["channel"].format(part.id)
        if _DIGITS.match(part.id)
        else escape(f"#{part.id}")
        for part in line.parts
    )


def bullets(section: Section) -> list[str]:
    """A section's lines as escaped bullets, each short enough to share a field with a count."""
    return [
        clip(
            "• "
            + (
                link(line, LINE_MAX - 2)
                if isinstance(line, Link)
                else referring(line)
                if isinstance(line, RefLine)
                else escape(line)
            ),
            LINE_MAX,
        )
        for line in section.shown_lines
    ]


def pack(
    lines: list[str], fields: int, budget: int, name: int = 0, more: int = 0, hint: str = ""
) -> tuple[list[str], int]:
    """Whole ``lines`` in at most ``fields`` field values of at most 1,024 characters each and
    ``budget`` in all (a value after the first also costs ``name``, its field's name); lines that
    do not fit are counted in a last "… and N more" (the last of ``lines`` is the section's own
    when it left ``more`` out), followed by ``hint`` (escaped: where they are all listed). The
    values, and how many lines they show."""
    joined = "\n".join(lines)
    if lines and len(joined) <= min(FIELD_VALUE_MAX, budget):  # the usual section: one field
        return [joined], len(lines)
    # (values, last value's length, characters used) after adding text, or None if it cannot go.
    State = tuple[int, int, int]

    def after(state: State, text: str) -> State | None:
        count, last, used = state
        if count and last + 1 + len(text) <= FIELD_VALUE_MAX and used + 1 + len(text) <= budget:
            return count, last + 1 + len(text), used + 1 + len(text)
        cost = len(text) + (name if count else 0)
        if count < fields and len(text) <= FIELD_VALUE_MAX and used + cost <= budget:
            return count + 1, len(text), used + cost
        return None

    values: list[list[str]] = []
    state: State = (0, 0, 0)
    beyond = max(more - 1, 0)  # the section's own "… and N more" stands for N lines
    for index, line in enumerate(lines):
        rest = len(lines) - index - 1 + beyond
        placed = after(state, line)
        if placed is not None and rest and after(placed, more_line(rest, hint)) is None:
            placed = None  # then there would be no room left to say what was left out
        if placed is None:
            marker = more_line(rest + 1, hint)
            placed = after(state, marker)
            if placed is not None:
                _put(values, marker, placed[0] > state[0])
            return ["\n".join(value) for value in values] or ["—"], index
        _put(values, line, placed[0] > state[0])
        state = placed
    return ["\n".join(value) for value in values] or ["—"], len(lines)


def _put(values: list[list[str]], line: str, new: bool) -> None:
    if new:
        values.append([line])
    else:
        values[-1].append(line)


def section_value(section: Section) -> str:
    """A section's lines as bullets, as many whole lines as fit in one field."""
    return pack(bullets(section), 1, FIELD_VALUE_MAX, more=section.more, hint=escape(section.hint))[0][0]


def embed(reply: Reply) -> discord.Embed:
    """The reply as one embed within every Discord limit. A section too long for one field goes
    on in more fields while the embed has fields and characters to spare."""
    title = clip(escape(" ".join(reply.title.split())), TITLE_MAX) if reply.title else None
    description = clip(escape(reply.text), DESCRIPTION_MAX) if reply.text else None
    result = discord.Embed(
        title=title,
        url=safe_url(reply.url) if title else None,
        description=description,
        colour=colour(reply),
    )
    if reply.footer:
        # A footer shows no markdown and no mention, and pings nobody (as nothing in an embed
        # does): the text as written, so a command it names ("Next: /search query:@everyone
        # page:2") copies as typed, without a zero-width space after its @.
        result.set_footer(text=clip(without_bidi(reply.footer), FOOTER_MAX))
    fields: list[tuple[str, str, bool]] = [
        (_shown(clip(escape(f.name), FIELD_NAME_MAX)), clip(field_value(f), FIELD_VALUE_MAX), True)
        for f in reply.fields
    ]
    inline = len(fields)
    sections = [
        (_shown(clip(escape(s.title), FIELD_NAME_MAX)), bullets(s), s.more, escape(s.hint))
        for s in reply.sections
    ]
    firsts = [pack(lines, 1, FIELD_VALUE_MAX, more=more, hint=hint) for _, lines, more, hint in sections]
    fields += [(name, values[0], False) for (name, *_), (values, _) in zip(sections, firsts, strict=True)]
    del fields[FIELDS_MAX:]

    def size() -> int:
        return len(result) + sum(len(name) + len(value) for name, value, _ in fields)

    used = size()
    if not used:
        result.description = "…"  # Discord refuses an empty embed
        used = size()
    if used > EMBED_TOTAL_MAX:
        overflow = used - EMBED_TOTAL_MAX
        if result.description:
            result.description = clip(result.description, max(len(result.description) - overflow, 200))
        while size() > EMBED_TOTAL_MAX and fields:
            fields.pop()
        used = size()
    # Sections cut short go on over the fields and characters left, in order.
    spare_fields, spare = FIELDS_MAX - len(fields), EMBED_TOTAL_MAX - used
    laid = fields[:inline]
    for index, (name, value, _) in enumerate(fields[inline:]):
        section_name, lines, left_out, hint = sections[index]
        values = [value]
        continued = clip(section_name, FIELD_NAME_MAX - len(CONTINUED)) + CONTINUED
        if spare_fields and firsts[index][1] < len(lines):
            values, _ = pack(lines, 1 + spare_fields, len(value) + spare, len(continued), left_out, hint)
            spare_fields -= len(values) - 1
            spare -= sum(map(len, values)) + len(continued) * (len(values) - 1) - len(value)
        laid += [(name, values[0], False)] + [(continued, rest, False) for rest in values[1:]]
    for name, value, inline_field in laid:
        result.add_field(name=name, value=value, inline=inline_field)
    return result


class CopButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """A button whose action and target live in its custom id, so it works after a restart.

    The client routes every click whose id matches the template here (registered once in
    ``setup_hook``); no per-message state is kept, so old messages' buttons keep working.
    """

    def __init__(self, custom_id: str, label: str = "…", style: discord.ButtonStyle | None = None) -> None:
        """A button with ``custom_id`` (``cop:<action>:<target>``)."""
        super().__init__(
            discord.ui.Button(
                label=clip(label, LABEL_MAX) or "…",
                style=style or discord.ButtonStyle.secondary,
                custom_id=custom_id,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CopButton:
        """Rebuild the clicked button from its id (called by discord.py for each click)."""
        return cls(match.string, label=str(getattr(item, "label", None) or "…"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the click to the client that received it."""
        handler = getattr(interaction.client, "handle_button", None)
        if handler is None:  # pragma: no cover - only a foreign client would lack it
            log.warning("button %s clicked on a client without copbot's handler", self.custom_id)
            return
        await handler(interaction, self.custom_id)


@functools.lru_cache(maxsize=1024)
def view(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """The buttons as a view, or None. The view is stopped before it is sent: discord.py then
    keeps no per-message state, and the registered :class:`CopButton` template routes clicks.

    Cached (cards repeat the same buttons; a view takes ~60 µs to build): the view returned is
    shared, so it must not be changed. discord.py only reads a stopped view when sending it.
    """
    if not buttons:
        return None
    result = discord.ui.View(timeout=None)
    for button in buttons[:BUTTONS_MAX]:
        custom_id = button.custom_id
        if len(custom_id) > CUSTOM_ID_MAX or not _BUTTON_RE.fullmatch(custom_id):
            log.warning("dropped a button whose id Discord cannot carry: %r", custom_id[:120])
            continue
        result.add_item(CopButton(custom_id, button.label, _STYLES.get(button.style)))
    if not result.children:
        return None
    result.stop()
    return result


# The field an answered reminder gains, listing how each of its claims was answered.
ANSWERED = "Answered"


def answered(message: discord.Message, notes: tuple[str, ...]) -> dict[str, Any] | None:
    """The edit that writes ``notes`` on ``message`` (a reminder), added to the lines it shows
    already: in its :data:`ANSWERED` field (``embeds``), or, posted as text where copbot lacked
    Embed Links, under a bold "Answered" at the end of its ``content``; None when nothing is new."""
    if not notes:
        return None
    if not message.embeds:
        return _answered_text(message.content or "", notes)
    shown = message.embeds[0].copy()
    at = next((i for i, f in enumerate(shown.fields) if f.name == ANSWERED), None)
    before = (shown.fields[at].value or "").splitlines() if at is not None else []
    lines = answers(before, notes)
    if lines is None:
        return None
    value = clip_text("\n".join(lines), FIELD_VALUE_MAX)
    if at is None:
        shown.add_field(name=ANSWERED, value=value, inline=False)
    else:
        shown.set_field_at(at, name=ANSWERED, value=value, inline=False)
    return {"embeds": [shown, *message.embeds[1:]]}


def _answered_text(content: str, notes: tuple[str, ...]) -> dict[str, Any] | None:
    """:func:`answered` for a reminder posted as text: its words, cut short if need be (within
    2,000 characters), then the "Answered" lines."""
    head = f"\n**{ANSWERED}**\n"
    body, marked, shown = content.rpartition(head)
    if not marked:
        body, shown = content, ""
    lines = answers(shown.splitlines(), notes)
    if lines is None:
        return None
    block = head + clip_text("\n".join(lines), FIELD_VALUE_MAX)
    return {"content": clip(body, CONTENT_MAX - len(block)) + block}


def buttons_of(message: discord.Message) -> tuple[Button, ...]:
    """The copbot buttons a message holds, in their order, as the core describes them."""
    found: list[Button] = []
    core_styles = {style: name for name, style in _STYLES.items()}
    for row in message.components:
        for item in getattr(row, "children", ()):
            custom_id = item.custom_id if isinstance(item, discord.Button) else None
            parsed = parse_custom_id(custom_id) if custom_id else None
            if parsed is not None:
                style = core_styles.get(item.style, ButtonStyle.SECONDARY)
                found.append(Button(item.label or "…", parsed[0], parsed[1], style))
    return tuple(found)


def allowed_mentions(reply: Reply) -> discord.AllowedMentions:
    """Nobody, or exactly the one user the reply means to ping."""
    if reply.mention and _DIGITS.match(reply.mention):
        return discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False, users=[discord.Object(int(reply.mention))]
        )
    return discord.AllowedMentions.none()


CONTENT_MAX = 2000  # a message's content
FIELD_LINE_MAX, FOOTER_LINE_MAX, TITLE_URL_MAX = 400, 300, 500
DESCRIPTION_LEAST = 200  # what the text keeps at least when the sections want its room


def text(reply: Reply) -> str:
    """The reply as a message's content, for a channel where copbot lacks Embed Links (Discord
    drops its embeds there): the same parts as :func:`embed`'s, escaped alike, as markdown
    within 2,000 characters. The mention (if any) first, then the title in bold, the text, the
    fields, each section under its bold title (cut short with "… and N more" when out of
    room), the footer as subtext. The text is cut before the sections are."""
    head: list[str] = []
    if reply.mention and _DIGITS.match(reply.mention):
        head.append(f"<@{reply.mention}>")
    if reply.title:
        title = clip(escape(" ".join(reply.title.split())), TITLE_MAX)
        url = safe_url(reply.url)
        head.append(f"**[{title}](<{url}>)**" if url and len(url) <= TITLE_URL_MAX else f"**{title}**")
    fields = [
        clip(f"**{clip(escape(f.name), FIELD_NAME_MAX)}**: {field_value(f)}", FIELD_LINE_MAX)
        for f in reply.fields
    ]
    tail = [clip(f"-# {escape(' '.join(reply.footer.split()))}", FOOTER_LINE_MAX)] if reply.footer else []
    sections = [
        (f"**{clip(escape(s.title), FIELD_NAME_MAX)}**", bullets(s), s.more, escape(s.hint))
        for s in reply.sections
    ]
    room = CONTENT_MAX - sum(len(line) + 1 for line in head + fields + tail)
    wanted = sum(len(name) + 1 + len("\n".join(lines)) + 1 for name, lines, *_ in sections)
    if reply.text:
        description = clip(escape(reply.text), max(room - wanted - 1, min(DESCRIPTION_LEAST, room - 1), 1))
        head.append(description)
        room -= len(description) + 1
    body: list[str] = []
    for name, lines, more, hint in sections:
        if room < len(name) + 1 + LABEL_MIN:
            break
        # Two values of at most 1,024 characters each hold all the room there is, joined by "\n".
        values, _ = pack(lines, 2, room - len(name) - 2, name=1, more=more, hint=hint)
        body += [name, "\n".join(values)]
        room -= len(name) + len(body[-1]) + 2
    return clip("\n".join(head + fields + body + tail), CONTENT_MAX) or "…"


def message(reply: Reply, *, embeds: bool = True) -> dict[str, Any]:
    """Keyword arguments for ``send``/``send_message``/``edit``: content, embed, view, mentions.
    Without ``embeds`` (copbot lacks Embed Links where it posts) the reply is the content,
    :func:`text`, and ``embeds`` is empty, so an edit removes an embed the message had."""
    kwargs: dict[str, Any] = {"allowed_mentions": allowed_mentions(reply)}
    if not embeds:
        kwargs.update(content=text(reply), embeds=[])
    else:
        kwargs["embed"] = embed(reply)
        if reply.mention and _DIGITS.match(reply.mention):
            kwargs["content"] = f"<@{reply.mention}>"
    buttons = view(reply.buttons)
    if buttons is not None:
        kwargs["view"] = buttons
    return kwargs
