"""Vendor the console's browser libraries from their npm packages, hash-checked.

Nothing is loaded from a CDN at run time: the files are committed under
`static/vendor/` and `vendor.json` records each one's package, version, the npm
tarball's integrity and the file's SRI hash (which the templates put in
`integrity=`). `--check` fetches them again with `npm pack` and fails when the
registry's tarball, or the file in it, differs from what was recorded, so a
tampered or silently republished package is caught; without it the files and
hashes are written (after changing a version in `vendor.json`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "src" / "console_service" / "static"
MANIFEST = STATIC / "vendor.json"


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch(package: str, version: str, member: str) -> tuple[bytes, str]:
    """The file from the package's tarball, and the tarball's integrity as npm reports it."""
    with tempfile.TemporaryDirectory() as folder:
        packed = subprocess.run(
            ["npm", "pack", "--json", f"{package}@{version}"],
            cwd=folder,
            check=True,
            capture_output=True,
            text=True,
        )
        [info] = json.loads(packed.stdout)
        with tarfile.open(Path(folder) / info["filename"]) as tar:
            extracted = tar.extractfile(f"package/{member}")
            if extracted is None:
                raise SystemExit(f"{package}@{version} has no {member}")
            return extracted.read(), info["integrity"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify the committed files against a fresh npm pack"
    )
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    failures = []
    for name, entry in manifest.items():
        data, integrity = fetch(entry["package"], entry["version"], entry["member"])
        target = STATIC / "vendor" / name
        if args.check:
            if integrity != entry["tarball_integrity"]:
                failures.append(
                    f"{name}: npm tarball integrity {integrity} differs from "
                    f"the recorded {entry['tarball_integrity']}"
                )
            if sri(data) != entry["integrity"] or sri(target.read_bytes()) != entry["integrity"]:
                failures.append(f"{name}: file hash differs from the recorded {entry['integrity']}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        entry.update(tarball_integrity=integrity, integrity=sri(data))
        print(f"{name}: {entry['package']}@{entry['version']} {entry['integrity']}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    if not args.check:
        MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    else:
        print(f"{len(manifest)} vendored files match their npm packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
