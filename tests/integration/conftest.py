from collections.abc import AsyncIterator

import pytest

from receivables_platform.ids import new_id
from receivables_platform.testing.system import RunningSystem


@pytest.fixture(scope="session")
async def system(postgres_server_url: str, kafka_bootstrap: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningSystem]:
    """The four services as processes, fresh databases, the shared broker.

    One system for the session: each test makes its own accounts, so they do not
    see each other, and the services start once."""
    running = RunningSystem(postgres_server_url, kafka_bootstrap,
                            tmp_path_factory.mktemp("service-logs"),
                            env={"STRIPE_WEBHOOK_SECRET": f"whsec_{new_id().hex}"})
    try:
        await running.start()
        yield running
    finally:
        problems = await running.stop()
    assert not problems, problems
