"""The one registry of commands and button actions that every front end reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from commands import catalogue, claims, reminders, settings, submissions
from commands.parser import Option, convert_all
from commands.types import Actor, Context, NotAllowed, Reply, Request, Section

Handler = Callable[[Context, Request], Awaitable[Reply]]
ActionHandler = Callable[[Context, Actor, str], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """A command: its name, one-line description, options, handler and who may use it."""

    name: str
    description: str
    options: tuple[Option, ...]
    handler: Handler
    moderator_only: bool = False
    admin_only: bool = False
    help: str = ""
    # Its data belongs to one community (claims, submissions, settings): not in direct messages.
    community: bool = False

    def refusal(self, actor: Actor) -> str | None:
        """Why ``actor`` may not run this command here, or None when they may."""
        if self.community and actor.direct:
            return (
                f"/{self.name} works in a server, not in direct messages: claims, submissions and "
                "settings belong to a community. Run it in one of the server's channels."
            )
        if self.moderator_only and not actor.is_moderator:
            return f"/{self.name} is for moderators."
        if self.admin_only and not actor.is_admin:
            return f"/{self.name} needs admin rights in this community."
        return None

    @property
    def usage(self) -> str:
        """``/claims [user] [number]``."""
        parts = [o.name if o.required else f"[{o.name}]" for o in self.options]
        return " ".join([f"/{self.name}", *parts])


HELP_TEXT = (
    "Difficulty runs from A (easiest) to D (hardest); many problems span a range like A-B. "
    "Asking for a level matches every range that includes it (A matches A, A-B and A-C); "
    "asking for a range matches every problem whose range overlaps it."
)


async def help_command(ctx: Context, request: Request) -> Reply:
    """/help: every command the asker can run here, with its usage."""
    platform = request.actor.platform
    shown = [
        spec
        for spec in COMMANDS.values()
        if spec.refusal(request.actor) is None and (platform, spec.name) not in NOT_OFFERED
    ]
    lines = tuple(f"{USAGES.get((platform, spec.name), spec.usage)} — {spec.description}" for spec in shown)
    return Reply(
        title="copbot: the 200 Concrete Problems in Interpretability",
        text=HELP_TEXT,
        sections=(Section("Commands", lines),),
        footer=(
            "Options can be named, with no space after the colon, e.g. /random difficulty:A "
            'category:"circuits in the wild". In a note or a search query, words like Note: or '
            "number:3 (once the number is given) are just text. Dates are days in UTC: "
            "'today' and 'yesterday' turn at midnight UTC."
        ),
    )


COMMANDS: dict[str, CommandSpec] = {}

# How a platform shapes a command differently from its core usage, by (platform, name): what /help
# shows there (Discord's /setup is two subcommands, ``show`` and ``set``).
USAGES: dict[tuple[str, str], str] = {}
# Commands a platform does not offer at all, by (platform, name): /help leaves them out there.
NOT_OFFERED: set[tuple[str, str]] = set()


def register(spec: CommandSpec) -> None:
    """Add a command to the registry (later features register theirs the same way)."""
    COMMANDS[spec.name] = spec


ACTIONS: dict[str, ActionHandler] = {}


def register_action(name: str, handler: ActionHandler) -> None:
    """Add a button action: ``cop:<name>:<target>`` runs ``handler(ctx, actor, target)``."""
    ACTIONS[name] = handler


for _spec in (
    CommandSpec(
        "problem",
        "show a problem, its existing work and who is on it",
        catalogue.PROBLEM_OPTIONS,
        catalogue.problem_command,
    ),
    CommandSpec(
        "random",
        "a random problem at your level",
        catalogue.RANDOM_OPTIONS,
        catalogue.random_command,
    ),
    CommandSpec(
        "search",
        "find problems by words (typos are fine)",
        catalogue.SEARCH_OPTIONS,
        catalogue.search_command,
    ),
    CommandSpec(
        "claim",
        "say you are working on a problem (again: renew)",
        claims.CLAIM_OPTIONS,
        claims.claim_command,
        community=True,
    ),
    CommandSpec(
        "release",
        "stop working on a problem, with an optional note",
        claims.RELEASE_OPTIONS,
        claims.release_command,
        community=True,
    ),
    CommandSpec(
        "claims",
        "your open claims, someone else's, or a problem's",
        claims.CLAIMS_OPTIONS,
        claims.claims_command,
        community=True,
    ),
    CommandSpec("history", "a problem's timeline", claims.HISTORY_OPTIONS, claims.history_command),
    CommandSpec(
        "submit",
        "send a link to existing work to the moderators",
        submissions.SUBMIT_OPTIONS,
        submissions.submit_command,
        community=True,
    ),
    CommandSpec(
        "pending",
        "submissions waiting for a decision (moderators)",
        submissions.PENDING_OPTIONS,
        submissions.pending_command,
        moderator_only=True,
        community=True,
    ),
    CommandSpec("help", "what copbot can do", (), help_command),
    CommandSpec(
        "setup",
        "community settings (admins only)",
        settings.SETUP_OPTIONS,
        settings.setup_command,
        admin_only=True,
        community=True,
    ),
):
    register(_spec)


def _command_action(command: str, build: Callable[[str], dict[str, object]]) -> ActionHandler:
    async def run(ctx: Context, actor: Actor, target: str) -> Reply:
        spec = COMMANDS[command]
        if (refusal := spec.refusal(actor)) is not None:
            raise NotAllowed(refusal)
        # A button's target comes back from the platform: check it like typed input.
        args = convert_all(spec.options, build(target), command)
        return await spec.handler(ctx, Request(command, actor, args))

    return run


register_action("claim", _command_action("claim", lambda t: {"number": t}))
register_action("release", _command_action("release", lambda t: {"number": t}))
register_action("show", _command_action("problem", lambda t: {"number": t}))
register_action("random", _command_action("random", catalogue.random_filters))
register_action("renew", reminders.renew_action)
register_action("drop", reminders.drop_action)
register_action("approve", submissions.approve_action)
register_action("reject", submissions.reject_action)
register_action("undo", submissions.undo_action)
