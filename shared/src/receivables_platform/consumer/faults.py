"""Fault-test hook: crash the consumer at the one moment its design has to survive.

`RX_FAULT_EXIT_AFTER_DB_COMMIT=N` makes the process `os._exit` right after its
N-th database commit, before the offset is committed to Kafka, so a test can
prove that a restart resumes from the database and applies nothing twice. It
is read only by the consumer runner and does nothing when unset; never set it
outside a fault test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import structlog

EXIT_AFTER_DB_COMMIT = "RX_FAULT_EXIT_AFTER_DB_COMMIT"
FAULT_EXIT_CODE = 86
FAULT_ENVIRONMENT = {
    EXIT_AFTER_DB_COMMIT: "Fault tests only: the consumer exits (code 86) right after its "
    "Nth read-model transaction commits; never set it in a deployment.",
}

log = structlog.get_logger("receivables_platform.consumer")


class CrashAfterDbCommit:
    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        raw = env.get(EXIT_AFTER_DB_COMMIT)
        self.remaining: int | None = int(raw) if raw else None

    def db_committed(self) -> None:
        if self.remaining is None:
            return
        self.remaining -= 1
        if self.remaining <= 0:
            log.warning("consumer.fault_exit", hook=EXIT_AFTER_DB_COMMIT, exit_code=FAULT_EXIT_CODE)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(FAULT_EXIT_CODE)
