"""What every generated reference under docs/ shares: write it, or `--check` that it is current."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_or_check(target: Path, render: Callable[[], str], argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if target.read_text() != text:
            print(f"{target.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0
