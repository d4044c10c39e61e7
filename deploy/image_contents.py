"""What a service image installs, read from deploy/Dockerfile and uv.lock: its SBOM and size.

The Dockerfile's last `uv sync` picks the packages an image gets; the same selection given
to `uv export` lists them without building the image (no Docker engine needed), so the SBOM
CI keeps and the checks in tests/deploy describe exactly what ships. The SBOM is CycloneDX
1.5 from the pinned uv itself (`uv export --format cyclonedx1.5`), with every component's
version, package URL and distribution hashes as the lock file records them.

    python deploy/image_contents.py sbom build/sbom      # <service>.cdx.json per image
    python deploy/image_contents.py size                 # installed size per image
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
# every folder under services/: the four the Dockerfile builds (`--build-arg SERVICE=...`)
# and the console, whose runtime set is held to the same rule
SERVICES = tuple(sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml")))
# flags of `uv sync` that choose packages, and how many values each takes
SELECTING = {
    "--frozen": 0,
    "--locked": 0,
    "--no-dev": 0,
    "--dev": 0,
    "--all-groups": 0,
    "--no-default-groups": 0,
    "--all-extras": 0,
    "--package": 1,
    "--group": 1,
    "--only-group": 1,
    "--extra": 1,
    "--no-group": 1,
}
# flags that change how the chosen packages are installed, not which
INSTALLING = {
    "--no-editable",
    "--no-install-workspace",
    "--no-install-project",
    "--compile-bytecode",
}
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")


def uv() -> str:
    """The uv that `uv run` started us with (it says so in UV), else the Makefile's pinned one."""
    return os.environ.get("UV") or str(ROOT / ".tools" / "bin" / "uv")


def dockerfile_selection(service: str, dockerfile: Path = DOCKERFILE) -> list[str]:
    """The selecting flags of the Dockerfile's last `uv sync`, for one service's image."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    syncs = re.findall(r"\buv sync ([^&;\n]*)", text)
    if not syncs:
        raise ValueError(f"{dockerfile} runs no `uv sync`")
    words = iter(shlex.split(syncs[-1]))
    selection = []
    for word in words:
        if word in SELECTING:
            selection += [word, *(next(words) for _ in range(SELECTING[word]))]
        elif word not in INSTALLING:
            raise ValueError(
                f"{dockerfile}: `uv sync {word}` is not understood here; "
                "say in image_contents.py whether it selects packages"
            )
    return [word.replace("${SERVICE}", service) for word in selection]


def export(service: str, *extra: str) -> str:
    done = subprocess.run(
        [uv(), "export", "--quiet", *dockerfile_selection(service), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"uv export for {service} failed: {done.stderr}")
    return done.stdout


def requirements(service: str) -> str:
    """Third-party pins with hashes, what `pip install --require-hashes` would accept."""
    return export(service, "--no-emit-workspace", "--format", "requirements.txt")


def packages(service: str) -> set[str]:
    """Every distribution the image holds, workspace members included, by normalised name."""
    text = export(service, "--no-hashes", "--no-editable", "--format", "requirements.txt")
    names = set()
    for line in text.splitlines():
        if match := REQUIREMENT.match(line):
            names.add(match.group(1))
        elif line.startswith("./"):
            names.add(_project_name(ROOT / line))
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def _project_name(folder: Path) -> str:
    found = re.search(r'^name\s*=\s*"([^"]+)"', (folder / "pyproject.toml").read_text(), re.M)
    if not found:
        raise ValueError(f"{folder}/pyproject.toml names no project")
    return found.group(1)


def sbom(service: str) -> str:
    return export(service, "--format", "cyclonedx1.5", "--preview-features", "sbom-export")


def write_sboms(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = out / f"{service}.cdx.json"
        path.write_text(sbom(service))
        written.append(path)
    return written


def installed_bytes(service: str) -> int:
    """The third-party packages installed as the image installs them (compiled bytecode
    included), measured on disk: the image's size above its Python base, bar our code."""
    with tempfile.TemporaryDirectory(prefix=f"image-{service}-") as folder:
        pins = Path(folder) / "requirements.txt"
        pins.write_text(requirements(service))
        target = Path(folder) / "site-packages"
        subprocess.run(
            [
                uv(),
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--link-mode",
                "copy",
                "--python",
                sys.executable,
                "--target",
                str(target),
                "--require-hashes",
                "-r",
                str(pins),
            ],
            cwd=ROOT,
            check=True,
            timeout=600,
        )
        return sum(f.stat().st_size for f in target.rglob("*") if f.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sbom", help="write <service>.cdx.json per image").add_argument(
        "out", type=Path, nargs="?", default=ROOT / "build" / "sbom"
    )
    commands.add_parser("size", help="installed size of each image's third-party packages")
    args = parser.parse_args()
    if args.command == "sbom":
        for path in write_sboms(args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    else:
        for service in SERVICES:
            print(
                f"{service}: {installed_bytes(service) / 1e6:.1f} MB, "
                f"{len(packages(service))} distributions"
            )
    return 0


if __name__ == "__main__":
    if shutil.which(uv()) is None:
        raise SystemExit(f"no uv at {uv()} (make sync installs it)")
    raise SystemExit(main())
