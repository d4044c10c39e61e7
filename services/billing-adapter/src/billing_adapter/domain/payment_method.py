"""Auto-pay keeps a reference to a payment method (a billing-system token), never the number.

Storing a card or bank account number would put this service and every
consumer of `billing.events.v1` in PCI scope, and events are kept forever, so
anything that looks like one is refused before it can become an event.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-_.]")
_LONG_DIGIT_RUN = re.compile(r"\d{8,}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def looks_like_account_number(reference: str) -> bool:
    """Eight or more digits in a row (card PAN, bank account, routing + account) or an IBAN.

    Separators are ignored first, so `4242 4242 4242 4242` and
    `4242-4242-...` are caught too; tokens such as `pm_1Nv8Xy2eZvKYlo2C` pass.
    """
    compact = _SEPARATORS.sub("", reference)
    return bool(_LONG_DIGIT_RUN.search(compact) or _IBAN.fullmatch(compact.upper()))
