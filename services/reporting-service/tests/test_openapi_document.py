"""Reporting's OpenAPI document as an integrator reads it: every operation described, every
model and inline body with an example its own schema accepts, every JSON answer typed."""

from receivables_devkit.testing.openapi_contract import contract_gaps, served_document
from reporting_service.spec import SPEC


def test_every_operation_is_described_and_every_model_has_a_valid_example() -> None:
    gaps = contract_gaps(served_document(SPEC))
    assert not gaps, "\n".join(gaps)
