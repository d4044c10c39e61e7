"""Our own ids are UUIDv7: time-ordered, so index inserts stay local and ids sort by creation."""

import uuid

from uuid_utils import compat


def new_id() -> uuid.UUID:
    """A standard-library UUID made directly (no string round trip: bulk imports make millions)."""
    return compat.uuid7()
