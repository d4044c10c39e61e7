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
    """The address the console listens on; beyond loopback it needs CONSOLE_SESSION_SECRET."""
    port: int = Field(DEFAULT_PORT, validation_alias="CONSOLE_PORT", gt=0, lt=65536)
    """The console's port (8100 in dev)."""
    billing_adapter_url: str = "http://127.0.0.1:8101"
    """Base URL the console calls billing-adapter's API at."""
    collections_service_url: str = "http://127.0.0.1:8102"
    """Base URL the console calls collections-service's API at."""
    case_service_url: str = "http://127.0.0.1:8103"
    """Base URL the console calls case-service's API at."""
    reporting_service_url: str = "http://127.0.0.1:8104"
    """Base URL the console calls reporting-service's API at."""
    session_secret: SecretStr | None = Field(None, validation_alias="CONSOLE_SESSION_SECRET")
    """Signs the session cookie. Unset on loopback: a random one, so sessions end on restart."""
    session_max_age_seconds: int = Field(8 * 3600, validation_alias="CONSOLE_SESSION_MAX_AGE", gt=0)
    """Seconds a session lasts after sign-in before the person signs in again."""
    dev_sign_in: bool = Field(False, validation_alias="CONSOLE_DEV_SIGN_IN")
    """The dev stack's sign-in: pick a person and roles, get a token signed with JWT_SECRET."""
    jwt_secret: SecretStr | None = None
    """The services' HS256 key, with which the dev sign-in mints tokens (never in production)."""
    jwt_audience: str = "receivables"
    """The `aud` of the tokens the dev sign-in mints (the services' JWT_AUDIENCE)."""
    jwt_issuer: str | None = None
    """The `iss` of the tokens the dev sign-in mints, when the services check one."""
    jwt_max_lifetime_seconds: int = Field(24 * 3600, gt=0)
    """A dev sign-in token lives at most this long (and never beyond the session)."""
    oidc_issuer: str | None = None
    """The identity provider's issuer URL (its discovery document is read from it)."""
    oidc_client_id: str | None = None
    """The console's client id at the identity provider."""
    oidc_client_secret: SecretStr | None = None
    """The console's client secret, for a confidential client; unset: a public client (PKCE)."""
    oidc_scope: str = "openid profile email"
    """The scopes the console asks the identity provider for."""
    public_url: str | None = Field(None, validation_alias="CONSOLE_PUBLIC_URL")
    """Where people reach the console (the OIDC redirect URI is built from it)."""
    api_timeout_seconds: float = Field(10.0, validation_alias="CONSOLE_API_TIMEOUT", gt=0)
    """Seconds the console waits for a service's answer before it shows an error."""
    log_level: str = "INFO"
    """`DEBUG`, `INFO`, `WARNING` or `ERROR`: the least severe log line written."""

    @model_validator(mode="after")
    def _sign_in_is_possible(self) -> ConsoleSettings:
        if self.dev_sign_in and self.jwt_secret is None:
            raise ValueError("CONSOLE_DEV_SIGN_IN needs JWT_SECRET to mint the services' tokens")
        if self.dev_sign_in and not self.loopback:
            raise ValueError(
                "CONSOLE_DEV_SIGN_IN lets anyone be anyone: it is refused unless "
                "the console listens on loopback (HTTP_HOST)"
            )
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            raise ValueError("OIDC_ISSUER and OIDC_CLIENT_ID go together")
        if self.session_secret is None and not self.loopback:
            raise ValueError(
                "CONSOLE_SESSION_SECRET is required when the console is reachable "
                "beyond loopback (sessions must survive restarts and replicas)"
            )
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
        return {
            "billing-adapter": self.billing_adapter_url,
            "collections-service": self.collections_service_url,
            "case-service": self.case_service_url,
            "reporting-service": self.reporting_service_url,
        }
