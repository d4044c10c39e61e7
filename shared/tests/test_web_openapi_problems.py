"""The OpenAPI document lists the problem answers each kind of route can give."""

from fastapi import APIRouter, Depends, FastAPI

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import create_app
from receivables_platform.web.auth import require_roles
from receivables_platform.web.etag import Precondition, require_if_match
from receivables_platform.web.idempotency import IdempotentRequest

router = APIRouter()
GUARD = Depends(require_roles("admin"))


@router.get("/v1/open")
async def open_read() -> dict[str, str]:
    return {}


@router.get("/v1/things/{thing_id}", dependencies=[GUARD])
async def read_thing(thing_id: str) -> dict[str, str]:
    return {}


@router.post("/v1/things/{thing_id}/close", dependencies=[GUARD])
async def close_thing(thing_id: str, _: Precondition = Depends(require_if_match)) -> dict[str, str]:
    return {}


def documented(app: FastAPI, path: str, method: str) -> dict[str, dict]:
    responses: dict[str, dict] = app.openapi()["paths"][path][method]["responses"]
    return responses


def app() -> FastAPI:
    return create_app(
        ServiceSettings(service_name="t", jwt_secret="s" * 32), title="t", routers=[router]
    )


def test_each_route_documents_what_it_can_refuse():
    built = app()
    assert sorted(documented(built, "/v1/open", "get")) == ["200", "431", "503"]
    assert sorted(documented(built, "/v1/things/{thing_id}", "get")) == [
        "200",
        "400",
        "401",
        "403",
        "404",
        "422",
        "431",
        "503",
    ]
    assert sorted(documented(built, "/v1/things/{thing_id}/close", "post")) == [
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "412",
        "422",
        "428",
        "431",
        "503",
    ]


def test_refusals_are_problem_json_with_the_problem_schema():
    built = app()
    answer = documented(built, "/v1/things/{thing_id}/close", "post")["422"]
    assert answer["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    problem = built.openapi()["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status"]
    assert "errors" in problem["properties"]


@router.post("/v1/things", status_code=201, dependencies=[GUARD])
async def create_thing(idem: IdempotentRequest) -> dict[str, str]:
    return {}


def parameter(app: FastAPI, path: str, method: str, name: str) -> dict:
    found = [p for p in app.openapi()["paths"][path][method]["parameters"] if p["name"] == name]
    assert len(found) == 1
    return found[0]


def test_headers_the_server_enforces_are_declared_required():
    built = app()
    assert parameter(built, "/v1/things", "post", "Idempotency-Key")["required"] is True
    assert parameter(built, "/v1/things/{thing_id}/close", "post", "If-Match")["required"] is True


def test_headers_the_server_answers_are_declared_per_status():
    built = app()
    create = documented(built, "/v1/things", "post")
    assert set(create["201"]["headers"]) == {"ETag", "Location", "Idempotent-Replayed"}
    assert set(create["409"]["headers"]) == {"Retry-After"}  # the same key still in flight
    assert "Idempotency-Key was used before" in create["422"]["description"]
    assert set(documented(built, "/v1/things/{thing_id}", "get")["200"]["headers"]) == {"ETag"}
    close = documented(built, "/v1/things/{thing_id}/close", "post")
    assert set(close["200"]["headers"]) == {"ETag"}
    assert set(close["412"]["headers"]) == {"ETag"}
    assert "headers" not in close["409"]  # no idempotency key on this route
    assert set(documented(built, "/v1/open", "get")["503"]["headers"]) == {"Retry-After"}
    assert "headers" not in documented(built, "/v1/open", "get")["200"]


def test_a_required_header_is_a_string_not_string_or_null():
    schema = parameter(app(), "/v1/things", "post", "Idempotency-Key")["schema"]
    assert schema["type"] == "string" and "anyOf" not in schema


@router.post(
    "/v1/things/{thing_id}/pay",
    dependencies=[GUARD],
    responses={502: {"description": "The payment provider failed"}},
)
async def pay_thing(thing_id: str) -> dict[str, str]:
    return {}


def test_a_failure_declared_by_its_description_alone_is_a_problem():
    answer = documented(app(), "/v1/things/{thing_id}/pay", "post")["502"]
    assert answer["description"] == "The payment provider failed"
    assert answer["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }


def test_readiness_answers_its_checks_when_not_ready_not_a_problem():
    # a probe (and a person) reads which check failed from the 503's body
    answer = documented(app(), "/readyz", "get")["503"]
    assert answer["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}
    }


@router.post(
    "/v1/registered-things",
    status_code=201,
    dependencies=[GUARD],
    responses={200: {"description": "Already registered under this external id"}},
)
async def register_thing(idem: IdempotentRequest) -> dict[str, str]:
    return {}


def test_a_create_answered_200_for_the_one_already_registered_declares_its_location():
    # the fuzzer's second POST of one external id gets 200 with where the first one is
    answer = documented(app(), "/v1/registered-things", "post")["200"]
    assert set(answer["headers"]) == {"ETag", "Location", "Idempotent-Replayed"}
