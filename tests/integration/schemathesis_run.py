"""schemathesis run as a subprocess, with the suite's own checks (schemathesis_checks.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


async def run_schemathesis(document_url: str, reports: Path, *options: str) -> tuple[int, str]:
    """Its exit code and output. Health checks are off: they grade the generator (POST
    /v1/imports, whose body is any bytes under four media types, tripped filter_too_much on
    a slower machine), while every response check still runs on every generated request."""
    schemathesis = Path(sys.executable).with_name("schemathesis")
    reports.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        str(schemathesis),
        "run",
        document_url,
        *options,
        "--suppress-health-check",
        "all",
        "--generation-database",
        "none",
        "--warnings",
        "off",
        "--report",
        "junit",
        "--report-dir",
        str(reports),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=reports,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "schemathesis_checks",
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
            ),
        },
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")
