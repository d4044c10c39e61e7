"""Telling the customer: record the update, and send it by email first when that is the channel.

The email goes out inside the case's transaction, after the case accepted the
update (lock held, If-Match checked, decision made) and before the event is
appended: a refused update sends nothing, and a failed send records nothing.
The subject carries the case number tag, so the customer's reply threads back
to the case (as does its In-Reply-To, the Message-ID kept on the event).
"""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from case_service.adapters.repositories import cases
from case_service.domain import commands as c
from case_service.domain.case import decide
from case_service.domain.state import Case
from case_service.service_layer.cases import Check, execute, get_case
from receivables_platform import mail
from receivables_platform.contracts.cases import CustomerChannel
from receivables_platform.domain import RefusalKind, Refused
from receivables_platform.repository import Loaded


async def record_update(
    conn: asyncpg.Connection,
    command: c.RecordCustomerUpdate,
    *,
    message: str | None,
    smtp: mail.SmtpTarget | None,
    check: Check | None,
    correlation_id: str | None = None,
) -> Loaded[Case]:
    if command.channel is not CustomerChannel.EMAIL:
        return await execute(conn, command, check=check, correlation_id=correlation_id)
    if not command.recipient:
        raise Refused("an email update needs the recipient's address", field="recipient")
    if smtp is None:
        raise Refused(
            "this service has no SMTP_URL: email updates cannot be sent",
            field="channel",
            title="Email not configured",
            kind=RefusalKind.UNAVAILABLE,
        )
    async with conn.transaction():
        await cases.lock(conn, command.case_id)
        loaded = await get_case(conn, command.case_id)
        if check is not None:
            check(loaded.state, loaded.version)
        decide(command, loaded.state)
        email = mail.compose(
            smtp,
            to=command.recipient,
            subject=f"[{loaded.state.case_number}] {loaded.state.subject}",
            body=message or command.summary,
            in_reply_to=(loaded.state.message_ids or (None,))[-1],
        )
        try:
            message_id = await mail.send(smtp, email)
        except mail.MailNotSent as exc:
            raise Refused(
                f"the email was not sent: {exc}",
                field="recipient",
                title="Email not sent",
                kind=RefusalKind.UPSTREAM_FAILED,
            ) from exc
        return await execute(
            conn, replace(command, email_message_id=message_id), correlation_id=correlation_id
        )
