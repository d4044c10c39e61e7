"""The bounded map of recent answers: the least recently used goes first."""

from receivables_platform.remembered import Remembered


def test_the_least_recently_used_answer_is_forgotten_first() -> None:
    remembered: Remembered[str, int] = Remembered(2)
    remembered.put("a", 1)
    remembered.put("b", 2)
    assert remembered.get("a") == 1  # "a" is now the most recent
    remembered.put("c", 3)
    assert (remembered.get("a"), remembered.get("b"), remembered.get("c")) == (1, None, 3)
    remembered.forget("a")
    assert remembered.get("a") is None and len(remembered) == 1
