"""The daily run, the worklist and tasks.

The worklist is a collector's open tasks due on a date (today by default),
highest priority score first (see `domain/priority.py` for the formula), then
the larger amount past due, then the account id: a stable order.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from collections_service.adapters import queries, reads
from collections_service.api.common import (
    CollectorQuery,
    Conn,
    IfMatch,
    Manager,
    MaybeIfMatch,
    Rt,
    Staff,
    check_of,
    oversees,
    own_or_overseer,
    trace,
)
from collections_service.api.models import (
    CallSheet,
    CompleteRequest,
    EscalationRequest,
    PayLinkView,
    RunRequest,
    RunResponse,
    TaskPatch,
    TaskRequest,
    TaskView,
    Worklist,
)
from collections_service.api.refusals import RefusalRoute
from collections_service.domain import tasks as task_domain
from collections_service.domain.tasks import HandSet
from collections_service.service_layer import cadence, pay_links
from collections_service.service_layer import tasks as task_cases
from receivables_platform.business_dates import BusinessDate, business_dates
from receivables_platform.contracts.collections import TaskKind
from receivables_platform.domain import Refused
from receivables_platform.ids import new_id
from receivables_platform.web.etag import set_etag
from receivables_platform.web.idempotency import IdempotentRequest
from receivables_platform.web.problems import Problem, problem_type

router = APIRouter(tags=["worklist"], route_class=RefusalRoute)
RUN_WINDOW_DAYS = 366
MAX_PAGE = 500
MAX_OFFSET = 10_000_000
"""Past any real worklist; bounds what a request can make the database skip."""


@router.post("/v1/cadence/runs", response_model=RunResponse)
async def run(body: RunRequest, request: Request, rt: Rt, principal: Manager) -> RunResponse:
    """Run the day's cadence now (the scheduler does this every business morning).

    Idempotent for a date: running it again schedules nothing twice. 409 while
    another run is in progress.
    """
    today = body.business_date or rt.clock.today()
    if abs((today - rt.clock.today()).days) > RUN_WINDOW_DAYS:
        raise Problem(
            422,
            "Date out of range",
            f"a run is for a business date within "
            f"{RUN_WINDOW_DAYS} days of today ({rt.clock.today()})",
            type=problem_type("out-of-range"),
            field="body.business_date",
        )
    summary = await cadence.run_day(
        request.app.state.service.pool, today, rt, correlation_id=trace(request)
    )
    return RunResponse.model_validate(summary, from_attributes=True)


@router.get("/v1/worklist", response_model=Worklist)
async def worklist(
    conn: Conn,
    rt: Rt,
    principal: Staff,
    collector_id: CollectorQuery = None,
    on: BusinessDate | None = Query(default=None, alias="date"),
    unassigned: bool = Query(
        default=False, description=("Supervisors: the tasks of accounts nobody is assigned to")
    ),
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_PAGE,
            description="At most this many tasks, from `offset` on; without it, every task",
            examples=[25],
        ),
    ] = None,
    offset: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_OFFSET,
            description="How many tasks of the ordered list to pass over (a page's start)",
            examples=[25],
        ),
    ] = 0,
) -> Worklist:
    """A collector's tasks for a date by priority; collectors see only their own.

    `limit` and `offset` give one page of the list, and `total` says how long the whole
    list is; only the page's tasks get a call sheet. Pages are numbered (offset), not
    cursors: a screen shows "26-50 of 300" and jumps to a page, and a day's list is a few
    hundred tasks, so counting past the earlier pages costs nothing. A task closed since the
    last page was read moves the rest up by one.
    """
    who = collector_id or principal.sub
    if unassigned and not oversees(principal):
        raise Problem(
            403,
            "Not your worklist",
            "only supervisors and admins see unassigned work",
            type=problem_type("forbidden"),
            field="query.unassigned",
        )
    own_or_overseer(principal, who, "query.collector_id")
    day = on or rt.clock.today()
    rows, total = await reads.worklist(
        conn, None if unassigned else who, day, limit=limit, offset=offset
    )
    briefs = await reads.account_briefs(conn, [r["account_id"] for r in rows])
    tasks = [
        TaskView.of(r).model_copy(
            update={
                "call_sheet": CallSheet.of(briefs[r["account_id"]], list(r["invoice_ids"]), day)
            }
        )
        for r in rows
    ]
    return Worklist(
        collector_id=None if unassigned else who, business_date=day, tasks=tasks, total=total
    )


async def _task(conn: Conn, task_id: UUID) -> TaskView:
    return TaskView.of(await reads.task(conn, task_id))


@router.get("/v1/tasks/{task_id}", response_model=TaskView)
async def read_task(task_id: UUID, response: Response, conn: Conn, principal: Staff) -> TaskView:
    """One worklist task: account, invoices, due date, assignee and outcome; the ETag is its
    version."""
    task = await _task(conn, task_id)
    if task.collector_id is not None:
        own_or_overseer(principal, task.collector_id, "path.task_id")
    set_etag(response, task.version)
    return task


@router.post("/v1/tasks/{task_id}/complete", response_model=TaskView)
async def complete(
    task_id: UUID,
    body: CompleteRequest,
    request: Request,
    response: Response,
    conn: Conn,
    rt: Rt,
    principal: Staff,
    if_match: MaybeIfMatch,
) -> TaskView:
    """Done, with its outcome; 403 on another collector's task, 409 when already closed."""
    version = await task_cases.complete(
        conn,
        task_id,
        task_cases.Completion(
            by=principal.sub,
            may_act_for_others=oversees(principal),
            outcome=body.outcome,
            today=rt.clock.today(),
            now=rt.clock.now(),
            contact_id=body.contact_id,
            notes=body.notes,
        ),
        check=check_of(if_match),
        correlation_id=trace(request),
    )
    set_etag(response, version)
    return await _task(conn, task_id)


LINK_FAILURES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Another collector's task"},
    404: {"description": "No such task"},
    409: {
        "description": "Billing refused the link: the account owes nothing, or in more "
        "than one currency"
    },
    502: {"description": "Billing-adapter or its payment provider failed"},
    503: {
        "description": "No pay link provider is configured (BILLING_ADAPTER_URL or "
        "PAY_LINK_URL_TEMPLATE)"
    },
}


@router.post("/v1/tasks/{task_id}/pay-link", response_model=PayLinkView, responses=LINK_FAILURES)
async def task_pay_link(task_id: UUID, conn: Conn, rt: Rt, principal: Staff) -> PayLinkView:
    """A link that pays the task's account's open invoices, to read out or send.

    Made by billing-adapter's payment provider on the first ask of the day and the
    same link on every ask that day (no Idempotency-Key needed: the task and the
    day are the key); a new day makes a fresh one, as links expire.
    """
    made = await pay_links.for_task(
        conn,
        rt,
        task_id,
        by=principal.sub,
        may_act_for_others=oversees(principal),
        today=rt.clock.today(),
    )
    return PayLinkView.of(made.account_id, made.link)


def _clock_time(value: str | None) -> time | None:
    return None if value is None else time.fromisoformat(value)


@router.post("/v1/tasks", status_code=201, response_model=TaskView)
async def create_task(
    body: TaskRequest, request: Request, rt: Rt, principal: Staff, idem: IdempotentRequest
) -> Response:
    """A follow-up on an account, due on a business day (and time, in the team's zone).

    Yours unless `assignee` names another collector. Follow-up timeliness counts it.
    """
    zone = business_dates().team_timezone
    task_id = await task_cases.set_by_hand(
        idem.conn,
        body.account_id,
        HandSet(
            task_id=new_id(),
            kind=TaskKind.FOLLOW_UP,
            channel=body.kind,
            due_on=body.due_on,
            assignee=body.assignee or principal.sub,
            by=principal.sub,
            due_at=task_domain.due_moment(body.due_on, _clock_time(body.due_time), zone),
            note=body.note,
        ),
        today=rt.clock.today(),
        calendar=rt.calendar,
        correlation_id=trace(request),
    )
    task = await _task(idem.conn, task_id)
    return await idem.respond(
        task, status_code=201, version=task.version, headers={"Location": f"/v1/tasks/{task_id}"}
    )


@router.patch("/v1/tasks/{task_id}", response_model=TaskView)
async def amend_task(
    task_id: UUID,
    body: TaskPatch,
    request: Request,
    response: Response,
    conn: Conn,
    rt: Rt,
    principal: Staff,
    if_match: IfMatch,
) -> TaskView:
    """Reschedule, snooze or hand over an open task (If-Match its ETag)."""
    if body.due_on is not None and body.snooze_days is not None:
        raise Refused("give due_on or snooze_days, not both", field="snooze_days")
    if body.due_time is not None and body.due_on is None and body.snooze_days is None:
        raise Refused("a due time needs due_on or snooze_days", field="due_time")
    if body.due_on is None and body.snooze_days is None and body.assignee is None:
        raise Refused("nothing to change: give due_on, snooze_days or assignee", field="body")
    version = await task_cases.amend(
        conn,
        task_id,
        task_cases.Amendment(
            by=principal.sub,
            may_act_for_others=oversees(principal),
            today=rt.clock.today(),
            zone=business_dates().team_timezone,
            due_on=body.due_on,
            due_time=_clock_time(body.due_time),
            snooze_days=body.snooze_days,
            assignee=body.assignee,
            note=body.note,
        ),
        rt.calendar,
        check=if_match.check,
        correlation_id=trace(request),
    )
    set_etag(response, version)
    return await _task(conn, task_id)


@router.post("/v1/accounts/{account_id}/escalations", status_code=201, response_model=TaskView)
async def escalate(
    account_id: UUID,
    body: EscalationRequest,
    request: Request,
    rt: Rt,
    principal: Staff,
    idem: IdempotentRequest,
) -> Response:
    """Escalate the account to a supervisor by hand: an escalation task on their worklist.

    409 while an earlier escalation of the account is still open.
    """
    await queries.account_row(idem.conn, account_id, field="path.account_id")
    task_id = await task_cases.escalate(
        idem.conn,
        task_cases.Escalation(
            account_id=account_id,
            by=principal.sub,
            supervisor_id=body.supervisor_id or rt.settings.escalation_supervisor,
            reason=body.reason,
            today=rt.clock.today(),
        ),
        rt.calendar,
        correlation_id=trace(request),
    )
    task = await _task(idem.conn, task_id)
    return await idem.respond(
        task, status_code=201, version=task.version, headers={"Location": f"/v1/tasks/{task_id}"}
    )
