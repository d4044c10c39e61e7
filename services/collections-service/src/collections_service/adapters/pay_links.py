"""Where a pay link comes from: billing-adapter's payment provider, or a URL template.

Billing owns the invoices and the provider (Stripe), so a link that pays an
account's open invoices is made there, by `POST /v1/accounts/{id}/pay-links`,
with this service's own token. Every ask carries an Idempotency-Key derived
from what the link is for (a task on its day, a dunning email, an auto-pay
offer), so a retried send or a second click gets the link made the first time
instead of a second checkout session at the provider.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from receivables_platform.contracts.billing import PayLinkPurpose
from receivables_platform.domain import RefusalKind, Refused


def link_key(what: str, *parts: object) -> str:
    """The Idempotency-Key of the link for `what` (a task on a day, a dunning email...):
    the same parts, the same link; bounded whatever the parts are."""
    digest = hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"collections:{what}:{digest}"


@dataclass(frozen=True)
class PayLink:
    url: str
    purpose: PayLinkPurpose = PayLinkPurpose.PAYMENT
    expires_at: datetime | None = None
    """None: a template link, which never expires."""
    provider: str | None = None
    pay_link_id: UUID | None = None
    """Billing's id of it (`GET /v1/accounts/{id}/pay-links/{pay_link_id}` there)."""


@dataclass(frozen=True)
class UrlTemplatePayLinks:
    """`PAY_LINK_URL_TEMPLATE` with `{account_id}` filled in; no template, no link. A template
    cannot enrol in auto-pay, so it offers no enrolment link."""

    template: str | None

    async def for_account(
        self, account_id: UUID, *, key: str | None, purpose: PayLinkPurpose = PayLinkPurpose.PAYMENT
    ) -> PayLink | None:
        if not self.template or purpose is not PayLinkPurpose.PAYMENT:
            return None
        return PayLink(self.template.format(account_id=account_id))


# What billing's refusal means here: an account billing does not know, or one that owes
# nothing, is not this service's fault; anything else is billing failing us.
_KIND_OF = {
    404: RefusalKind.NOT_FOUND,
    409: RefusalKind.CONFLICT,
    422: RefusalKind.CONFLICT,
    503: RefusalKind.UNAVAILABLE,
}


@dataclass(frozen=True)
class BillingPayLinks:
    """Links made by billing-adapter over HTTP, service to service."""

    base_url: str
    token: Callable[[], str]
    """A bearer token for billing (a fresh one each call: minted tokens expire)."""
    timeout_seconds: float = 10.0

    async def for_account(
        self, account_id: UUID, *, key: str | None, purpose: PayLinkPurpose = PayLinkPurpose.PAYMENT
    ) -> PayLink | None:
        """The link, or None when nothing may be made (`key` None: a preview, which must
        not open a checkout session at the provider)."""
        if key is None:
            return None
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout_seconds
            ) as client:
                answer = await client.post(
                    f"/v1/accounts/{account_id}/pay-links",
                    json={"purpose": purpose.value},
                    headers={"Authorization": f"Bearer {self.token()}", "Idempotency-Key": key},
                )
        except httpx.HTTPError as failed:
            raise Refused(
                f"billing-adapter did not answer for a pay link: {failed!r}",
                title="Billing unreachable",
                kind=RefusalKind.UPSTREAM_FAILED,
            ) from failed
        body = _json(answer)
        if answer.status_code in (200, 201) and isinstance(body.get("url"), str):
            return PayLink(
                body["url"],
                purpose,
                datetime.fromisoformat(body["expires_at"]),
                body.get("provider"),
                UUID(body["pay_link_id"]),
            )
        detail = body.get("detail") or answer.text[:200] or answer.reason_phrase
        raise Refused(
            f"billing-adapter made no pay link ({answer.status_code}): {detail}",
            title="No pay link",
            kind=_KIND_OF.get(answer.status_code, RefusalKind.UPSTREAM_FAILED),
        )


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
