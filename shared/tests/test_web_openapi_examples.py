"""Every model in the OpenAPI document gets a receivables example, or is named as lacking one.

The contract checker (receivables_devkit.testing.openapi_contract) is exercised here on
small apps, so each way a document can fall short is seen to be caught.
"""

from datetime import date
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from receivables_devkit.testing.openapi_contract import contract_gaps
from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import create_app


class PromiseRequest(BaseModel):
    account_id: UUID
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern="^[A-Z]{3}$")
    promised_date: date
    case_id: UUID | None = None
    note: str | None = None


class PromiseView(PromiseRequest):
    commitment_id: UUID
    status: str


class Courier(BaseModel):
    tracking_code: str
    """A text field the vocabulary does not know: no example is invented for it."""


class Letter(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"pages": 0}]})

    pages: int = Field(ge=1)


def app_with(router: APIRouter) -> FastAPI:
    return create_app(
        ServiceSettings(service_name="t", jwt_secret="s" * 32), title="t", routers=[router]
    )


def promises() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/commitments", status_code=201)
    async def make(body: PromiseRequest) -> PromiseView:
        """Record a promise to pay."""
        return PromiseView(**body.model_dump(), commitment_id=uuid4(), status="open")

    return router


def test_models_get_examples_from_the_receivables_vocabulary_that_their_schema_accepts() -> None:
    document = app_with(promises()).openapi()
    example = document["components"]["schemas"]["PromiseRequest"]["examples"][0]
    assert example["account_id"] == "0193a5b2-7c41-7e2a-9f30-4b8c2d1e6a01"
    assert example["amount_minor"] == 125000 and example["currency"] == "EUR"
    assert example["promised_date"] == "2026-03-28"
    # `case_id` is a case number elsewhere; here a uuid, so the vocabulary does not apply
    UUID(example["case_id"])
    assert (
        "minor units"
        in document["components"]["schemas"]["PromiseRequest"]["properties"]["amount_minor"][
            "description"
        ]
    )
    assert contract_gaps(document) == []


def test_a_free_text_field_nobody_gave_a_value_leaves_its_model_without_an_example() -> None:
    router = APIRouter()

    @router.get("/v1/couriers/{courier_id}")
    async def courier(courier_id: UUID) -> Courier:
        """Where the dunning letter is."""
        return Courier(tracking_code=str(courier_id))

    gaps = contract_gaps(app_with(router).openapi())
    assert "Courier: no example" in gaps


def test_an_example_its_own_schema_refuses_is_a_gap() -> None:
    router = APIRouter()

    @router.get("/v1/letters/{letter_id}")
    async def letter(letter_id: UUID) -> Letter:
        """A dunning letter."""
        return Letter(pages=1)

    gaps = contract_gaps(app_with(router).openapi())
    assert any(g.startswith("Letter: example invalid at pages") for g in gaps), gaps


def test_an_operation_without_a_description_or_with_an_untyped_answer_is_a_gap() -> None:
    router = APIRouter()

    @router.get("/v1/kpis")
    async def kpis() -> dict[str, object]:
        return {}

    gaps = contract_gaps(app_with(router).openapi())
    assert "GET /v1/kpis: no description (write the route's docstring)" in gaps
    assert "GET /v1/kpis 200: answers an untyped object" in gaps
