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

ENVIRONMENT = ("CASE_SLA_DEFAULT_DAYS", "CASE_SLA_TARGETS", "CASE_REOPEN_WINDOW_DAYS")
"""What `case_policy` reads; the Helm chart sets exactly these."""


def case_policy() -> CasePolicy:
    """The policy the environment sets; a bad rule raises ValueError naming it."""
    default_days, targets, reopen_window = ENVIRONMENT
    default = int(os.environ.get(default_days, "14"))
    return CasePolicy(SlaPolicy.parse(os.environ.get(targets, ""), default),
                      int(os.environ.get(reopen_window, "30")))


NOTIFICATION_ENVIRONMENT = ("NOTIFICATION_WEBHOOK_SECRET", "NOTIFICATION_SLA_WARNING_HOURS",
                            "NOTIFICATION_DIGEST_AT", "NOTIFICATION_POLL_SECONDS",
                            "NOTIFICATION_LEASE_SECONDS", "NOTIFICATION_WEBHOOK_HOSTS")
"""What `notification_settings` reads: the outgoing webhooks' signing secret, how long before
an SLA runs out its owner is warned (24 h), when the daily digest goes (`07:00`, team time),
how often the dispatcher looks (30 s), how long a claimed send may take before another
dispatcher retries it (900 s), and the hosts a webhook may point at (comma-separated, e.g.
`hooks.slack.com,chat.example.com`; empty: any). A person enters their webhook URL
themselves, so without the list the service would post wherever they say, internal
addresses included."""


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
    return NotificationSettings(os.environ.get(secret) or None, timedelta(hours=hours),
                                digest_at, seconds, timedelta(seconds=lease_seconds),
                                frozenset(h.strip().lower() for h in
                                          os.environ.get(hosts, "").split(",") if h.strip()))

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
        return cls(case_policy(), InboundEmailLimits(), notification_settings(),
                   AttachmentLimits())
