"""Stripe's webhook signature: HMAC-SHA256 over `timestamp.payload`, checked before anything else.

The `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`.
Stripe sends one `v1` per endpoint secret that is live, so while a secret is
being rolled (the old one stays valid for up to 24 hours) the header carries
two signatures, and we may hold two secrets: any secret matching any `v1`
passes. The timestamp is inside the signed bytes, so an attacker who captured
a delivery cannot replay it after the tolerance (5 minutes, as Stripe's own
libraries use) without forging a new signature. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The delivery is not provably from Stripe (or not any more): refuse it, store nothing."""


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("the timestamp t= is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("the header has no timestamp t=")
    if not signatures:
        raise SignatureError("the header has no v1 signature")
    return timestamp, signatures


def expected_signature(secret: str, timestamp: int, payload: bytes) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """The signed timestamp when some secret signed exactly these bytes recently enough.

    Stale in either direction is refused: a timestamp far in the future is as
    suspect as an old one, and would otherwise extend a replay window.
    """
    if not header:
        raise SignatureError("the Stripe-Signature header is missing")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"the signature's timestamp is more than {tolerance} s from now")
    for secret in secrets:
        wanted = expected_signature(secret, timestamp, payload)
        if any(hmac.compare_digest(wanted, given) for given in signatures):
            return timestamp
    raise SignatureError("no v1 signature matches the payload under a configured secret")
