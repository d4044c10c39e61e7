"""Where pay links are made: Stripe Checkout, or a URL template for any other provider.

Stripe: a Checkout Session, `mode=payment` for one amount covering the
invoices, `mode=setup` to save a payment method for auto-pay. Its
`client_reference_id` and metadata carry our pay link id, and the session id
(`cs_...`) is the link's reference: `checkout.session.completed` comes back
through the webhook with both. The session is created with our pay link id as
Stripe's `Idempotency-Key`, so a retried request makes no second session.

Another provider whose pay page takes the amount in its URL is configured as
a template (`PAY_LINK_URL_TEMPLATE`); its payments come in through the REST
API or an import like any other payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

import httpx

from billing_adapter.domain.commands import PayLinkTerms
from receivables_platform.contracts.billing import PayLinkPurpose

TEMPLATE_FIELDS = frozenset(
    {
        "pay_link_id",
        "account_id",
        "account_external_id",
        "purpose",
        "amount_minor",
        "currency",
        "expires_at",
    }
)


class ProviderFailed(Exception):
    """The provider did not make the link (unreachable, or it refused what we sent)."""


@dataclass(frozen=True)
class LinkRequest:
    pay_link_id: UUID
    account_id: UUID
    account_external_id: str
    account_name: str
    terms: PayLinkTerms
    expires_at: datetime


@dataclass(frozen=True)
class MadeLink:
    provider: str
    reference: str
    url: str
    expires_at: datetime


class PayLinkProvider(Protocol):
    @property
    def name(self) -> str: ...

    async def make(self, request: LinkRequest) -> MadeLink: ...


@dataclass(frozen=True)
class UrlTemplate:
    """`template` names any of `TEMPLATE_FIELDS` in braces; each value is URL-quoted."""

    template: str
    name: str = "template"

    async def make(self, request: LinkRequest) -> MadeLink:
        return MadeLink(
            self.name, str(request.pay_link_id), fill(self.template, request), request.expires_at
        )


def fill(template: str, request: LinkRequest) -> str:
    values = {
        "pay_link_id": request.pay_link_id,
        "account_id": request.account_id,
        "account_external_id": request.account_external_id,
        "purpose": request.terms.purpose.value,
        "amount_minor": request.terms.amount_minor,
        "currency": request.terms.currency,
        "expires_at": request.expires_at.isoformat(timespec="seconds"),
    }
    return template.format(**{k: quote(str(v), safe="") for k, v in values.items()})


@dataclass(frozen=True)
class StripeCheckout:
    api_key: str
    api_base: str
    success_url: str
    cancel_url: str
    timeout_seconds: float = 10.0
    name: str = "stripe"

    async def make(self, request: LinkRequest) -> MadeLink:
        try:
            async with httpx.AsyncClient(
                base_url=self.api_base, timeout=self.timeout_seconds
            ) as client:
                response = await client.post(
                    "/v1/checkout/sessions",
                    data=self._form(request),
                    headers={
                        "Authorization": f"Bearer {self.api_key}",
                        "Idempotency-Key": f"pay-link-{request.pay_link_id}",
                    },
                )
        except httpx.HTTPError as exc:
            raise ProviderFailed(f"Stripe could not be reached: {exc!r}") from exc
        if response.status_code in (401, 403):  # its message may quote the key: not passed on
            raise ProviderFailed(
                f"Stripe refused the API key ({response.status_code}): check STRIPE_API_KEY"
            )
        body = _json(response)
        if (
            response.status_code >= 400
            or not isinstance(body.get("id"), str)
            or not isinstance(body.get("url"), str)
        ):
            message = (
                (body.get("error") or {}).get("message")
                if isinstance(body.get("error"), dict)
                else None
            )
            raise ProviderFailed(
                f"Stripe answered {response.status_code}: "
                f"{message or 'no checkout session id and url'}"
            )
        expires = body.get("expires_at")
        expires_at = (
            datetime.fromtimestamp(expires, UTC)
            if isinstance(expires, int) and expires > 0
            else request.expires_at
        )
        return MadeLink(self.name, body["id"], body["url"], expires_at)

    def _form(self, request: LinkRequest) -> dict[str, Any]:
        terms = request.terms
        form: dict[str, Any] = {
            "client_reference_id": str(request.pay_link_id),
            "expires_at": int(request.expires_at.timestamp()),
            "currency": terms.currency.lower(),
            "metadata[pay_link_id]": str(request.pay_link_id),
            "metadata[account_id]": str(request.account_id),
        }
        form.update(
            {
                k: v
                for k, v in (("success_url", self.success_url), ("cancel_url", self.cancel_url))
                if v
            }
        )
        if request.account_external_id.startswith("cus_"):  # an account Stripe told us of
            form["customer"] = request.account_external_id
        if terms.purpose is PayLinkPurpose.AUTOPAY:
            form["mode"] = "setup"
            return form
        product_name = f"{len(terms.invoice_ids)} open invoice(s), {request.account_name}"
        form.update(
            {
                "mode": "payment",
                "line_items[0][quantity]": 1,
                "line_items[0][price_data][currency]": terms.currency.lower(),
                "line_items[0][price_data][unit_amount]": terms.amount_minor,
                "line_items[0][price_data][product_data][name]": product_name[:250],
                "payment_intent_data[metadata][pay_link_id]": str(request.pay_link_id),
            }
        )
        return form


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
