"""Text as PostgreSQL can store it: no NUL and no lone surrogates.

Input read leniently (a mail header's raw 8-bit bytes, a file's undecodable
bytes kept by `surrogateescape`) can carry characters that PostgreSQL's text
and jsonb refuse, and the database's refusal would surface as a 500 or a job
that never finishes. What is refused as bad input is checked with
`undecodable`; what is kept for a person to read goes through `storable`.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """`text` with each NUL and lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def undecodable(text: str) -> bytes | None:
    """The first bytes that were not valid UTF-8 (kept by `surrogateescape`), if any."""
    found = _ESCAPED_BYTES.search(text)
    return None if found is None else found.group().encode("utf-8", "surrogateescape")
