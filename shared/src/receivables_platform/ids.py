"""Our own ids are UUIDv7: time-ordered, so index inserts stay local and ids sort by creation."""

import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    return uuid.UUID(str(uuid_utils.uuid7()))
