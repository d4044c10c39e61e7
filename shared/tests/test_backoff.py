"""The waits of the loops that never give up (relay, consumer session)."""

from __future__ import annotations

from receivables_platform.backoff import Backoff


def test_doubling_waits_grow_to_the_cap_and_start_over_after_a_reset() -> None:
    backoff = Backoff.doubling(first=1.0, cap=30.0)
    assert [backoff.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


def test_jittered_waits_stay_between_half_and_all_of_the_doubling_wait() -> None:
    relays = [Backoff.jittered(first=0.2, cap=5.0) for _ in range(200)]
    for step in range(8):
        bound = min(5.0, 0.2 * 2**step)
        drawn = [b.next() for b in relays]
        assert all(bound / 2 <= w <= bound for w in drawn), (step, min(drawn), max(drawn))
        assert max(drawn) - min(drawn) > bound / 10, "no jitter: relays would retry in step"
