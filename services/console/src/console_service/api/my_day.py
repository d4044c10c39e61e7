"""My day: the worklist by priority, and the moves a collector makes without leaving it.

Each move posts to the console, which calls collections with the person's token
and answers with the task's row again (htmx swaps it in place): done, or the
form back with the service's refusal next to the field it names. A task changed
by someone else since the list was loaded (412) shows what it is now and lets
the person do it again from there.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from console_service.adapters.platform_api import Refused
from console_service.i18n import N_
from console_service.web import Api, Render, SignedIn, check_csrf
from receivables_platform.contracts.collections import ContactOutcome, TaskOutcome
from receivables_platform.ids import new_id

router = APIRouter()
COLLECTIONS = "collections-service"
CALL_OUTCOMES = [o.value for o in ContactOutcome if not o.value.startswith(("email", "letter"))]
TASK_OUTCOMES = [o.value for o in TaskOutcome]


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/my-day", status_code=303)


@router.get("/my-day")
async def my_day(request: Request, person: SignedIn, api: Api, pages: Render) -> Response:
    worklist = await api.get(COLLECTIONS, "/v1/worklist", person.token)
    return pages.render(request, "my_day.html", worklist=worklist,
                        call_outcomes=CALL_OUTCOMES, task_outcomes=TASK_OUTCOMES,
                        new_key=lambda: str(new_id()))


async def _row(request: Request, pages: Render, api: Api, token: str, task_id: UUID,
               status_code: int = 200, **context: Any) -> Response:
    task = await api.call("GET", COLLECTIONS, f"/v1/tasks/{task_id}", token)
    return pages.render(request, "_task_row.html", status_code=status_code, task=task.body,
                        call_outcomes=CALL_OUTCOMES, task_outcomes=TASK_OUTCOMES,
                        new_key=lambda: str(new_id()), **context)


@router.post("/tasks/{task_id}/call", dependencies=[Depends(check_csrf)])
async def log_call(request: Request, task_id: UUID, person: SignedIn, api: Api,
                   pages: Render, account_id: Annotated[str, Form()] = "",
                   outcome: Annotated[str, Form()] = "",
                   notes: Annotated[str, Form()] = "",
                   idempotency_key: Annotated[str, Form()] = "") -> Response:
    """The call's outcome closes the task with it (collections links the two)."""
    try:
        await api.call("POST", COLLECTIONS, "/v1/contacts/calls", person.token,
                       json={"account_id": account_id, "outcome": outcome,
                             "notes": notes or None, "task_id": str(task_id)},
                       idempotency_key=idempotency_key or str(new_id()))
    except Refused as refused:
        return await _row(request, pages, api, person.token, task_id, status_code=422,
                          refused=refused, form="call")
    return await _row(request, pages, api, person.token, task_id,
                      notice=N_("Call logged"))


@router.post("/tasks/{task_id}/complete", dependencies=[Depends(check_csrf)])
async def complete(request: Request, task_id: UUID, person: SignedIn, api: Api,
                   pages: Render, outcome: Annotated[str, Form()] = "",
                   version: Annotated[str, Form()] = "",
                   notes: Annotated[str, Form()] = "") -> Response:
    try:
        await api.call("POST", COLLECTIONS, f"/v1/tasks/{task_id}/complete", person.token,
                       json={"outcome": outcome, "notes": notes or None},
                       if_match=f'"{version}"' if version else None)
    except Refused as refused:
        return await _row(request, pages, api, person.token, task_id,
                          status_code=409 if refused.stale else 422,
                          refused=refused, form="complete", tried_outcome=outcome)
    return await _row(request, pages, api, person.token, task_id, notice=N_("Task completed"))


@router.post("/accounts/{account_id}/promises", dependencies=[Depends(check_csrf)])
async def take_promise(request: Request, account_id: UUID, person: SignedIn, api: Api,
                       pages: Render, amount: Annotated[str, Form()] = "",
                       currency: Annotated[str, Form()] = "",
                       promised_date: Annotated[str, Form()] = "",
                       task_id: Annotated[str, Form()] = "",
                       idempotency_key: Annotated[str, Form()] = "") -> Response:
    """The amount is typed in major units as people say it; the API takes minor units."""
    minor = to_minor(amount)
    if minor is None:
        refused = Refused(422, N_("Invalid amount"), "",
                          {"amount_minor": N_("Enter an amount like 1250.00")})
    else:
        try:
            await api.call("POST", COLLECTIONS, "/v1/commitments", person.token,
                           json={"account_id": str(account_id), "amount_minor": minor,
                                 "currency": currency or None,
                                 "promised_date": promised_date},
                           idempotency_key=idempotency_key or str(new_id()))
        except Refused as exc:
            refused = exc
        else:
            return pages.render(request, "_promise_form.html", account_id=account_id,
                                currency=currency, task_id=task_id,
                                new_key=lambda: str(new_id()), notice=N_("Promise recorded"))
    return pages.render(request, "_promise_form.html", status_code=422, account_id=account_id,
                        currency=currency, task_id=task_id, refused=refused,
                        values={"amount": amount, "promised_date": promised_date},
                        new_key=lambda: str(new_id()))


def to_minor(amount: str, digits: int = 2) -> int | None:
    """`1,250.50` or `1250,50` -> 125050; anything else (other scripts' digits, signs,
    exponents, more decimals than the currency has) is not an amount."""
    text = amount.strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    text = text.replace(",", "") if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]*)?", text) \
        else text
    found = re.fullmatch(rf"([0-9]{{1,13}})(?:\.([0-9]{{0,{digits}}}))?", text)
    if found is None:
        return None
    whole, fraction = found.group(1), found.group(2) or ""
    scale: int = 10**digits
    return int(whole) * scale + int(fraction.ljust(digits, "0"))
