"""The root conftest.py's kinds and groups, checked in a pytest run of their own.

The four services take half a minute to start; the suite fits its five minutes only if
the tests needing them share one xdist worker. A mark that xdist reads too late costs
nothing visible but that time, so a run over throwaway tests proves the group holds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

WHOLE_SYSTEM_TESTS = """
import pytest


@pytest.fixture(scope="session")
def system() -> str:
    return "the four services"


@pytest.mark.parametrize("account", range(6))
def test_needs_the_whole_system(system: str, account: int) -> None:
    assert system


@pytest.mark.parametrize("account", range(6))
def test_needs_no_server(account: int) -> None:
    assert account >= 0
"""


def run_pytest(folder: Path, *args: str) -> str:
    (folder / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    (folder / "test_throwaway.py").write_text(WHOLE_SYSTEM_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", *args, str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_every_test_needing_the_system_runs_on_one_worker(tmp_path: Path) -> None:
    out = run_pytest(tmp_path, "-n", "3", "--dist", "loadgroup")
    workers = set(re.findall(r"\[(gw\d+)\] .*PASSED .*test_needs_the_whole_system", out))
    spread = set(re.findall(r"\[(gw\d+)\] .*PASSED .*test_needs_no_server", out))
    assert len(workers) == 1, out
    assert len(spread) > 1, out


def test_a_test_is_marked_by_what_it_needs(tmp_path: Path) -> None:
    out = run_pytest(tmp_path, "-m", "system")
    assert "6 passed, 6 deselected" in out, out
