"""`make run` proven end to end: the installed `receivables-stack` brings up the embedded
infrastructure and all four services, every `/readyz` answers 200, and it stops cleanly.

Ports and the data folder are the test's own, so it never collides with a stack a
developer has running on the documented ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from receivables_devkit.infra.ports import free_port

SERVICES = ("billing-adapter", "collections-service", "case-service", "reporting-service")
STACK = Path(sys.executable).parent / "receivables-stack"


def _stack_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET"}
    }
    env["RX_DATA_DIR"] = str(data_dir)
    for name in (*SERVICES, "console"):
        env[name.upper().replace("-", "_") + "_PORT"] = str(free_port())
    return env


@pytest.mark.timeout(180)
def test_stack_starts_every_service_and_stops_cleanly(tmp_path: Path) -> None:
    env = _stack_env(tmp_path / "data")
    stack = subprocess.Popen(
        [str(STACK), "run", "--until-ready", "--ready-timeout", "90"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = stack.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        # Ctrl-C, so the stack still stops the servers it started in tmp_path.
        stack.send_signal(signal.SIGINT)
        stdout, stderr = stack.communicate(timeout=60)
        pytest.fail(f"the stack was not ready within 120s:\n{stdout}{stderr}")
    result = subprocess.CompletedProcess(stack.args, stack.returncode, stdout, stderr)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for name in SERVICES:
        port = env[name.upper().replace("-", "_") + "_PORT"]
        assert f"{name} ready on http://127.0.0.1:{port}" in result.stdout, output
    console = f"http://127.0.0.1:{env['CONSOLE_PORT']}"
    assert f"console ready on {console}" in result.stdout, output
    assert f"Console     {console}/" in result.stdout, output
    assert "Stopped." in result.stdout, output
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()

    # The printed token is signed with the secret kept in the data folder.
    token = next(
        line.split("=", 1)[1] for line in result.stdout.splitlines() if "export RX_TOKEN=" in line
    )
    secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="receivables")
    assert "admin" in claims["roles"]


def test_token_command_uses_the_kept_secret(tmp_path: Path) -> None:
    env = _stack_env(tmp_path / "data")
    result = subprocess.run(
        [str(STACK), "token", "collector", "--sub", "alice"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"], audience="receivables")
    assert claims["sub"] == "alice"
    assert claims["roles"] == ["collector"]

    bad = subprocess.run(
        [str(STACK), "token", "janitor"], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "unknown role" in bad.stderr


def test_tokens_live_as_long_as_the_services_accept_and_no_longer(tmp_path: Path) -> None:
    env = {**_stack_env(tmp_path / "data"), "JWT_MAX_LIFETIME_SECONDS": "7200"}
    result = subprocess.run(
        [str(STACK), "token", "collector"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "data" / "jwt-secret").read_text().strip()
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"], audience="receivables")
    assert claims["exp"] - claims["iat"] == 7200
    too_long = subprocess.run(
        [str(STACK), "token", "collector", "--ttl", "7201"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert too_long.returncode == 2
    assert "JWT_MAX_LIFETIME_SECONDS" in too_long.stderr
