"""Request bodies refuse NUL characters anywhere, so PostgreSQL never sees one."""

import pytest
from pydantic import ValidationError

from receivables_platform.web.bodies import RequestBody


class Line(RequestBody):
    description: str


class Invoice(RequestBody):
    reference: str
    lines: list[Line] = []
    tags: dict[str, str] = {}


@pytest.mark.parametrize("body", [
    {"reference": "INV\x00-1"},
    {"reference": "INV-1", "lines": [{"description": "ok"}, {"description": "a\x00b"}]},
    {"reference": "INV-1", "tags": {"k\x00": "v"}},
])
def test_a_nul_anywhere_is_refused_naming_the_field(body):
    with pytest.raises(ValidationError) as refused:
        Invoice.model_validate(body)
    assert "NUL" in str(refused.value)
    assert next(iter(body.keys() - {"reference"}), "reference") in str(refused.value)


def test_clean_text_and_unknown_fields():
    assert Invoice.model_validate({"reference": "INV-1", "lines": [{"description": "é"}]})
    with pytest.raises(ValidationError):
        Invoice.model_validate({"reference": "INV-1", "surprise": 1})
