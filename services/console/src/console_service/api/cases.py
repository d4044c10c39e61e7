"""The case desk: the queues, and the case page where every step of a case is taken.

Every step (a note, the root cause, an escalation, a correction, the customer's
update and confirmation, resolve, close) is sent with the case's ETag as the
agent loaded it, so a step taken while a colleague changed the case comes back
as "someone changed this", with the case as it is now and what the agent typed
kept in the form to send again. A refusal is shown next to the field it names.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from console_service.adapters import billing
from console_service.adapters import cases as case_api
from console_service.adapters.platform_api import PlatformApi, Refused, Unreachable
from console_service.api.my_day import to_minor
from console_service.i18n import N_
from console_service.web import Api, Person, Render, SignedIn, check_csrf
from receivables_platform.business_dates import business_dates
from receivables_platform.contracts.cases import (
    CaseStatus,
    CaseType,
    CorrectionDirection,
    CustomerChannel,
    EscalationTeam,
)
from receivables_platform.ids import new_id

router = APIRouter()
Queue = Literal["mine", "unassigned", "waiting_on_customer", "waiting_on_internal", "sla_at_risk"]
QUEUES: tuple[Queue, ...] = (
    "mine",
    "unassigned",
    "waiting_on_customer",
    "waiting_on_internal",
    "sla_at_risk",
)
AT_RISK_WITHIN = timedelta(days=2)
"""An open case whose SLA falls due this soon (or has passed) is at risk."""
MOVABLE_STATUSES = [
    s.value
    for s in (
        CaseStatus.INVESTIGATING,
        CaseStatus.WAITING_ON_CUSTOMER,
        CaseStatus.WAITING_ON_INTERNAL,
    )
]


async def _queue(api: PlatformApi, person: Person, queue: Queue) -> list[dict[str, Any]]:
    """Each queue is one case-service search; "unassigned" and "at risk" narrow its page
    (case-service has no filter for a missing owner or a near due date)."""
    if queue == "mine":
        return await case_api.find(api, person.token, open="true", owner_id=person.sub, limit=100)
    if queue in ("waiting_on_customer", "waiting_on_internal"):
        return await case_api.find(api, person.token, status=queue, limit=100)
    found = await case_api.find(api, person.token, open="true", limit=200)
    if queue == "unassigned":
        return [c for c in found if not c.get("owner_id")]
    soon = datetime.now(UTC) + AT_RISK_WITHIN
    at_risk = [
        c
        for c in found
        if c["sla_state"] == "breached"
        or (c["sla_state"] == "on_track" and datetime.fromisoformat(c["sla_due_at"]) <= soon)
    ]
    return sorted(at_risk, key=lambda c: c["sla_due_at"])


@router.get("/cases")
async def queues(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    queue: Queue = Query(default="mine"),
) -> Response:
    return pages.render(
        request, "cases.html", queue=queue, queues=QUEUES, cases=await _queue(api, person, queue)
    )


async def _case_page(
    request: Request,
    pages: Render,
    api: Api,
    person: Person,
    case_id: UUID,
    status_code: int = 200,
    **context: Any,
) -> Response:
    token = person.token
    try:
        answer = await case_api.case(api, token, case_id)
    except Refused as refused:
        return pages.render(
            request,
            "error.html",
            status_code=refused.status,
            title=refused.title,
            detail=refused.detail,
        )
    case = answer.body
    causes = await _or_empty(case_api.root_causes(api, token))
    sops = await _or_empty(case_api.sops_for(api, token, case_id))
    invoices = (
        await _or_empty(billing.invoices_of(api, token, UUID(case["account_id"])))
        if case.get("account_id")
        else []
    )
    named = {i["invoice_id"]: i["external_id"] for i in invoices}
    return pages.render(
        request,
        "case.html",
        status_code=status_code,
        case=case,
        version=answer.version,
        timeline=timeline_of(case),
        invoice_names=named,
        files=files_of(case),
        approvals=await _approvals_of(api, person, case),
        satisfaction_options=SATISFACTION,
        sops=sops,
        status_options=_same(MOVABLE_STATUSES),
        cause_options=[(c["category_id"], c["name"]) for c in causes if not c.get("retired_at")],
        team_options=_same(t.value for t in EscalationTeam),
        channel_options=_same(c.value for c in CustomerChannel),
        direction_options=_same(d.value for d in CorrectionDirection),
        invoice_options=[(i, named.get(i, i)) for i in case["invoice_ids"]],
        link_options=[
            (i["invoice_id"], i["external_id"])
            for i in invoices
            if i["invoice_id"] not in case["invoice_ids"]
        ],
        type_options=_same(t.value for t in CaseType),
        new_key=lambda: str(new_id()),
        **context,
    )


SATISFACTION = [
    ("", N_("Not asked")),
    ("5", N_("5 · very satisfied")),
    ("4", N_("4 · satisfied")),
    ("3", N_("3 · neutral")),
    ("2", N_("2 · dissatisfied")),
    ("1", N_("1 · very dissatisfied")),
]


async def _approvals_of(
    api: PlatformApi, person: Person, case: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """A credit over billing's threshold waits for a supervisor: for those who may see
    billing's approvals, the case's pending corrections are matched to theirs, so the
    page says "waits for approval" instead of a bare "requested"."""
    if not person.can("supervisor", "admin") or not any(
        x["outcome"] == "requested" for x in case["corrections"]
    ):
        return {}
    pending = await _or_empty(billing.pending_approvals(api, person.token))
    return {str(a["correction_id"]): a for a in pending if a.get("correction_id")}


def files_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file on the case, once per content, with the note that brought it."""
    seen: dict[str, dict[str, Any]] = {}
    for note in case["notes"]:
        for attached in note.get("attachments") or []:
            seen.setdefault(
                attached["sha256"],
                {**attached, "added_by": note["author"], "added_at": note["added_at"]},
            )
    return list(seen.values())


def _same(values: Iterable[str]) -> list[tuple[str, str]]:
    """Codes shown as themselves (the template translates them)."""
    return [(v, v) for v in values]


async def _or_empty(call: Any) -> list[dict[str, Any]]:
    """The taxonomy and the SOPs help the agent but the case page stands without them."""
    try:
        found: list[dict[str, Any]] = await call
    except (Refused, Unreachable):
        return []
    return found


def timeline_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's story, newest first: notes, escalations and their answers, corrections
    and billing's decisions, what the customer was told and confirmed."""
    events: list[dict[str, Any]] = [
        {
            "at": case["opened_at"],
            "what": N_("Opened"),
            "by": case["opened_by"],
            "text": case["description"],
        }
    ]
    events += [
        {"at": n["added_at"], "what": N_("Note"), "by": n["author"], "text": n["body"]}
        for n in case["notes"]
    ]
    for e in case["escalations"]:
        events.append(
            {
                "at": e["escalated_at"],
                "what": N_("Escalated"),
                "by": e["escalated_by"],
                "text": f"{e['team']}: {e['question']}",
            }
        )
        if e.get("answered_at"):
            events.append(
                {
                    "at": e["answered_at"],
                    "what": N_("Escalation answered"),
                    "by": e["answered_by"],
                    "text": e["answer"],
                }
            )
    for x in case["corrections"]:
        events.append(
            {
                "at": x["requested_at"],
                "what": N_("Correction requested"),
                "by": x["requested_by"],
                "text": x["reason"],
            }
        )
        if x.get("decided_at"):
            events.append(
                {
                    "at": x["decided_at"],
                    "what": N_("Correction decided"),
                    "by": "billing",
                    "text": x["outcome"],
                }
            )
    events += [
        {
            "at": u["sent_at"],
            "what": N_("Customer updated"),
            "by": u["sent_by"],
            "text": u["summary"],
        }
        for u in case["customer_updates"]
    ]
    if case.get("confirmation"):
        c = case["confirmation"]
        said = [c["confirmed_by_name"]]
        if c.get("satisfaction"):
            said.append(f"{c['satisfaction']}/5")
        said += [text for text in (c.get("satisfaction_comment"), c.get("note")) if text]
        events.append(
            {
                "at": c["confirmed_at"],
                "what": N_("Customer confirmed"),
                "by": c["recorded_by"],
                "text": " · ".join(said),
            }
        )
    if case.get("resolved_at"):
        events.append(
            {
                "at": case["resolved_at"],
                "what": N_("Resolved"),
                "by": "",
                "text": case.get("resolution_summary") or "",
            }
        )
    if case.get("closed_at"):
        events.append({"at": case["closed_at"], "what": N_("Closed"), "by": "", "text": ""})
    return sorted(events, key=lambda e: str(e["at"]), reverse=True)


@router.get("/cases/{case_id}")
async def case(
    request: Request, case_id: UUID, person: SignedIn, api: Api, pages: Render
) -> Response:
    return await _case_page(request, pages, api, person, case_id)


Step = Literal[
    "notes",
    "assignment",
    "links",
    "type",
    "status",
    "root-cause",
    "escalations",
    "answer",
    "corrections",
    "customer-updates",
    "confirmation",
    "resolve",
    "close",
    "next-action",
]
CREATES = frozenset({"escalations", "corrections"})
"""Steps that make a new thing on the case: an Idempotency-Key makes a double submit one."""


def _text(form: dict[str, str], *names: str) -> dict[str, Any]:
    return {name: form.get(name, "").strip() or None for name in names}


def _correction(form: dict[str, str], person: Person) -> dict[str, Any]:
    minor = to_minor(form.get("amount", ""))
    if minor is None:
        raise Refused(
            422, N_("Invalid amount"), "", {"amount_minor": N_("Enter an amount like 1250.00")}
        )
    return {
        **_text(form, "invoice_id", "direction", "reason", "reason_code"),
        "amount_minor": minor,
    }


def _confirmation(form: dict[str, str], person: Person) -> dict[str, Any]:
    """The agent types the moment in the team's time zone; case-service wants an offset."""
    try:
        local = datetime.fromisoformat(form.get("confirmed_at", ""))
    except ValueError:
        raise Refused(
            422,
            N_("Invalid date"),
            "",
            {"confirmed_at": N_("Enter the date and time of the confirmation")},
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(business_dates().team_timezone))
    rating = form.get("satisfaction", "").strip()
    return {
        **_text(form, "confirmed_by_name", "channel", "note", "satisfaction_comment"),
        "confirmed_at": local.isoformat(),
        "satisfaction": int(rating) if RATING.fullmatch(rating) else rating or None,
    }


RATING = re.compile(r"[0-9]{1,2}")
"""ASCII digits only: `int` would also read "٣" as 3 and fail on "²"; anything else goes
to case-service as typed, to be refused by name."""


BODIES: dict[str, Callable[[dict[str, str], Person], dict[str, Any]]] = {
    "notes": lambda f, p: {"body": f.get("body", "")},
    "assignment": lambda f, p: {"owner_id": p.sub},
    "links": lambda f, p: {**_text(f, "account_id"), "invoice_ids": [f.get("invoice_id", "")]},
    "type": lambda f, p: _text(f, "type", "reason"),
    "status": lambda f, p: _text(f, "status", "reason"),
    "root-cause": lambda f, p: _text(f, "category_id", "detail"),
    "escalations": lambda f, p: _text(f, "team", "question", "due_date"),
    "answer": lambda f, p: {"answer": f.get("answer", "")},
    "corrections": _correction,
    "customer-updates": lambda f, p: _text(f, "channel", "summary", "recipient", "message"),
    "confirmation": _confirmation,
    "resolve": lambda f, p: _text(f, "resolution_summary"),
    "close": lambda f, p: {},
    "next-action": lambda f, p: _text(f, "next_action_on", "next_action"),
}
DONE = {
    "notes": N_("Note added"),
    "assignment": N_("The case is yours"),
    "links": N_("Invoice linked"),
    "type": N_("Case type changed"),
    "status": N_("Status changed"),
    "root-cause": N_("Root cause recorded"),
    "escalations": N_("Escalated"),
    "answer": N_("Answer recorded"),
    "corrections": N_("Correction requested"),
    "customer-updates": N_("Customer updated"),
    "confirmation": N_("Confirmation recorded"),
    "resolve": N_("Case resolved"),
    "close": N_("Case closed"),
    "next-action": N_("Next action set"),
}


def _step_path(step: str, form: dict[str, str]) -> str:
    if step != "answer":
        return step
    try:
        return f"escalations/{UUID(form.get('escalation_id', ''))}/answer"
    except ValueError:
        raise Refused(
            422,
            N_("Invalid request"),
            N_("Not an escalation of this case"),
            {"answer": N_("Not an escalation of this case")},
        ) from None


UPLOAD_FIELDS = {"body": "file", "header.Content-Type": "file", "filename": "file"}
"""Where case-service's refusals of an upload point, as the console's form names them."""
CHUNK = 64 * 1024


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """The file as it was spooled, a piece at a time: a large upload is not held in memory,
    and case-service stops reading it at its limit."""
    while chunk := await upload.read(CHUNK):
        yield chunk


@router.post("/cases/{case_id}/attachments", dependencies=[Depends(check_csrf)])
async def attach(
    request: Request, case_id: UUID, person: SignedIn, api: Api, pages: Render
) -> Response:
    """A statement or a scan attached to the case; case-service decides its size and type."""
    form = await request.form()
    upload = form.get("file")
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not isinstance(upload, UploadFile) or not upload.filename:
        refused = Refused(422, N_("No file chosen"), "", {"file": N_("Choose a file to attach")})
    else:
        try:
            await case_api.attach(
                api,
                person.token,
                case_id,
                filename=upload.filename,
                content_type=upload.content_type or "application/octet-stream",
                content=_chunks(upload),
                note=values.get("note", "").strip() or None,
                version=values.get("version"),
                idempotency_key=values.get("idempotency_key") or str(new_id()),
            )
        except Refused as exc:
            refused = exc
            refused.fields = {UPLOAD_FIELDS.get(k, k): v for k, v in exc.fields.items()}
        else:
            return await _case_page(
                request, pages, api, person, case_id, notice=N_("File attached")
            )
    return await _case_page(
        request,
        pages,
        api,
        person,
        case_id,
        status_code=409 if refused.stale else 422,
        refused=refused,
        step="attachments",
        values=values,
    )


@router.get("/cases/{case_id}/attachments/{sha256}")
async def download(
    request: Request,
    case_id: UUID,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    person: SignedIn,
    api: Api,
    pages: Render,
) -> Response:
    """The file as case-service serves it: a download, never shown as one of our pages."""
    try:
        got = await case_api.attachment(api, person.token, case_id, sha256)
    except Refused as refused:
        return pages.render(
            request,
            "error.html",
            status_code=refused.status,
            title=refused.title,
            detail=refused.detail,
        )
    return Response(
        got.content,
        media_type=got.headers.get("content-type"),
        headers={
            name: got.headers[name]
            for name in ("content-disposition", "etag", "cache-control", "content-security-policy")
            if name in got.headers
        },
    )


@router.post("/cases/{case_id}/{step}", dependencies=[Depends(check_csrf)])
async def take_step(
    request: Request,
    case_id: UUID,
    step: Annotated[Step, Path()],
    person: SignedIn,
    api: Api,
    pages: Render,
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        body = BODIES[step](form, person)
        await case_api.act(
            api,
            person.token,
            case_id,
            _step_path(step, form),
            body,
            version=form.get("version"),
            idempotency_key=(form.get("idempotency_key") or str(new_id()))
            if step in CREATES
            else None,
        )
    except Refused as refused:
        return await _case_page(
            request,
            pages,
            api,
            person,
            case_id,
            status_code=409 if refused.stale else 422,
            refused=refused,
            step=step,
            values=form,
            note=form.get("body"),
        )
    return await _case_page(request, pages, api, person, case_id, notice=DONE[step])
