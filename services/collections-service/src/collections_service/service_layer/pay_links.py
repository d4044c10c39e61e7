"""A task's pay link and an auto-pay offer's enrolment link, asked of billing when wanted.

Links are made on request, not with every task: a checkout session costs a call
to the provider and expires, and most tasks are calls that never need one. A
task's link is keyed by the task and the day, so every click that day hands the
collector the same link and a new day a fresh one; an offer's enrolment link is
keyed by the offer, so it is made once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from collections_service.adapters import reads
from collections_service.adapters.pay_links import PayLink, link_key
from collections_service.domain.refusals import Refusal, RefusalKind, forbidden
from collections_service.runtime import Runtime
from collections_service.service_layer import autopay
from receivables_platform.contracts.billing import PayLinkPurpose


@dataclass(frozen=True)
class MadeLink:
    account_id: UUID
    link: PayLink


NOT_CONFIGURED = (
    "no pay link provider is configured here: set BILLING_ADAPTER_URL (billing's "
    "payment provider) or PAY_LINK_URL_TEMPLATE"
)


async def for_task(
    conn: asyncpg.Connection,
    runtime: Runtime,
    task_id: UUID,
    *,
    by: str,
    may_act_for_others: bool,
    today: date,
) -> MadeLink:
    task = await reads.task(conn, task_id)
    if task["collector_id"] not in (None, by) and not may_act_for_others:
        raise forbidden(
            f"task {task_id} is {task['collector_id']}'s, not {by}'s",
            field="path.task_id",
            title="Not your task",
        )
    link = await runtime.pay_link_source().for_account(
        task["account_id"], key=link_key("task", task_id, today)
    )
    if link is None:
        raise Refusal(RefusalKind.UNAVAILABLE, NOT_CONFIGURED, title="Pay links not configured")
    return MadeLink(task["account_id"], link)


async def for_offer(conn: asyncpg.Connection, runtime: Runtime, offer_id: UUID) -> MadeLink:
    offer = await autopay.get(conn, offer_id)
    if offer["converted_on"] is not None or offer["outcome"] == "declined":
        done = "enrolled" if offer["converted_on"] is not None else f"answered {offer['outcome']}"
        raise Refusal(
            RefusalKind.CONFLICT,
            f"the customer {done} (offer {offer_id}): no enrolment link for it",
            field="path.offer_id",
            title="Offer closed",
        )
    link = await runtime.pay_link_source().for_account(
        offer["account_id"], key=link_key("autopay-offer", offer_id), purpose=PayLinkPurpose.AUTOPAY
    )
    if link is None:
        raise Refusal(
            RefusalKind.UNAVAILABLE,
            "auto-pay enrolment links are made by billing's "
            "payment provider: set BILLING_ADAPTER_URL",
            title="Enrolment links not configured",
        )
    return MadeLink(offer["account_id"], link)
