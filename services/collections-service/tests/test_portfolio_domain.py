"""Portfolio rules as pure decisions: a rule's balance range must make sense, and an account
falls to the first rule, by rank, whose segment and range fit it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from collections_service.domain.portfolios import Rule, rule_for
from receivables_platform.domain import Refused

ENTERPRISE = Rule("ana", 0, "enterprise", rule_id=uuid4())
LARGE = Rule("kim", 1, None, min_balance_minor=1_000_000, rule_id=uuid4())
SMALL = Rule("lee", 2, None, max_balance_minor=999_999, rule_id=uuid4())
RANKED = [ENTERPRISE, LARGE, SMALL]


def test_the_first_rule_by_rank_that_fits_wins() -> None:
    assert rule_for(RANKED, "enterprise", 5) == ENTERPRISE
    assert rule_for(RANKED, "smb", 1_000_000) == LARGE
    assert rule_for(RANKED, "smb", 999_999) == SMALL
    assert rule_for(RANKED, None, 0) == SMALL


def test_an_account_no_rule_fits_goes_to_nobody() -> None:
    assert rule_for([ENTERPRISE, LARGE], "smb", 10) is None
    assert rule_for([], "enterprise", 10) is None


def test_a_balance_range_that_ends_below_its_start_is_refused() -> None:
    with pytest.raises(Refused) as refused:
        Rule("kim", 0, min_balance_minor=10, max_balance_minor=9).check()
    assert refused.value.field == "max_balance_minor"
    Rule("kim", 0, min_balance_minor=10, max_balance_minor=10).check()
