"""Replies as Slack Block Kit, within Slack's limits, with every piece of text escaped.

Slack reads ``&``, ``<`` and ``>`` as markup (``<!channel>``, ``<@U123>``, ``<url|label>``), so
all user and catalogue text is escaped, and mrkdwn is sent ``verbatim`` so Slack does not
link-ify or parse mentions on its own. mrkdwn has no escape for ``*bold*``, ``_italic_``,
``~strike~``, `` `code` `` or a ``>`` quote, so in mrkdwn each of those characters in the core's
text that could open or close a span is followed by a zero-width space, and a line that would
open with ``>`` starts with one (:func:`inert`): a member's note cannot draw a bold "Link"
section or a struck-through line. A ``*``, ``_`` or ``~`` between two ASCII letters or digits
(``ann_the_dev``, ``x*y``, ``a~b``) can do neither, as Slack formats only at word boundaries, and
is left as typed so what people copy or search for is what they see; URLs in text are never
touched (:func:`_linked`).
The only markup in a message is what this module writes: bold titles, links to http(s) URLs (a
:class:`Link`, or a bare URL in the text, shown as itself), references from
:attr:`ReplyField.ref`, and :attr:`Reply.mention`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from bot.pressed import answers
from bot.slack.slash import rename_in_text
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
from storage.text import bracketed, clip, without_bidi, without_tail

MAX_TEXT = 3000  # one text object (section text, context element)
MAX_FIELD = 2000  # one section field
MAX_FIELDS = 10  # fields in one section
MAX_HEADER = 150
MAX_BLOCKS = 50
# The text of a message's blocks, all together: Slack refuses a message with more, whatever each
# block holds (msg_blocks_too_long; its SDK's maintainers give 12,000 characters, with a buffer
# for the blocks themselves), so a message keeps under that.
MAX_BLOCKS_TEXT = 11500
MAX_BUTTONS = 25  # elements in one actions block
MAX_LABEL = 75  # button text
MAX_ACTION_ID = 255
MAX_VALUE = 2000
MAX_URL = 2000
MAX_FALLBACK = 3000
MAX_LINK_LABEL = 500  # a link's label, at most (less when its URL leaves less room)
# Where a part of a reply other than a section was cut short to fit in one Slack message.
MORE = "… and more than fits in one Slack message."
MIN_LINK_LABEL = 8  # below this a link is shown as text: longer than any link /submit accepts
NOTE_AFTER = " — "  # between a link and its note

Block = dict[str, Any]

_SLACK_ID = re.compile(r"^[A-Z0-9]{2,40}$")
# A reference kind, how Slack writes it, and the id prefixes that kind may have.
_REFS = {
    "channel": ("<#{}>", "CGD"),
    "role": ("<!subteam^{}>", "S"),
    "user": ("<@{}>", "UW"),
}
# References that notify people: shown only in ephemeral replies, which notify nobody else.
_PINGING_REFS = {"role", "user"}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
ZWSP = "\u200b"
# What could format mrkdwn text: a backtick anywhere, and a *, _ or ~ unless it sits between two
# ASCII letters or digits (inside a word, where Slack neither opens nor closes a span: x*y,
# file_name, a~b); and a line (escaped) that Slack would show as a quote. Only ASCII counts as
# inside a word: whether Slack takes é or 名 for a word's edge is not documented (parsers that
# mimic it use JavaScript's ASCII \W), and whether inline code needs a word's edge neither.
_FORMATTING = re.compile(r"`|[*_~](?![A-Za-z0-9])|(?<![A-Za-z0-9])[*_~]")
_FORMATTING_CHARACTER = re.compile(r"[`*_~]")  # what _FORMATTING could match at all
_QUOTE_START = re.compile(r"^(?=[ \t]*&gt;)", re.MULTILINE)
_DANGLING = re.compile(r"[*_~`]+$")
# A bare http(s) URL in text; what ends a sentence around it is left out (links.without_tail).
# A "|" is part of it (a link /submit took may hold one), except in a URL written as Slack's
# own markup, "<https://x.org|label>", where it starts the label (see _linked).
_BARE_URL = re.compile(r"(?<![\w/.@-])https?://[^\s<>\"]+", re.IGNORECASE)
# A closing quote (a card quotes a note: “… https://x.org/notes”) too: Slack linked the URL with
# it, %-quoted, another page.
_URL_TAIL = ".,;:!?'*_~)]}”’»"
_STYLES = {ButtonStyle.PRIMARY: "primary", ButtonStyle.SUCCESS: "primary", ButtonStyle.DANGER: "danger"}


def escape(text: str) -> str:
    """Make text inert for Slack: ``<!channel>`` becomes ``&lt;!channel&gt;``; bidi controls go
    (:func:`storage.text.without_bidi`), so none left open reorders the rest of the message."""
    return without_bidi(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of what users type (``&lt;`` → ``<``), ``&amp;`` last."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def inert(text: str) -> str:
    """Text escaped (:func:`escape`) and unable to format in mrkdwn: a zero-width space after each
    backtick and each ``*``, ``_`` and ``~`` not inside a word (no pair of them can open and close
    a span around text), and before a ``>`` that would open a line as a quote."""
    text = escape(text)
    # Most text (a name, a date, a title) holds no character that could format: it is looked
    # through once for one, instead of matching every position against _FORMATTING.
    if _FORMATTING_CHARACTER.search(text) is not None:
        text = _FORMATTING.sub(rf"\g<0>{ZWSP}", text)
    return _QUOTE_START.sub(ZWSP, text) if "&gt;" in text else text


def _text(raw: str) -> str:
    """Core text as escaped Slack text, with /help pointed at /cop-help (for plain_text)."""
    return escape(rename_in_text(raw))


def _inert(raw: str) -> str:
    """Core text for mrkdwn: :func:`_text` that cannot format (:func:`inert`)."""
    return inert(rename_in_text(raw))


def _linked(raw: str) -> str:
    """Core text as escaped mrkdwn (see :func:`_text`) with each bare http(s) URL clickable as
    ``<url>``: Slack shows the URL itself, so no text becomes a link's label."""
    if "://" not in raw:  # most text (names, dates, titles) holds no URL
        return _inert(raw)
    out: list[str] = []
    done = at = 0
    while match := _BARE_URL.search(raw, at):
        # In square brackets ([https://x.org/a]'s page) the URL ends at the one closing them.
        found = match.group(0)
        if raw[match.start() - 1 : match.start()] == "<":  # <url|label>: the label is text
            found = found.split("|", 1)[0]
        found = without_tail(bracketed(found, raw[: match.start()]), _URL_TAIL)
        url = safe_url(found)
        if url is None:
            at = match.end()
            continue
        shown = escape(found)  # a URL with é or ß shows as typed, not %-quoted
        out += [_inert(raw[done : match.start()]), f"<{url}>" if shown == url else f"<{url}|{shown}>"]
        done = at = match.start() + len(found)
    return "".join(out) + _inert(raw[done:])


def fit(rendered: str, limit: int, *, links: bool = True) -> str:
    """Cut rendered text to ``limit`` characters without splitting an entity or a ``<…>``, nor
    a bare URL (plain text, the notification's): where it is shown, it would still be a link,
    to another page (see :func:`storage.text.clip`). ``links=False``: a link's label, which
    is no link of its own (the whole label leads to the link's target), cut like any text."""
    if len(rendered) <= limit:
        return rendered
    cut = clip(rendered, limit, links=links).removesuffix("…")
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    # Nor leave a formatting character without its zero-width space (see inert).
    return _DANGLING.sub("", _PARTIAL_ENTITY.sub("", cut)) + "…"


def _pack(pieces: list[str], limit: int) -> list[str]:
    """Join pieces with newlines into as few chunks of at most ``limit`` characters as fit."""
    chunks: list[str] = []
    current = ""
    for piece in (fit(p, limit) for p in pieces):
        if current and len(current) + 1 + len(piece) > limit:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def safe_url(url: str) -> str | None:
    """An http(s) URL made safe inside ``<…|…>``, or None for any other scheme or shape."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        return None
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        return None
    return quote(url, safe="/:?#[]@!$'()*+,;=%-._~&").replace("&", "&amp;")


def link(item: Link, limit: int = MAX_TEXT, longest: int = MAX_LINK_LABEL) -> str:
    """``<https://…|label>`` for http(s) URLs, at most ``limit`` characters: the label (at most
    ``longest``) gives way to the URL, which is never cut. A label that is the link's own address
    shows as typed (``<https://…>`` when Slack would show it so itself); any other label is inert
    (:func:`inert`): a member's name in it (a /pending line) cannot format it (Slack's Android
    app is reported to show a link whose label formats as plain text). Anything else is shown as
    inert text.
    The link's note follows as text (`` — note``), cut first: inert, with its URLs clickable and
    as written (:func:`_linked`)."""
    shown = _link(item, limit, longest)
    note = " ".join(item.note.split())
    room = limit - len(shown) - len(NOTE_AFTER)
    if not note or room < MIN_LINK_LABEL:
        return shown
    return shown + NOTE_AFTER + fit(_linked(note), room)


def _link(item: Link, limit: int, longest: int) -> str:
    label = " ".join(item.label.split()) or item.url.strip()
    url = safe_url(item.url)
    if url is None:  # shown as text, which must not format
        shown, text = inert(item.url.strip()), inert(label)
        return fit(text if shown == text else f"{text} ({fit(shown, 200)})", limit)
    if safe_url(label) == url:  # the link's own address: shown as typed, as in text (_linked)
        shown = escape(label)
        if shown == url and len(url) + len("<>") <= limit:
            return f"<{url}>"  # Slack shows the address itself, which nothing in it can format
    else:  # copbot's words, a member's name: they must not format
        shown = inert(label)
    room = min(longest, limit - len(url) - len("<|>"))
    if room < MIN_LINK_LABEL:  # too long to be a link in ``limit``: an older or a sheet link
        return fit(inert(label), limit)
    return f"<{url}|{fit(shown, room, links=False)}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit), "emoji": True}


def _field_value(item: ReplyField, private: bool) -> str:
    if item.ref is not None:
        kind, ref_id = item.ref
        known = _REFS.get(kind)
        if known and _SLACK_ID.match(ref_id) and ref_id[0] in known[1]:
            if private or kind not in _PINGING_REFS:
                return known[0].format(ref_id)
    return _linked(item.value)


def _fields(fields: tuple[ReplyField, ...], private: bool) -> list[Block]:
    rendered = [_mrkdwn(fit(f"*{_inert(f.name)}*\n{_field_value(f, private)}", MAX_FIELD)) for f in fields]
    return [
        {"type": "section", "fields": rendered[i : i + MAX_FIELDS]}
        for i in range(0, len(rendered), MAX_FIELDS)
    ]


@dataclass
class _Part:
    """A run of a reply's blocks that gives way as one when the message is too big. A section
    gives way a line at a time from its end (``pieces``: its title, then its lines), counting
    them in a last "… and N more" with those the core left out (then ``hint``, mrkdwn: where they
    are all listed); other parts a block at a time, then say :data:`MORE`."""

    blocks: list[Block]
    pieces: list[str] | None = None
    left_out: int = 0
    cut: bool = False
    hint: str = ""

    @property
    def shrinkable(self) -> bool:
        return len(self.pieces) > 1 if self.pieces is not None else bool(self.blocks)

    def shrink(self) -> None:
        if self.pieces is None:
            self.blocks.pop()
            self.cut = True
            return
        self.pieces.pop()
        self.left_out += 1
        self.blocks = _section_blocks(self.pieces, self.left_out, self.hint)

    @property
    def shown(self) -> list[Block]:
        return [*self.blocks, {"type": "context", "elements": [_mrkdwn(MORE)]}] if self.cut else self.blocks


def _section_blocks(pieces: list[str], left_out: int, hint: str = "") -> list[Block]:
    more = [f"• {more_line(left_out, hint)}"] if left_out else []
    return [{"type": "section", "text": _mrkdwn(chunk)} for chunk in _pack([*pieces, *more], MAX_TEXT)]


def _referring(line: RefLine) -> str:
    """A :class:`RefLine`: its text as :func:`_linked`'s, each channel as Slack's ``<#C…>``
    (clickable, it pings nobody; an id that is no Slack channel's as plain text)."""
    template, prefixes = _REFS["channel"]
    return "".join(
        _linked(part)
        if isinstance(part, str)
        else template.format(part.id)
        if _SLACK_ID.match(part.id) and part.id[0] in prefixes
        else _inert(f"#{part.id}")
        for part in line.parts
    )


def _section(section: Section) -> _Part:
    bullet = "• "
    lines = [
        link(line, MAX_TEXT - len(bullet))
        if isinstance(line, Link)
        else _referring(line)
        if isinstance(line, RefLine)
        else _linked(line)
        for line in section.lines
    ]
    pieces = [f"*{_inert(section.title)}*", *(bullet + line for line in lines)]
    hint = _inert(section.hint)
    return _Part(_section_blocks(pieces, section.more, hint), pieces, section.more, hint=hint)


def text_size(blocks: Any) -> int:
    """The characters of text in blocks, every text object's together, as Slack counts them for
    :data:`MAX_BLOCKS_TEXT`."""
    size = 0
    pending = [blocks]  # walked without recursion: a message's blocks are a few hundred values
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            text = value.get("text")
            if isinstance(text, str) and value.get("type") in ("mrkdwn", "plain_text"):
                size += len(text)
            pending += [v for v in value.values() if isinstance(v, (dict, list))]
        elif isinstance(value, list):
            pending += value
    return size


def _buttons(buttons: tuple[Button, ...]) -> list[Block]:
    elements: list[dict[str, Any]] = []
    seen: set[str] = set()
    for button in buttons:
        action_id = button.custom_id
        # Slack refuses a message whose action ids repeat; an over-long id could not come back.
        if action_id in seen or len(action_id) > MAX_ACTION_ID:
            continue
        seen.add(action_id)
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": _plain(_text(button.label), MAX_LABEL),
            "value": button.target[:MAX_VALUE],
        }
        if button.style in _STYLES:
            element["style"] = _STYLES[button.style]
        elements.append(element)
    return [
        {"type": "actions", "elements": elements[i : i + MAX_BUTTONS]}
        for i in range(0, len(elements), MAX_BUTTONS)
    ]


def buttons_of(blocks: Any) -> tuple[Button, ...]:
    """The copbot buttons in a message's blocks (as Slack sent them back), as the core has them."""
    found: list[Button] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict) or block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            parsed = (
                parse_custom_id(str(element.get("action_id") or "")) if isinstance(element, dict) else None
            )
            if parsed is not None:
                label = str((element.get("text") or {}).get("text") or "")
                found.append(Button(label, parsed[0], parsed[1]))
    return tuple(found)


def without(blocks: Any, spent: tuple[str, ...]) -> list[Block] | None:
    """``blocks`` (a message's, as Slack sent them back) once the buttons whose action ids are in
    ``spent`` go (an actions block left empty goes too), or None when they hold none of them."""
    if not isinstance(blocks, list):
        return None
    kept: list[Block] = []
    found = False
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "actions":
            kept.append(block)
            continue
        elements = [
            e
            for e in block.get("elements") or []
            if not (isinstance(e, dict) and e.get("action_id") in spent)
        ]
        if len(elements) == len(block.get("elements") or []):
            kept.append(block)
            continue
        found = True
        if elements:
            kept.append({**block, "elements": elements})
    return kept if found else None


# The block an answered reminder gains, listing how each of its claims was answered.
ANSWERED_BLOCK = "cop_answered"
ANSWERED_TITLE = "*Answered*"


def answered(blocks: Any, notes: tuple[str, ...]) -> list[Block] | None:
    """``blocks`` (a reminder's) with ``notes`` in its :data:`ANSWERED_BLOCK` (a context block
    after the rest), added to the lines it shows there; None when nothing is new."""
    if not notes or not isinstance(blocks, list):
        return None
    at = next(
        (i for i, b in enumerate(blocks) if isinstance(b, dict) and b.get("block_id") == ANSWERED_BLOCK), None
    )
    before: list[str] = []
    if at is not None:
        elements = blocks[at].get("elements") or [{}]
        text = str(elements[0].get("text") or "") if isinstance(elements[0], dict) else ""
        before = [unescape(line) for line in text.splitlines()[1:]]
    lines = answers(before, notes)
    if lines is None:
        return None
    text = fit("\n".join([ANSWERED_TITLE, *(escape(line) for line in lines)]), MAX_TEXT)
    block = {"type": "context", "block_id": ANSWERED_BLOCK, "elements": [_mrkdwn(text)]}
    kept = [b for i, b in enumerate(blocks) if i != at]
    return [*kept, block]


def _mention(reply: Reply) -> str:
    """``<@U123> `` when the reply names a user to ping, else nothing."""
    if reply.mention and _SLACK_ID.match(reply.mention) and reply.mention[0] in "UW":
        return f"<@{reply.mention}> "
    return ""


def fallback_text(reply: Reply) -> str:
    """The plain ``text`` Slack shows in notifications and where blocks cannot be shown."""
    parts = [p for p in (reply.title, reply.text) if p]
    if not parts:
        parts = [s.title for s in reply.sections] or [reply.footer or "copbot"]
    prefix = (":warning: " if reply.error else "") + _mention(reply)
    return prefix + fit(_inert("\n".join(parts)), MAX_FALLBACK - len(prefix))


def blocks(reply: Reply) -> list[Block]:
    """The Block Kit blocks of a reply: at most 50, each within Slack's limits."""
    head: list[Block] = []
    if reply.title:
        head.append({"type": "header", "text": _plain(_text(" ".join(reply.title.split())), MAX_HEADER)})
    paragraphs = [_linked(p) for p in reply.text.split("\n")] if reply.text.strip() else []
    lead = (":warning: " if reply.error else "") + _mention(reply)
    if lead and not paragraphs:
        paragraphs = [""]
    if paragraphs:
        paragraphs[0] = lead + paragraphs[0]
    parts = [_Part([{"type": "section", "text": _mrkdwn(chunk)} for chunk in _pack(paragraphs, MAX_TEXT)])]
    parts.append(_Part(_fields(reply.fields, reply.private)))
    parts += [_section(section) for section in reply.sections]
    tail = _buttons(reply.buttons)
    context = [_mrkdwn(fit(_linked(reply.footer), MAX_TEXT))] if reply.footer else []
    if reply.url and safe_url(reply.url):
        context.append(_mrkdwn(link(Link(reply.url, reply.url), MAX_TEXT, 200)))
    if context:
        tail.append({"type": "context", "elements": context})
    room, budget = MAX_BLOCKS - len(head) - len(tail), MAX_BLOCKS_TEXT - text_size(head + tail)
    body = [block for part in _shorten(parts, room, budget) for block in part.shown]
    return head + body + tail


def _shorten(parts: list[_Part], room: int, budget: int) -> list[_Part]:
    """The text, fields and sections of a reply in at most ``room`` blocks holding at most
    ``budget`` characters of text: the longest part gives way first (see :class:`_Part`), so a
    long list cannot push the short sections after it out of the message."""
    while True:
        shown = [part.shown for part in parts]
        over_blocks = sum(map(len, shown)) > room
        if not over_blocks and sum(map(text_size, shown)) <= budget:
            return parts
        candidates = [i for i, part in enumerate(parts) if part.shrinkable]
        if not candidates:
            return parts
        if over_blocks:
            longest = max(candidates, key=lambda i: (len(shown[i]), i))
        else:
            longest = max(candidates, key=lambda i: (text_size(shown[i]), i))
        parts[longest].shrink()


def message(reply: Reply) -> dict[str, Any]:
    """``text`` and ``blocks`` for ``chat.postMessage``, an ack or a response_url."""
    return {"text": fallback_text(reply), "blocks": blocks(reply)}
