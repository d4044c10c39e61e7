"""The platform's processes run on uvloop, and on the standard loop where uvloop is missing."""

from __future__ import annotations

import asyncio
import sys

import pytest

from receivables_platform import event_loop


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_runs_the_coroutine_on_uvloop_and_returns_its_result() -> None:
    assert event_loop.run(_loop_module()).startswith("uvloop")


def test_without_uvloop_the_standard_loop_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert event_loop.run(_loop_module()).startswith("asyncio")


def test_an_error_in_the_coroutine_reaches_the_caller() -> None:
    async def refuses() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        event_loop.run(refuses())
