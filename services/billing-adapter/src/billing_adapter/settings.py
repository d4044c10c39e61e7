"""What the billing adapter reads from its environment beyond every service's settings."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_adapter.service_layer.stripe_context import Mapping
from receivables_platform.money import is_currency


class StripeSettings(BaseSettings):
    """`STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret(s), comma-separated while rolling."""

    model_config = SettingsConfigDict(env_prefix="STRIPE_", extra="ignore")

    webhook_secret: SecretStr = SecretStr("")
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
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
                       payment_terms_days=self.payment_terms_days)
