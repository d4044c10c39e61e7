"""An inbound email threads onto its case, or opens one.

Threading, in order: the `[CASE-000123]` tag in the subject; a message it
replies to (In-Reply-To, then References) that is already on a case; else a
new case for the account whose contact has the sender's address (an
unassigned case without account when none or several match). A closed case is
not written to: the email opens a follow-up case on the same account. The same
Message-ID again changes nothing and answers with the case it went to.

A case the email opens is assigned by `domain.assignment.choose_owner`: the
account's collector when they are an active case agent, else the next active
agent in turn; with no active agent it waits unassigned in the inbound queue
(`GET /v1/cases?unassigned=true&origin=inbound_email`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import asyncpg

from case_service.adapters import billing_view, case_rows, directory
from case_service.adapters.file_store import FileStore
from case_service.adapters.inbound_mail import InboundMessage
from case_service.domain import commands as c
from case_service.domain.assignment import choose_owner
from case_service.domain.policy import CasePolicy
from case_service.domain.state import Case
from case_service.service_layer.attachments import keep
from case_service.service_layer.cases import execute, get_case, open_case
from receivables_platform.contracts.cases import (
    CaseOrigin,
    CasePriority,
    CaseStatus,
    CaseType,
    NoteSource,
)
from receivables_platform.db.locks import hold_until_commit
from receivables_platform.ids import new_id
from receivables_platform.repository import Loaded


class ThreadedBy(StrEnum):
    SUBJECT_TAG = "subject_tag"
    REPLY = "reply"
    ALREADY_RECEIVED = "already_received"
    SENDER_CONTACT = "sender_contact"
    NONE = "none"


@dataclass(frozen=True)
class Filed:
    case: Loaded[Case]
    threaded_by: ThreadedBy
    created: bool


async def _existing_case(
    conn: asyncpg.Connection, message: InboundMessage
) -> tuple[UUID, ThreadedBy] | None:
    if seen := await case_rows.case_by_message_ids(conn, [message.message_id]):
        return seen, ThreadedBy.ALREADY_RECEIVED
    if message.case_tag and (tagged := await case_rows.case_by_number(conn, message.case_tag)):
        return tagged, ThreadedBy.SUBJECT_TAG
    if message.answers and (
        replied := await case_rows.case_by_message_ids(conn, list(message.answers))
    ):
        return replied, ThreadedBy.REPLY
    return None


def _note(case_id: UUID, message: InboundMessage, actor: str, at: datetime) -> c.AddNote:
    return c.AddNote(
        case_id=case_id,
        note_id=new_id(),
        body=message.text[:100_000],
        actor=actor,
        at=at,
        source=NoteSource.INBOUND_EMAIL,
        email_message_id=message.message_id,
        email_from=message.sender,
        email_subject=message.subject[:1000],
        attachments=message.attachments,
    )


async def _owner_for(conn: asyncpg.Connection, account_id: UUID | None) -> str | None:
    """The rule's choice; the turn row is locked first, so concurrent emails take turns."""
    last = await directory.last_in_turn(conn)
    collector = None if account_id is None else await directory.account_collector(conn, account_id)
    owner, took_turn = choose_owner(collector, await directory.active_agents(conn), last)
    if took_turn and owner is not None:
        await directory.took_turn(conn, owner)
    return owner


async def _open_from(
    conn: asyncpg.Connection,
    message: InboundMessage,
    policy: CasePolicy,
    actor: str,
    at: datetime,
    account_id: UUID | None,
    follows: str | None,
    correlation_id: str | None,
) -> Loaded[Case]:
    lead = f"Follow-up to {follows}, which is closed.\n\n" if follows else ""
    owner_id = await _owner_for(conn, account_id)
    opened = await open_case(
        conn,
        c.OpenCase(
            case_id=new_id(),
            case_number="",
            account_id=account_id,
            type=CaseType.BILLING_INQUIRY,
            origin=CaseOrigin.INBOUND_EMAIL,
            priority=CasePriority.NORMAL,
            subject=(message.subject or "(no subject)")[:300],
            description=(lead + (message.text or "(no text)"))[:10_000],
            invoice_ids=(),
            sla_target_days=policy.sla.target_days(CaseType.BILLING_INQUIRY, CasePriority.NORMAL),
            actor=actor,
            at=at,
            owner_id=owner_id,
        ),
        correlation_id=correlation_id,
    )
    assert opened.state.case_id is not None
    return await execute(
        conn, _note(opened.state.case_id, message, actor, at), correlation_id=correlation_id
    )


async def file_email(
    conn: asyncpg.Connection,
    message: InboundMessage,
    policy: CasePolicy,
    *,
    actor: str,
    at: datetime,
    store: FileStore,
    correlation_id: str | None = None,
) -> Filed:
    """The attachments' bytes go to `store` unless the message was filed before."""
    async with conn.transaction():
        await hold_until_commit(conn, "cases.inbound", message.message_id)
        found = await _existing_case(conn, message)
        if found is not None:
            case_id, how = found
            loaded = await get_case(conn, case_id)
            if how is ThreadedBy.ALREADY_RECEIVED:
                return Filed(loaded, how, created=False)
            await keep(store, message.contents)
            if loaded.state.status is not CaseStatus.CLOSED:
                noted = await execute(
                    conn, _note(case_id, message, actor, at), correlation_id=correlation_id
                )
                return Filed(noted, how, created=False)
            opened = await _open_from(
                conn,
                message,
                policy,
                actor,
                at,
                loaded.state.account_id,
                loaded.state.case_number,
                correlation_id,
            )
            return Filed(opened, how, created=True)
        await keep(store, message.contents)
        accounts = await billing_view.accounts_of_email(conn, message.sender)
        account_id = accounts[0] if len(accounts) == 1 else None
        opened = await _open_from(
            conn, message, policy, actor, at, account_id, None, correlation_id
        )
        how = ThreadedBy.SENDER_CONTACT if account_id else ThreadedBy.NONE
        return Filed(opened, how, created=True)


async def assign_waiting(
    conn: asyncpg.Connection, *, actor: str, at: datetime, limit: int = 200
) -> list[Loaded[Case]]:
    """Give the queue's waiting cases owners by the same rule, the longest waiting first (after
    agents were away or inactive when the emails came); stops when no agent is active.

    Each case in its own transaction; one somebody took meanwhile is left as it is.
    """
    assigned = []
    for case_id in await case_rows.waiting_inbound(conn, limit):
        try:
            async with conn.transaction():
                loaded = await get_case(conn, case_id)
                owner = await _owner_for(conn, loaded.state.account_id)
                if owner is None:
                    break
                assigned.append(
                    await execute(
                        conn, c.AssignCase(case_id, owner, actor, at), check=_still_waiting
                    )
                )
        except _TakenMeanwhile:
            continue  # rolled back, the turn with it
    return assigned


class _TakenMeanwhile(Exception):
    """Someone took the case (or it closed) between the queue's read and its lock."""


def _still_waiting(state: Case, _: int) -> None:
    if state.owner_id is not None or state.status is CaseStatus.CLOSED:
        raise _TakenMeanwhile
