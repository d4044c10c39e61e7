"""A contact attempt as pure decide/evolve: a call with a caller's outcome, an email sent or
failed as the server answered, a bounce recorded once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from collections_service.domain import contacts
from collections_service.domain.contacts import Attempt, Contact, Email
from collections_service.domain.dunning import Bounce
from collections_service.domain.refusals import Refusal, RefusalKind
from receivables_platform.contracts.collections import (
    Channel,
    ContactAttempted,
    ContactOutcome,
    EmailBounced,
    EmailFailed,
    EmailSent,
)
from receivables_platform.domain import Refused, fold

ACCOUNT = UUID("01900000-0000-7000-8000-0000000000d4")
NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
ATTEMPT = Attempt(
    contact_id=uuid4(),
    account_id=ACCOUNT,
    by="kim",
    task_id=None,
    invoice_ids=[uuid4()],
    amount_past_due_minor=12_000,
    currency="USD",
    at=NOW,
    today=date(2026, 11, 2),
)
SPANISH = Email(
    template="overdue_statement",
    language="es",
    language_requested="es",
    recipient="pagos@cliente.example",
    cc=["cfo@cliente.example"],
    automatic=True,
)
DSN = Bounce(
    message_id="<m-1@receivables.test>",
    status="5.1.1",
    recipient="pagos@cliente.example",
    diagnostic="550 no such user " + "x" * 2000,
)


def test_a_call_records_the_caller_s_outcome_and_never_an_email_s() -> None:
    [call] = contacts.log_call(ATTEMPT, ContactOutcome.REACHED_PROMISED, notes="pays Friday")
    assert isinstance(call, ContactAttempted)
    assert call.channel is Channel.CALL and call.notes == "pays Friday"
    assert call.amount_past_due_minor == 12_000 and call.collector_id == "kim"
    for outcome in (ContactOutcome.EMAIL_SENT, ContactOutcome.LETTER_SENT):
        with pytest.raises(Refused) as refused:
            contacts.log_call(ATTEMPT, outcome, notes=None)
        assert refused.value.field == "outcome"


def test_a_sent_email_keeps_its_message_id_and_says_no_fallback_when_there_was_none() -> None:
    attempt, sent = contacts.email_sent(ATTEMPT, SPANISH, "<m-1@receivables.test>")
    assert isinstance(attempt, ContactAttempted) and isinstance(sent, EmailSent)
    assert attempt.outcome is ContactOutcome.EMAIL_SENT and attempt.channel is Channel.EMAIL
    assert sent.language == "es" and sent.language_requested is None and sent.automatic
    assert sent.cc == ["cfo@cliente.example"]
    contact = fold(contacts.evolve, Contact(), [attempt, sent])
    assert contact.message_id == "<m-1@receivables.test>" and not contact.bounced


def test_a_fallback_language_is_said_and_a_failure_keeps_the_server_s_answer_short() -> None:
    fell_back = Email(
        template="reminder", language="en", language_requested="pt", recipient="ap@cliente.example"
    )
    attempt, failed = contacts.email_failed(
        ATTEMPT, fell_back, "451 try later " * 200, permanent=False
    )
    assert isinstance(failed, EmailFailed) and isinstance(attempt, ContactAttempted)
    assert attempt.outcome is ContactOutcome.EMAIL_FAILED
    assert failed.language_requested == "pt" and len(failed.error) == 1000


def test_a_bounce_is_recorded_once() -> None:
    contact = fold(
        contacts.evolve, Contact(), contacts.email_sent(ATTEMPT, SPANISH, DSN.message_id)
    )
    [bounced] = contacts.bounce(contact, DSN, now=NOW)
    assert isinstance(bounced, EmailBounced)
    assert bounced.permanent and bounced.diagnostic is not None
    assert len(bounced.diagnostic) == 1000
    assert contacts.bounce(contacts.evolve(contact, bounced), DSN, now=NOW) == []


def test_a_bounce_for_no_contact_is_not_found() -> None:
    with pytest.raises(Refusal) as refused:
        contacts.bounce(Contact(), DSN, now=NOW)
    assert refused.value.kind is RefusalKind.NOT_FOUND and refused.value.field == "message_id"
