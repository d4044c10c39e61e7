"""A cadence policy's versions as pure decisions: created as version 1, each revision the
next version of the same segment, the templates it sends named by field."""

from __future__ import annotations

from uuid import uuid4

import pytest

from collections_service.domain import policies
from collections_service.domain.cadence import Step
from collections_service.domain.dunning import CatchUp
from receivables_platform.contracts.collections import Channel
from receivables_platform.domain import Refused

REMINDER = Step("reminder", -3, Channel.EMAIL, "reminder")
CALL = Step("call", 10, Channel.CALL, "call_script")
STATEMENT = Step("statement", 1, Channel.EMAIL, "overdue_statement")


def test_a_new_policy_is_version_1_with_its_steps_in_order() -> None:
    policy_id = uuid4()
    policy = policies.create(
        policy_id, segment="smb", name="Standard", steps=[CALL, REMINDER], catch_up=CatchUp.LATEST
    )
    assert (policy.policy_id, policy.version, policy.segment) == (policy_id, 1, "smb")
    assert policy.steps == (REMINDER, CALL) and policy.catch_up is CatchUp.LATEST


def test_a_revision_is_the_next_version_of_the_same_segment_keeping_the_name() -> None:
    first = policies.create(
        uuid4(), segment="smb", name="Standard", steps=[REMINDER], catch_up=CatchUp.FIRST_NOT_DONE
    )
    second = policies.revise(first, name=None, steps=[REMINDER, STATEMENT], catch_up=CatchUp.LATEST)
    assert (second.policy_id, second.version, second.segment) == (first.policy_id, 2, "smb")
    assert second.name == "Standard" and second.steps == (REMINDER, STATEMENT)
    assert (
        policies.revise(second, name="Gentle", steps=[CALL], catch_up=CatchUp.LATEST).name
        == "Gentle"
    )


def test_overlapping_or_missing_steps_are_refused_naming_the_step() -> None:
    first = policies.create(
        uuid4(), segment=None, name="Default", steps=[REMINDER], catch_up=CatchUp.FIRST_NOT_DONE
    )
    for steps, field in (
        ([], "steps"),
        ([REMINDER, Step("again", -3, Channel.CALL, "call_script")], "steps.1.offset_days"),
    ):
        with pytest.raises(Refused) as created:
            policies.create(uuid4(), segment=None, name="x", steps=steps, catch_up=CatchUp.LATEST)
        with pytest.raises(Refused) as revised:
            policies.revise(first, name=None, steps=steps, catch_up=CatchUp.LATEST)
        assert created.value.field == revised.value.field == field


def test_only_email_steps_name_templates_that_must_exist_by_their_field() -> None:
    assert policies.templates_named([CALL, STATEMENT, REMINDER]) == {
        "steps.1.template": "overdue_statement",
        "steps.2.template": "reminder",
    }
