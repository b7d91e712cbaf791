"""Deployment check of docker-compose.yml (issue 7): PostgreSQL and two replicas, a shard each.

Not part of ``make test`` (it needs Docker with docker-compose, and builds images): run it by
hand after changing the Dockerfile or docker-compose.yml::

    .venv/bin/python -m tests.compose_check

It builds the committed tree (``git archive HEAD``) in a temporary directory, starts the stack
with an ``.env`` that points both replicas at a fake Discord with two shards (bound on the host,
reached from the containers through Docker's bridge), and checks what an operator would:

- each replica connects its own shard, and every service turns healthy (their healthchecks);
- a /claim from a guild on shard 0 and one from a guild on shard 1 are each answered, and both
  claims are in the stack's PostgreSQL;
- /healthz and /metrics answer on each replica's metrics port;
- STOP_GRACE_SECONDS in ``.env`` is the replicas' stop timeout (``stop_grace_period``);
- ``docker-compose stop`` (SIGTERM) stops both replicas with exit status 0.

Everything is torn down at the end (``down -v``), also when a check fails.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.discord_api import FakeDiscord
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "copbotcheck"
TOKEN = "fake-token-compose-check"
BOTS = ("bot-0", "bot-1")
HEALTH_TIMEOUT = 180.0
STOP_GRACE = 30  # seconds, not the default (20): .env's value must reach stop_grace_period


def sh(*args: str, check: bool = True) -> str:
    """Run a command; its output (raise with its output when it fails and ``check``)."""
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise SystemExit(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge, which the containers can reach (the
    bridge's gateway; where the daemon names none, the first address of its subnet, its default)."""
    config = json.loads(sh("docker", "network", "inspect", "bridge", "-f", "{{json .IPAM.Config}}"))[0]
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


def container(service: str) -> str:
    return f"{PROJECT}_{service}_1"


def inspect(service: str, field: str) -> str:
    return sh("docker", "inspect", "-f", "{{" + field + "}}", container(service)).strip()


async def check(work: Path) -> None:
    host = bridge_gateway()
    guild_a, guild_b = guild_id_on_shard(0, 2), guild_id_on_shard(1, 2)
    async with FakeDiscord(shard_count=2, guild_id=guild_a, token=TOKEN, host="0.0.0.0") as fake:
        other = OtherGuild(fake, guild_b, fake.add_channel("b-general"))
        ann, bob = fake.add_member("ann"), fake.add_member("bob")
        (work / ".env").write_text(
            f"DISCORD_TOKEN={TOKEN}\n"
            f"DISCORD_API_URL=http://{host}:{fake.port}/api/v10\n"
            f"DISCORD_GATEWAY_URL=ws://{host}:{fake.port}/gateway\n"
            f"STOP_GRACE_SECONDS={STOP_GRACE}\n",
            encoding="utf-8",
        )
        compose = ["docker-compose", "-p", PROJECT, "--project-directory", str(work)]
        compose += ["-f", str(work / "docker-compose.yml")]
        started = time.monotonic()
        try:
            sh(*compose, "up", "-d", "--build")
            await fake.wait_until(lambda: len([c for c in fake.connections if c.ready]) >= 2, 120)
            shards = sorted(c.shard for c in fake.connections if c.ready)
            assert shards == [(0, 2), (1, 2)], f"each replica should hold one shard, got {shards}"
            print(f"ok: shards {shards} connected {time.monotonic() - started:.0f} s after `up`")

            deadline = time.monotonic() + HEALTH_TIMEOUT
            while (states := {s: inspect(s, ".State.Health.Status") for s in ("db", *BOTS)}) and any(
                state != "healthy" for state in states.values()
            ):
                assert time.monotonic() < deadline, f"not healthy after {HEALTH_TIMEOUT:.0f} s: {states}"
                await asyncio.sleep(2)
            print(f"ok: every service healthy {time.monotonic() - started:.0f} s after `up`")

            answers = [
                await fake.wait_for_callback(await fake.slash("claim", {"number": "2.4"}, user_id=ann), 20),
                await fake.wait_for_callback(await other.slash("claim", {"number": "3.11"}, user_id=bob), 20),
            ]
            for answer, number in zip(answers, ("2.4", "3.11"), strict=True):
                text = str(answer.data)
                assert f"You claimed {number}" in text, f"/claim {number} answered: {text[:300]}"
            stored = sh(
                *compose, "exec", "-T", "db", "psql", "-U", "copbot", "-d", "copbot", "-Atc",
                "SELECT community_id, problem_number FROM claim WHERE platform = 'discord' ORDER BY 2",
            ).split()  # fmt: skip
            assert stored == [f"{guild_a}|2.4", f"{guild_b}|3.11"], f"claims stored: {stored}"
            print("ok: a /claim from each shard's guild answered and stored once in PostgreSQL")

            for bot in BOTS:
                for path, expect in (("healthz", '"ready": true'), ("metrics", "copbot_commands_total")):
                    body = sh(
                        *compose, "exec", "-T", bot, "python", "-c",
                        f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9100/{path}').read().decode())",
                    )  # fmt: skip
                    assert expect in body, f"{bot} /{path}: {body[:300]}"
            print("ok: /healthz ready and /metrics served on both replicas")

            timeouts = {bot: inspect(bot, ".Config.StopTimeout") for bot in BOTS}
            assert set(timeouts.values()) == {str(STOP_GRACE)}, f"stop timeouts: {timeouts}"
            print(f"ok: STOP_GRACE_SECONDS={STOP_GRACE} in .env is each replica's stop timeout")

            stopping = time.monotonic()
            sh(*compose, "stop")
            codes = {bot: inspect(bot, ".State.ExitCode") for bot in BOTS}
            assert set(codes.values()) == {"0"}, f"exit codes after SIGTERM: {codes}"
            print(f"ok: `stop` took {time.monotonic() - stopping:.1f} s; the replicas exited with {codes}")
        except BaseException:
            print(sh(*compose, "logs", "--no-color", "--tail", "30", check=False)[-6000:], file=sys.stderr)
            raise
        finally:
            sh(*compose, "down", "-v", check=False)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="copbot-compose-") as tmp:
        work = Path(tmp)
        sh("sh", "-c", f"git -C '{ROOT}' archive HEAD | tar -x -C '{work}'")
        asyncio.run(check(work))
    print("docker-compose.yml: all checks passed")


if __name__ == "__main__":
    main()
