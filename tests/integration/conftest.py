import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from playwright.async_api import Browser, async_playwright

from billing_adapter.stripe_testing import API_KEY
from receivables_devkit.infra.ports import free_port
from receivables_devkit.testing.system import RunningSystem
from receivables_platform.ids import new_id

# --import-mode=importlib puts no test folder on sys.path: the helper modules beside this
# file (schemathesis_run, reporting_subscriptions) are imported by name
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def smtp_url() -> Iterator[str]:
    """A real SMTP server on loopback that accepts every message: email paths run for real."""
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@pytest.fixture(scope="session")
async def system(
    postgres_server_url: str,
    kafka_bootstrap: str,
    smtp_url: str,
    stripe_mock: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningSystem]:
    """The four services as processes, fresh databases, the shared broker, an SMTP server,
    and stripe-mock as the Stripe API that billing makes pay links at.

    One system for the session: each test makes its own accounts, so they do not
    see each other, and the services start once."""
    running = RunningSystem(
        postgres_server_url,
        kafka_bootstrap,
        tmp_path_factory.mktemp("service-logs"),
        env={
            "STRIPE_WEBHOOK_SECRET": f"whsec_{new_id().hex}",
            "SMTP_URL": smtp_url,
            "STRIPE_API_BASE": stripe_mock,
            "STRIPE_API_KEY": API_KEY,
            "PAY_LINK_SUCCESS_URL": "https://pay.example.test/done",
        },
    )
    try:
        await running.start()
        yield running
    finally:
        problems = await running.stop()
    assert not problems, problems


@pytest.fixture(scope="session")
async def console(system: RunningSystem) -> str:
    """The console over the session's services, started as `make run` starts it; its URL."""
    return await system.start_console()


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
