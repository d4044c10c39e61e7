"""If-Match as a use case's check: the stream's version, or the one the state names."""

from __future__ import annotations

import pytest

from receivables_platform.web.etag import parse_if_match, version_check
from receivables_platform.web.problems import Problem


def test_no_if_match_means_no_check() -> None:
    assert version_check(None) is None


def test_the_stream_version_must_match() -> None:
    check = version_check(parse_if_match('"3"'))
    assert check is not None
    check({}, 3)
    with pytest.raises(Problem) as stale:
        check({}, 4)
    assert (stale.value.status, stale.value.headers) == (412, {"ETag": '"4"'})


def test_a_member_version_is_checked_instead_of_the_stream_version() -> None:
    invoice_versions = {"INV-1": 2}
    check = version_check(parse_if_match('"2"'), lambda state: state["INV-1"])
    assert check is not None
    check(invoice_versions, 9)  # the account moved on; the invoice did not
    with pytest.raises(Problem):
        check({"INV-1": 5}, 5)
