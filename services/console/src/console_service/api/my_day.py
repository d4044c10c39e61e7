"""My day: the worklist by priority, and the moves a collector makes without leaving it.

Each move posts to the console, which calls collections (or case-service, to
open a case) with the person's token and answers with the task's part of the
row again (htmx swaps it in place): done, or the form back with the service's
refusal next to the field it names. The call sheet above it (contact, hours,
invoices, promises) stays as loaded. A task changed by someone else since the
list was loaded (412) shows what it is now and lets the person do it again
from there.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from console_service.adapters import billing, cases, collections
from console_service.adapters.platform_api import PlatformApi, Refused, Unreachable
from console_service.i18n import N_
from console_service.web import Api, Render, SignedIn, check_csrf
from receivables_platform.contracts.cases import CaseType
from receivables_platform.contracts.collections import ContactOutcome, TaskOutcome
from receivables_platform.ids import new_id

router = APIRouter()
CALL_OUTCOMES = [o.value for o in ContactOutcome if not o.value.startswith(("email", "letter"))]
TASK_OUTCOMES = [o.value for o in TaskOutcome]
CASE_TYPES = [t.value for t in CaseType]
PAGE_SIZE = 25
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
TEMPLATE_NAME = re.compile(r"^[a-z0-9_\-]{1,100}$")
"""Collections' own rule for a template's name, checked before a name goes into a path."""
DEFAULT_TEMPLATE = "overdue_statement"
TEMPLATE_LANGUAGES = ("en", "es", "de")
"""The languages collections writes templates in; an account in another gets English."""


ROW_CONTEXT: dict[str, Any] = {
    "call_outcomes": CALL_OUTCOMES,
    "task_outcomes": TASK_OUTCOMES,
    "case_types": CASE_TYPES,
}
"""What every task row draws from; the template names are asked for only when the email
form is drawn (see `_task_fold.html`)."""
Fold = Literal["reschedule", "follow_up", "email", "case"]


async def _row_context(api: PlatformApi, token: str, form: str | None) -> dict[str, Any]:
    return {
        **ROW_CONTEXT,
        "new_key": lambda: str(new_id()),
        "template_names": await template_names(api, token) if form == "email" else [],
    }


async def template_names(api: PlatformApi, token: str) -> list[str]:
    """The dunning templates a collector can send, the overdue statement first; the
    statement alone when collections cannot list them right now."""
    try:
        names = {t["name"] for t in await collections.templates(api, token)}
    except (Refused, Unreachable):
        names = set()
    return [DEFAULT_TEMPLATE, *sorted(names - {DEFAULT_TEMPLATE})]


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/my-day", status_code=303)


@router.get("/my-day")
async def my_day(
    request: Request,
    person: SignedIn,
    api: Api,
    pages: Render,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The day's tasks a page at a time, highest priority first: a collector works from
    the top, and a thousand rows of forms would take seconds to send and draw. A member of
    an internal team only has a worklist of escalations: theirs is the team inbox."""
    if person.teams and not person.can(
        "collector", "receivables_rep", "supervisor", "admin", "case_agent"
    ):
        return RedirectResponse("/inbox", status_code=303)
    # Collections sends only this page (and its call sheets) and counts the rest.
    first = (page - 1) * PAGE_SIZE
    worklist = await collections.worklist(api, person.token, limit=PAGE_SIZE, offset=first)
    total = worklist["total"]
    return pages.render(
        request,
        "my_day.html",
        worklist=worklist,
        tasks=worklist["tasks"],
        page=page,
        first=first,
        total=total,
        last_page=max(1, -(-total // PAGE_SIZE)),
        **await _row_context(api, person.token, form=None),
    )


async def _moves(
    request: Request,
    pages: Render,
    api: Api,
    token: str,
    task_id: UUID,
    status_code: int = 200,
    **context: Any,
) -> Response:
    task, rows = await asyncio.gather(
        collections.task(api, token, task_id), _row_context(api, token, context.get("form"))
    )
    return pages.render(
        request,
        "_task_moves.html",
        status_code=status_code,
        task=task.body,
        **{**rows, **context},
    )


@router.get("/tasks/{task_id}/folds/{fold}")
async def task_fold(
    request: Request,
    task_id: UUID,
    fold: Fold,
    person: SignedIn,
    api: Api,
    pages: Render,
    language: str = "en",
) -> Response:
    """The form behind one of a row's folds, fetched when the fold is first opened: a page
    of 25 rows would otherwise carry 25 copies of each form and its option lists for moves
    most rows never make. `language` is the account's, the email preview's first choice."""
    task, rows = await asyncio.gather(
        collections.task(api, person.token, task_id), _row_context(api, person.token, fold)
    )
    return pages.render(
        request,
        "_task_fold.html",
        task=task.body,
        fold=fold,
        sheet_language=language if language in TEMPLATE_LANGUAGES else "en",
        **rows,
    )


def _refused_status(refused: Refused) -> int:
    return 409 if refused.stale else 422


@router.post("/tasks/{task_id}/call", dependencies=[Depends(check_csrf)])
async def log_call(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    account_id: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """The call's outcome closes the task with it (collections links the two)."""
    try:
        await collections.log_call(
            api,
            person.token,
            account_id=account_id,
            outcome=outcome,
            notes=notes or None,
            task_id=task_id,
            idempotency_key=idempotency_key or str(new_id()),
        )
    except Refused as refused:
        return await _moves(
            request,
            pages,
            api,
            person.token,
            task_id,
            status_code=422,
            refused=refused,
            form="call",
        )
    return await _moves(request, pages, api, person.token, task_id, notice=N_("Call logged"))


@router.post("/tasks/{task_id}/complete", dependencies=[Depends(check_csrf)])
async def complete(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    outcome: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    try:
        await collections.complete_task(
            api, person.token, task_id, outcome=outcome, notes=notes or None, version=_etag(version)
        )
    except Refused as refused:
        return await _moves(
            request,
            pages,
            api,
            person.token,
            task_id,
            status_code=_refused_status(refused),
            refused=refused,
            form="complete",
            tried_outcome=outcome,
        )
    return await _moves(request, pages, api, person.token, task_id, notice=N_("Task completed"))


@router.post("/tasks/{task_id}/follow-up", dependencies=[Depends(check_csrf)])
async def follow_up(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    account_id: Annotated[str, Form()] = "",
    due_on: Annotated[str, Form()] = "",
    due_time: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """A call-back set from the row: a new task on the collector's own list, the current
    one left as it is (its outcome is the call's)."""
    values = {"due_on": due_on, "due_time": due_time, "note": note}
    refused = _account_refusal(account_id) or _clock_refusal(due_time)
    if refused is None:
        try:
            await collections.set_follow_up(
                api,
                person.token,
                UUID(account_id),
                due_on=due_on,
                due_time=due_time or None,
                note=note or None,
                idempotency_key=idempotency_key or str(new_id()),
            )
        except Refused as exc:
            refused = exc
        else:
            return await _moves(
                request, pages, api, person.token, task_id, notice=N_("Follow-up set")
            )
    return await _moves(
        request,
        pages,
        api,
        person.token,
        task_id,
        status_code=_refused_status(refused),
        refused=refused,
        form="follow_up",
        values=values,
    )


@router.post("/tasks/{task_id}/reschedule", dependencies=[Depends(check_csrf)])
async def reschedule(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    due_on: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    """Move this task to another business day (If-Match: a colleague's change wins and is
    shown)."""
    try:
        await collections.reschedule(
            api,
            person.token,
            task_id,
            due_on=due_on or None,
            snooze_days=None if due_on else 1,
            version=_etag(version),
        )
    except Refused as refused:
        return await _moves(
            request,
            pages,
            api,
            person.token,
            task_id,
            status_code=_refused_status(refused),
            refused=refused,
            form="reschedule",
            values={"reschedule_on": due_on},
        )
    return await _moves(request, pages, api, person.token, task_id, notice=N_("Task rescheduled"))


def _template_refusal(template: str, language: str = "en") -> Refused | None:
    if not TEMPLATE_NAME.fullmatch(template):
        return Refused(
            422, N_("Invalid template"), "", {"template": N_("Choose one of the templates listed")}
        )
    if language not in TEMPLATE_LANGUAGES:
        return Refused(
            422, N_("Invalid language"), "", {"language": N_("Choose one of the languages listed")}
        )
    return None


@router.get("/tasks/{task_id}/email-preview")
async def email_preview(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    template: str = DEFAULT_TEMPLATE,
    language: str = "en",
) -> Response:
    """What the chosen template says, in the account's language, rendered with collections'
    sample account (the real figures go in when it is sent)."""
    wanted = language if language in TEMPLATE_LANGUAGES else "en"
    refused = _template_refusal(template, wanted)
    if refused is None:
        for tongue in dict.fromkeys((wanted, "en")):
            try:
                shown = await collections.preview_template(api, person.token, template, tongue)
            except Refused as exc:
                refused = exc
                continue
            return pages.render(
                request, "_email_preview.html", task_id=task_id, preview=shown, asked=wanted
            )
    return pages.render(
        request,
        "_email_preview.html",
        status_code=422,
        task_id=task_id,
        refused=refused,
        preview=None,
        asked=wanted,
    )


@router.post("/tasks/{task_id}/email", dependencies=[Depends(check_csrf)])
async def send_email(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    account_id: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = DEFAULT_TEMPLATE,
    language: Annotated[str, Form()] = "en",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """Sends the chosen dunning template; a mail server that refuses it is recorded by
    collections as `email_failed` and shown as such, not as an error page."""
    kept = {"template": template, "language": language}
    refused = _template_refusal(template) or _account_refusal(account_id)
    if refused is None:
        try:
            sent = await collections.send_email(
                api,
                person.token,
                account_id,
                template=template,
                task_id=task_id,
                idempotency_key=idempotency_key or str(new_id()),
            )
        except Refused as exc:
            refused = exc
        else:
            failed = sent.body.get("outcome") != "email_sent"
            return await _moves(
                request,
                pages,
                api,
                person.token,
                task_id,
                notice=N_("Email not sent: the mail server refused it")
                if failed
                else N_("Email sent"),
                values=kept,
            )
    return await _moves(
        request,
        pages,
        api,
        person.token,
        task_id,
        status_code=_refused_status(refused),
        refused=refused,
        form="email",
        values=kept,
    )


@router.post("/tasks/{task_id}/pay-link", dependencies=[Depends(check_csrf)])
async def pay_link(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    account_id: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """A link that pays the account's open invoices, to read out or paste into a message;
    billing makes it at the payment provider. A provider that is down or not set up is
    said in the row, not as an error page: the collector carries on with the call."""
    refused = _account_refusal(account_id)
    if refused is None:
        try:
            made = await billing.pay_link(
                api,
                person.token,
                UUID(account_id),
                idempotency_key=idempotency_key or str(new_id()),
            )
        except Refused as exc:
            refused = exc
        except Unreachable:
            refused = Refused(
                503,
                N_("No pay link"),
                N_("The payment provider did not make a link; try again later."),
            )
        else:
            return await _moves(
                request,
                pages,
                api,
                person.token,
                task_id,
                notice=N_("Pay link made"),
                pay_link=made.body,
            )
    return await _moves(
        request,
        pages,
        api,
        person.token,
        task_id,
        status_code=422,
        refused=refused,
        form="pay_link",
    )


@router.post("/tasks/{task_id}/case", dependencies=[Depends(check_csrf)])
async def open_case(
    request: Request,
    task_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    account_id: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """A case opened from a call (a dispute, a billing question): the collector stays on
    the list and gets the case's number and a link to it."""
    values = {"type": type, "subject": subject, "description": description}
    refused = _account_refusal(account_id)
    if refused is None:
        try:
            opened = await cases.open_case(
                api,
                person.token,
                account_id=UUID(account_id),
                type=type,
                origin="collections",
                subject=subject,
                description=description,
                idempotency_key=idempotency_key or str(new_id()),
            )
        except Refused as exc:
            refused = exc
        else:
            return await _moves(
                request,
                pages,
                api,
                person.token,
                task_id,
                notice=N_("Case opened"),
                opened_case=opened.body,
            )
    return await _moves(
        request,
        pages,
        api,
        person.token,
        task_id,
        status_code=_refused_status(refused),
        refused=refused,
        form="case",
        values=values,
    )


@router.post("/accounts/{account_id}/promises", dependencies=[Depends(check_csrf)])
async def take_promise(
    request: Request,
    account_id: UUID,
    person: SignedIn,
    api: Api,
    pages: Render,
    amount: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    promised_date: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """The amount is typed in major units as people say it; the API takes minor units."""
    minor = to_minor(amount)
    if minor is None:
        refused = Refused(
            422, N_("Invalid amount"), "", {"amount_minor": N_("Enter an amount like 1250.00")}
        )
    else:
        try:
            await collections.take_promise(
                api,
                person.token,
                account_id,
                amount_minor=minor,
                currency=currency or None,
                promised_date=promised_date,
                idempotency_key=idempotency_key or str(new_id()),
            )
        except Refused as exc:
            refused = exc
        else:
            return pages.render(
                request,
                "_promise_form.html",
                account_id=account_id,
                currency=currency,
                task_id=task_id,
                new_key=lambda: str(new_id()),
                notice=N_("Promise recorded"),
            )
    return pages.render(
        request,
        "_promise_form.html",
        status_code=422,
        account_id=account_id,
        currency=currency,
        task_id=task_id,
        refused=refused,
        values={"amount": amount, "promised_date": promised_date},
        new_key=lambda: str(new_id()),
    )


def _etag(version: str) -> str | None:
    return f'"{version}"' if version else None


def _account_refusal(account_id: str) -> Refused | None:
    """The row's hidden account id, checked before it is put in a path or a body."""
    try:
        UUID(account_id)
    except ValueError:
        return Refused(
            422, N_("Invalid request"), N_("Not an account"), {"account_id": N_("Not an account")}
        )
    return None


def _clock_refusal(due_time: str) -> Refused | None:
    if due_time and not CLOCK.fullmatch(due_time):
        return Refused(422, N_("Invalid time"), "", {"due_time": N_("Enter a time like 10:00")})
    return None


def to_minor(amount: str, digits: int = 2) -> int | None:
    """`1,250.50` or `1250,50` -> 125050; anything else (other scripts' digits, signs,
    exponents, more decimals than the currency has) is not an amount."""
    text = amount.strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    text = (
        text.replace(",", "") if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]*)?", text) else text
    )
    found = re.fullmatch(rf"([0-9]{{1,13}})(?:\.([0-9]{{0,{digits}}}))?", text)
    if found is None:
        return None
    whole, fraction = found.group(1), found.group(2) or ""
    scale: int = 10**digits
    return int(whole) * scale + int(fraction.ljust(digits, "0"))
