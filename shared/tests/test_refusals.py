"""Refusal kinds: the domain says why it refuses, `web.refusals` alone says which status."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from receivables_platform.domain import NotFound, RefusalKind, Refused
from receivables_platform.web.refusals import HTTP_STATUS, as_problem

ROOT = Path(__file__).resolve().parents[2]
ADOPTED = ("billing-adapter", "case-service", "collections-service")
"""Services whose refusals name kinds, never HTTP statuses."""


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (RefusalKind.INVALID, 422),
        (RefusalKind.CONFLICT, 409),
        (RefusalKind.NOT_FOUND, 404),
        (RefusalKind.NOT_PERMITTED, 403),
        (RefusalKind.UNAVAILABLE, 503),
        (RefusalKind.UPSTREAM_FAILED, 502),
    ],
)
def test_each_kind_answers_its_status_naming_the_field(kind: RefusalKind, status: int) -> None:
    problem = as_problem(
        Refused("invoice INV-1 is voided", field="invoice_id", title="Invoice voided", kind=kind)
    )
    assert (problem.status, problem.title) == (status, "Invoice voided")
    assert [e["field"] for e in problem.errors] == ["body.invoice_id"]


def test_every_kind_has_a_status() -> None:
    assert set(HTTP_STATUS) == set(RefusalKind)


def test_a_refusal_is_invalid_unless_it_says_otherwise() -> None:
    assert Refused("amount must be above zero").kind is RefusalKind.INVALID
    assert NotFound("no account 42").kind is RefusalKind.NOT_FOUND


def _status_keywords(source: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Refused":
            found += [
                f"{source.relative_to(ROOT)}:{node.lineno}"
                for k in node.keywords
                if k.arg == "status"
            ]
    return found


@pytest.mark.parametrize("service", ADOPTED)
def test_no_refusal_of_an_adopted_service_names_an_http_status(service: str) -> None:
    sources = (ROOT / "services" / service / "src").rglob("*.py")
    assert [hit for source in sources for hit in _status_keywords(source)] == []
