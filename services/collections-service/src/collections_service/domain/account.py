"""An account's collection state: whose it is, whether it is at risk, which holds keep its
invoices out of the cadence. The fold of the account's stream, decided on without IO.

Billing owns the account itself; what collections decides about it (the collector, the risk
flag, the holds, an escalation) is this stream, so the account's ETag is its version and two
writers of one account are ordered by the stream, not by whichever row update lands last.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType
from uuid import UUID

from collections_service.domain.refusals import conflict, not_found
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.collections import (
    AccountAssigned,
    AccountEscalated,
    AccountMarkedAtRisk,
    AccountRiskCleared,
    AssignmentBasis,
    HoldPlaced,
    HoldRelease,
    HoldReleased,
    HoldSource,
    RiskClearance,
    RiskReason,
)
from receivables_platform.domain import Refused

MAX_HOLD = timedelta(days=3 * 366)
"""How long a hold by hand may be set to last: longer is open-ended, so say so."""


@dataclass(frozen=True)
class Hold:
    invoice_ids: tuple[UUID, ...]
    case_id: str | None
    released: bool = False


@dataclass(frozen=True)
class CollectionAccount:
    account_id: UUID | None = None
    collector_id: str | None = None
    at_risk_since: date | None = None
    holds: Mapping[UUID, Hold] = field(default_factory=lambda: MappingProxyType({}))

    def holds_of_case(self, case_id: str) -> list[UUID]:
        """The case's holds still in force, oldest first (one from its opening, more as
        invoices were linked to it)."""
        return [
            hold_id
            for hold_id, hold in self.holds.items()
            if hold.case_id == case_id and not hold.released
        ]

    def held_for_case(self, case_id: str) -> set[UUID]:
        return {
            invoice_id
            for hold_id in self.holds_of_case(case_id)
            for invoice_id in self.holds[hold_id].invoice_ids
        }


def _with_hold(account: CollectionAccount, hold_id: UUID, hold: Hold) -> CollectionAccount:
    return replace(account, holds=MappingProxyType({**account.holds, hold_id: hold}))


def evolve(account: CollectionAccount, event: EventContract) -> CollectionAccount:
    match event:
        case AccountAssigned():
            return replace(account, account_id=event.account_id, collector_id=event.collector_id)
        case AccountMarkedAtRisk():
            return replace(
                account,
                account_id=event.account_id,
                at_risk_since=account.at_risk_since or event.marked_on,
            )
        case AccountRiskCleared():
            return replace(account, account_id=event.account_id, at_risk_since=None)
        case HoldPlaced():
            return _with_hold(
                replace(account, account_id=event.account_id),
                event.hold_id,
                Hold(tuple(event.invoice_ids), event.case_id),
            )
        case HoldReleased():
            placed = account.holds.get(event.hold_id)
            return _with_hold(
                account,
                event.hold_id,
                Hold(
                    placed.invoice_ids if placed else tuple(event.invoice_ids),
                    event.case_id,
                    released=True,
                ),
            )
        case AccountEscalated():
            return replace(account, account_id=event.account_id)
    return account


@dataclass(frozen=True)
class PlaceHold:
    hold_id: UUID
    account_id: UUID
    invoice_ids: tuple[UUID, ...]
    reason: str
    today: date
    by: str | None = None
    source: HoldSource = HoldSource.MANUAL
    case_id: str | None = None
    ends_on: date | None = None


def check_hold(command: PlaceHold) -> None:
    """What a hold must say before anything is looked up: invoices, and an end after today."""
    if not command.invoice_ids:
        raise Refused("a hold needs at least one invoice", field="invoice_ids")
    if command.ends_on is not None and command.ends_on <= command.today:
        raise Refused(
            f"the hold would end before it starts (today is {command.today})", field="ends_on"
        )
    if command.ends_on is not None and command.ends_on > command.today + MAX_HOLD:
        raise Refused(
            f"a hold by hand ends within {MAX_HOLD.days} days; leave the end out for "
            "an open-ended one",
            field="ends_on",
        )


def place_hold(
    command: PlaceHold, account: CollectionAccount, *, invoices_of_account: Collection[UUID]
) -> list[EventContract]:
    """Hold invoices of this account, and only of this account."""
    check_hold(command)
    for index, invoice_id in enumerate(command.invoice_ids):
        if invoice_id not in invoices_of_account:
            raise Refused(
                f"invoice {invoice_id} is not this account's", field=f"invoice_ids.{index}"
            )
    return [
        HoldPlaced(
            hold_id=command.hold_id,
            account_id=command.account_id,
            invoice_ids=list(command.invoice_ids),
            source=command.source,
            reason=command.reason,
            case_id=command.case_id,
            placed_by=command.by,
            placed_on=command.today,
            ends_on=command.ends_on,
        )
    ]


def release_hold(
    account: CollectionAccount, hold_id: UUID, how: HoldRelease, *, by: str | None, today: date
) -> list[EventContract]:
    hold = account.holds.get(hold_id)
    if hold is None or account.account_id is None:
        raise not_found(f"no hold {hold_id}", field="hold_id")
    if hold.released:
        raise conflict("the hold was already released", field="hold_id", title="Hold released")
    return [
        HoldReleased(
            hold_id=hold_id,
            account_id=account.account_id,
            invoice_ids=list(hold.invoice_ids),
            release=how,
            case_id=hold.case_id,
            released_by=by,
            released_on=today,
        )
    ]


def mark_at_risk(
    account_id: UUID,
    *,
    collector_id: str | None,
    reason: RiskReason,
    commitment_id: UUID | None,
    today: date,
) -> list[EventContract]:
    """Raised in the worklist after a promise failed; marked again it stays at risk since the
    first time (the flag is about how long, not how often)."""
    return [
        AccountMarkedAtRisk(
            account_id=account_id,
            collector_id=collector_id,
            reason=reason,
            commitment_id=commitment_id,
            marked_on=today,
        )
    ]


def clear_risk(
    account: CollectionAccount,
    reason: RiskClearance,
    *,
    today: date,
    commitment_id: UUID | None = None,
) -> list[EventContract]:
    """Good news clears the flag; an account that is not at risk has nothing to clear."""
    if account.account_id is None or account.at_risk_since is None:
        return []
    return [
        AccountRiskCleared(
            account_id=account.account_id,
            collector_id=account.collector_id,
            reason=reason,
            commitment_id=commitment_id,
            at_risk_since=account.at_risk_since,
            cleared_on=today,
        )
    ]


def assign(
    account: CollectionAccount,
    account_id: UUID,
    collector_id: str,
    *,
    by: str,
    today: date,
    rule_id: UUID | None = None,
) -> list[EventContract]:
    """Give the account to a collector; giving it to the one who has it changes nothing."""
    if account.collector_id == collector_id:
        return []
    return [
        AccountAssigned(
            account_id=account_id,
            collector_id=collector_id,
            previous_collector_id=account.collector_id,
            basis=AssignmentBasis.RULE if rule_id else AssignmentBasis.EXPLICIT,
            rule_id=rule_id,
            assigned_by=by,
            effective_on=today,
        )
    ]


@dataclass(frozen=True)
class Escalate:
    account_id: UUID
    reason: str
    today: date
    supervisor_task_id: UUID
    by: str | None = None
    task_id: UUID | None = None
    template: str | None = None


def check_escalation(open_escalation_task: UUID | None) -> None:
    """One open escalation per account: a second is refused while the first one's task is
    open (the task's stream, not the account's, says when it closes)."""
    if open_escalation_task is not None:
        raise conflict(
            f"the account is already escalated (task {open_escalation_task} is open)",
            field="account_id",
            title="Already escalated",
        )


def escalate(command: Escalate, account: CollectionAccount) -> list[EventContract]:
    """The account goes to a supervisor, after `check_escalation` let it."""
    return [
        AccountEscalated(
            account_id=command.account_id,
            collector_id=account.collector_id,
            task_id=command.task_id,
            template=command.template,
            reason=command.reason,
            escalated_on=command.today,
            escalated_by=command.by,
            supervisor_task_id=command.supervisor_task_id,
        )
    ]
