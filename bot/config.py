"""Configuration from environment variables and an optional ``.env`` file."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from commands.settings import MAX_CLAIMS
from storage.engine import (
    POSTGRES_TIMEOUT,
    UnusableParameter,
    async_url,
    default_database_url,
    refuse_sqlite_query,
)
from storage.models import ID_LENGTH

# The catalogue that ships with copbot, found wherever copbot is started from.
PROJECT_SEED = Path(__file__).resolve().parents[1] / "data" / "seed.csv"

# The most days STALE_AFTER_DAYS and STALE_GRACE_DAYS may be (as /setup stale_days).
MAX_DAYS = 365

# A TCP port; 0 lets the system pick a free one.
Port = Annotated[int, Field(ge=0, le=65535)]

# Settings whose value is never shown back, even when it is refused: it may hold a secret.
UNSHOWN = frozenset(
    {
        "database_url",
        "discord_token",
        "discord_api_url",
        "discord_gateway_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_api_url",
    }
)

# A value shaped like a secret, whatever setting it was given to (a token pasted into the wrong
# line): a Slack token (xoxb-…, xapp-…), a Discord bot token (three dot-separated base64 parts),
# a Slack signing secret (32 hex digits), or an address with a password (scheme://user:pass@).
SECRET_SHAPED = re.compile(
    r"\bxox[a-z]-|\bxapp-|[\w-]{20,}\.[\w-]{5,}\.[\w-]{20,}|\b[0-9a-f]{32}\b|://[^/@\s]*:[^/@\s]*@",
    re.IGNORECASE,
)

# What each API address setting looks like (its scheme tells the ones it may have).
ADDRESS_EXAMPLES = {
    "discord_api_url": "https://discord.com/api/v10",
    "discord_gateway_url": "wss://gateway.discord.gg",
    "slack_api_url": "https://slack.com/api/",
}


class StartupError(Exception):
    """copbot cannot start for a reason in its settings or its surroundings (a database out of
    reach, a token refused, a port taken); the message names the setting and says what is wrong,
    and the command line prints it instead of a traceback."""


class Settings(BaseSettings):
    """Every setting of copbot; the README lists them with their defaults."""

    # A blank `FOO=` is unset: see settings_customise_sources.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; postgres://, postgresql:// and sqlite:// are read with copbot's "
        "async drivers (asyncpg, aiosqlite); default SQLite",
    )
    database_timeout: float = Field(
        default=POSTGRES_TIMEOUT,
        gt=0,
        # "inf" or 1e12 (meant as "never give up") overflowed the drivers' and asyncio's timers.
        le=3600,
        allow_inf_nan=False,
        description="PostgreSQL: seconds to connect, or to run one statement, before giving up",
    )
    data_dir: Path = Field(default=Path("data"), description="where the SQLite file lives")
    seed_file: Path = Field(default=PROJECT_SEED, description="catalogue loaded into an empty database")
    local_user: str = Field(default="local", max_length=ID_LENGTH, description="console user name")

    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    # A server's id (a snowflake). 0 was taken as no server: the commands were synced globally.
    discord_guild_id: int | None = Field(default=None, ge=1)
    discord_shard_count: int | None = Field(default=None, ge=1)
    # Read as written (0,1), not as JSON: the validators below parse it.
    discord_shard_ids: Annotated[list[int] | None, NoDecode] = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_port: Port = 3000
    slack_api_url: str = "https://slack.com/api/"
    slack_moderator_channel: str | None = None
    slack_moderators: str = ""
    slack_reminder_channel: str | None = None

    bind_host: str = Field(default="127.0.0.1", description="address the HTTP servers bind")
    metrics_port: Port | None = None
    http_timeout: float = Field(
        default=10,
        gt=0,
        le=600,
        description="Slack's HTTP port and METRICS_PORT: seconds a client has to send a request's "
        "headers, then its body, and that an idle connection is kept open",
    )

    # Bounded like /setup stale_days: a larger number overflows the sweep's date arithmetic.
    stale_after_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    stale_grace_days: int = Field(default=14, ge=1, le=MAX_DAYS)
    reminder_sweep_minutes: float = Field(default=60, gt=0, le=24 * 60)
    # Bounded: a number meant as "no limit" (beyond 64 bits) failed every /submit's rate check.
    submissions_per_hour: int = Field(default=10, ge=1, le=10_000)
    max_claims: int = Field(
        default=0,
        ge=0,
        le=MAX_CLAIMS,
        description="the most open claims a member may hold in a community that set none with "
        "/setup max_claims; 0: no limit",
    )
    state_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="how long a problem's claims and links are served from memory on PostgreSQL "
        "(on SQLite: until another connection commits, noticed within a second); 0: never",
    )

    shutdown_grace_seconds: float = Field(
        default=10,
        ge=0,
        le=600,
        description="at SIGTERM, how long commands and a sweep in flight may take to finish",
    )
    stop_grace_seconds: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="how long the orchestrator waits after SIGTERM before it kills copbot (Docker's "
        "stop_grace_period, which docker-compose.yml sets from this); SHUTDOWN_GRACE_SECONDS is cut "
        "to fit in it, with a warning at start",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """``FOO=`` or ``FOO=   `` (a .env template's blank, or an environment variable a compose
        file passes on unset) is unset, in the environment and in .env alike: the default, or the
        other source's value, not an empty path, host, token or number. Dropped where each source
        reads its variables, so that a blank in the environment leaves .env's value in force."""
        for source in (env_settings, dotenv_settings):
            if isinstance(source, EnvSettingsSource):
                source.env_vars = {
                    name: value for name, value in source.env_vars.items() if value is None or value.strip()
                }
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        """``postgres://`` (Heroku's), ``postgresql://`` (libpq's) and ``sqlite:///path``, as
        providers give them, read with copbot's async drivers (asyncpg, aiosqlite) (:attr:`db_url`).
        Kept as written, for the engine to read a libpq URL's parameters as libpq does; one that
        cannot be honoured (``channel_binding=require``, a name asyncpg has nothing like, any
        parameter of a SQLite URL) is refused here, named without its value."""
        try:
            if url is not None:
                async_url(url)
                refuse_sqlite_query(url)
        except UnusableParameter as exc:
            raise PydanticCustomError("database_url_parameter", str(exc)) from None
        return url

    @field_validator("discord_token", "slack_bot_token", "slack_signing_secret", "slack_app_token")
    @classmethod
    def _token_as_copied(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A token or secret as the platform shows it: the line break a secret file or a copy
        leaves around it is dropped (a signing secret with one failed every request's signature,
        unlogged); what no token holds inside (a space, a quote, a line break: a traceback at
        the first request) and the other setting's token are refused, named, never shown."""
        if token is None:
            return None
        value = token.get_secret_value().strip()
        if info.field_name == "discord_token" and value[:4].lower() == "bot ":
            raise PydanticCustomError(
                "token_prefix",
                "should be the token alone, without 'Bot ' before it (copbot adds that itself)",
            )
        if not value.isascii() or not value.isprintable() or any(c in value for c in " \"'`"):
            raise PydanticCustomError(
                "token_characters",
                "holds a space, a quote, a line break or a letter beyond ASCII, which no token has: "
                "copy the value alone again (docs/discord.md, docs/slack.md)",
            )
        if info.field_name == "slack_bot_token" and value.startswith(("xoxp-", "xapp-")):
            what = "a user token (xoxp-…)" if value.startswith("xoxp-") else "the app-level token (xapp-…)"
            raise PydanticCustomError(
                "token_kind",
                "is {what}: use the Bot User OAuth Token (xoxb-…) of OAuth & Permissions",
                {"what": what},
            )
        if info.field_name == "slack_app_token" and value.startswith("xox"):
            raise PydanticCustomError(
                "token_kind",
                "is a bot or user token (xox…): Socket Mode needs the app-level token (xapp-…) of "
                "Basic Information, App-Level Tokens",
            )
        return SecretStr(value)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _a_folder(cls, folder: object) -> object:
        """A folder, not an address: DATA_DIR=postgresql://… (meant for DATABASE_URL) made folders
        named after the address, and `db upgrade` printed them, password and all."""
        if isinstance(folder, str) and "://" in folder:
            raise PydanticCustomError(
                "folder",
                "should be a folder, not an address: a database's address goes in DATABASE_URL",
            )
        return folder

    @field_validator("discord_api_url", "discord_gateway_url", "slack_api_url")
    @classmethod
    def _no_credentials(cls, url: str | None) -> str | None:
        """An API URL without ``user:password@``: the platform's client sends its token in an
        Authorization header, which aiohttp refuses to combine with credentials in the URL (a
        traceback at the first call, the password in it)."""
        if url is not None and "@" in urlsplit(url.strip()).netloc:
            raise PydanticCustomError(
                "credentials",
                "should not hold a user name or password (user:password@ before its host): copbot "
                "sends the platform's token itself; give the address alone",
            )
        return url

    @field_validator("discord_api_url", "discord_gateway_url", "slack_api_url")
    @classmethod
    def _an_address(cls, url: str | None, info: ValidationInfo) -> str | None:
        """An address with its scheme and host (without, aiohttp's error names only the URL)."""
        example = ADDRESS_EXAMPLES[info.field_name or ""]
        schemes = ("ws", "wss") if example.startswith("wss:") else ("http", "https")
        parts = urlsplit(url.strip()) if url is not None else None
        if parts is not None and (parts.scheme.lower() not in schemes or not parts.hostname):
            raise PydanticCustomError(
                "address",
                "should be an address beginning with {first}:// or {second}://, such as {example}",
                {"first": schemes[0], "second": schemes[1], "example": example},
            )
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        """``LOG_LEVEL=debug`` as well as ``DEBUG``."""
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        """``LOG_FORMAT=JSON`` as well as ``json``, as LOG_LEVEL is read."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_numbers(cls, value: object) -> object:
        """``DISCORD_SHARD_IDS=0,1``: shard numbers separated by commas."""
        if not isinstance(value, str):
            return value
        try:
            return [int(part) for part in value.split(",") if part.strip()] or None
        except ValueError:
            raise PydanticCustomError(
                "shard_ids", "should be shard numbers separated by commas, such as 0,1"
            ) from None

    @field_validator("discord_shard_ids")
    @classmethod
    def _shards_of_the_count(cls, ids: list[int] | None, info: ValidationInfo) -> list[int] | None:
        """The shards of this process are some of DISCORD_SHARD_COUNT's (checked here, not as the
        whole model, so that the error names this variable and shows its value alone)."""
        if ids is None or "discord_shard_count" not in info.data:  # a count that did not parse is named
            return ids
        count = info.data["discord_shard_count"]
        if count is None:
            raise PydanticCustomError(
                "shard_count", "needs DISCORD_SHARD_COUNT as well, the number of shards in all"
            )
        if outside := [shard for shard in ids if not 0 <= shard < count]:
            raise PydanticCustomError(
                "shard_range",
                "shard {shard} is not among the shards of DISCORD_SHARD_COUNT={count} (0 to {last})",
                {"shard": outside[0], "count": count, "last": count - 1},
            )
        return ids

    @property
    def db_url(self) -> str:
        """The database URL in force, with copbot's async driver (:func:`storage.engine.async_url`)."""
        return async_url(self.database_url) if self.database_url else default_database_url(self.data_dir)

    @property
    def discord_enabled(self) -> bool:
        """Whether a Discord token is configured."""
        return self.discord_token is not None

    @property
    def slack_enabled(self) -> bool:
        """Whether Slack is configured (a bot token plus a signing secret or an app token)."""
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def slack_half_configured(self) -> str | None:
        """What stops a half-configured Slack from running (None when Slack is off or complete):
        ``copbot run`` refuses to start without it, rather than quietly leaving Slack out."""
        mode = [
            name
            for name, value in (
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                ("SLACK_APP_TOKEN", self.slack_app_token),
            )
            if value is not None
        ]
        if self.slack_bot_token is not None and not mode:
            return (
                "SLACK_BOT_TOKEN is set, but neither SLACK_SIGNING_SECRET (HTTP mode) nor "
                "SLACK_APP_TOKEN (Socket Mode) is: set one of them, or unset SLACK_BOT_TOKEN "
                "(see docs/slack.md)"
            )
        if self.slack_bot_token is None and mode:
            return (
                f"{' and '.join(mode)} {'is' if len(mode) == 1 else 'are'} set, but SLACK_BOT_TOKEN is not: "
                "Slack needs its bot token as well (see docs/slack.md)"
            )
        return None

    @property
    def platform_meant(self) -> str | None:
        """What stops ``copbot run`` when a setting only a platform reads is set without any
        platform's token (None otherwise): a compose file's replica whose DISCORD_TOKEN is missing
        from .env (or misspelt) would open the local console, end with its empty input and be
        restarted over and over, without a word of why."""
        if self.discord_enabled or self.slack_enabled:
            return None
        given = [
            name
            for name, value in (
                ("DISCORD_SHARD_COUNT", self.discord_shard_count),
                ("DISCORD_SHARD_IDS", self.discord_shard_ids),
                ("DISCORD_GUILD_ID", self.discord_guild_id),
                ("METRICS_PORT", self.metrics_port),
            )
            if value is not None
        ]
        if not given:
            return None
        return (
            f"{given[0]} is set, but neither DISCORD_TOKEN nor SLACK_BOT_TOKEN is: set the token of the "
            "platform copbot should serve (docs/discord.md, docs/slack.md), or unset "
            f"{_listed(given)} to have copbot run open the local console (copbot console opens it "
            "whatever they say)"
        )

    @property
    def ports_clash(self) -> str | None:
        """What stops ``copbot run`` when /metrics and Slack's HTTP mode would share one port
        (None otherwise): the second to listen failed with "Address already in use", as if
        another program held the port."""
        http_mode = self.slack_enabled and self.slack_app_token is None
        if not http_mode or self.metrics_port != self.slack_port or self.slack_port == 0:
            return None
        return (
            f"METRICS_PORT and SLACK_PORT are both {self.slack_port}: Slack's requests and /metrics "
            "need a port each; give METRICS_PORT another"
        )

    @property
    def slack_moderator_ids(self) -> set[str]:
        """User or user-group ids allowed to moderate on Slack."""
        return {part.strip() for part in self.slack_moderators.split(",") if part.strip()}


def _listed(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def cannot_listen(host: str, port: int | None, setting: str, error: OSError) -> StartupError:
    """The StartupError of a server that cannot listen on ``host:port`` (``setting`` names the port)."""
    if isinstance(error, socket.gaierror):
        # BIND_HOST not found: the code is the resolver's (os.strerror(-2) is "Unknown error -2").
        reason = error.strerror or str(error)
    else:  # the system's words, without the server's repetition of the address
        reason = os.strerror(error.errno) if error.errno else str(error)
    return StartupError(f"cannot listen on {host}:{port} (BIND_HOST, {setting}): {reason}")


def unreachable(service: str, url: object, setting: str, error: BaseException) -> StartupError:
    """The StartupError of a platform's API out of reach at start (``setting`` names its URL)."""
    reason = str(error) or type(error).__name__  # a timeout's text is empty
    return StartupError(f"cannot reach {service} at {url} ({setting}): {reason}")


def misspelt_settings(environ: Mapping[str, str], env_file: Path | None = None) -> list[str]:
    """A warning for each variable, in the environment or the .env file, that is no setting but
    looks like one (``DISCORD_BOT_TOKEN``, ``STALE_AFTER_DAY``): copbot ignores what it does not
    know, so a misspelt token left it on the console and a misspelt number at its default. Only
    names close to a setting's are named (a compose file's ``POSTGRES_PASSWORD`` in the same .env
    is not), and from the environment only those that begin as a setting does (``SLACK_…``)."""
    known = {name.upper() for name in Settings.model_fields}
    words = {name.split("_", 1)[0] for name in known}
    from_file = list(dotenv_values(env_file)) if env_file is not None and env_file.is_file() else []
    given = [(name, "") for name in environ if name.split("_", 1)[0].upper() in words]
    given += [(name, f" (in {env_file})") for name in from_file if name]
    lines = []
    for name, where in given:
        if name.upper() in known:
            continue
        if close := get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.8):
            lines.append(f"{name}{where} is no copbot setting, so it is ignored: did you mean {close[0]}?")
    return lines


def unreadable_env(error: UnicodeDecodeError | OSError) -> str:
    """Why the ``.env`` file could not be read, for one line: a file saved as UTF-16 (Windows
    Notepad's "Unicode") or another encoding fails deep inside pydantic-settings."""
    env_file = Settings.model_config.get("env_file")
    if isinstance(error, UnicodeDecodeError):
        if error.object[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16's byte order mark
            where = "it is UTF-16"
        else:
            line = error.object[: error.start].count(b"\n") + 1
            where = f"line {line}: byte 0x{error.object[error.start]:02x}"
        reason = f"not UTF-8 text ({where}): save it as UTF-8"
    else:
        reason = f"cannot read it: {error.strerror or error}"
    return f"{env_file}: {reason}"


def parsed_apart_from(error: ValidationError) -> Settings | None:
    """The settings with those ``error`` refused left at their defaults (None when the rest do not
    parse either): how to log the refusal (LOG_FORMAT=json) when LOG_FORMAT itself is fine."""
    refused = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
    defaults = {name: field.default for name, field in Settings.model_fields.items() if name in refused}
    try:
        return Settings(**defaults)
    except (ValidationError, UnicodeDecodeError, OSError):
        return None


def invalid_settings(error: ValidationError) -> list[str]:
    """One line per setting that failed to parse, named as its environment variable, with the value
    given, unless it may hold a secret (:data:`UNSHOWN`: tokens, and URLs that could carry a
    password) or looks like one (:data:`SECRET_SHAPED`: a token given to another setting)."""
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper() or "settings"
        shown = "input" in problem and not (problem["loc"] and problem["loc"][0] in UNSHOWN)
        given = f" (got {problem['input']!r:.80})" if shown else ""
        if shown and SECRET_SHAPED.search(str(problem["input"])):
            given = " (got a value shaped like a token or a password: not shown)"
        lines.append(f"{name}: {problem['msg']}{given}")
    return lines
