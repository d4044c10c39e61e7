"""A service-shaped router using every convention: roles, Idempotency-Key, ETag/If-Match.

Runs under a real uvicorn against PostgreSQL; executions are counted as events
in the store, so "ran once" means one event, not one log line.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, ClassVar

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receivables_platform.contracts.base import EventContract
from receivables_platform.ids import new_id
from receivables_platform.settings import ServiceSettings
from receivables_platform.store import EventStore, PendingStream
from receivables_platform.web.app import ServiceState, create_app
from receivables_platform.web.auth import Principal, issue_token, require_roles
from receivables_platform.web.etag import Precondition, require_if_match, set_etag
from receivables_platform.web.idempotency import (
    Idempotency,
    IdempotentRequest,
    purge_expired_keys,
)
from receivables_platform.web.problems import Problem, problem_type
from receivables_platform.web.request_log import correlation_id
from receivables_platform.web.testserver import running_server

SECRET = "writes-test-secret-0123456789abcdef012"


class NoteWritten(EventContract):
    event_type: ClassVar[str] = "test.note.written"
    aggregate: ClassVar[str] = "note"
    text: str


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class NoteOut(BaseModel):
    note_id: str
    text: str
    version: int


Hook = Callable[[], Awaitable[None]]


@dataclass
class Hooks:
    """Points where a test holds a request, to line up concurrent ones deterministically."""

    inside_create: Hook | None = None
    after_load: Hook | None = None


store = EventStore(source="web-test", topic="web-test.events.v1")
router = APIRouter(prefix="/v1/notes")
Writer = Annotated[Principal, Depends(require_roles("collector", "case_agent"))]
Reader = Annotated[Principal, Depends(require_roles("collector", "case_agent", "supervisor"))]
IfMatch = Annotated[Precondition, Depends(require_if_match)]


async def pause(request: Request, name: str) -> None:
    hook = getattr(request.app.state.hooks, name)
    if hook is not None:
        await hook()


async def write_note(idem: Idempotency, text: str, correlation: str | None = None) -> str:
    """A new note's event, in the key's transaction; its id."""
    note_id = str(new_id())
    pending = PendingStream(f"note-{note_id}", 0, [NoteWritten(text=text)], note_id)
    await store.append(idem.conn, [pending], correlation_id=correlation)
    return note_id


@router.post("", status_code=201, response_model=NoteOut)
async def create_note(
    note: NoteIn, request: Request, idem: IdempotentRequest, _: Writer
) -> Response:
    note_id = await write_note(idem, note.text, correlation_id(request))
    if note.text == "refuse":
        raise Problem(
            422,
            "Note refused",
            "this note may not be written",
            type=problem_type("note-refused"),
            field="body.text",
        )
    await pause(request, "inside_create")
    return await idem.respond(
        NoteOut(note_id=note_id, text=note.text, version=1),
        headers={"Location": f"/v1/notes/{note_id}"},
        version=1,
    )


@router.post("/forgetful", status_code=201, response_model=NoteOut)
async def create_note_forgetting_to_respond(
    note: NoteIn, idem: IdempotentRequest, _: Writer
) -> NoteOut:
    """A route that writes and answers without `idem.respond`: its write is not kept."""
    note_id = await write_note(idem, note.text)
    return NoteOut(note_id=note_id, text=note.text, version=1)


@router.post("/cut-off", status_code=201, response_model=NoteOut)
async def create_note_on_a_connection_that_breaks(
    note: NoteIn, request: Request, idem: IdempotentRequest, _: Writer
) -> Response:
    """Writes, loses its database session (a failover, an operator's kill), then refuses."""
    await write_note(idem, note.text)
    state: ServiceState = request.app.state.service
    await state.pool.execute("SELECT pg_terminate_backend($1)", idem.conn.get_server_pid())
    raise Problem(422, "Note refused", "refused after the session broke", field="body.text")


@router.get("/{note_id}")
async def get_note(note_id: str, request: Request, response: Response, _: Reader) -> NoteOut:
    state: ServiceState = request.app.state.service
    async with state.pool.acquire() as conn:
        history = await store.load(conn, f"note-{note_id}")
    if not history:
        raise Problem(404, "Note not found", f"no note {note_id}", type=problem_type("not-found"))
    set_etag(response, history[-1].version)
    return NoteOut(note_id=note_id, text=history[-1].data["text"], version=history[-1].version)


@router.put("/{note_id}")
async def rewrite_note(
    note_id: str,
    note: NoteIn,
    request: Request,
    response: Response,
    precondition: IfMatch,
    _: Writer,
) -> NoteOut:
    state: ServiceState = request.app.state.service
    stream = f"note-{note_id}"
    async with state.pool.acquire() as conn, conn.transaction():
        current = await store.stream_version(conn, stream)
        if current == 0:
            raise Problem(404, "Note not found", f"no note {note_id}")
        expected = precondition.check(current)
        await pause(request, "after_load")
        await store.append(
            conn, [PendingStream(stream, expected, [NoteWritten(text=note.text)], note_id)]
        )
    set_etag(response, expected + 1)
    return NoteOut(note_id=note_id, text=note.text, version=expected + 1)


@dataclass
class Harness:
    app: FastAPI
    http: httpx.AsyncClient
    pool: asyncpg.Pool

    @property
    def hooks(self) -> Hooks:
        hooks: Hooks = self.app.state.hooks
        return hooks

    async def notes_written(self) -> int:
        count = await self.pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'test.note.written'"
        )
        return int(count)


@pytest.fixture
async def harness(platform_db: str, pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    settings = ServiceSettings(
        service_name="web-test", database_url=platform_db, jwt_secret=SECRET, jwt_jwks_url=None
    )
    app = create_app(settings, title="writes test", routers=[router])
    app.state.hooks = Hooks()
    async with running_server(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Harness(app, http, pool)


def auth(sub: str = "user-1", roles: tuple[str, ...] = ("collector",)) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles)}"}


def keyed(key: str, sub: str = "user-1") -> dict[str, str]:
    return {**auth(sub), "Idempotency-Key": key}


# --- Idempotency-Key -------------------------------------------------------------------------


async def test_a_retry_replays_the_first_response_exactly(harness: Harness) -> None:
    first = await harness.http.post(
        "/v1/notes", json={"text": "call back Tuesday"}, headers=keyed("k-1")
    )
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    retry = await harness.http.post(
        "/v1/notes",
        content=b'{ "text" :  "call back Tuesday" }',
        headers={**keyed("k-1"), "Content-Type": "application/json"},
    )
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"] == '"1"'
    assert retry.headers["content-type"] == "application/json"
    assert retry.headers["idempotent-replayed"] == "true"
    assert await harness.notes_written() == 1


async def test_the_same_key_with_another_body_is_a_422(harness: Harness) -> None:
    await harness.http.post("/v1/notes", json={"text": "one"}, headers=keyed("k-2"))
    reused = await harness.http.post("/v1/notes", json={"text": "two"}, headers=keyed("k-2"))
    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["type"] == problem_type("idempotency-key-reused")
    assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await harness.notes_written() == 1


async def test_keys_belong_to_their_caller(harness: Harness) -> None:
    a = await harness.http.post("/v1/notes", json={"text": "x"}, headers=keyed("k-3", "user-1"))
    b = await harness.http.post("/v1/notes", json={"text": "x"}, headers=keyed("k-3", "user-2"))
    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotent-replayed" not in b.headers
    assert a.json()["note_id"] != b.json()["note_id"]
    assert await harness.notes_written() == 2


async def test_a_duplicate_while_the_first_is_in_flight_is_a_409(harness: Harness) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        entered.set()
        await release.wait()

    harness.hooks.inside_create = hold
    first = asyncio.create_task(
        harness.http.post("/v1/notes", json={"text": "promise"}, headers=keyed("k-4"))
    )
    await asyncio.wait_for(entered.wait(), 10)
    harness.hooks.inside_create = None
    try:
        duplicate = await harness.http.post(
            "/v1/notes", json={"text": "promise"}, headers=keyed("k-4"), timeout=5
        )
    finally:
        release.set()
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.json()["type"] == problem_type("idempotency-key-in-use")
    assert duplicate.headers["retry-after"] == "1"
    assert (await first).status_code == 201
    again = await harness.http.post("/v1/notes", json={"text": "promise"}, headers=keyed("k-4"))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == (await first).content
    assert await harness.notes_written() == 1


async def test_a_burst_of_duplicates_executes_once(harness: Harness) -> None:
    async def slow() -> None:
        await asyncio.sleep(0.2)

    harness.hooks.inside_create = slow
    responses = await asyncio.gather(
        *[
            harness.http.post("/v1/notes", json={"text": "burst"}, headers=keyed("k-5"))
            for _ in range(8)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409} and 201 in statuses
    created = {r.json()["note_id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert await harness.notes_written() == 1


async def test_a_refused_request_stores_nothing_and_a_retry_runs_again(harness: Harness) -> None:
    for _ in range(2):
        refused = await harness.http.post(
            "/v1/notes", json={"text": "refuse"}, headers=keyed("k-6")
        )
        assert refused.status_code == 422
        assert refused.json()["type"] == problem_type("note-refused")
        assert "idempotent-replayed" not in refused.headers
    assert await harness.notes_written() == 0
    assert await harness.pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_a_refusal_releases_its_key_before_the_client_hears_of_it(
    platform_db: str, pool: asyncpg.Pool
) -> None:
    """A client may retry the moment a refusal arrives: the key's lock must be gone by then,
    or the retry is told the refused request is still in progress (a 409)."""
    settings = ServiceSettings(
        service_name="web-test", database_url=platform_db, jwt_secret=SECRET, jwt_jwks_url=None
    )
    app = create_app(settings, title="writes test", routers=[router])
    app.state.hooks = Hooks()
    held_at_answer: list[int] = []

    def locks_seen_at_answer(inner: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            async def observed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    held_at_answer.append(
                        await pool.fetchval(
                            "SELECT count(*) FROM pg_locks l JOIN pg_database d "
                            "ON d.oid = l.database WHERE l.locktype = 'advisory' "
                            "AND d.datname = current_database()"
                        )
                    )
                await send(message)

            await inner(scope, receive, observed)

        return middleware

    app.add_middleware(locks_seen_at_answer)
    async with running_server(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        refused = await http.post("/v1/notes", json={"text": "refuse"}, headers=keyed("k-61"))
    assert refused.status_code == 422
    assert held_at_answer == [0]


async def test_a_refusal_whose_rollback_fails_is_still_answered(harness: Harness) -> None:
    """Its session is gone, and its writes and key lock with it: the client hears the
    refusal, not a 500, and the key is free for a retry."""
    refused = await harness.http.post(
        "/v1/notes/cut-off", json={"text": "lost"}, headers=keyed("k-cut")
    )
    assert refused.status_code == 422, refused.text
    assert await harness.notes_written() == 0
    retry = await harness.http.post("/v1/notes", json={"text": "lost"}, headers=keyed("k-cut"))
    assert retry.status_code == 201, retry.text


async def test_an_answer_without_respond_is_a_500_and_keeps_nothing(harness: Harness) -> None:
    """The key's transaction is committed by `respond`: a route that answers success
    without it would lose its writes behind a 201, so it is refused instead."""
    answer = await harness.http.post(
        "/v1/notes/forgetful", json={"text": "lost"}, headers=keyed("k-forgot")
    )
    assert answer.status_code == 500
    assert await harness.notes_written() == 0
    assert await harness.pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    ok = await harness.http.post("/v1/notes", json={"text": "kept"}, headers=keyed("k-after"))
    assert ok.status_code == 201, ok.text  # the connection went back clean


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Idempotency-Key": ""},
        {"Idempotency-Key": "has spaces"},
        {"Idempotency-Key": "k" * 256},
    ],
)
async def test_a_missing_or_malformed_key_is_a_400(
    harness: Harness, headers: dict[str, str]
) -> None:
    response = await harness.http.post(
        "/v1/notes", json={"text": "x"}, headers={**auth(), **headers}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await harness.notes_written() == 0


async def test_old_keys_are_purged(harness: Harness) -> None:
    await harness.http.post("/v1/notes", json={"text": "old"}, headers=keyed("k-old"))
    await harness.http.post("/v1/notes", json={"text": "new"}, headers=keyed("k-new"))
    await harness.pool.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25h' WHERE key = 'k-old'"
    )
    assert await purge_expired_keys(harness.pool) == 1
    assert await harness.pool.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["k-new"]


# --- ETag / If-Match -------------------------------------------------------------------------


async def create(harness: Harness, text: str = "first") -> str:
    response = await harness.http.post(
        "/v1/notes", json={"text": text}, headers=keyed(str(new_id()))
    )
    assert response.status_code == 201, response.text
    return str(response.headers["location"])


async def test_the_etag_is_the_aggregate_version(harness: Harness) -> None:
    location = await create(harness)
    assert (await harness.http.get(location, headers=auth())).headers["etag"] == '"1"'
    updated = await harness.http.put(
        location, json={"text": "second"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"2"'
    fetched = await harness.http.get(location, headers=auth())
    assert fetched.headers["etag"] == '"2"' and fetched.json()["text"] == "second"


async def test_a_stale_if_match_is_a_412_and_changes_nothing(harness: Harness) -> None:
    location = await create(harness)
    await harness.http.put(location, json={"text": "second"}, headers={**auth(), "If-Match": '"1"'})
    stale = await harness.http.put(
        location, json={"text": "lost update"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"] == problem_type("stale-version")
    assert stale.headers["etag"] == '"2"'
    fetched = await harness.http.get(location, headers=auth())
    assert fetched.json() | {"note_id": None} == {"note_id": None, "text": "second", "version": 2}


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        (None, 428),
        ("1", 400),
        ('"1', 400),
        ("", 400),
        ('W/"1"', 412),
        ('"0"', 412),
        ('"abc"', 412),
        ('"7", "1"', 200),
        ("*", 428),
        ('"1"', 200),
    ],
)
async def test_if_match_forms(harness: Harness, if_match: str | None, status: int) -> None:
    location = await create(harness)
    headers = auth() if if_match is None else {**auth(), "If-Match": if_match}
    response = await harness.http.put(location, json={"text": "next"}, headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "header.If-Match"


async def test_two_writers_with_the_same_if_match_one_wins(harness: Harness) -> None:
    location = await create(harness)
    both_loaded = asyncio.Barrier(2)

    async def meet() -> None:
        await asyncio.wait_for(both_loaded.wait(), 10)

    harness.hooks.after_load = meet
    results = await asyncio.gather(
        *[
            harness.http.put(
                location, json={"text": f"writer {n}"}, headers={**auth(), "If-Match": '"1"'}
            )
            for n in (1, 2)
        ]
    )
    assert sorted(r.status_code for r in results) == [200, 412]
    loser = next(r for r in results if r.status_code == 412)
    assert loser.json()["type"] == problem_type("stale-version")
    harness.hooks.after_load = None
    assert (await harness.http.get(location, headers=auth())).json()["version"] == 2


# --- one dependency per concern --------------------------------------------------------------


def test_each_dependency_of_a_route_is_solved_in_one_level() -> None:
    """FastAPI solves every level of a dependency chain on each request (issue 23): the
    role check is the bearer scheme itself and idempotency reuses the caller it verified,
    so no dependency of a route has dependencies of its own."""
    for route in router.routes:
        assert isinstance(route, APIRoute)
        chained = {
            getattr(sub.call, "__name__", repr(sub.call)): [
                getattr(s.call, "__name__", repr(s.call)) for s in sub.dependencies
            ]
            for sub in route.dependant.dependencies
            if sub.dependencies
        }
        assert not chained, f"{route.path}: {chained}"
