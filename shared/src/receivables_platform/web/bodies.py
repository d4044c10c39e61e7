"""The base of every request body: unknown fields and NUL characters refused as 422.

PostgreSQL text and jsonb cannot hold U+0000, so a NUL that got past validation
would surface as a 500 from the database; refusing it here names the field
instead. The check walks nested lists and objects, so `lines[3].description`
is covered as well as top-level fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if _has_nul(value):
                    raise ValueError(f"{name}: text may not contain NUL characters")
        return data
