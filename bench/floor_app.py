"""The floor: the least a write over HTTP can cost here, served as the services are served.

One FastAPI route, one asyncpg pool, one INSERT in a transaction; no auth, no
middleware, no events, no idempotency. `bench_route_cpu` runs it beside the
services with uvicorn's settings of `receivables_platform.serving` (no access
log, the same header-limited protocol) and prints each route's CPU as a
multiple of it: what the framework, the driver and PostgreSQL cost anyway is
the floor, the rest is ours to spend or save.

    DATABASE_URL=... HTTP_PORT=... .venv/bin/python bench/floor_app.py
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from fastapi import FastAPI, Request, Response

from receivables_platform.web.header_limit import HeaderLimitedProtocol

FLOOR_PATH = "/floor"


def floor_app(database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(database_url, min_size=2, max_size=10)
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS floor_write ("
            " id bigserial PRIMARY KEY, amount_minor bigint NOT NULL,"
            " recorded_at timestamptz NOT NULL DEFAULT now())"
        )
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.post(FLOOR_PATH, status_code=201)
    async def record(request: Request) -> Response:
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO floor_write (amount_minor) VALUES ($1)", 100)
        return Response(status_code=201)

    @app.get("/health")
    async def health() -> Response:
        return Response(status_code=204)

    return app


def main() -> None:
    uvicorn.run(
        floor_app(os.environ["DATABASE_URL"]),
        host="127.0.0.1",
        port=int(os.environ["HTTP_PORT"]),
        log_config=None,
        access_log=False,
        http=HeaderLimitedProtocol,
    )


if __name__ == "__main__":
    main()
