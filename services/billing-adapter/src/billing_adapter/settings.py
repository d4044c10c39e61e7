"""What the billing adapter reads from its environment beyond every service's settings."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_adapter.domain.approval import ApprovalThresholds
from billing_adapter.service_layer.stripe_context import Mapping
from receivables_platform.money import is_currency


class StripeSettings(BaseSettings):
    """`STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret(s), comma-separated while rolling.

    `STRIPE_WEBHOOK_MAX_BYTES` (default 1 MiB; Stripe's events are a few KiB,
    an invoice with its first lines some tens) bounds what an unauthenticated
    caller can make us read. `STRIPE_PARKED_TTL_HOURS` (default 72, Stripe's
    own retry window) is how long an event waits for a payment or credit note
    before it is given up.
    """

    model_config = SettingsConfigDict(env_prefix="STRIPE_", extra="ignore")

    webhook_secret: SecretStr = SecretStr("")
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    webhook_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    parked_ttl_hours: float = Field(default=72, gt=0)
    default_currency: str = "USD"
    payment_terms_days: int = Field(default=30, ge=0, le=365)

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
        return Mapping(default_currency=self.default_currency,
                       payment_terms_days=self.payment_terms_days,
                       parked_ttl=timedelta(hours=self.parked_ttl_hours))


APPROVAL_THRESHOLDS = "*=500000"
"""5,000.00 in a currency of two decimals (500,000 yen): over it, a second person approves."""


@lru_cache(maxsize=1)
def approval_thresholds() -> ApprovalThresholds:
    """`APPROVAL_THRESHOLDS` (see `domain/approval.py`), read once; a bad rule raises there."""
    return ApprovalThresholds.parse(os.environ.get("APPROVAL_THRESHOLDS", APPROVAL_THRESHOLDS))
