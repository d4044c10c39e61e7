"""SQL objects kept one file each, holding their current definition (the message-db way).

A function, trigger or view that migrations redefine over time is read in its file, not
pieced together from the migrations that changed it. Each file is written to be applied
again over any earlier version of its object (`CREATE OR REPLACE`), so the newest
migration of a service reapplies them all and a database upgraded from any revision ends
with the same definitions as a fresh one.

asyncpg prepares each statement, so a file goes to the server one statement at a time.
Function bodies hold semicolons of their own: the split skips what is quoted
(`'...'`, `"..."`, `$tag$...$tag$`) or commented out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def statements(script: str) -> list[str]:
    """The statements of `script`, without their semicolons; comment-only pieces dropped."""
    found: list[str] = []
    start, at, meaningful = 0, 0, False
    while at < len(script):
        char = script[at]
        if script.startswith("--", at):
            end = script.find("\n", at)
            at = len(script) if end < 0 else end + 1
            continue
        if script.startswith("/*", at):
            end = script.find("*/", at + 2)
            at = len(script) if end < 0 else end + 2
            continue
        meaningful = meaningful or (not char.isspace() and char != ";")
        if char in "'\"":
            end = script.find(char, at + 1)
            while end >= 0 and script.startswith(char * 2, end):  # '' is a quote inside
                end = script.find(char, end + 2)
            at = len(script) if end < 0 else end + 1
            continue
        if char == "$" and (tag := _DOLLAR_TAG.match(script, at)):
            end = script.find(tag.group(), tag.end())
            at = len(script) if end < 0 else end + len(tag.group())
            continue
        if char == ";":
            if meaningful:
                found.append(script[start:at].strip())
            start, meaningful = at + 1, False
        at += 1
    if meaningful:
        found.append(script[start:].strip())
    return found


def apply_sql_files(paths: Iterable[Path]) -> None:
    """Run each file's statements inside the calling alembic migration, in the given order."""
    from alembic import op

    for path in paths:
        for statement in statements(path.read_text(encoding="utf-8")):
            op.execute(statement)
