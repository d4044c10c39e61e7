"""Signed outgoing webhooks (chat tools and the like), in Stripe's scheme.

`Receivables-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under
the shared secret: the receiver recomputes it over the raw body and refuses an old
`t` (a replay). `Receivables-Notification-Id` is the notification's unique key, the
same on a retry, so a receiver that saw it already can drop the second copy.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

SIGNATURE_HEADER = "Receivables-Signature"
ID_HEADER = "Receivables-Notification-Id"


class WebhookNotSent(Exception):
    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.permanent = detail, permanent


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def post(
    url: str,
    body: bytes,
    *,
    secret: str,
    timestamp: int,
    notification_id: str,
    timeout: float = 10.0,
) -> None:
    """2xx is delivered; a 4xx other than 408/429 will not pass on a retry (permanent)."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        ID_HEADER: notification_id,
    }
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise WebhookNotSent(f"{url}: {exc!r}") from exc
    if response.is_success:
        return
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    raise WebhookNotSent(f"{url} answered {response.status_code}", permanent=permanent)
