"""Decisions about who the customer is and how they pay: registration, updates, auto-pay."""

from __future__ import annotations

from typing import Any

from billing_adapter.domain.commands import (
    CancelAutoPay,
    EnrolAutoPay,
    RegisterAccount,
    UpdateAccount,
)
from billing_adapter.domain.payment_method import looks_like_account_number
from billing_adapter.domain.state import Account
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.billing import (
    AccountRegistered,
    AccountUpdated,
    AutoPayCancelled,
    AutoPayEnrolled,
)
from receivables_platform.domain import RefusalKind, Refused

PROFILE_FIELDS = ("name", "contacts", "payment_terms_days", "segment")
"""What an account update may change, in the order its history lists the changes."""


def profile_changes(before: Account, after: Account) -> list[tuple[str, Any, Any]]:
    """Each profile field an update changed, as it was and as it became: the update event
    names only the new values, the account's history shows both."""
    return [
        (name, getattr(before, name), getattr(after, name))
        for name in PROFILE_FIELDS
        if getattr(before, name) != getattr(after, name)
    ]


def register(command: RegisterAccount, state: Account) -> list[EventContract]:
    if state.registered:
        raise Refused(
            f"account {state.account_id} is already registered",
            field="account_id",
            title="Account already registered",
            kind=RefusalKind.CONFLICT,
        )
    return [
        AccountRegistered(
            account_id=command.account_id,
            external_id=command.external_id,
            name=command.name,
            contacts=list(command.contacts),
            payment_terms_days=command.payment_terms_days,
            segment=command.segment,
            currency=command.currency,
        )
    ]


def update(command: UpdateAccount, state: Account) -> list[EventContract]:
    """Only what differs becomes the event; an update that changes nothing records nothing."""
    changes: dict[str, object] = {}
    if command.name is not None and command.name != state.name:
        changes["name"] = command.name
    if command.contacts is not None and command.contacts != state.contacts:
        changes["contacts"] = list(command.contacts)
    if (
        command.payment_terms_days is not None
        and command.payment_terms_days != state.payment_terms_days
    ):
        changes["payment_terms_days"] = command.payment_terms_days
    if command.clear_segment and state.segment is not None:
        changes["segment_cleared"] = True
    elif command.segment is not None and command.segment != state.segment:
        changes["segment"] = command.segment
    if not changes:
        return []
    return [AccountUpdated(account_id=command.account_id, **changes)]


def enrol_autopay(command: EnrolAutoPay, state: Account) -> list[EventContract]:
    if looks_like_account_number(command.payment_method_reference):
        raise Refused(
            "send the billing system's payment-method reference (a token), never a "
            "card or bank account number",
            field="payment_method_reference",
            title="Payment method number refused",
        )
    current = state.autopay
    if current is not None and (current.payment_method_reference, current.payment_method_type) == (
        command.payment_method_reference,
        command.payment_method_type,
    ):
        return []
    return [
        AutoPayEnrolled(
            account_id=command.account_id,
            payment_method_reference=command.payment_method_reference,
            payment_method_type=command.payment_method_type,
            enrolled_on=command.enrolled_on,
        )
    ]


def cancel_autopay(command: CancelAutoPay, state: Account) -> list[EventContract]:
    if state.autopay is None:
        raise Refused(
            "the account is not enrolled in auto-pay",
            field="account_id",
            title="Not enrolled",
            kind=RefusalKind.CONFLICT,
        )
    return [
        AutoPayCancelled(
            account_id=command.account_id, reason=command.reason, cancelled_on=command.cancelled_on
        )
    ]
