"""Money is integer minor units plus an ISO 4217 currency; never a float."""

from __future__ import annotations

from functools import cache
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


@cache
def is_currency(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


def _no_currency() -> str:
    """ISO 4217's code for "no currency involved" (numeric 999), from the registry."""
    found = pycountry.currencies.get(numeric="999")
    assert found is not None, "pycountry has no ISO 4217 code 999"
    return str(found.alpha_3)


NO_CURRENCY = _no_currency()
"""What an amount is in before anything says (an account billing has not described)."""


def _check_currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[
    str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$"), AfterValidator(_check_currency)
]
MinorUnits = Annotated[int, Field(strict=True)]
MAX_MINOR = 10**15
"""The largest amount an API accepts: ten trillion in a two-decimal currency. Read models
keep amounts and their sums in PostgreSQL bigint (9.2e18), which a larger one would
overflow in every service that consumes it."""


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: MinorUnits
    currency: CurrencyCode
