"""Imports flow one way: bot → commands → storage; the core never imports a platform."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_MODULES = {"discord", "slack_bolt", "slack_sdk", "apscheduler", "aiohttp", "bot"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["commands", "storage"])
def test_core_and_storage_import_no_platform_code(package: str) -> None:
    """commands/ and storage/ stay free of discord, slack, the scheduler and bot/."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & PLATFORM_MODULES)
        for path in (ROOT / package).rglob("*.py")
        if imported_modules(path) & PLATFORM_MODULES
    }
    assert offenders == {}


def test_storage_does_not_import_the_command_core() -> None:
    """storage/ is the bottom layer."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "storage").rglob("*.py")
        if "commands" in imported_modules(path)
    ]
    assert offenders == []
