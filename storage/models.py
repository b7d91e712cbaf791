"""SQLModel tables: the catalogue, claims, existing-work links, history, settings and dedup keys.

The schema itself is created and upgraded by the Alembic migrations in ``storage/migrations``;
these classes describe it for queries and for autogenerate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import configure_mappers
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store aware datetimes as UTC; refuse naive ones, which are always a bug."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Give back aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ClaimState(StrEnum):
    """Where a claim is in its life: active → stale → expired, or released at any point."""

    ACTIVE = "active"
    STALE = "stale"
    EXPIRED = "expired"
    RELEASED = "released"


OPEN_CLAIM_STATES = (ClaimState.ACTIVE.value, ClaimState.STALE.value)


class LinkStatus(StrEnum):
    """Moderation status of a submitted link to existing work."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Taken back by its submitter before any decision (/withdraw): nothing left to decide.
    WITHDRAWN = "withdrawn"


LEGACY_PLATFORM = "sheet"

# The ways a stale reminder reaches its claimant (``Claim.delivery``): only these make a claim
# "reminded" in its history and in the expiry notice.
REMINDER_DELIVERED = ("dm", "channel")

# The width of every platform id column (communities, users, channels, roles, messages). The command
# core refuses longer typed ids with this number, so SQLite (which ignores a width) and PostgreSQL
# answer alike.
ID_LENGTH = 64


class Problem(SQLModel, table=True):
    """One problem of the catalogue, as the spreadsheet has it."""

    number: str = Field(primary_key=True, max_length=16)
    section: int = Field(index=True)
    position: int
    category: str
    subcategory: str = ""
    difficulty: str = Field(max_length=8, index=True)
    text: str
    existing_work: str = ""
    working_on: str = ""
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Claim(SQLModel, table=True):
    """A person working on a problem; legacy claims from the sheet have no user id."""

    __table_args__ = (
        sa.Index(
            # One open claim per person and problem on a platform, whichever of its communities
            # (a Discord user id is the same in every server) the claim was made in.
            "uq_claim_open_per_user",
            "problem_number",
            "platform",
            "user_id",
            unique=True,
            sqlite_where=sa.text("state IN ('active', 'stale') AND user_id IS NOT NULL"),
            postgresql_where=sa.text("state IN ('active', 'stale') AND user_id IS NOT NULL"),
        ),
        sa.Index("ix_claim_state_renewed", "state", "renewed_at"),
        sa.Index("ix_claim_state_reminded", "state", "reminded_at"),
        sa.Index("ix_claim_user", "platform", "community_id", "user_id"),
        # A problem's claims by end date: the open ones (without one) lie together, and the
        # latest ended ones at its end, however many ended before (storage.claims._claims_on).
        sa.Index("ix_claim_problem_ended", "problem_number", "ended_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    problem_number: str = Field(foreign_key="problem.number", max_length=16)
    platform: str = Field(max_length=16)
    community_id: str = Field(default="", max_length=ID_LENGTH)
    user_id: str | None = Field(default=None, max_length=ID_LENGTH)
    display_name: str = Field(max_length=200)
    claimed_at: datetime = Field(sa_type=UTCDateTime)
    renewed_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=ClaimState.ACTIVE.value, max_length=16)
    # When the stale reminder was last sent or tried, its outcome recorded: for a delivered one,
    # when it reached the claimant. The grace period before expiry runs from here.
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when the claim ends (released, expired, dropped from the sheet), and only then: nothing
    # reopens a claim. A problem's reads find its open claims as those without one.
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = ""
    unreachable: bool = False
    # How the stale reminder and the expiry notice reached the claimant: "" (not yet),
    # "sending" (taken by a sweep; at most once), "dm", "channel", "unreachable", "none" (nobody
    # to ping: a sheet claim, or one released after a sweep took its reminder, before it went),
    # "retry" (the platform refused it: send again), "failed" (unknown whether it went out);
    # a notice also "reclaimed" (not sent: its claimant had claimed the problem again by then).
    delivery: str = Field(default="", max_length=16)
    notice: str = Field(default="", max_length=16)
    # When a sweep took the expiry notice to send it (``notice = "sending"``): one that died with
    # it is taken back a while later (storage.sweep.take_retries).
    notice_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    date_known: bool = True
    source_text: str = ""


class WorkLink(SQLModel, table=True):
    """A link to existing work submitted through the bot, with its moderation status."""

    __tablename__ = "work_link"
    __table_args__ = (
        sa.Index(
            "uq_work_link_live",
            "problem_number",
            "normalized_url",
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'approved')"),
            postgresql_where=sa.text("status IN ('pending', 'approved')"),
        ),
        sa.Index("ix_work_link_submitter", "platform", "user_id", "created_at"),
        sa.Index("ix_work_link_status", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    problem_number: str = Field(foreign_key="problem.number", index=True, max_length=16)
    url: str = Field(max_length=2000)
    normalized_url: str = Field(max_length=2000)
    note: str = ""
    platform: str = Field(max_length=16)
    community_id: str = Field(default="", max_length=ID_LENGTH)
    user_id: str = Field(max_length=ID_LENGTH)
    display_name: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=LinkStatus.PENDING.value, max_length=16)
    decided_by_id: str | None = Field(default=None, max_length=ID_LENGTH)
    decided_by_name: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = ""
    mod_channel_id: str | None = Field(default=None, max_length=ID_LENGTH)
    mod_message_id: str | None = Field(default=None, max_length=ID_LENGTH, index=True)
    mod_url: str | None = Field(default=None, max_length=500)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # While the post is being moved to a new moderator channel (the row holds the posting mark),
    # the old post, given back if the move is cut short (a crash): see storage.posts.take_for_moving.
    moved_from_channel_id: str | None = Field(default=None, max_length=ID_LENGTH)
    moved_from_message_id: str | None = Field(default=None, max_length=ID_LENGTH)
    moved_from_url: str | None = Field(default=None, max_length=500)
    moved_from_posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The platform's reason when it refused the moderator post for good (copbot may not post in
    # the moderator channel, or it is gone; or the message itself), and when to try again: None
    # for never (the message itself: the same one would be refused at every try). Cleared when
    # posted. See bot.moderation.
    mod_refused: str | None = Field(default=None, max_length=500)
    mod_retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Each decision and each undo adds one to ``revision``; the moderator post shows
    # ``shown_revision``. A post behind (its edit failed, or a restart came between the decision
    # and the edit) is edited again at the next sweep or the next press on it.
    revision: int = 0
    shown_revision: int = 0
    # Telling the submitter of the last decision, in the words of a claim's ``delivery``: "" (nothing
    # to tell), "retry" (not sent yet: just decided, or the platform refused it, or given back
    # unsent when the database failed mid-batch), "sending" (taken to be sent; at most once, but
    # one whose sender died with it, or could not record it, is taken back a while later), "dm",
    # "unreachable", "failed" (unknown whether it went out).
    notice: str = Field(default="", max_length=16)
    # When the notice was taken to be sent (``notice = "sending"``), cleared by the decision or undo
    # that makes a new one due: one never recorded is taken back STUCK_SENDING later by a sweep
    # (storage.submissions.take_notices), as a claim's expiry notice is; one taken without it (by a
    # release before it) counts from its decision.
    notice_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """One entry of a problem's history, written in the same transaction as the change."""

    # A problem's latest entries come off the end of this index, however long its history
    # (``/history`` reads the last 200 by ``at``, then ``id``), without sorting them all.
    # A renamed member's own entries (storage.names) are found by ``ix_event_actor`` without
    # reading everyone's.
    __table_args__ = (
        sa.Index("ix_event_problem_at", "problem_number", "at", "id"),
        sa.Index("ix_event_actor", "actor_platform", "actor_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    problem_number: str = Field(foreign_key="problem.number", max_length=16)
    kind: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_platform: str = Field(default="", max_length=16)
    actor_id: str | None = Field(default=None, max_length=ID_LENGTH)
    actor_name: str = Field(default="", max_length=200)
    detail: str = ""
    claim_id: int | None = Field(default=None, foreign_key="claim.id")
    link_id: int | None = Field(default=None, foreign_key="work_link.id")


class CommunitySettings(SQLModel, table=True):
    """Per-community settings chosen by its admins (`/setup`)."""

    __tablename__ = "community_settings"

    platform: str = Field(primary_key=True, max_length=16)
    community_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    moderator_channel_id: str | None = Field(default=None, max_length=ID_LENGTH)
    moderator_role_id: str | None = Field(default=None, max_length=ID_LENGTH)
    reminder_channel_id: str | None = Field(default=None, max_length=ID_LENGTH)
    stale_after_days: int | None = None
    # The most open claims a member may hold in this community (/setup max_claims): None follows
    # the deployment's MAX_CLAIMS, 0 means no limit here.
    max_claims: int | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # When copbot was removed from the community (kicked from the Discord server, uninstalled from
    # the Slack workspace or its token revoked); None while it is there. See storage.departures.
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    """The communities a copbot application was seen in as a member, so that one it no longer
    finds there can be taken for gone (:func:`storage.departures.members`). Discord: the servers
    a shard's READY listed (available or not) or a GUILD_CREATE brought, per application (two
    copbots may share a database); not a server that added only copbot's commands (no bot user
    in it, so the gateway never lists it). A row is kept after copbot leaves: a community that
    left is recorded in ``community_settings.left_at``."""

    platform: str = Field(primary_key=True, max_length=16)
    app_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    community_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    # When this application was first seen there.
    seen_at: datetime = Field(sa_type=UTCDateTime)


class ProcessedEvent(SQLModel, table=True):
    """Ids of inbound platform events already handled, so a replay or retry runs nothing twice."""

    __tablename__ = "processed_event"
    # On SQLite the key is the row's own key: one b-tree to write per event, not two.
    __table_args__ = {"sqlite_with_rowid": False}

    key: str = Field(primary_key=True, max_length=200)
    # Indexed: the hourly prune finds the old ids by range, not by reading every row.
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class Meta(SQLModel, table=True):
    """Small key/value facts about this deployment (e.g. the hash of synced app commands)."""

    key: str = Field(primary_key=True, max_length=100)
    value: str = ""


M = TypeVar("M", bound=SQLModel)


@functools.cache
def _constructor(model: type[SQLModel]) -> Callable[[], Any]:
    """The mapper's constructor of ``model`` (mappers configured first, as the ORM does on first
    use, which building rows into models bypasses)."""
    mapper = sa.inspect(model)
    if not mapper.configured:
        configure_mappers()
    return mapper.class_manager.new_instance


def from_row(model: type[M], row: sa.Row[*tuple[Any, ...]] | Mapping[str, Any]) -> M:
    """An instance of a table model from a Core row of its columns, built the way the ORM loads
    one: values straight into its attributes, without the per-attribute events and checks of
    ``model(**row)``. The result is the same (a transient instance, equal to ``model(**row)``;
    a test compares them) at a twentieth of the cost (4 µs against 80 µs a claim here), which
    matters on the hot paths that turn rows into claims and links."""
    values = row._mapping if isinstance(row, sa.Row) else row
    instance: M = _constructor(model)()
    instance.__dict__.update(values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    return instance
