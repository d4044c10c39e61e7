"""The base of every request body: unknown fields and NUL characters refused as 422.

PostgreSQL text and jsonb cannot hold U+0000, so a NUL that got past validation
would surface as a 500 from the database; refusing it here names the field
instead. Lists and mappings of text are walked; nested bodies (`lines[3].description`)
check their own fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


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

    # after parsing: a "before" validator would cost string-mode validation (CSV rows
    # through model_validate_strings) its coercions; nested bodies check their own fields
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        if _has_nul(value):
            raise ValueError(f"{info.field_name}: text may not contain NUL characters")
        return value


# one side of local@domain: no space, control character or address punctuation
_MAILBOX_PART = r'[^@\s\x00-\x1f\x7f<>()\[\],;:"\\]+'
EmailAddress = Annotated[
    str,
    Field(
        max_length=320,
        pattern=f"^{_MAILBOX_PART}@{_MAILBOX_PART}$",
        description="An email address (local@domain)",
        examples=["pat@customer.example"],
    ),
]
"""A mailbox we send to: a line break or control character in it would end the header."""
