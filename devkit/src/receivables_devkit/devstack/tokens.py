"""Dev tokens for calling the services by hand.

Minted by the web layer's own helper, so the dev stack's tokens carry exactly the
claims the services verify; only the environment lookups live here.
"""

from __future__ import annotations

import os

from receivables_platform.web.auth import MAX_TOKEN_LIFETIME, ROLES_ADMIN_FIRST, issue_token

ROLES = ROLES_ADMIN_FIRST
DEV_SUBJECT = "dev"


def max_token_lifetime() -> int:
    """Seconds the stack's services accept a token for: they read the same variable, so
    the dev token lives as long as they allow and never longer (they would refuse it)."""
    return int(os.environ.get("JWT_MAX_LIFETIME_SECONDS") or MAX_TOKEN_LIFETIME.total_seconds())


def mint_token(secret: str, sub: str, roles: list[str], ttl: int) -> str:
    """Audience and issuer from the same variables the services read, so they accept it."""
    return issue_token(
        secret,
        sub,
        roles,
        ttl,
        audience=os.environ.get("JWT_AUDIENCE", "receivables"),
        issuer=os.environ.get("JWT_ISSUER") or None,
    )
