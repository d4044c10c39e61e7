"""The collections contracts keep the promises their consumers (reporting) rely on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from receivables_platform.contracts import REGISTRY
from receivables_platform.contracts.collections import (
    TOPIC,
    CommitmentMade,
    TaskMissed,
)
from receivables_platform.contracts.topics import topic_for

COLLECTIONS = {key: c for key, c in REGISTRY.contracts.items() if key[0].startswith("collections.")}


def test_the_catalogue_is_registered_on_the_collections_topic() -> None:
    types = {t for (t, _) in COLLECTIONS}
    for expected in (
        "task.scheduled",
        "task.completed",
        "task.missed",
        "contact.attempted",
        "email.sent",
        "email.failed",
        "commitment.made",
        "commitment.kept",
        "commitment.partially_kept",
        "commitment.broken",
        "commitment.cancelled",
        "autopay.offered",
        "autopay.converted",
        "account.hold_placed",
        "account.hold_released",
        "account.assigned",
        "account.marked_at_risk",
        "account.escalated",
    ):
        assert f"collections.{expected}" in types
    assert {topic_for(t) for t in types} == {TOPIC} == {"collections.events.v1"}


@pytest.mark.parametrize("key", sorted(COLLECTIONS), ids=lambda k: k[0])
def test_every_event_names_its_account(key: tuple[str, int]) -> None:
    assert "account_id" in COLLECTIONS[key].model_fields


@pytest.mark.parametrize("key", sorted(COLLECTIONS), ids=lambda k: k[0])
def test_every_amount_has_its_currency_beside_it(key: tuple[str, int]) -> None:
    fields = COLLECTIONS[key].model_fields
    if any(name.endswith("_minor") for name in fields):
        assert "currency" in fields


def commitment(**overrides: object) -> dict[str, object]:
    return {
        "commitment_id": uuid4(),
        "account_id": uuid4(),
        "collector_id": "kim",
        "amount_minor": 5000,
        "currency": "EUR",
        "promised_date": date(2026, 3, 2),
        "grace_days": 2,
        "invoice_ids": [],
        "channel": "call",
        "made_on": date(2026, 2, 27),
        "made_at": datetime(2026, 2, 27, 10, tzinfo=UTC),
    } | overrides


def test_a_commitment_is_money_in_minor_units_and_an_aware_instant() -> None:
    assert CommitmentMade(**commitment()).payload()["amount_minor"] == 5000  # type: ignore[arg-type]
    for bad in (
        {"amount_minor": 0},
        {"amount_minor": 12.5},
        {"currency": "EURO"},
        {"made_at": datetime(2026, 2, 27, 10)},
    ):
        with pytest.raises(ValidationError):
            CommitmentMade(**commitment(**bad))  # type: ignore[arg-type]


def test_a_missed_task_is_missed_at_least_once() -> None:
    with pytest.raises(ValidationError):
        TaskMissed(
            task_id=uuid4(),
            account_id=uuid4(),
            collector_id=None,
            kind="cadence",
            business_date=date(2026, 3, 2),
            missed_on=date(2026, 3, 2),
            carried_over_to=date(2026, 3, 3),
            times_missed=0,
        )  # type: ignore[arg-type]
