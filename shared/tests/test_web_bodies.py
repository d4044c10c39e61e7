"""Request bodies refuse NUL characters anywhere, so PostgreSQL never sees one."""

import pytest
from pydantic import ValidationError

from receivables_platform.web.bodies import EmailAddress, RequestBody
from receivables_platform.web.request_text import nul_field


class Line(RequestBody):
    description: str


class Invoice(RequestBody):
    reference: str
    lines: list[Line] = []
    tags: dict[str, str] = {}


@pytest.mark.parametrize(
    "body",
    [
        {"reference": "INV\x00-1"},
        {"reference": "INV-1", "lines": [{"description": "ok"}, {"description": "a\x00b"}]},
        {"reference": "INV-1", "tags": {"k\x00": "v"}},
    ],
)
def test_a_nul_anywhere_is_refused_naming_the_field(body):
    with pytest.raises(ValidationError) as refused:
        Invoice.model_validate(body)
    assert "NUL" in str(refused.value)
    assert next(iter(body.keys() - {"reference"}), "reference") in str(refused.value)


def test_clean_text_and_unknown_fields():
    assert Invoice.model_validate({"reference": "INV-1", "lines": [{"description": "é"}]})
    with pytest.raises(ValidationError):
        Invoice.model_validate({"reference": "INV-1", "surprise": 1})


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/v1/aging", b"segment=%C2%AB%00x&as_of=2026-01-01", "query.segment"),
        ("/v1/aging", b"a=1&team=ops\x00", "query.team"),
        ("/v1/aging", b"k%00=v", "query.k\ufffd"),
        ("/v1/cases/a\x00b", b"", "path"),
        ("/v1/aging", b"segment=%2500&team=100%25", None),  # an escaped percent sign, not a NUL
        ("/v1/aging", b"", None),
    ],
)
def test_query_and_path_text_name_where_a_nul_is(path, query, field):
    assert nul_field({"type": "http", "path": path, "query_string": query}) == field


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("pat@customer.test", True),
        ("o'brien+ar@sub.example.co.uk", True),
        ("pat@customer.test\r\nBcc: all@x.test", False),
        ("]\r\x01", False),
        ("pat customer.test", False),
        ("<pat@customer.test>", False),
        ("pat@@x.test", False),
    ],
)
def test_an_email_address_cannot_carry_a_header_break(address, valid):
    assert valid == (not _errors(Mail, {"to": address}))


class Mail(RequestBody):
    to: EmailAddress


def _errors(model: type[RequestBody], body: dict) -> list:
    try:
        model.model_validate(body)
    except ValidationError as refused:
        return refused.errors()
    return []
