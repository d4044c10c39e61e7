"""The standalone relay and consumer leave their start-up heap out of every later collection.

Under `bench_pipeline` at 500 events/s a full collection in a consumer that had not
done so walked some 100,000 start-up objects and stopped it for 50-100 ms: the
latency's tail. What is checked is that each entry point freezes before its loop runs.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Coroutine, Iterator
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from receivables_platform import event_loop, heap, serving
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


class Node:
    """A value in a reference cycle: only a collection frees it, never its reference count."""

    def __init__(self) -> None:
        self.me = self


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    """`freeze_survivors` on a clock the test moves, undone afterwards."""
    ticking = Clock()
    heap.freeze_survivors(thaw_every=600.0, clock=ticking)
    yield ticking
    heap.stop_freezing_survivors()


def test_what_survives_a_full_collection_is_left_out_of_the_next(clock: Clock) -> None:
    kept = [Node() for _ in range(1_000)]
    gc.collect()
    assert gc.get_freeze_count() > len(kept)
    assert not any(o is kept[0] for o in gc.get_objects(generation=2))


def test_a_frozen_value_is_still_freed_with_its_last_reference(clock: Clock) -> None:
    remembered = {"account": Clock()}  # no cycle: its reference count frees it
    gc.collect()
    gone = weakref.ref(remembered.pop("account"))
    assert gone() is None


def test_a_cycle_that_died_frozen_is_freed_by_the_collection_after_a_thaw(clock: Clock) -> None:
    cycle = Node()
    gc.collect()  # survives: frozen
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is not None  # frozen: this collection does not see it
    clock.now += 600.0
    gc.collect()  # thaws what is frozen, at its end
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None
    assert gc.get_freeze_count() > 0  # and survivors are frozen again


def test_a_service_freezes_what_survives_its_full_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serving, "build_app", lambda *_, **__: object())
    try:
        serving.app_to_serve(cast(Any, None), cast(Any, None))
        serving.app_to_serve(cast(Any, None), cast(Any, None))
        assert sum(isinstance(c, heap._SurvivorFreezer) for c in gc.callbacks) == 1
    finally:
        heap.stop_freezing_survivors()
