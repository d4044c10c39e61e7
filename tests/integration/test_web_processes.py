"""A service's API served by several processes (`WEB_CONCURRENCY`), as a platform team runs
it on a bigger host: every worker serves, `/metrics` counts all of them, and a service
killed outright takes its workers with it, so it can start again on its port."""

import asyncio
import contextlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import psutil
import pytest

from receivables_devkit.infra.ports import free_port
from receivables_devkit.testing.system import RunningSystem

# one worker for the module, so its one billing (below) is started once, not per worker
pytestmark = pytest.mark.xdist_group("web_processes")

BILLING = "billing-adapter"
READS = 30


@pytest.fixture(scope="module")
async def billing_in_two_processes(
    postgres_server_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSystem]:
    """One billing for the module (a start and a stop take half a minute): the test that
    kills it restarts it and checks it serves again, the other only borrows its settings."""
    running = RunningSystem(
        postgres_server_url,
        kafka_bootstrap,
        tmp_path_factory.mktemp("billing-logs"),
        service_env={BILLING: {"WEB_CONCURRENCY": "2"}},
    )
    try:
        await running.start([BILLING])
        yield running
    finally:
        problems = await running.stop()
    assert not problems, problems


def workers(supervisor: psutil.Process) -> list[psutil.Process]:
    return [child for child in supervisor.children() if "spawn_main" in " ".join(child.cmdline())]


def served(metrics: str, route: str) -> float:
    pattern = re.compile(
        r'^http_server_request_duration_seconds_count\{method="GET",'
        rf'route="{re.escape(route)}",status="200"\}} (\S+)$',
        re.MULTILINE,
    )
    return sum(float(count) for count in pattern.findall(metrics))


async def scraped_reads(http: httpx.AsyncClient, base: str, route: str) -> float:
    """What `/metrics` counts for `route` once it reaches READS, or after five seconds."""
    deadline = time.monotonic() + 5
    while True:
        metrics = await http.get(f"{base}/metrics", headers={"Connection": "close"})
        count = served(metrics.text, route)
        if count >= READS or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.1)


async def read_on_new_connections(url: str, headers: dict[str, str], count: int) -> list[int]:
    async def once() -> int:
        async with httpx.AsyncClient(timeout=10) as http:  # a connection of its own
            return (await http.get(url, headers=headers)).status_code

    return list(await asyncio.gather(*(once() for _ in range(count))))


async def test_every_worker_serves_and_dies_with_its_service(
    billing_in_two_processes: RunningSystem,
) -> None:
    system = billing_in_two_processes
    base, headers = system.url(BILLING), system.auth("admin")
    supervisor = psutil.Process(system.processes[BILLING].proc.pid)
    started = workers(supervisor)
    assert len(started) == 2

    async with httpx.AsyncClient(timeout=10) as http:
        made = await http.post(
            f"{base}/v1/accounts",
            headers={**headers, "Idempotency-Key": str(uuid4())},
            json={
                "external_id": f"CUS-{uuid4().hex[:10]}",
                "name": "Two Workers Ltd",
                "currency": "EUR",
                "payment_terms_days": 30,
            },
        )
        assert made.status_code == 201, made.text
        account = f"{base}/v1/accounts/{made.json()['account_id']}"
        assert await read_on_new_connections(account, headers, READS) == [200] * READS
        # whichever worker answers the scrape, it reports what both served; a request is
        # counted once its response has ended, which the client may see a moment before
        assert await scraped_reads(http, base, "/v1/accounts/{account_id}") == READS
        for _ in range(4):
            metrics = await http.get(f"{base}/metrics", headers={"Connection": "close"})
            assert served(metrics.text, "/v1/accounts/{account_id}") == READS

    supervisor.send_signal(signal.SIGKILL)
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, f"workers outlived their killed service: {alive}"
    system.processes[BILLING].wait(time.monotonic() + 10)

    await system.restart(BILLING)  # the same port: nothing of the old service holds it
    assert len(workers(psutil.Process(system.processes[BILLING].proc.pid))) == 2
    assert await read_on_new_connections(account, headers, 4) == [200] * 4


async def test_the_workers_serve_when_the_service_is_pid_1_as_in_a_container(
    billing_in_two_processes: RunningSystem,
) -> None:
    """`exec python -m ...` makes the service pid 1 of its container: its workers' parent
    is then pid 1 while it lives, which must not read as their supervisor having died."""
    service = billing_in_two_processes.processes[BILLING]
    url = f"http://127.0.0.1:{free_port()}"
    env = {**service.env, "HTTP_PORT": url.rsplit(":", 1)[1]}
    as_pid_1 = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child", sys.executable, "-m", "billing_adapter"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        ready = False
        async with httpx.AsyncClient(timeout=2) as http:
            while not ready and as_pid_1.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    ready = (await http.get(f"{url}/readyz")).status_code == 200
                await asyncio.sleep(0.5)
            assert ready, f"not ready (exit code {as_pid_1.poll()})"
            assert await read_on_new_connections(f"{url}/healthz", {}, 8) == [200] * 8
    finally:
        as_pid_1.kill()  # --kill-child: the namespace's pid 1, and with it every worker
        as_pid_1.wait(10)
