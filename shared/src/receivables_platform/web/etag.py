"""ETag / If-Match from the aggregate version: no lost updates over HTTP.

A representation's ETag is its stream version, strong and quoted (`"7"`). A
client that read version 7 sends `If-Match: "7"` with its write; the route
checks it against the version it loaded and appends with that version as the
expected one, so a write based on an old read gets 412 either at the check or,
when another writer slips in between, from the event store's unique index
(the ConcurrencyError handler answers 412 whenever If-Match was sent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Header, Response

from receivables_platform.web.problems import Problem, problem_type

State = TypeVar("State")

_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e]*)"\s*(?:,|$)')
FIELD = "header.If-Match"
_VERSION_DIGITS = 18
"""A stream version is a PostgreSQL bigint: a longer tag names none (and Python refuses to
read an integer of over 4,300 digits, which a hostile header would otherwise turn into a 500)."""


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


@dataclass(frozen=True)
class Precondition:
    """A parsed If-Match: the versions the client will accept, or any (`*`)."""

    versions: frozenset[int] | None

    def check(self, current_version: int) -> int:
        """The version to append at, or 412 (with the current ETag) if the client's is stale."""
        if self.matches(current_version):
            return current_version
        sent = "*" if self.versions is None else ", ".join(etag(v) for v in sorted(self.versions))
        raise Problem(
            412,
            "Precondition Failed",
            f"If-Match {sent or '(no strong tag)'} does not match the current "
            f"version {etag(current_version)}",
            type=problem_type("stale-version"),
            field=FIELD,
            headers={"ETag": etag(current_version)} if current_version else None,
        )

    def matches(self, current_version: int) -> bool:
        """Strong comparison (RFC 9110 13.1.1); `*` needs the resource to exist."""
        if self.versions is None:
            return current_version > 0
        return current_version in self.versions


def version_check(
    if_match: Precondition | None,
    version_of: Callable[[State], int] | None = None,
) -> Callable[[State, int], None] | None:
    """If-Match as the check a use case runs on the state it loaded, under the stream's lock.

    Checked there, not in the route, so no write slips in between the check and
    the append. The ETag is the stream's version unless `version_of` says what it
    is instead (an invoice's is the account version it last changed at)."""
    if if_match is None:
        return None
    precondition = if_match

    def check(state: State, version: int) -> None:
        precondition.check(version if version_of is None else version_of(state))

    return check


def parse_if_match(value: str) -> Precondition:
    """400 for syntax the client must fix; weak or foreign tags parse but never match."""
    if value.strip() == "*":
        return Precondition(None)
    versions: set[int] = set()
    pos = 0
    while pos < len(value):
        found = _TAG.match(value, pos)
        if found is None:
            raise Problem(
                400,
                "Malformed If-Match",
                f'If-Match must be "*" or quoted entity tags like "3", got {value!r}',
                type=problem_type("malformed-precondition"),
                field=FIELD,
            )
        weak, tag = found.group(1), found.group(2)
        if not weak and tag.isdigit() and len(tag) <= _VERSION_DIGITS:
            versions.add(int(tag))
        pos = found.end()
    if pos == 0:
        raise Problem(
            400,
            "Malformed If-Match",
            "If-Match is empty",
            type=problem_type("malformed-precondition"),
            field=FIELD,
        )
    return Precondition(frozenset(versions))


_DESCRIPTION = 'The ETag (`"<version>"`) of the representation this write is based on'


async def require_if_match(
    if_match: str | None = Header(None, alias="If-Match", description=_DESCRIPTION),
) -> Precondition:
    """Dependency for writes that must not be blind: 428 when If-Match is missing or `*`.

    `*` matches whatever version is current (RFC 9110 13.1.1), so two agents who
    both send it would both pass and the second would overwrite the first unseen:
    it is as blind as no If-Match at all. It gets 428, not 412: the condition it
    states holds, what is missing is the version the client based its write on.

    (`async` though it awaits nothing: FastAPI runs a plain `def` dependency in a
    worker thread, a thread hop on every request for a header parse.)"""
    if if_match is None:
        raise Problem(
            428,
            "Precondition Required",
            'this write needs If-Match with the ETag you read, e.g. "3"',
            type=problem_type("precondition-required"),
            field=FIELD,
        )
    precondition = parse_if_match(if_match)
    if precondition.versions is None:
        raise Problem(
            428,
            "Precondition Required",
            "If-Match: * names no version; this write needs If-Match with the ETag "
            'you read, e.g. "3"',
            type=problem_type("precondition-required"),
            field=FIELD,
        )
    return precondition


async def optional_if_match(
    if_match: str | None = Header(None, alias="If-Match", description=_DESCRIPTION),
) -> Precondition | None:
    """Dependency for writes where a blind update is acceptable but a stated version is checked."""
    return None if if_match is None else parse_if_match(if_match)
