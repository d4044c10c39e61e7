"""The root conftest.py's kinds and groups, checked in a pytest run of their own.

The four services take half a minute to start; the suite fits its five minutes only if
the tests needing them share one xdist worker. A mark that xdist reads too late costs
nothing visible but that time, so a run over throwaway tests proves the group holds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

THROWAWAY_TESTS = """
import pytest


@pytest.fixture(scope="session")
def system() -> str:
    return "the four services"


@pytest.mark.parametrize("account", range(6))
def test_needs_the_whole_system(system: str, account: int, request) -> None:
    assert request.node.get_closest_marker("system")
    assert not request.node.get_closest_marker("unit")


@pytest.mark.parametrize("account", range(6))
def test_needs_no_server(account: int, request) -> None:
    assert request.node.get_closest_marker("unit")
    assert not request.node.get_closest_marker("xdist_group")
"""


def test_the_tests_needing_the_system_share_one_worker_the_others_spread(
    tmp_path: Path,
) -> None:
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    (tmp_path / "test_throwaway.py").write_text(THROWAWAY_TESTS)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "xdist", "-p", "no:cacheprovider", "-v"),
            *("-n", "3", "--dist", "loadgroup", str(tmp_path)),
        ],
        cwd=tmp_path,
        # only xdist: the suite's other plugins (schemathesis, the devkit's fixtures) are
        # seconds of imports in each worker that these tests do not use
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    system = set(re.findall(r"\[(gw\d+)\] .*PASSED .*test_needs_the_whole_system", out))
    others = set(re.findall(r"\[(gw\d+)\] .*PASSED .*test_needs_no_server", out))
    assert len(system) == 1, out
    assert len(others) > 1, out
