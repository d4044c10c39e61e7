"""Dev tokens for calling the services by hand.

Minted by the web layer's own helper, so the dev stack's tokens carry exactly the
claims the services verify; only the environment lookups live here.
"""

from __future__ import annotations

import os

from receivables_platform.web.auth import ROLES as KNOWN_ROLES
from receivables_platform.web.auth import issue_token

# Admin first: the order the dev token lists them in.
ROLES = ("admin", *sorted(KNOWN_ROLES - {"admin"}))
DEV_SUBJECT = "dev"
DEV_TTL_SECONDS = 30 * 24 * 3600


def mint_token(secret: str, sub: str, roles: list[str], ttl: int) -> str:
    """Audience and issuer from the same variables the services read, so they accept it."""
    return issue_token(secret, sub, roles, ttl,
                       audience=os.environ.get("JWT_AUDIENCE", "receivables"),
                       issuer=os.environ.get("JWT_ISSUER") or None)
