"""Running commands and button actions: permissions, user errors and failures in one place."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from commands.names import refresh_name
from commands.parser import MissingOptions, convert_all, normalise, parse_line, split_command
from commands.registry import ACTIONS, COMMANDS, meant
from commands.types import (
    Actor,
    BadArgument,
    CommandError,
    Context,
    NotAllowed,
    Reply,
    Request,
    UnknownCommand,
    parse_custom_id,
)
from storage.database import is_database_failure
from storage.text import clip
from storage.units import AlreadyApplied

log = logging.getLogger("copbot.commands")

# Observers of every command (metrics, logs): called with (command, outcome, seconds).
OBSERVERS: list[Callable[[str, str, float], None]] = []

APOLOGY = "Sorry, something went wrong on my side. It has been logged; please try again later."
# What a command, button or form gets when the database did not answer (out of reach, past
# DATABASE_TIMEOUT, locked, its disk full): not a bug of copbot's, and waiting helps.
UNAVAILABLE = "copbot's database didn't answer just now. Please try again in a few minutes."
# What a command gets while copbot shuts down (it finishes the work in flight, takes no more).
RESTARTING = "copbot is restarting; please try again in a minute."


def error_reply(
    message: str,
    spent: tuple[str, ...] = (),
    refresh: Reply | None = None,
    answered: str = "",
    relist: Reply | None = None,
) -> Reply:
    """A private answer to a mistake (``spent``, ``refresh``, ``answered``, ``relist``: see
    :class:`Reply`)."""
    return Reply(
        text=message, private=True, error=True, spent=spent, refresh=refresh, answered=answered, relist=relist
    )


def error_of(exc: CommandError) -> Reply:
    """The private answer to a user's mistake raised as ``exc``, with what it says of the
    message whose button was pressed (``spent``, ``refresh``, ``answered``, ``relist``)."""
    return error_reply(str(exc), exc.spent, exc.refresh, exc.answered, exc.relist)


def failure_reply(exc: Exception) -> Reply:
    """The private answer to a command that failed on copbot's side: the database's failure
    said as such, anything else an apology."""
    return error_reply(UNAVAILABLE if is_database_failure(exc) else APOLOGY)


def _lookup(name: str, actor: Actor) -> Any:
    spec = COMMANDS.get(name.lower())
    if spec is None:
        shown = "/" + clip(name, 31)
        # A control character (ESC, a backspace) is shown escaped, never sent to a terminal as typed.
        shown = shown if shown.isprintable() else repr(shown)
        guess = meant(name, actor) if shown.isprintable() else None
        did_you = f" Did you mean {guess}?" if guess else ""
        raise UnknownCommand(f"There is no command {shown}.{did_you} /help lists them.")
    return spec


async def run(ctx: Context, request: Request) -> Reply:
    """Run a parsed request; a user mistake becomes a private answer, a bug an apology (the
    database's failure: :data:`UNAVAILABLE`)."""
    return await _run(ctx, request.actor, request.command, lambda _spec: request.args)


async def run_named(
    ctx: Context,
    actor: Actor,
    command: str,
    raw: dict[str, Any],
    vet: Callable[[str], None] | None = None,
) -> Reply:
    """Run a command whose options arrive typed and named (Discord). ``vet``, given the command's
    name once its values are read and the actor may run it, may refuse them with a
    :class:`CommandError` for what only the platform can tell (a role every member has)."""
    return await _run(ctx, actor, command, lambda spec: convert_all(spec.options, raw, spec.name), vet)


async def run_text(ctx: Context, actor: Actor, command: str, text: str) -> Reply:
    """Run a command whose arguments are one line of text (console, Slack)."""
    name = normalise(command).lower().lstrip("/")
    return await _run(ctx, actor, name, lambda spec: parse_line(spec.options, text, spec.name))


async def _run(
    ctx: Context,
    actor: Actor,
    name: str,
    parse: Callable[[Any], dict[str, Any]],
    vet: Callable[[str], None] | None = None,
) -> Reply:
    """Look the command up, read its arguments (``parse``), check who asks (then ``vet``, see
    run_named), run it.

    A user's mistake at any step becomes a private answer, a bug an apology (the database's
    failure: :data:`UNAVAILABLE`); either way the command is logged and observed once, under
    its name ("unknown" for a name nobody registered: users type anything, and metrics labels
    must stay few).
    """
    started = time.perf_counter()
    outcome = "ok"
    command = "unknown"
    try:
        await refresh_name(ctx, actor)
        spec = _lookup(name, actor)
        command = spec.name
        try:
            args = parse(spec)
        except MissingOptions as exc:
            # What is missing, then a whole command that has it, to copy and change.
            raise BadArgument(f"{exc}, like {spec.examples[0]}" if spec.examples else str(exc)) from None
        if (refusal := spec.refusal(actor)) is not None:
            raise NotAllowed(refusal)
        if vet is not None:
            vet(spec.name)
        return await spec.handler(ctx, Request(spec.name, actor, args))
    except CommandError as exc:
        outcome = "user_error"
        return error_reply(str(exc))
    except AlreadyApplied:
        outcome = "replay"
        raise  # the front end answers nothing: the first delivery was answered
    except Exception as exc:
        outcome = "error"
        log.exception("command failed", extra={"command": command, "community": actor.community_id})
        return failure_reply(exc)
    finally:
        _record(command, actor, outcome, started, f"/{command}")


def _record(command: str, actor: Actor, outcome: str, started: float, shown: str) -> None:
    """Log one command or button press as one structured line, and tell the observers."""
    elapsed = time.perf_counter() - started
    log.info(
        "%s %s in %.1f ms",
        shown,
        outcome,
        elapsed * 1000,
        extra={
            "command": command,
            "platform": actor.platform,
            "community": actor.community_id,
            "outcome": outcome,
            "latency_ms": round(elapsed * 1000, 2),
        },
    )
    for hook in OBSERVERS:
        hook(command, outcome, elapsed)


async def run_line(ctx: Context, actor: Actor, line: str) -> Reply:
    """Run ``/claim 3.11`` or ``claim 3.11`` typed as one line."""
    text = line.strip().removeprefix("/")
    if not text:
        return error_reply("Type a command, e.g. /problem 2.4 — /help lists them all.")
    # The name ends at the first space of any kind, or at an invisible character after a name.
    name, rest = split_command(text, COMMANDS)
    return await run_text(ctx, actor, name, rest)


async def run_action(ctx: Context, actor: Actor, custom_id: str) -> Reply:
    """Run a button click by its ``cop:<action>:<target>`` id.

    Logged and observed once like a command, as ``button:<action>`` (``button:unknown`` for an
    id naming no registered action: ids come back from the platform, labels must stay few).
    """
    parsed = parse_custom_id(custom_id)
    handler = ACTIONS.get(parsed[0]) if parsed else None
    command = f"button:{parsed[0]}" if parsed is not None and handler is not None else "button:unknown"

    async def work() -> Reply:
        await refresh_name(ctx, actor)
        if parsed is None or handler is None:
            raise CommandError("That button is no longer supported; run the command again.")
        return await handler(ctx, actor, parsed[1])

    return await _observed(command, actor, work, "button failed")


async def run_form(ctx: Context, actor: Actor, name: str, work: Callable[[], Awaitable[Reply]]) -> Reply:
    """Run a submitted form (``name``: ``reject``, the moderators' rejection reason) as the front
    end reads it: ``work`` decides, raising :class:`CommandError` for the user's mistakes. The
    member's stored name is brought up to date first, as for a command (:func:`refresh_name`).

    Logged and observed once like a command, as ``form:<name>``.
    """

    async def refreshed() -> Reply:
        await refresh_name(ctx, actor)
        return await work()

    return await _observed(f"form:{name}", actor, refreshed, "form failed")


async def _observed(command: str, actor: Actor, work: Callable[[], Awaitable[Reply]], failed: str) -> Reply:
    """``work``'s reply, a user's mistake as a private answer, a bug as an apology, the
    database's failure as :data:`UNAVAILABLE` (``failed`` says what failed in the log); logged
    and observed once as ``command``, with its outcome."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        return await work()
    except CommandError as exc:
        outcome = "user_error"
        return error_of(exc)
    except AlreadyApplied:
        outcome = "replay"
        raise  # the front end answers nothing: the first delivery was answered
    except Exception as exc:
        outcome = "error"
        log.exception(failed, extra={"command": command, "community": actor.community_id})
        return failure_reply(exc)
    finally:
        _record(command, actor, outcome, started, command)
