"""Dev tokens for calling the services by hand.

Kept to one function so it can delegate to the web layer's own token helper
once that exists, without the CLI noticing.
"""

from __future__ import annotations

import os
import time

import jwt

ROLES = ("admin", "collector", "case_agent", "supervisor", "integration")
DEV_SUBJECT = "dev"
DEV_TTL_SECONDS = 30 * 24 * 3600


def mint_token(secret: str, sub: str, roles: list[str], ttl: int) -> str:
    """An HS256 token the services accept: the audience is the one they check."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "roles": list(roles),
        "aud": os.environ.get("JWT_AUDIENCE", "receivables"),
        "iat": now,
        "exp": now + ttl,
    }
    if issuer := os.environ.get("JWT_ISSUER"):
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
