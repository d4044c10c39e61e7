"""stripe-mock, Stripe's own mock API server, on free loopback ports for the pay link tests.

It answers every Stripe API route from Stripe's OpenAPI document (it checks
what it is sent, and echoes some of it back), so a client tested against it
speaks Stripe's API, not a hand-made imitation of it. It sends no webhooks:
a test builds the event Stripe would send from what it answered.

Built from its Go module by `make stripe-mock`, which exports `STRIPE_MOCK` (the
binary's path) to the test targets; on PATH works too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from receivables_devkit.infra.ports import free_port, wait_for_port
from receivables_devkit.testing.processes import PlatformProcess

HOST = "127.0.0.1"


def stripe_mock_binary() -> str:
    found = os.environ.get("STRIPE_MOCK") or shutil.which("stripe-mock")
    if not found or not Path(found).is_file():
        raise FileNotFoundError(
            "stripe-mock is not built: run `make stripe-mock` (needs Go), "
            "or put stripe-mock on PATH"
        )
    return found


@contextmanager
def running_stripe_mock(log_dir: Path | None = None) -> Iterator[str]:
    """stripe-mock on its own ports (HTTPS too, which it always opens: never its fixed
    default, which parallel test workers would fight over); its base URL."""
    http, https = free_port(HOST), free_port(HOST)
    folder = log_dir or Path(tempfile.mkdtemp(prefix="rx-stripe-mock-"))
    server = PlatformProcess(
        [stripe_mock_binary(), "-http-addr", f"{HOST}:{http}", "-https-addr", f"{HOST}:{https}"],
        folder / "stripe-mock.log",
    ).start()
    try:
        wait_for_port(HOST, http, timeout=30)
        yield f"http://{HOST}:{http}"
    finally:
        server.stop()
