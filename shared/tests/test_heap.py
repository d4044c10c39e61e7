"""The standalone relay and consumer leave their start-up heap out of every later collection.

Under `bench_pipeline` at 500 events/s a full collection in a consumer that had not
done so walked some 100,000 start-up objects and stopped it for 50-100 ms: the
latency's tail. What is checked is that each entry point freezes before its loop runs.
"""

from __future__ import annotations

import gc
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from receivables_platform import event_loop
from receivables_platform.consumer import cli as consumer_cli
from receivables_platform.relay import __main__ as relay_cli


def applies(conn: object, event: object) -> None:
    """A handler for the consumer's command line to load; never called here."""


@pytest.fixture
def frozen_when_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of objects frozen when the entry point hands its work to the loop."""
    seen: list[int] = []

    def run(main: Coroutine[Any, Any, Any]) -> None:
        seen.append(gc.get_freeze_count())
        main.close()

    thresholds = gc.get_threshold()
    gc.unfreeze()
    monkeypatch.setattr(event_loop, "run", run)
    for module in (consumer_cli, relay_cli):
        monkeypatch.setattr(module, "configure_logging", lambda *_: None)
        monkeypatch.setattr(module, "configure_tracing", lambda *_: None)
    yield seen
    gc.unfreeze()
    gc.set_threshold(*thresholds)


COMMON = [
    "--database-url",
    "postgresql://nobody@127.0.0.1:1/none",
    "--bootstrap-servers",
    "127.0.0.1:1",
]


@pytest.mark.parametrize(
    "app, args",
    [
        pytest.param(
            consumer_cli.app,
            [*COMMON, "--group", "g", "--topic", "t", "--handler", f"{__name__}:applies"],
            id="consumer",
        ),
        pytest.param(relay_cli.app, [*COMMON, "--service", "billing"], id="relay"),
    ],
)
def test_a_standalone_process_freezes_its_start_up_before_its_loop_runs(
    frozen_when_run: list[int], app: Any, args: list[str]
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(frozen_when_run) == 1
    assert frozen_when_run[0] > 10_000  # the modules, at least: tens of thousands of objects
