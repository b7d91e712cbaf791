"""/metrics as Prometheus reads it, for tests of what an operator sees."""

from __future__ import annotations

import re

import aiohttp


async def scrape(port: int) -> dict[str, float]:
    """/metrics as Prometheus reads it: each sample (``name{labels}``) and its value."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {key: float(value) for key, value in re.findall(r"^(\S+) (\S+)$", text, re.M)}


def counted(samples: dict[str, float], command: str) -> dict[str, float]:
    """``copbot_commands_total`` of ``command``, by outcome."""
    prefix = f'copbot_commands_total{{command="{command}",outcome="'
    return {k[len(prefix) : -2]: v for k, v in samples.items() if k.startswith(prefix)}
