"""The OpenAPI documents the services serve compile into typed clients that work.

TypeScript: openapi-typescript (npm) turns each document into types, and tsc checks
clients/typescript/src against them, including the mistakes the documents must forbid
(a create without Idempotency-Key, a blind close without If-Match). Python:
openapi-python-client (PyPI, pinned) generates a package per service; it is imported, and
the billing client registers an account and reads it back from the running service.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from receivables_devkit.testing.system import RunningSystem

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT = ROOT / "clients" / "typescript"
PYTHON_CONFIG = ROOT / "clients" / "python-config.yaml"
UV = ROOT / ".tools" / "bin" / "uv"
PYTHON_GENERATOR = "openapi-python-client==0.29.1"
SERVICES = ("billing-adapter", "collections-service", "case-service", "reporting-service")


def run(*command: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


async def served_documents(system: RunningSystem, into: Path) -> dict[str, Path]:
    into.mkdir(parents=True, exist_ok=True)
    documents = {}
    async with httpx.AsyncClient(timeout=30) as http:
        for service in SERVICES:
            answer = await http.get(f"{system.url(service)}/openapi.json")
            assert answer.status_code == 200
            documents[service] = into / f"{service}.json"
            documents[service].write_text(json.dumps(answer.json()))
    return documents


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned npm packages (package-lock.json), installed once."""
    if not (TYPESCRIPT / "node_modules" / ".package-lock.json").exists():
        done = run(shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund", cwd=TYPESCRIPT)
        assert done.returncode == 0, done.stdout + done.stderr
    return TYPESCRIPT / "node_modules"


async def test_the_documents_compile_into_typescript_types_that_refuse_mistakes(
    system: RunningSystem, node_modules: Path, tmp_path: Path
) -> None:
    documents = await served_documents(system, tmp_path)
    generated = TYPESCRIPT / "generated"
    shutil.rmtree(generated, ignore_errors=True)
    generated.mkdir()
    # one generator per service at once: each mostly waits on node starting up
    for done in await asyncio.gather(
        *(
            asyncio.to_thread(
                run,
                str(node_modules / ".bin" / "openapi-typescript"),
                str(document),
                "-o",
                str(generated / f"{service}.ts"),
                cwd=TYPESCRIPT,
            )
            for service, document in documents.items()
        )
    ):
        assert done.returncode == 0, done.stdout + done.stderr
    checked = await asyncio.to_thread(
        run, str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", ".", cwd=TYPESCRIPT
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_the_documents_generate_python_clients_that_call_the_services(
    system: RunningSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = await served_documents(system, tmp_path / "documents")

    def generate(service: str, document: Path) -> subprocess.CompletedProcess[str]:
        return run(
            str(UV),
            "tool",
            "run",
            "--from",
            PYTHON_GENERATOR,
            "openapi-python-client",
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(PYTHON_CONFIG),
            "--output-path",
            str(tmp_path / (service.replace("-", "_") + "_client")),
            cwd=tmp_path,
        )

    # the four packages at once: the generator's start-up is most of each run
    for done in await asyncio.gather(
        *(asyncio.to_thread(generate, service, doc) for service, doc in documents.items())
    ):
        assert done.returncode == 0, done.stdout + done.stderr
        assert "WARNING" not in done.stdout + done.stderr, done.stdout + done.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    client_module = importlib.import_module("billing_adapter_client")
    register = importlib.import_module("billing_adapter_client.api.accounts.accounts_register")
    read = importlib.import_module("billing_adapter_client.api.accounts.accounts_read")
    models = importlib.import_module("billing_adapter_client.models")
    for service in SERVICES[1:]:  # the others import cleanly too
        importlib.import_module(service.replace("-", "_") + "_client.api")

    client = client_module.AuthenticatedClient(
        base_url=system.url("billing-adapter"), token=system.token("integration")
    )
    body = models.RegisterAccountRequest(
        external_id=f"TYPED-{uuid4().hex[:10]}",
        name="Typed Client GmbH",
        currency="EUR",
        payment_terms_days=30,
    )
    created = await register.asyncio_detailed(
        client=client, body=body, idempotency_key=str(uuid4())
    )
    assert created.status_code == 201, created.content
    assert created.headers["Location"].endswith(str(created.parsed.account_id))
    again = await read.asyncio_detailed(str(created.parsed.account_id), client=client)
    assert again.status_code == 200 and again.parsed.name == "Typed Client GmbH"
    assert again.headers["ETag"] == '"1"'
    sys.modules.pop("billing_adapter_client", None)
