"""The local console: type commands as a local user, read replies rendered for a terminal."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import TextIO

from commands import dispatch
from commands.registry import OPTION_SECTIONS
from commands.submissions import MAX_REASON, clean_reason, reason_as_said, reject_action
from commands.types import Actor, Button, CommandError, Context, Link, RefLine, Reply, Section
from storage.text import ascii_digits, clip, without_bidi

WIDTH = 88


def _fill(text: str, width: int | None) -> str:
    """Wrap a paragraph without ever breaking a link or a long word (None: no wrapping)."""
    if width is None or len(text) <= width:
        return text
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


BANNER = """copbot console — local user {user!r}, database {db}.
Type /help for the commands, /quit to leave. Press a button by typing !1, !2…
A Reject button takes the reason after its number: !2 the same work as #1.
To run on Discord set DISCORD_TOKEN, on Slack SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET
(or SLACK_APP_TOKEN for Socket Mode), in the environment or a .env file; see the README."""


def _link(line: Link) -> str:
    """``label <url>``, or the URL alone when it is its own label; then `` — note``."""
    shown = line.url if line.label == line.url else f"{line.label} <{line.url}>"
    return shown + (f" — {' '.join(line.note.split())}" if line.note else "")


def render(reply: Reply, width: int | None = WIDTH) -> str:
    """A reply as plain terminal text, wrapped at ``width`` columns, without bidi controls
    (:func:`storage.text.without_bidi`): one left open would turn the lines after it around."""
    out: list[str] = []
    if reply.title:
        out += [reply.title, "=" * min(len(reply.title), width or WIDTH)]
    if reply.text:
        out += [_fill(p, width) for p in reply.text.split("\n")]
    if reply.fields:
        out.append(_fill(" · ".join(f"{f.name}: {f.value}" for f in reply.fields), width))
    for section in reply.sections:
        out += ["", f"{section.title}:"]
        for line in section.shown_lines:
            text = (
                _link(line) if isinstance(line, Link) else line.plain if isinstance(line, RefLine) else line
            )
            out.append(
                clip(textwrap.indent(_fill(text, width and width - 4), "  - "), 4000).replace(
                    "\n  - ", "\n    "
                )
            )
    if reply.footer:
        out += ["", *(_fill(p, width) for p in reply.footer.split("\n"))]
    if reply.buttons:
        out += ["", "  ".join(f"[!{i}] {b.label}" for i, b in enumerate(reply.buttons, 1))]
    return without_bidi("\n".join(out)).strip()


async def _next_line(read: Callable[[], str]) -> str:
    """The next line ``read`` gives, read on a daemon thread: one waiting for the keyboard at
    Ctrl-C neither holds the process (as the loop's executor, which is joined on the way out,
    did until Enter was pressed) nor outlives it."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if line.done():  # cancelled meanwhile (Ctrl-C)
            return
        if error is not None:
            line.set_exception(error)
        else:
            line.set_result(value or "")

    def work() -> None:
        try:
            value, error = read(), None
        except BaseException as exc:  # handed to the reader, as asyncio.to_thread would
            value, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for this line
            pass

    threading.Thread(target=work, name="console-input", daemon=True).start()
    return await line


# What the console's /help pending adds: how a moderator rejects with a reason here (Discord and
# Slack ask for it in a form).
OPTION_SECTIONS["console", "pending"] = (
    Section(
        "Rejecting with a reason",
        (
            "Type the Reject button's number, then the reason the submitter reads: "
            "!2 the same work as #1. The number alone rejects without a reason.",
        ),
    ),
)
ONLY_REJECT = "Only a Reject button takes text after it (the reason); nothing was pressed."


def _pressed(line: str) -> tuple[int, str] | None:
    """A button press typed as ``!2``, or ``!2 reason``: its index and the text after it. Typed
    with full-width characters (``！２``, as a CJK input method writes them) it is the same press."""
    if line[:1] not in "!\uff01" or not line[1:2].isdigit():
        return None
    number, *text = line[1:].split(maxsplit=1)
    number = ascii_digits(number)
    return (int(number) - 1, "".join(text).strip()) if number.isascii() and number.isdecimal() else None


async def _press(ctx: Context, actor: Actor, button: Button, text: str) -> Reply:
    """Press ``button``; a Reject followed by ``text`` rejects with that reason, as the forms of
    Discord and Slack do (counted as ``form:reject``)."""
    if not text:
        return await dispatch.run_action(ctx, actor, button.custom_id)
    if button.action != "reject":
        return dispatch.error_reply(ONLY_REJECT)

    async def reject() -> Reply:
        if not clean_reason(text):
            raise CommandError("Please say why, in a few words; nothing changed.")
        if len(said := reason_as_said(text)) > MAX_REASON:
            # Discord's and Slack's forms take no more; cut, it would lose its end unseen.
            raise CommandError(
                f"That reason is too long ({len(said)} characters): at most {MAX_REASON}. Nothing changed."
            )
        return await reject_action(ctx, actor, button.target, text)

    return await dispatch.run_form(ctx, actor, "reject", reject)


def console_actor(name: str) -> Actor:
    """The local user: a moderator and admin of the local community."""
    return Actor("console", "local", name.strip().lower() or "local", name.strip() or "local", True, True)


async def run_console(
    ctx: Context,
    user: str,
    db_label: str,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    read: Callable[[], str] | None = None,
) -> None:
    """Read commands line by line until end of input or /quit, printing each reply."""
    out = stdout or sys.stdout
    source = stdin or sys.stdin
    actor = console_actor(user)
    print(BANNER.format(user=actor.display_name, db=db_label), file=out, flush=True)
    last: Reply | None = None
    while True:
        if source.isatty():
            print("> ", end="", file=out, flush=True)
        line = await _next_line(read or source.readline)
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        if line.lower() in {"/quit", "quit", "/exit", "exit"}:
            break
        if (pressed := _pressed(line)) is not None:
            index, text = pressed
            if last is None or not 0 <= index < len(last.buttons):
                print("No such button.", file=out, flush=True)
                continue
            reply = await _press(ctx, actor, last.buttons[index], text)
        else:
            reply = await dispatch.run_line(ctx, actor, line)
        if reply.buttons:
            last = reply
        print(render(reply) + "\n", file=out, flush=True)
