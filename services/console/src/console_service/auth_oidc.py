"""Sign-in at the organisation's identity provider: OIDC authorization code with PKCE.

Authlib does the protocol (discovery, state, nonce, S256 code challenge, token
exchange, ID token validation); the console keeps the access token in the
session and forwards it to the APIs, which verify it against the provider's
JWKS (`JWT_JWKS_URL`) and read the person's `roles` claim.
"""

from __future__ import annotations

from typing import Any

from console_service.settings import ConsoleSettings


def register_oidc(settings: ConsoleSettings) -> Any:
    """The provider's client, or None where nobody configured one (dev sign-in only)."""
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    secret = settings.oidc_client_secret
    client = oauth.register(
        name="idp",
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
    )
    return client
