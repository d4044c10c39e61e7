"""Backoff for loops that never give up: tenacity's wait strategies, stepped by hand.

The relay's publish loop and the consumer's session loop run until cancelled and
decide themselves when a failure is over (a batch acked, leadership won, a session
that stayed healthy). tenacity's retry loop ends at the first success, so these
loops keep their shape and take only the wait from tenacity, the same strategies
the per-call retries use.
"""

from __future__ import annotations

from tenacity import AsyncRetrying, RetryCallState
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential


class Backoff:
    def __init__(self, wait: wait_base) -> None:
        self._wait = wait
        self._state = RetryCallState(AsyncRetrying(), None, (), {})

    @classmethod
    def jittered(cls, first: float, cap: float) -> Backoff:
        """Between half and all of the doubling wait, so relays of many services do not
        retry in step and none retries at once."""
        half = first / 2
        return cls(
            wait_exponential(multiplier=half, max=cap / 2)
            + wait_random_exponential(multiplier=half, max=cap / 2)
        )

    @classmethod
    def doubling(cls, first: float, cap: float) -> Backoff:
        return cls(wait_exponential(multiplier=first, max=cap))

    def next(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        delay = float(self._wait(self._state))
        self._state.attempt_number += 1
        return delay

    def reset(self) -> None:
        """The failure is over: the next one starts from the first wait again."""
        self._state.attempt_number = 1
