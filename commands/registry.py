"""The one registry of commands and button actions that every front end reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from commands import catalogue, claims, random_problem, reminders, search, settings, submissions, timefmt
from commands.parser import Kind, Option, convert_all, parse_line
from commands.types import (
    Actor,
    Button,
    CommandError,
    Context,
    NotAllowed,
    NotYourClaim,
    Reply,
    Request,
    Section,
)
from storage.database import is_database_failure
from storage.text import clip, normalise

Handler = Callable[[Context, Request], Awaitable[Reply]]
ActionHandler = Callable[[Context, Actor, str], Awaitable[Reply]]


# What makes a member an admin on each platform with admin commands (bot.discord.people), named
# in the refusal: "admin rights" alone is no permission an admin can look up, or give.
ADMIN_RIGHTS = {"discord": "Manage Server or Administrator", "slack": "Workspace Admin or Owner"}


@dataclass(frozen=True)
class CommandSpec:
    """A command: its name, one-line description, options, handler and who may use it."""

    name: str
    description: str
    options: tuple[Option, ...]
    handler: Handler
    moderator_only: bool = False
    admin_only: bool = False
    help: str = ""  # what /help <name> says about it, after its description
    # Its data belongs to one community (claims, submissions, settings): not in direct messages.
    community: bool = False
    examples: tuple[str, ...] = ()  # complete commands as typed, shown by /help <name>

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
            rights = ADMIN_RIGHTS.get(actor.platform)
            return f"/{self.name} needs admin rights in this community" + (f" ({rights})." if rights else ".")
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
# What "stale" on a claim means; {days}: this community's setting, or in a direct message the
# default, {own} then saying that a server may set its own (SERVERS_MAY); {grace}: STALE_GRACE_DAYS.
STALE_TEXT = (
    "A claim turns stale after {days} without news ({own}claiming again renews it). A stale "
    "claim's claimant gets a reminder; without an answer within {grace} (by the end of that day, "
    "UTC) the claim expires. Anyone may still claim a problem whose claims are stale; several "
    "people may work on one problem."
)
SERVERS_MAY = "servers may set their own; "
HELP_FOOTER = (
    "Options can be named, with no space after the colon, e.g. /random difficulty:A "
    'category:"circuits in the wild" (a category\'s name needs no quotes: /search heads '
    "category:circuits in the wild). In a note or a search query, words like Note: or "
    "number:3 (once the number is given) are just text. Dates are days in UTC: "
    "'today' and 'yesterday' turn at midnight UTC."
)


# What newcomers type for a command under a name of their own, by that name.
SYNONYMS = {
    "mine": "claims",
    "my": "claims",
    "myclaims": "claims",
    "list": "claims",
    "unclaim": "release",
    "drop": "release",
    "abandon": "release",
    "find": "search",
    "show": "problem",
    "view": "problem",
    "info": "problem",
    "commands": "help",
}


def meant(name: str, actor: Actor) -> str | None:
    """The command an unknown ``name`` most likely means, as typed (``/search`` for ``serach``,
    ``/claims`` for ``mine``), among those ``actor`` may run here; None when none is close."""
    name = name.lower()
    runnable = [spec.name for spec in COMMANDS.values() if spec.refusal(actor) is None]
    if (synonym := SYNONYMS.get(name)) in runnable:
        return f"/{synonym}"
    if len(name) < 3:
        return None
    # One slip (a letter missing, extra, wrong, or two swapped); two in a longer name. The
    # first in the registry's order among the closest: /claim before /claims.
    most = 1 if len(name) < 6 else 2
    best: tuple[int, str] | None = None
    for command in runnable:
        slips = OSA.distance(name, command)
        if slips <= most and (best is None or slips < best[0]):
            best = (slips, command)
    return f"/{best[1]}" if best else None


async def help_command(ctx: Context, request: Request) -> Reply:
    """/help [command]: every command the asker can run here, with its usage; or one command's
    options and examples."""
    actor = request.actor
    platform = actor.platform
    wanted = request.args.get("command", "")
    unknown = ""
    if wanted:
        # As a command's own name is read (full-width letters typed with a CJK input method as
        # plain ones), a question's or sentence's mark after it left out (/help claim?).
        first, *more = (normalise(word).lstrip("/").rstrip("?!.,:").lower() for word in wanted.split())
        spec = COMMANDS.get(NAMES.get((platform, first), first))
        if spec is not None:
            helped = command_help(spec, actor)
            # /help claim release: one command's help at a time, the others named to ask next.
            also = [f"/help {w}" for w in dict.fromkeys(more) if NAMES.get((platform, w), w) in COMMANDS]
            if also:
                those = "explains that one" if len(also) == 1 else "explain those"
                said = f"One command at a time: {' and '.join(also[:3])} {those}."
                return dataclasses.replace(helped, footer=f"{said} {helped.footer}")
            return helped
        shown = clip(wanted, 31)
        guess = meant(first, actor)
        unknown = (
            f"There is no command {shown!r}; did you mean {guess}? These are copbot's commands.\n\n"
            if guess
            else f"There is no command {shown!r}; these are copbot's commands.\n\n"
        )
    days, own = ctx.stale_after_days, SERVERS_MAY
    if not actor.direct:
        try:
            days, own = await catalogue.stale_after_days(ctx, actor), ""
        except Exception as exc:  # the database out of reach: help all the same, with the default days
            if not is_database_failure(exc):
                raise
    shown_specs = [spec for spec in COMMANDS.values() if spec.refusal(actor) is None]
    lines = tuple(
        f"{USAGES.get((platform, spec.name), spec.usage)} — {spec.description}" for spec in shown_specs
    )
    grace = timefmt.days(ctx.stale_grace_days)
    stale = STALE_TEXT.format(days=timefmt.days(days), own=own, grace=grace)
    return Reply(
        title="copbot: the 200 Concrete Problems in Interpretability",
        text=f"{unknown}{HELP_TEXT}\n\n{stale}",
        sections=(Section("Commands", lines),),
        footer=f"{HELP_FOOTER} /help and a command's name explain it, e.g. /help claim.",
    )


def command_help(spec: CommandSpec, actor: Actor) -> Reply:
    """/help NAME: a command's usage, what it does, what each option takes, and examples."""
    platform = actor.platform
    text = spec.description[:1].upper() + spec.description[1:] + "."
    if about := HELPS.get((platform, spec.name), spec.help):
        text += " " + about
    if (refusal := spec.refusal(actor)) is not None:
        text += "\n\n" + refusal
    sections = list(OPTION_SECTIONS.get((platform, spec.name), ()))
    if spec.options and not sections:
        sections.append(Section("Options", option_lines(spec.options)))
    examples = EXAMPLES.get((platform, spec.name), spec.examples)
    if examples:
        sections.append(Section("Examples" if len(examples) > 1 else "Example", examples))
    return Reply(
        title=USAGES.get((platform, spec.name), spec.usage),
        text=text,
        sections=tuple(sections),
        footer="/help lists every command.",
    )


def option_lines(options: Sequence[Option]) -> tuple[str, ...]:
    """How /help NAME lists options: one line each, its name and what it takes."""
    return tuple(f"{o.name} — {o.description}" for o in options)


COMMANDS: dict[str, CommandSpec] = {}

# How a platform shapes a command differently from its core usage, by (platform, name): what /help
# shows there (Discord's /setup is two subcommands, ``show`` and ``set``).
USAGES: dict[tuple[str, str], str] = {}
# A platform's own names for commands, by (platform, name) → the core's name: Slack's /cop-help.
NAMES: dict[tuple[str, str], str] = {}
# What /help NAME lists in place of a command's options where a platform shapes them otherwise, by
# (platform, name): Discord's /setup has subcommands, not a ``show`` option.
OPTION_SECTIONS: dict[tuple[str, str], tuple[Section, ...]] = {}
# A platform's own examples of a command, by (platform, name), where the core's would not run there.
EXAMPLES: dict[tuple[str, str], tuple[str, ...]] = {}
# What /help NAME says of a command on a platform that shapes it otherwise, by (platform, name), in
# place of its ``help`` (Slack's /setup, whose channels and moderators are not its options).
HELPS: dict[tuple[str, str], str] = {}


def register(spec: CommandSpec) -> None:
    """Add a command to the registry (later features register theirs the same way)."""
    COMMANDS[spec.name] = spec


ACTIONS: dict[str, ActionHandler] = {}


def register_action(name: str, handler: ActionHandler) -> None:
    """Add a button action: ``cop:<name>:<target>`` runs ``handler(ctx, actor, target)``."""
    ACTIONS[name] = handler


HELP_OPTIONS = (
    Option("command", Kind.COMMAND, "a command to explain, e.g. claim", rest=True, max_length=100),
)

for _spec in (
    CommandSpec(
        "problem",
        "show a problem, its existing work and who is on it",
        catalogue.PROBLEM_OPTIONS,
        catalogue.problem_command,
        help="Its card, posted in the channel, has a Claim button (and Release once someone holds the "
        "problem) and lists earlier claims with the notes they left. The card shows ten lines of "
        "existing work, newest approved links first; all lists every line, just for you, a page "
        "at a time. Not sure of the number? /search finds it by its words.",
        examples=("/problem 2.4", "/problem 2.4 all", "/problem 2.4 all page:2"),
    ),
    CommandSpec(
        "random",
        "a random problem at your level",
        random_problem.RANDOM_OPTIONS,
        random_problem.random_command,
        help="Every option is optional; the card's Another random button picks again with the same ones.",
        examples=("/random A", '/random difficulty:B category:"circuits in the wild" unclaimed'),
    ),
    CommandSpec(
        "search",
        "find problems by words (typos are fine)",
        search.SEARCH_OPTIONS,
        search.search_command,
        help="Matches in a problem's own text come first, then those only its existing work mentions. "
        "A difficulty with no words lists the problems at that level; unclaimed keeps only problems "
        "nobody is working on, as /random's does. page 2 ending the words is the page, as page:2 is. "
        "A category's name needs no quotes: category:circuits in the wild. Previous and Next under the "
        "results show the other pages.",
        examples=(
            "/search induction heads",
            "/search superposition difficulty:A",
            "/search induction unclaimed",
        ),
    ),
    CommandSpec(
        "claim",
        "say you are working on a problem (again: renew)",
        claims.CLAIM_OPTIONS,
        claims.claim_command,
        community=True,
        help="The claim is dated today and shows on the problem's card; several people may claim one "
        "problem. Claiming it again renews your claim, so it does not turn stale; so does claiming it "
        "in another server or workspace, where it stays.",
        examples=("/claim 2.4",),
    ),
    CommandSpec(
        "release",
        "stop working on a problem, with an optional note",
        claims.RELEASE_OPTIONS,
        claims.release_command,
        community=True,
        help="Only your own claim; the note stays on the problem's card and /history for the next person.",
        examples=("/release 2.4", "/release 2.4 tried probing the MLPs, stuck on SAE training"),
    ),
    CommandSpec(
        "claims",
        "your open claims, someone else's, or a problem's",
        claims.CLAIMS_OPTIONS,
        claims.claims_command,
        community=True,
        help=(
            "Without options, your own, oldest first, 20 a page (page:2 for the next), with Release "
            "buttons for the first five; with everyone, who is working on what in this community."
        ),
        examples=("/claims", "/claims @ann", "/claims 2.4", "/claims everyone", "/claims page:2"),
    ),
    CommandSpec(
        "history",
        "a problem's timeline",
        claims.HISTORY_OPTIONS,
        claims.history_command,
        help="Claims, renewals (one a day at most), releases with their notes, reminders and submitted "
        "links, newest first; a busy problem's older entries are on the next pages.",
        examples=("/history 2.4", "/history 2.4 page:2"),
    ),
    CommandSpec(
        "submit",
        "send a link to existing work to the moderators",
        submissions.SUBMIT_OPTIONS,
        submissions.submit_command,
        community=True,
        help="Once a moderator approves it, the link shows under the problem's existing work.",
        examples=("/submit 2.4 https://example.org/post my write-up",),
    ),
    CommandSpec(
        "withdraw",
        "take back a link you submitted, before it is decided",
        submissions.WITHDRAW_OPTIONS,
        submissions.withdraw_command,
        community=True,
        help="Only your own, while it waits for the moderators; its post in the moderator channel then "
        "says it was withdrawn. When several of yours wait for that problem, copbot asks which (a button "
        "each), or name the link. Without a number, it lists all of yours that wait here.",
        examples=("/withdraw 2.4", "/withdraw 2.4 https://example.org/post", "/withdraw"),
    ),
    CommandSpec(
        "pending",
        "submissions waiting for a decision (moderators)",
        submissions.PENDING_OPTIONS,
        submissions.pending_command,
        moderator_only=True,
        community=True,
        help=(
            "Oldest first, each with a link to its post in the moderator channel; "
            "the first 20, then how many more wait."
        ),
        examples=("/pending",),
    ),
    CommandSpec(
        "help",
        "what copbot can do",
        HELP_OPTIONS,
        help_command,
        help="Without a command, every command you can run here.",
        examples=("/help", "/help claim"),
    ),
    CommandSpec(
        "setup",
        "community settings (admins only)",
        settings.SETUP_OPTIONS,
        settings.setup_command,
        admin_only=True,
        community=True,
        help="show shows the settings; giving some of them changes those, then shows them all. "
        "max_claims caps how many problems one member may hold at once here (0: no cap); a member at "
        "the cap releases one before claiming another, and may always renew their own; setting it says how "
        "many members already hold more. reset unsets "
        "moderator_channel (submissions then wait for /pending), moderator_role or reminder_channel "
        "(reminders by DM only), or gives stale_days or max_claims back to the operator's default "
        "(STALE_AFTER_DAYS, MAX_CLAIMS); one at a time.",
        examples=(
            "/setup show",
            "/setup stale_days:20",
            "/setup max_claims:5",
            "/setup reset:max_claims",
            "/setup reset:moderator_channel",
        ),
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


def _card_action(command: str) -> ActionHandler:
    """A card's Claim or Release: the command, with the card as it now is (:attr:`Reply.refresh`),
    also when the press is refused (the card may have shown a claim that ended meanwhile).

    A Release pressed elsewhere (under /claims, whose target may name its page as well:
    :func:`commands.claims.release_target`) is spent once the claim is released, or was already
    (:attr:`Reply.spent`): the list it was pressed in loses it."""
    run = _command_action(command, lambda t: {"number": t})

    async def act(ctx: Context, actor: Actor, target: str) -> Reply:
        spent = (Button("", command, target).custom_id,) if command == "release" else ()
        number = claims.release_target(target)[0] if command == "release" else target
        try:
            reply = await run(ctx, actor, number)
        except NotYourClaim as exc:
            exc.spent, exc.refresh = spent, await card_now(ctx, actor, number)
            raise
        except CommandError as exc:
            exc.refresh = await card_now(ctx, actor, number)
            raise
        return dataclasses.replace(reply, refresh=await card_now(ctx, actor, number), spent=spent)

    return act


async def card_now(ctx: Context, actor: Actor, target: str) -> Reply | None:
    """The public card of the problem a button names, as ``actor`` sees it; None without one."""
    if actor.direct:
        return None
    try:
        number = convert_all(catalogue.PROBLEM_OPTIONS, {"number": target}, "problem")["number"]
    except CommandError:
        return None
    problem = await ctx.store.get_problem(number)
    if problem is None:
        return None
    # It replaces the pressed card and stays: read as the database has it now, with the claims
    # other replicas made within the seconds this one keeps a problem's state.
    ctx.store.reread_state(number)
    return await catalogue.problem_card(ctx, problem, actor)


def typed_card_change(command: str, text: str) -> str | None:
    """The problem whose card a /claim or /release typed with ``text`` (and answered without
    error) changed, as a card's buttons name it; None for any other command."""
    if command not in {"claim", "release"}:
        return None
    try:
        number = parse_line(COMMANDS[command].options, text, command).get("number")
    except CommandError:
        return None
    return number if isinstance(number, str) else None


register_action("claim", _card_action("claim"))
register_action("release", _card_action("release"))
register_action("show", _command_action("problem", lambda t: {"number": t}))
register_action("search", _command_action("search", search.page_filters))
_another_random = _command_action("random", random_problem.random_filters)


async def _another_random_under(ctx: Context, actor: Actor, target: str) -> Reply:
    """Another random: a pick with the button's filters, never the card it is under."""
    random_problem.showing(ctx, actor, target)
    return await _another_random(ctx, actor, target)


register_action("random", _another_random_under)
register_action("renew", reminders.renew_action)
register_action("drop", reminders.drop_action)
register_action("approve", submissions.approve_action)
register_action("reject", submissions.reject_action)
register_action("undo", submissions.undo_action)
register_action("withdraw", submissions.withdraw_action)
