"""The house rules: imports run one way between the rooms, no cycles, no module doing two jobs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("common", "intake", "review", "figures", "tracker", "slack", "run")
MAX_MODULE_LINES = 500  # a longer module is a sign of two jobs


def test_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]): the direction, bot.run on top, no cycles."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_lazy_import_against_the_direction_is_caught() -> None:
    """An import inside a function counts too: moving it out of sight does not get it past the contracts."""
    import grimp

    graph = grimp.build_graph("bot", "handlers", cache_dir=None)
    # The CLI is an entry point: it may reach handlers/ (and does so lazily, inside its commands).
    assert graph.find_shortest_chain(importer="bot.cli", imported="handlers") is not None
    assert graph.find_shortest_chain(importer="bot.review", imported="bot.slack") is None


@pytest.mark.parametrize("folder", ["bot", "handlers", "storage", "sandbox", "bench"])
def test_no_module_over_the_limit(folder: str) -> None:
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / folder).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split by job): {long}"


@pytest.mark.parametrize("room", ROOMS)
def test_every_room_says_what_lives_there_and_what_it_may_import(room: str) -> None:
    docstring = ast.get_docstring(ast.parse((ROOT / "bot" / room / "__init__.py").read_text(encoding="utf-8")))
    assert docstring, f"bot/{room}/__init__.py has no docstring"
    assert "may import" in docstring.lower(), f"bot/{room}/__init__.py does not say what it may import"
