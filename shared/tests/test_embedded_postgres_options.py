"""How benchmarks start the embedded PostgreSQL: over its unix socket (`--over socket`), with
extra server settings (`bench_statements` preloads `pg_stat_statements`)."""

import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest

from receivables_devkit.infra.embedded_postgres import EmbeddedPostgres
from receivables_devkit.infra.servers import servers

pytestmark = pytest.mark.timeout(120)


async def test_the_socket_url_reaches_the_same_server_without_tcp(
    own_postgres: EmbeddedPostgres,
) -> None:
    tcp = await asyncpg.connect(own_postgres.url)
    socket = await asyncpg.connect(own_postgres.socket_url)
    try:
        await tcp.execute("CREATE TABLE seen (n int)")
        await tcp.execute("INSERT INTO seen VALUES (1)")
        assert await socket.fetchval("SELECT n FROM seen") == 1
        # a unix-socket session has no server address; a TCP one has loopback
        assert await socket.fetchval("SELECT inet_server_addr()") is None
        assert str(await tcp.fetchval("SELECT inet_server_addr()")) == "127.0.0.1"
    finally:
        await tcp.close()
        await socket.close()


def test_a_socket_path_too_long_for_the_kernel_is_refused_by_name() -> None:
    server = EmbeddedPostgres(Path("/tmp") / ("x" * 100), port=5432)
    with pytest.raises(ValueError, match="too long a path for a unix socket"):
        assert server.socket_url is None  # not reached: the property raises


def test_servers_named_by_the_environment_are_used_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal:5432/postgres")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9092")
    with servers(tmp_path, over_socket=True) as (database, bootstrap):
        assert (database, bootstrap) == (
            "postgresql://app@db.internal:5432/postgres",
            "kafka.internal:9092",
        )
    assert list(tmp_path.iterdir()) == []  # nothing was started


async def test_extra_settings_reach_the_server() -> None:
    data = Path(tempfile.mkdtemp(prefix="rx-pg-settings-"))
    server = EmbeddedPostgres(data / "pg", settings="-c work_mem=7MB -c application_name=bench")
    server.start()
    try:
        conn = await asyncpg.connect(server.socket_url)
        try:
            assert await conn.fetchval("SHOW work_mem") == "7MB"
        finally:
            await conn.close()
    finally:
        server.destroy()
        shutil.rmtree(data, ignore_errors=True)
