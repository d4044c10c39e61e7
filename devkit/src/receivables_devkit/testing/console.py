"""A person using the console over plain HTTP, as a browser without JavaScript would."""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from receivables_devkit.testing.stories import Stories

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:2000]
    return found.group(1)


@dataclass
class ConsoleUser:
    http: httpx.AsyncClient
    csrf: str = ""

    async def page(self, path: str, expect: int = 200) -> str:
        response = await self.http.get(path)
        assert response.status_code == expect, (path, response.status_code, response.text)
        if 'name="csrf_token"' in response.text:
            self.csrf = csrf_of(response.text)
        return response.text

    async def sign_in(self, sub: str, *roles: str, language: str | None = None) -> httpx.Response:
        await self.page("/sign-in")
        if language:
            await self.post("/language", {"lang": language, "next": "/sign-in"}, expect=303)
        answer = await self.post(
            "/sign-in/dev", {"sub": sub, "roles": list(roles), "next": "/my-day"}, expect=303
        )
        assert answer.headers["location"] == "/my-day"
        return answer

    async def post(
        self, path: str, data: dict[str, object], expect: int | None = None, **headers: str
    ) -> httpx.Response:
        response = await self.http.post(
            path, data={"csrf_token": self.csrf, **data}, headers=headers
        )
        if expect is not None:
            assert response.status_code == expect, (path, response.status_code, response.text)
        return response


async def account_on_worklist(
    stories: Stories, collector: str, name: str, owed_minor: int, **account: Any
) -> tuple[str, dict[str, Any]]:
    """An account 20 days past due, given to the collector, with today's task for it;
    `account` goes to billing as is (contacts, language)."""
    today = date.today()
    segment = await stories.segment_with_calls(1, 15)
    account_id = await stories.account(name, "USD", segment=segment, **account)
    await stories.invoice(
        account_id, owed_minor, issued=today - timedelta(days=50), due=today - timedelta(days=20)
    )
    await stories.assign(account_id, collector, invoices=1)
    await stories.business_day_on_or_before(today)
    [task] = await stories.tasks_for(account_id, collector)
    return account_id, task


def field_value(page: str, name: str) -> str:
    """The first form field `name`'s value on the page (a case's version, a task's)."""
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, (name, page[:2000])
    return html.unescape(found.group(1))


async def book_on_worklist(
    stories: Stories, collector: str, accounts: int, *, invoices: int = 1, parallel: int = 8
) -> list[str]:
    """`accounts` accounts given to the collector, each with `invoices` invoices 5-95 days
    past due and a contact, loaded a few at a time, then the day's cadence: a worklist of
    that many tasks. Their ids, in the order made."""
    today = date.today()
    segment = await stories.segment_with_calls(1, 15, 30, 45, 60, 90)
    made: dict[int, str] = {}
    gate = asyncio.Semaphore(parallel)

    async def one(n: int) -> None:
        async with gate:
            account_id = await stories.account(
                f"Book {n:05d} {collector}",
                "USD",
                segment=segment,
                contacts=[
                    {"name": f"AP {n}", "email": f"ap{n}@book.test", "phone": f"+1555{n:07d}"}
                ],
            )
            for i in range(invoices):
                late = 5 + (n * 7 + i * 30) % 90
                await stories.invoice(
                    account_id,
                    10_000 + n * 13 + i,
                    issued=today - timedelta(days=late + 30),
                    due=today - timedelta(days=late),
                )
            await stories.assign(account_id, collector, invoices=invoices)
            made[n] = account_id

    await asyncio.gather(*(one(n) for n in range(accounts)))
    await stories.business_day_on_or_before(today)
    return [made[n] for n in range(accounts)]


async def escalated(stories: Stories, team: str, question: str) -> tuple[str, dict[str, Any]]:
    """A case (no account) a case agent escalated to `team`, due the next business day:
    the case's id and the escalation as case-service answered it."""
    case = await stories.create(
        "case-service",
        "/v1/cases",
        {
            "type": "dispute",
            "origin": "inbound_phone",
            "subject": "Seats",
            "description": "3 billed, 2 used",
        },
        roles=("case_agent",),
    )
    due = await stories.business_day_after(date.today())
    answered = await stories.create(
        "case-service",
        f"/v1/cases/{case['case_id']}/escalations",
        {"team": team, "question": question, "due_date": due.isoformat()},
        roles=("case_agent",),
    )
    [escalation] = answered["escalations"]
    return case["case_id"], escalation
