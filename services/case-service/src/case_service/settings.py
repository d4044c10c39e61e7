"""Case-service settings read from the environment: the SLA targets, the reopen window and
the limits on inbound email; `CaseDependencies` is what the spec composes from them.

The domain's `CasePolicy` says what the rules are; this says where a deployment
sets them, so the domain reads no environment. `CASE_SLA_TARGETS` is a
comma-separated list of `type:priority=days` rules where either side may be `*`
(`dispute:urgent=3,*:urgent=5,dispute:*=10`); the most specific rule wins (type
and priority, then type, then priority), else `CASE_SLA_DEFAULT_DAYS` (14).
`CASE_REOPEN_WINDOW_DAYS` (30) is how long after closing a case may be reopened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time, timedelta
from urllib.parse import urlsplit

from case_service.adapters.attachment_limits import AttachmentLimits
from case_service.adapters.file_store import ObjectStoreLocation
from case_service.adapters.inbound_mail import InboundEmailLimits
from case_service.domain.policy import CasePolicy, SlaPolicy

ENVIRONMENT = {
    "CASE_SLA_DEFAULT_DAYS": "Days a case may stay open before its SLA is breached, where no "
    "CASE_SLA_TARGETS rule matches it.",
    "CASE_SLA_TARGETS": "Comma-separated `type:priority=days` SLA rules, either side may be `*` "
    "(`dispute:urgent=3,*:urgent=5,dispute:*=10`); the most specific wins.",
    "CASE_REOPEN_WINDOW_DAYS": "Days after closing during which a case may be reopened; later, "
    "a new case is opened.",
}
"""What `case_policy` reads, with its meaning; the Helm chart sets exactly these."""


def case_policy() -> CasePolicy:
    """The policy the environment sets; a bad rule raises ValueError naming it."""
    default_days, targets, reopen_window = ENVIRONMENT
    default = int(os.environ.get(default_days, "14"))
    return CasePolicy(
        SlaPolicy.parse(os.environ.get(targets, ""), default),
        int(os.environ.get(reopen_window, "30")),
    )


NOTIFICATION_ENVIRONMENT = {
    "NOTIFICATION_WEBHOOK_SECRET": "Signs outgoing notification webhooks (HMAC); unset: a person's "
    "webhook URL is refused, email and the digest remain.",
    "NOTIFICATION_SLA_WARNING_HOURS": "How long before a case's SLA runs out its owner is warned.",
    "NOTIFICATION_DIGEST_AT": "When the daily digest goes out (`HH:MM`, team time zone).",
    "NOTIFICATION_POLL_SECONDS": "How often the notification dispatcher looks for sends due.",
    "NOTIFICATION_LEASE_SECONDS": "How long a claimed send may take before another dispatcher "
    "retries it.",
    "NOTIFICATION_WEBHOOK_HOSTS": "Comma-separated hosts a person's webhook may point at "
    "(`hooks.slack.com,chat.example.com`); empty: any. Without "
    "the list the service posts wherever a person says, internal "
    "addresses included.",
}
"""What `notification_settings` reads, with its meaning (defaults: 24 h warning, `07:00`
digest, 30 s poll, 900 s lease)."""


@dataclass(frozen=True)
class NotificationSettings:
    webhook_secret: str | None
    sla_warning: timedelta
    digest_at: time
    poll_seconds: float
    lease: timedelta
    webhook_hosts: frozenset[str] = frozenset()

    def webhook_allowed(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return bool(host) and (not self.webhook_hosts or host in self.webhook_hosts)


def notification_settings() -> NotificationSettings:
    """Read at the dispatcher's start; a bad value raises ValueError naming the variable."""
    secret, warning, digest, poll, lease, hosts = NOTIFICATION_ENVIRONMENT
    try:
        hours = float(os.environ.get(warning, "24"))
        seconds = float(os.environ.get(poll, "30"))
        lease_seconds = float(os.environ.get(lease, "900"))
        digest_at = time.fromisoformat(os.environ.get(digest, "07:00"))
    except ValueError as exc:
        raise ValueError(f"a NOTIFICATION_* setting is malformed: {exc}") from None
    if hours < 0 or seconds <= 0 or lease_seconds <= 0:
        raise ValueError(f"{warning} must be >= 0, {poll} and {lease} > 0")
    return NotificationSettings(
        os.environ.get(secret) or None,
        timedelta(hours=hours),
        digest_at,
        seconds,
        timedelta(seconds=lease_seconds),
        frozenset(h.strip().lower() for h in os.environ.get(hosts, "").split(",") if h.strip()),
    )


@dataclass(frozen=True)
class CaseDependencies:
    """What routes, use cases and workers are handed: built once at start by the spec (the
    composition root), never read from the environment below it."""

    policy: CasePolicy
    inbound_email: InboundEmailLimits
    notifications: NotificationSettings
    attachments: AttachmentLimits

    @classmethod
    def from_environment(cls) -> CaseDependencies:
        """A bad CASE_SLA_TARGETS rule, INBOUND_EMAIL_*, NOTIFICATION_* or ATTACHMENT_* value,
        or an OBJECT_STORE_URL that names no bucket, stops the service at start."""
        if object_store := os.environ.get("OBJECT_STORE_URL"):
            ObjectStoreLocation.parse(object_store)
        return cls(case_policy(), InboundEmailLimits(), notification_settings(), AttachmentLimits())
