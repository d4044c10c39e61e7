"""Money is integer minor units plus an ISO 4217 currency; never a float."""

from __future__ import annotations

from functools import cache
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


@cache
def is_currency(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


def _check_currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$"),
                         AfterValidator(_check_currency)]
MinorUnits = Annotated[int, Field(strict=True)]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: MinorUnits
    currency: CurrencyCode
