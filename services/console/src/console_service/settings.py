"""What the console reads from its environment.

The console holds no data of its own: where the four APIs are, how people sign
in, and the key that signs their session cookie are all it needs.
"""

from __future__ import annotations

import ipaddress
import secrets

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8100
SERVICES = ("billing-adapter", "collections-service", "case-service", "reporting-service")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    http_host: str = "127.0.0.1"
    port: int = Field(DEFAULT_PORT, validation_alias="CONSOLE_PORT", gt=0, lt=65536)
    billing_adapter_url: str = "http://127.0.0.1:8101"
    collections_service_url: str = "http://127.0.0.1:8102"
    case_service_url: str = "http://127.0.0.1:8103"
    reporting_service_url: str = "http://127.0.0.1:8104"
    session_secret: SecretStr | None = Field(None, validation_alias="CONSOLE_SESSION_SECRET")
    """Signs the session cookie. Unset on loopback: a random one, so sessions end on restart."""
    session_max_age_seconds: int = Field(8 * 3600, validation_alias="CONSOLE_SESSION_MAX_AGE",
                                         gt=0)
    dev_sign_in: bool = Field(False, validation_alias="CONSOLE_DEV_SIGN_IN")
    """The dev stack's sign-in: pick a person and roles, get a token signed with JWT_SECRET."""
    jwt_secret: SecretStr | None = None
    jwt_audience: str = "receivables"
    jwt_issuer: str | None = None
    jwt_max_lifetime_seconds: int = Field(24 * 3600, gt=0)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile email"
    public_url: str | None = Field(None, validation_alias="CONSOLE_PUBLIC_URL")
    """Where people reach the console (the OIDC redirect URI is built from it)."""
    api_timeout_seconds: float = Field(10.0, validation_alias="CONSOLE_API_TIMEOUT", gt=0)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _sign_in_is_possible(self) -> ConsoleSettings:
        if self.dev_sign_in and self.jwt_secret is None:
            raise ValueError("CONSOLE_DEV_SIGN_IN needs JWT_SECRET to mint the services' tokens")
        if self.dev_sign_in and not self.loopback:
            raise ValueError("CONSOLE_DEV_SIGN_IN lets anyone be anyone: it is refused unless "
                             "the console listens on loopback (HTTP_HOST)")
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            raise ValueError("OIDC_ISSUER and OIDC_CLIENT_ID go together")
        if self.session_secret is None and not self.loopback:
            raise ValueError("CONSOLE_SESSION_SECRET is required when the console is reachable "
                             "beyond loopback (sessions must survive restarts and replicas)")
        return self

    @property
    def loopback(self) -> bool:
        return _is_loopback(self.http_host)

    @property
    def secure_cookies(self) -> bool:
        """`Secure` everywhere but plain-http loopback dev, where there is no TLS to require."""
        return not (self.loopback and not (self.public_url or "").startswith("https://"))

    def signing_key(self) -> str:
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        return secrets.token_urlsafe(32)

    def service_urls(self) -> dict[str, str]:
        return {"billing-adapter": self.billing_adapter_url,
                "collections-service": self.collections_service_url,
                "case-service": self.case_service_url,
                "reporting-service": self.reporting_service_url}
