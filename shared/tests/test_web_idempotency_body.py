"""The stored and sent body of an idempotent answer is what FastAPI's encoder would make.

`respond` dumps a response model with pydantic alone instead of walking it again with
`jsonable_encoder` (issue 23); a replay sends the stored bytes, so a first answer and its
replays stay the same bytes, and those must be what clients got before the change.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from receivables_platform.web.idempotency import _json


class Colour(StrEnum):
    RED = "red"


class Line(BaseModel):
    description: str
    amount_minor: int
    at: datetime | None = None


class Answer(BaseModel):
    invoice_id: UUID
    name: str = Field(serialization_alias="displayName")
    issue_date: date
    colour: Colour
    ratio: float
    share: Decimal
    lines: list[Line]
    tags: dict[str, list[int]]
    note: str | None = None


def encoded(content: object) -> bytes:
    return json.dumps(jsonable_encoder(content), separators=(",", ":")).encode()


def test_a_model_is_the_bytes_the_encoder_makes() -> None:
    answer = Answer(
        invoice_id=UUID("01900000-0000-7000-8000-0000000000a1"),
        name='Müller & Söhne \u2014 "Zürich"',
        issue_date=date(2026, 12, 6),
        colour=Colour.RED,
        ratio=0.1,
        share=Decimal("12.50"),
        lines=[
            Line(description="a", amount_minor=1, at=datetime(2026, 12, 6, 9, 30, tzinfo=UTC)),
            Line(description="b\nc", amount_minor=-2),
        ],
        tags={"x": [1, 2], "": []},
    )
    assert _json(answer) == encoded(answer)


def test_anything_else_goes_through_the_encoder() -> None:
    content = {"rows": [Line(description="a", amount_minor=1)], "when": date(2026, 1, 2)}
    assert _json(content) == encoded(content)
    assert _json([1, "é"]) == encoded([1, "é"])
