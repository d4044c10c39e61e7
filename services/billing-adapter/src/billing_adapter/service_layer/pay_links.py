"""Making a pay link: decide what it asks, have the provider make it, record it as an event.

The provider is asked inside the caller's transaction (the API's
Idempotency-Key one), after the terms are decided and before they are
recorded: a provider that fails leaves nothing recorded, and a replayed
request is answered from the idempotency store without asking again. The
link's provider reference (a `cs_...`) is claimed as an external id of the
link, which is how a payment through it finds it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from billing_adapter.adapters import external_ids
from billing_adapter.adapters.pay_link_providers import (
    LinkRequest,
    PayLinkProvider,
    ProviderFailed,
)
from billing_adapter.domain import pay_links
from billing_adapter.domain.commands import RecordPayLink
from billing_adapter.domain.state import PayLink
from billing_adapter.service_layer.accounts import PAY_LINK, execute, get_account
from receivables_platform.contracts.billing import PayLinkPurpose
from receivables_platform.domain import RefusalKind, Refused
from receivables_platform.ids import new_id


@dataclass(frozen=True)
class MadePayLink:
    account_id: UUID
    link: PayLink
    version: int


async def create_pay_link(
    conn: asyncpg.Connection,
    provider: PayLinkProvider | None,
    account_id: UUID,
    purpose: PayLinkPurpose,
    invoice_ids: Sequence[UUID] | None,
    *,
    now: datetime,
    ttl: timedelta,
    correlation_id: str | None = None,
    actor: str | None = None,
) -> MadePayLink:
    state = (await get_account(conn, account_id)).state
    terms = pay_links.terms(state, purpose, invoice_ids)
    if provider is None:
        raise Refused(
            "no pay link provider is configured here (STRIPE_API_KEY or PAY_LINK_URL_TEMPLATE)",
            title="Pay links not configured",
            kind=RefusalKind.UNAVAILABLE,
        )
    pay_link_id = new_id()
    try:
        made = await provider.make(
            LinkRequest(
                pay_link_id=pay_link_id,
                account_id=account_id,
                account_external_id=state.external_id,
                account_name=state.name,
                terms=terms,
                expires_at=now + ttl,
            )
        )
    except ProviderFailed as failed:
        raise Refused(
            str(failed), title="Payment provider failed", kind=RefusalKind.UPSTREAM_FAILED
        ) from failed
    if not await external_ids.claim(conn, PAY_LINK, made.reference, pay_link_id):
        raise Refused(
            f"{made.provider} answered with {made.reference}, which names another pay link",
            title="Payment provider failed",
            kind=RefusalKind.UPSTREAM_FAILED,
        )
    loaded = await execute(
        conn,
        RecordPayLink(
            account_id=account_id,
            pay_link_id=pay_link_id,
            terms=terms,
            provider=made.provider,
            provider_reference=made.reference,
            url=made.url,
            expires_at=made.expires_at,
            actor=actor,
        ),
        correlation_id=correlation_id,
    )
    return MadePayLink(account_id, loaded.state.pay_links[pay_link_id], loaded.version)
