"""The fuzz suite's own check fails a server that answers a header its document hides:
without it, a client generated from the OpenAPI would never learn of the ETag it needs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response
from schemathesis_run import run_schemathesis

from receivables_platform.web.openapi_headers import RESPONSE_HEADERS
from receivables_platform.web.testserver import running_server


def statement_api(declare_etag: bool) -> FastAPI:
    app = FastAPI()
    responses = {200: {"headers": {"ETag": RESPONSE_HEADERS["ETag"]}}} if declare_etag else None

    @app.get("/v1/statements/{statement_id}", responses=responses)  # type: ignore[arg-type]
    async def statement(statement_id: int, response: Response) -> dict[str, int]:
        response.headers["ETag"] = '"3"'
        return {"statement_id": statement_id}

    return app


async def check(app: FastAPI, reports: Path) -> tuple[int, str]:
    async with running_server(app) as base:
        return await run_schemathesis(
            f"{base}/openapi.json",
            reports,
            "--checks",
            "declared_headers_only",
            "--max-examples",
            "5",
            "--seed",
            "1",
        )


async def test_an_undeclared_etag_fails_and_a_declared_one_passes(tmp_path: Path) -> None:
    code, output = await check(statement_api(declare_etag=False), tmp_path / "hidden")
    assert code != 0 and "which its document does not declare" in output, output[-3000:]
    code, output = await check(statement_api(declare_etag=True), tmp_path / "declared")
    assert code == 0, output[-3000:]
