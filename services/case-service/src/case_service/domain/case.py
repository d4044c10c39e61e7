"""The case aggregate: one billing question or dispute, from first contact to confirmation.

The status flow (a move not listed is refused with 409, naming `status`):

    new ----------> investigating <------> waiting_on_customer
     |  \\               |  ^   \\              ^
     |   `------------->|--|---> waiting_on_internal
     |                  v  |
     |               resolved ---> closed ---(reopen, within the window)---> investigating
     `-- (resolve needs someone to have started: not from new)

`resolved` goes back to `investigating` when the customer disagrees; `closed`
only by a reopen within the configured window. A billing case (see
`BILLING_CASE_TYPES`) cannot close without the customer's recorded
confirmation; every case closes with its resolution summary, and never while a
correction still waits for billing's answer.

`decide(command, state) -> events` refuses with `Refused` naming the field;
`evolve(state, event) -> state` never refuses (events are facts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from case_service.domain import commands as c
from case_service.domain.checklist import completeness
from case_service.domain.state import (
    PAUSED_STATUSES,
    Case,
    Confirmation,
    Correction,
    CorrectionOutcome,
    CustomerUpdate,
    Escalation,
    Note,
    SlaClock,
)
from receivables_platform.contracts.base import EventContract
from receivables_platform.contracts.cases import (
    BILLING_CASE_TYPES,
    CaseAssigned,
    CaseClosed,
    CaseCorrectionApplied,
    CaseCorrectionRejected,
    CaseCorrectionRequested,
    CaseCustomerConfirmed,
    CaseCustomerUpdated,
    CaseEscalated,
    CaseEscalationAnswered,
    CaseEscalationClaimed,
    CaseLinked,
    CaseNextActionSet,
    CaseNoteAdded,
    CaseOpened,
    CaseReclassified,
    CaseReopened,
    CaseResolved,
    CaseRootCauseIdentified,
    CaseSlaBreached,
    CaseStatus,
    CaseStatusChanged,
)
from receivables_platform.domain import NotFound, RefusalKind, Refused

S = CaseStatus
WORKING = frozenset({S.NEW, S.INVESTIGATING, S.WAITING_ON_CUSTOMER, S.WAITING_ON_INTERNAL})
MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.INVESTIGATING, S.WAITING_ON_CUSTOMER, S.WAITING_ON_INTERNAL}),
    S.INVESTIGATING: frozenset({S.WAITING_ON_CUSTOMER, S.WAITING_ON_INTERNAL}),
    S.WAITING_ON_CUSTOMER: frozenset({S.INVESTIGATING, S.WAITING_ON_INTERNAL}),
    S.WAITING_ON_INTERNAL: frozenset({S.INVESTIGATING, S.WAITING_ON_CUSTOMER}),
    S.RESOLVED: frozenset({S.INVESTIGATING}),
    S.CLOSED: frozenset(),
}
"""`case.status_changed` moves; resolving, closing and reopening have their own commands."""
RESOLVABLE = frozenset({S.INVESTIGATING, S.WAITING_ON_CUSTOMER, S.WAITING_ON_INTERNAL})


def invalid_transition(state: Case, target: str) -> Refused:
    return Refused(
        f"case {state.case_number} is {state.status}: it cannot go to {target}",
        field="status",
        title="Invalid transition",
        kind=RefusalKind.CONFLICT,
    )


def _require_open(state: Case) -> None:
    """Anything but a reopen is refused on a closed case: its record is final."""
    if state.status is S.CLOSED:
        raise Refused(
            f"case {state.case_number} is closed; reopen it first",
            field="status",
            title="Case closed",
            kind=RefusalKind.CONFLICT,
        )


def _open(cmd: c.OpenCase, state: Case) -> list[EventContract]:
    if state.opened:
        raise Refused(
            f"case {cmd.case_id} exists",
            field="case_id",
            title="Case exists",
            kind=RefusalKind.CONFLICT,
        )
    return [
        CaseOpened(
            case_id=cmd.case_id,
            case_number=cmd.case_number,
            account_id=cmd.account_id,
            type=cmd.type,
            origin=cmd.origin,
            priority=cmd.priority,
            subject=cmd.subject,
            description=cmd.description,
            invoice_ids=list(dict.fromkeys(cmd.invoice_ids)),
            owner_id=cmd.owner_id,
            opened_by=cmd.actor,
            opened_at=cmd.at,
            sla_target_days=cmd.sla_target_days,
            sla_due_at=cmd.at + timedelta(days=cmd.sla_target_days),
        )
    ]


def _assign(cmd: c.AssignCase, state: Case) -> list[EventContract]:
    _require_open(state)
    if cmd.owner_id == state.owner_id:
        return []
    return [
        CaseAssigned(
            case_id=cmd.case_id,
            account_id=state.account_id,
            owner_id=cmd.owner_id,
            previous_owner_id=state.owner_id,
            assigned_by=cmd.actor,
            assigned_at=cmd.at,
        )
    ]


def _link(cmd: c.LinkCase, state: Case) -> list[EventContract]:
    _require_open(state)
    if state.account_id not in (None, cmd.account_id):
        raise Refused(
            f"case {state.case_number} is about account {state.account_id}; open a "
            "case for the other account",
            field="account_id",
            title="Other account",
            kind=RefusalKind.CONFLICT,
        )
    added = [i for i in dict.fromkeys(cmd.invoice_ids) if i not in state.invoice_ids]
    if state.account_id == cmd.account_id and not added:
        return []
    return [
        CaseLinked(
            case_id=cmd.case_id,
            account_id=cmd.account_id,
            type=state.type,
            invoice_ids=[*state.invoice_ids, *added],
            added_invoice_ids=added,
            linked_by=cmd.actor,
            linked_at=cmd.at,
        )
    ]


def _reclassify(cmd: c.ReclassifyCase, state: Case) -> list[EventContract]:
    _require_open(state)
    if cmd.type is state.type:
        return []
    return [
        CaseReclassified(
            case_id=cmd.case_id,
            account_id=state.account_id,
            type=cmd.type,
            previous_type=state.type,
            invoice_ids=list(state.invoice_ids),
            reason=cmd.reason,
            reclassified_by=cmd.actor,
            reclassified_at=cmd.at,
        )
    ]


def _note(cmd: c.AddNote, state: Case) -> list[EventContract]:
    _require_open(state)
    return [
        CaseNoteAdded(
            case_id=cmd.case_id,
            account_id=state.account_id,
            note_id=cmd.note_id,
            body=cmd.body,
            source=cmd.source,
            author=cmd.actor,
            added_at=cmd.at,
            email_message_id=cmd.email_message_id,
            email_from=cmd.email_from,
            email_subject=cmd.email_subject,
            attachments=list(cmd.attachments),
        )
    ]


def _change_status(cmd: c.ChangeStatus, state: Case) -> list[EventContract]:
    assert state.status is not None
    if cmd.to_status is state.status:
        return []
    if cmd.to_status not in MOVES[state.status]:
        raise invalid_transition(state, cmd.to_status)
    return [
        CaseStatusChanged(
            case_id=cmd.case_id,
            account_id=state.account_id,
            from_status=state.status,
            to_status=cmd.to_status,
            reason=cmd.reason,
            changed_by=cmd.actor,
            changed_at=cmd.at,
        )
    ]


def _root_cause(cmd: c.IdentifyRootCause, state: Case) -> list[EventContract]:
    _require_open(state)
    if cmd.root_cause == state.root_cause:
        return []
    return [
        CaseRootCauseIdentified(
            case_id=cmd.case_id,
            account_id=state.account_id,
            root_cause=cmd.root_cause,
            identified_by=cmd.actor,
            identified_at=cmd.at,
        )
    ]


def _request_correction(cmd: c.RequestCorrection, state: Case) -> list[EventContract]:
    _require_open(state)
    if state.account_id is None:
        raise Refused(
            "a correction needs the case to be linked to an account",
            field="account_id",
            title="No account",
            kind=RefusalKind.CONFLICT,
        )
    return [
        CaseCorrectionRequested(
            case_id=cmd.case_id,
            case_number=state.case_number,
            account_id=state.account_id,
            correction_id=cmd.correction_id,
            invoice_id=cmd.invoice_id,
            amount_minor=cmd.amount_minor,
            direction=cmd.direction,
            currency=cmd.currency,
            reason=cmd.reason,
            reason_code=cmd.reason_code,
            requested_by=cmd.actor,
            requested_at=cmd.at,
        )
    ]


def _pending_correction(state: Case, correction_id: Any) -> Correction | None:
    """The correction still waiting for billing; None when billing already answered (a resend)."""
    correction = state.corrections.get(correction_id)
    if correction is None:
        raise NotFound(
            f"case {state.case_number} asked for no correction {correction_id}",
            field="correction_id",
        )
    return correction if correction.outcome is CorrectionOutcome.REQUESTED else None


def _correction_applied(cmd: c.RecordCorrectionApplied, state: Case) -> list[EventContract]:
    correction = _pending_correction(state, cmd.correction_id)
    if correction is None:
        return []
    assert state.account_id is not None
    return [
        CaseCorrectionApplied(
            case_id=cmd.case_id,
            account_id=state.account_id,
            correction_id=cmd.correction_id,
            invoice_id=correction.invoice_id,
            adjustment_id=cmd.adjustment_id,
            amount_minor=cmd.amount_minor,
            direction=cmd.direction,
            currency=cmd.currency,
            effective_date=cmd.effective_date,
            recorded_at=cmd.at,
        )
    ]


def _correction_rejected(cmd: c.RecordCorrectionRejected, state: Case) -> list[EventContract]:
    correction = _pending_correction(state, cmd.correction_id)
    if correction is None:
        return []
    assert state.account_id is not None
    return [
        CaseCorrectionRejected(
            case_id=cmd.case_id,
            account_id=state.account_id,
            correction_id=cmd.correction_id,
            invoice_id=correction.invoice_id,
            reason_code=cmd.reason_code,
            detail=cmd.detail,
            recorded_at=cmd.at,
        )
    ]


def _escalate(cmd: c.Escalate, state: Case) -> list[EventContract]:
    _require_open(state)
    if cmd.due_date < cmd.at.date():
        raise Refused(f"due date {cmd.due_date} is in the past", field="due_date")
    return [
        CaseEscalated(
            case_id=cmd.case_id,
            account_id=state.account_id,
            escalation_id=cmd.escalation_id,
            team=cmd.team,
            question=cmd.question,
            due_date=cmd.due_date,
            escalated_by=cmd.actor,
            escalated_at=cmd.at,
            cause=cmd.cause,
        )
    ]


def _unanswered(state: Case, escalation_id: Any) -> Escalation:
    escalation = state.escalations.get(escalation_id)
    if escalation is None:
        raise NotFound(
            f"no escalation {escalation_id} on case {state.case_number}", field="escalation_id"
        )
    if escalation.answer is not None:
        raise Refused(
            f"escalation {escalation_id} was answered by {escalation.answered_by}",
            field="escalation_id",
            title="Already answered",
            kind=RefusalKind.CONFLICT,
        )
    return escalation


def _claimed_by_other(escalation: Escalation, actor: str) -> Refused | None:
    if escalation.claimed_by is None or escalation.claimed_by == actor:
        return None
    return Refused(
        f"escalation {escalation.escalation_id} is claimed by {escalation.claimed_by}",
        field="escalation_id",
        title="Claimed by another",
        kind=RefusalKind.CONFLICT,
    )


def _claim(cmd: c.ClaimEscalation, state: Case) -> list[EventContract]:
    """Only a member of the escalation's team claims it; a claim is not taken over silently,
    so two members never answer the same question twice."""
    _require_open(state)
    escalation = _unanswered(state, cmd.escalation_id)
    if escalation.team.value not in cmd.teams:
        raise Refused(
            f"escalation {cmd.escalation_id} is for the {escalation.team} team",
            field="escalation_id",
            title="Not your team",
            kind=RefusalKind.NOT_PERMITTED,
        )
    if (refused := _claimed_by_other(escalation, cmd.actor)) is not None:
        raise refused
    if escalation.claimed_by == cmd.actor:
        return []
    return [
        CaseEscalationClaimed(
            case_id=cmd.case_id,
            account_id=state.account_id,
            escalation_id=cmd.escalation_id,
            team=escalation.team,
            claimed_by=cmd.actor,
            claimed_at=cmd.at,
        )
    ]


def _set_next_action(cmd: c.SetNextAction, state: Case) -> list[EventContract]:
    """The next step is the owner's own plan; anyone else would set a reminder for somebody
    who did not agree to it."""
    _require_open(state)
    if state.owner_id != cmd.actor:
        raise Refused(
            f"only the case's owner ({state.owner_id or 'nobody yet'}) sets its next action",
            field="next_action_on",
            title="Not the owner",
            kind=RefusalKind.NOT_PERMITTED,
        )
    if cmd.next_action_on is not None and cmd.next_action_on < cmd.today:
        raise Refused(
            f"next action date {cmd.next_action_on} is in the past", field="next_action_on"
        )
    if (cmd.next_action_on, cmd.next_action) == (state.next_action_on, state.next_action):
        return []
    return [
        CaseNextActionSet(
            case_id=cmd.case_id,
            account_id=state.account_id,
            next_action_on=cmd.next_action_on,
            next_action=cmd.next_action,
            set_by=cmd.actor,
            set_at=cmd.at,
        )
    ]


def _answer(cmd: c.AnswerEscalation, state: Case) -> list[EventContract]:
    escalation = _unanswered(state, cmd.escalation_id)
    if (refused := _claimed_by_other(escalation, cmd.actor)) is not None:
        raise refused
    return [
        CaseEscalationAnswered(
            case_id=cmd.case_id,
            account_id=state.account_id,
            escalation_id=cmd.escalation_id,
            team=escalation.team,
            answer=cmd.answer,
            answered_by=cmd.actor,
            answered_at=cmd.at,
            overdue=cmd.at.date() > escalation.due_date,
        )
    ]


def _customer_update(cmd: c.RecordCustomerUpdate, state: Case) -> list[EventContract]:
    _require_open(state)
    return [
        CaseCustomerUpdated(
            case_id=cmd.case_id,
            account_id=state.account_id,
            update_id=cmd.update_id,
            channel=cmd.channel,
            summary=cmd.summary,
            recipient=cmd.recipient,
            email_message_id=cmd.email_message_id,
            sent_by=cmd.actor,
            sent_at=cmd.at,
        )
    ]


def _confirm(cmd: c.RecordConfirmation, state: Case) -> list[EventContract]:
    _require_open(state)
    if cmd.confirmed_at > cmd.at:
        raise Refused("the confirmation cannot be in the future", field="confirmed_at")
    return [
        CaseCustomerConfirmed(
            case_id=cmd.case_id,
            account_id=state.account_id,
            confirmed_by_name=cmd.confirmed_by_name,
            channel=cmd.channel,
            confirmed_at=cmd.confirmed_at,
            note=cmd.note,
            recorded_by=cmd.actor,
            recorded_at=cmd.at,
            satisfaction=cmd.satisfaction,
            satisfaction_comment=cmd.satisfaction_comment,
        )
    ]


def _resolve(cmd: c.ResolveCase, state: Case) -> list[EventContract]:
    assert state.status is not None
    if state.status not in RESOLVABLE:
        raise invalid_transition(state, S.RESOLVED)
    return [
        CaseResolved(
            case_id=cmd.case_id,
            account_id=state.account_id,
            from_status=state.status,
            resolution_summary=cmd.resolution_summary,
            resolved_by=cmd.actor,
            resolved_at=cmd.at,
        )
    ]


def _close(cmd: c.CloseCase, state: Case) -> list[EventContract]:
    if state.status is not S.RESOLVED:
        raise invalid_transition(state, S.CLOSED)
    if state.type in BILLING_CASE_TYPES and state.confirmation is None:
        raise Refused(
            f"a {state.type} case closes only after the customer's confirmation is recorded",
            field="confirmation",
            title="Confirmation missing",
            kind=RefusalKind.CONFLICT,
        )
    waiting = [
        str(x.correction_id)
        for x in state.corrections.values()
        if x.outcome is CorrectionOutcome.REQUESTED
    ]
    if waiting:
        raise Refused(
            f"corrections still wait for billing's answer: {', '.join(waiting)}",
            field="corrections",
            title="Correction pending",
            kind=RefusalKind.CONFLICT,
        )
    assert state.resolution_summary and state.opened_at and state.sla
    return [
        CaseClosed(
            case_id=cmd.case_id,
            case_number=state.case_number,
            account_id=state.account_id,
            type=state.type,
            priority=state.priority,
            invoice_ids=list(state.invoice_ids),
            root_cause=state.root_cause,
            resolution_summary=state.resolution_summary,
            completeness=completeness(state),
            opened_at=state.opened_at,
            closed_by=cmd.actor,
            closed_at=cmd.at,
            sla_breached=state.sla.breached,
        )
    ]


def _reopen(cmd: c.ReopenCase, state: Case) -> list[EventContract]:
    if state.status is not S.CLOSED:
        raise invalid_transition(state, "reopened")
    assert state.closed_at is not None
    if cmd.at - state.closed_at > timedelta(days=cmd.reopen_window_days):
        raise Refused(
            f"case {state.case_number} closed more than {cmd.reopen_window_days} days "
            "ago; open a new case",
            field="status",
            title="Reopen window passed",
            kind=RefusalKind.CONFLICT,
        )
    return [
        CaseReopened(
            case_id=cmd.case_id,
            account_id=state.account_id,
            type=state.type,
            invoice_ids=list(state.invoice_ids),
            reason=cmd.reason,
            reopened_by=cmd.actor,
            reopened_at=cmd.at,
        )
    ]


def _check_sla(cmd: c.CheckSla, state: Case) -> list[EventContract]:
    sla = state.sla
    assert sla is not None
    if sla.breached or not sla.overdue(cmd.at):
        return []
    return [
        CaseSlaBreached(
            case_id=cmd.case_id,
            account_id=state.account_id,
            type=state.type,
            priority=state.priority,
            sla_target_days=sla.target_days,
            sla_due_at=sla.due_at,
            breached_at=cmd.at,
        )
    ]


_DECISIONS: dict[type, Callable[[Any, Case], list[EventContract]]] = {
    c.AssignCase: _assign,
    c.LinkCase: _link,
    c.ReclassifyCase: _reclassify,
    c.AddNote: _note,
    c.ChangeStatus: _change_status,
    c.IdentifyRootCause: _root_cause,
    c.RequestCorrection: _request_correction,
    c.RecordCorrectionApplied: _correction_applied,
    c.RecordCorrectionRejected: _correction_rejected,
    c.Escalate: _escalate,
    c.AnswerEscalation: _answer,
    c.ClaimEscalation: _claim,
    c.SetNextAction: _set_next_action,
    c.RecordCustomerUpdate: _customer_update,
    c.RecordConfirmation: _confirm,
    c.ResolveCase: _resolve,
    c.CloseCase: _close,
    c.ReopenCase: _reopen,
    c.CheckSla: _check_sla,
}


def decide(command: c.Command, state: Case) -> list[EventContract]:
    if isinstance(command, c.OpenCase):
        return _open(command, state)
    if not state.opened:
        raise NotFound(f"no case {command.case_id}", field="case_id")
    return _DECISIONS[type(command)](command, state)


# -- evolve ---------------------------------------------------------------------------------------


def evolve(state: Case, event: EventContract) -> Case:
    state = replace(state, version=state.version + 1)
    step = _EVOLUTIONS.get(type(event))
    return state if step is None else step(state, event)


def _enter(state: Case, status: CaseStatus, at: Any) -> Case:
    """Move to `status`, pausing or resuming the SLA clock as the status asks."""
    assert state.sla is not None
    sla = state.sla.pause(at) if status in PAUSED_STATUSES else state.sla.resume(at)
    return replace(state, status=status, sla=sla)


def _opened(state: Case, e: CaseOpened) -> Case:
    return replace(
        state,
        case_id=e.case_id,
        case_number=e.case_number,
        account_id=e.account_id,
        type=e.type,
        origin=e.origin,
        priority=e.priority,
        subject=e.subject,
        description=e.description,
        invoice_ids=tuple(e.invoice_ids),
        owner_id=e.owner_id,
        status=S.NEW,
        opened_by=e.opened_by,
        opened_at=e.opened_at,
        sla=SlaClock(e.sla_target_days, e.sla_due_at),
    )


def _assigned(state: Case, e: CaseAssigned) -> Case:
    return replace(state, owner_id=e.owner_id)


def _linked(state: Case, e: CaseLinked) -> Case:
    return replace(state, account_id=e.account_id, invoice_ids=tuple(e.invoice_ids))


def _reclassified(state: Case, e: CaseReclassified) -> Case:
    return replace(state, type=e.type)


def _noted(state: Case, e: CaseNoteAdded) -> Case:
    note = Note(
        e.note_id, e.body, e.source, e.author, e.added_at, e.email_message_id, tuple(e.attachments)
    )
    return replace(state, notes=(*state.notes, note))


def _status_changed(state: Case, e: CaseStatusChanged) -> Case:
    return _enter(state, e.to_status, e.changed_at)


def _root_caused(state: Case, e: CaseRootCauseIdentified) -> Case:
    return replace(state, root_cause=e.root_cause)


def _correction_requested(state: Case, e: CaseCorrectionRequested) -> Case:
    correction = Correction(
        e.correction_id,
        e.invoice_id,
        e.amount_minor,
        e.direction,
        e.currency,
        e.reason,
        e.reason_code,
        e.requested_by,
        e.requested_at,
    )
    return replace(state, corrections={**state.corrections, e.correction_id: correction})


def _correction_done(state: Case, e: CaseCorrectionApplied) -> Case:
    correction = replace(
        state.corrections[e.correction_id],
        outcome=CorrectionOutcome.APPLIED,
        adjustment_id=e.adjustment_id,
        decided_at=e.recorded_at,
    )
    return replace(state, corrections={**state.corrections, e.correction_id: correction})


def _correction_refused(state: Case, e: CaseCorrectionRejected) -> Case:
    correction = replace(
        state.corrections[e.correction_id],
        outcome=CorrectionOutcome.REJECTED,
        rejection_code=e.reason_code,
        rejection_detail=e.detail,
        decided_at=e.recorded_at,
    )
    return replace(state, corrections={**state.corrections, e.correction_id: correction})


def _escalated(state: Case, e: CaseEscalated) -> Case:
    escalation = Escalation(
        e.escalation_id,
        e.team,
        e.question,
        e.due_date,
        e.escalated_by,
        e.escalated_at,
        cause=e.cause,
    )
    return replace(state, escalations={**state.escalations, e.escalation_id: escalation})


def _answered(state: Case, e: CaseEscalationAnswered) -> Case:
    escalation = replace(
        state.escalations[e.escalation_id],
        answer=e.answer,
        answered_by=e.answered_by,
        answered_at=e.answered_at,
    )
    return replace(state, escalations={**state.escalations, e.escalation_id: escalation})


def _claimed(state: Case, e: CaseEscalationClaimed) -> Case:
    escalation = replace(
        state.escalations[e.escalation_id], claimed_by=e.claimed_by, claimed_at=e.claimed_at
    )
    return replace(state, escalations={**state.escalations, e.escalation_id: escalation})


def _next_action_set(state: Case, e: CaseNextActionSet) -> Case:
    return replace(state, next_action_on=e.next_action_on, next_action=e.next_action)


def _updated(state: Case, e: CaseCustomerUpdated) -> Case:
    update = CustomerUpdate(
        e.update_id, e.channel, e.summary, e.sent_by, e.sent_at, e.recipient, e.email_message_id
    )
    return replace(state, updates=(*state.updates, update))


def _confirmed(state: Case, e: CaseCustomerConfirmed) -> Case:
    return replace(
        state,
        confirmation=Confirmation(
            e.confirmed_by_name,
            e.channel,
            e.confirmed_at,
            e.recorded_by,
            e.note,
            e.satisfaction,
            e.satisfaction_comment,
        ),
    )


def _resolved(state: Case, e: CaseResolved) -> Case:
    state = _enter(state, S.RESOLVED, e.resolved_at)
    return replace(state, resolution_summary=e.resolution_summary, resolved_at=e.resolved_at)


def _closed(state: Case, e: CaseClosed) -> Case:
    return replace(_enter(state, S.CLOSED, e.closed_at), closed_at=e.closed_at)


def _reopened(state: Case, e: CaseReopened) -> Case:
    """A reopened case is worked again: no longer resolved, confirmation to be sought anew."""
    state = _enter(state, S.INVESTIGATING, e.reopened_at)
    return replace(state, closed_at=None, resolved_at=None, confirmation=None)


def _breached(state: Case, e: CaseSlaBreached) -> Case:
    assert state.sla is not None
    return replace(state, sla=replace(state.sla, breached=True))


_EVOLUTIONS: dict[type, Callable[[Case, Any], Case]] = {
    CaseOpened: _opened,
    CaseAssigned: _assigned,
    CaseLinked: _linked,
    CaseReclassified: _reclassified,
    CaseNoteAdded: _noted,
    CaseStatusChanged: _status_changed,
    CaseRootCauseIdentified: _root_caused,
    CaseCorrectionRequested: _correction_requested,
    CaseCorrectionApplied: _correction_done,
    CaseCorrectionRejected: _correction_refused,
    CaseEscalated: _escalated,
    CaseEscalationAnswered: _answered,
    CaseEscalationClaimed: _claimed,
    CaseNextActionSet: _next_action_set,
    CaseCustomerUpdated: _updated,
    CaseCustomerConfirmed: _confirmed,
    CaseResolved: _resolved,
    CaseClosed: _closed,
    CaseReopened: _reopened,
    CaseSlaBreached: _breached,
}
