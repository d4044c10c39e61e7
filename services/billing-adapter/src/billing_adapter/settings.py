"""What the billing adapter reads from its environment beyond every service's settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_adapter.adapters.pay_link_providers import (
    TEMPLATE_FIELDS,
    PayLinkProvider,
    StripeCheckout,
    UrlTemplate,
)
from billing_adapter.domain.approval import ApprovalThresholds
from billing_adapter.service_layer.stripe_context import Mapping
from receivables_platform.money import is_currency


class StripeSettings(BaseSettings):
    """`STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret(s), comma-separated while rolling.

    `STRIPE_WEBHOOK_MAX_BYTES` (default 1 MiB; Stripe's events are a few KiB,
    an invoice with its first lines some tens) bounds what an unauthenticated
    caller can make us read. `STRIPE_PARKED_TTL_HOURS` (default 72, Stripe's
    own retry window) is how long an event waits for a payment or credit note
    before it is given up. `STRIPE_API_KEY` (a restricted key that may write
    Checkout Sessions is enough) makes pay links at Stripe; `STRIPE_API_BASE`
    points elsewhere than Stripe (stripe-mock in tests).
    """

    model_config = SettingsConfigDict(env_prefix="STRIPE_", extra="ignore")

    webhook_secret: SecretStr = SecretStr("")
    """The Stripe endpoint's signing secret(s), comma-separated while rolling; unset: the
    Stripe webhook refuses every event."""
    api_key: SecretStr = SecretStr("")
    """A Stripe API key (a restricted key that may write Checkout Sessions is enough): pay
    links are made at Stripe."""
    api_base: str = "https://api.stripe.com"
    """Where Stripe's API is called: another URL only for stripe-mock in tests."""
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    """How far a webhook's signed timestamp may be from now before it is refused as a replay."""
    webhook_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    """The largest webhook body read from an unauthenticated caller (413 above it)."""
    parked_ttl_hours: float = Field(default=72, gt=0)
    """How long a Stripe event waits for the payment or credit note it refers to before it is
    given up (Stripe's own retry window)."""
    default_currency: str = "USD"
    """The ISO 4217 currency of a Stripe object that names none."""
    payment_terms_days: int = Field(default=30, ge=0, le=365)
    """Days from issue to due date for a Stripe invoice that carries no due date."""

    @field_validator("default_currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        if not is_currency(code.upper()):
            raise ValueError(f"{code!r} is not an ISO 4217 currency code")
        return code.upper()

    @property
    def secrets(self) -> list[str]:
        return [s.strip() for s in self.webhook_secret.get_secret_value().split(",") if s.strip()]

    @property
    def mapping(self) -> Mapping:
        return Mapping(
            default_currency=self.default_currency,
            payment_terms_days=self.payment_terms_days,
            parked_ttl=timedelta(hours=self.parked_ttl_hours),
        )


APPROVAL_THRESHOLDS = "*=500000"
"""5,000.00 in a currency of two decimals (500,000 yen): over it, a second person approves."""

APPROVAL_ENVIRONMENT = {
    "APPROVAL_THRESHOLDS": "Comma-separated `currency=minor units` (`USD=500000,*=100000`; "
    "`*` for any currency not named): a credit or write-off above it "
    "waits for a supervisor's approval (default `*=500000`).",
}


def approval_thresholds() -> ApprovalThresholds:
    """`APPROVAL_THRESHOLDS` (see `domain/approval.py`); a bad rule raises there."""
    return ApprovalThresholds.parse(os.environ.get("APPROVAL_THRESHOLDS", APPROVAL_THRESHOLDS))


class PayLinkSettings(BaseSettings):
    """Where pay links are made: `PAY_LINK_PROVIDER` `stripe` (Checkout Sessions, needs
    `STRIPE_API_KEY`), `template` (`PAY_LINK_URL_TEMPLATE`, any other provider's pay page),
    or unset: Stripe when a Stripe API key is set, else the template when one is.

    `PAY_LINK_TTL_HOURS` (default 24, Stripe's own limit; at least half an hour, which
    is Stripe's floor) is how long a link can be paid. `PAY_LINK_SUCCESS_URL` and
    `PAY_LINK_CANCEL_URL` are where Stripe's checkout sends the customer afterwards.
    """

    model_config = SettingsConfigDict(env_prefix="PAY_LINK_", extra="ignore")

    provider: Literal["stripe", "template", ""] = ""
    """`stripe` or `template`; unset: Stripe when STRIPE_API_KEY is set, else the template
    when one is, else pay links are refused (503)."""
    url_template: str = ""
    """Another provider's pay page, with `{pay_link_id}`, `{account_id}`,
    `{account_external_id}`, `{purpose}`, `{amount_minor}`, `{currency}` or `{expires_at}`
    filled in: `https://pay.example/{account_external_id}?amount={amount_minor}`."""
    ttl_hours: float = Field(default=24, ge=0.5, le=24)
    """How long a pay link can be paid (0.5 to 24 hours, Stripe's limits)."""
    success_url: str = ""
    """Where Stripe's checkout sends the customer after paying."""
    cancel_url: str = ""
    """Where Stripe's checkout sends the customer who leaves without paying."""

    @field_validator("url_template")
    @classmethod
    def _known_fields(cls, template: str) -> str:
        if not template:
            return template
        if not template.startswith(("https://", "http://")):
            raise ValueError("PAY_LINK_URL_TEMPLATE must be an http(s) URL")
        try:
            template.format(**dict.fromkeys(TEMPLATE_FIELDS, "x"))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"PAY_LINK_URL_TEMPLATE may name only {sorted(TEMPLATE_FIELDS)} in braces: {exc!r}"
            ) from None
        return template

    @property
    def ttl(self) -> timedelta:
        return timedelta(hours=self.ttl_hours)

    def make_provider(self, stripe: StripeSettings) -> PayLinkProvider | None:
        """The configured provider; None when none is (pay links are then refused, 503)."""
        key = stripe.api_key.get_secret_value()
        choice = self.provider or ("stripe" if key else "template" if self.url_template else "")
        if choice == "stripe" and key:
            return StripeCheckout(
                api_key=key,
                api_base=stripe.api_base.rstrip("/"),
                success_url=self.success_url,
                cancel_url=self.cancel_url,
            )
        if choice == "template" and self.url_template:
            return UrlTemplate(self.url_template)
        return None


@dataclass(frozen=True)
class BillingDependencies:
    """What routes, use cases and workers are handed: composed once at start by the spec
    (the composition root), never read from the environment below it. A test builds its
    own: `BillingDependencies(StripeSettings(webhook_secret=...))`."""

    stripe: StripeSettings
    pay_links: PayLinkSettings = field(default_factory=PayLinkSettings)
    approvals: ApprovalThresholds = field(
        default_factory=lambda: ApprovalThresholds.parse(APPROVAL_THRESHOLDS)
    )

    @classmethod
    def from_environment(cls) -> BillingDependencies:
        """A bad STRIPE_*, PAY_LINK_* or APPROVAL_THRESHOLDS value stops the service at start."""
        return cls(StripeSettings(), PayLinkSettings(), approval_thresholds())
