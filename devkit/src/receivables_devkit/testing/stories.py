"""What the whole-system stories share: bounded polling and the public calls they make.

Every call goes over HTTP to a running service, as a frontend or an upstream
system would make it; the services agree only eventually (events travel
through the broker), so reads that depend on another service are polled with
a bounded timeout and fail with the last thing seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import uuid4

import httpx

from receivables_devkit.testing.system import RunningSystem

T = TypeVar("T")
PAYMENT_METHOD = "pm_1Nv8Xy2eZvKYlo2C"
"""A payment-method token as Stripe spells them. Not a random one: billing refuses any
reference with eight digits in a row or the shape of an IBAN, which random hex often has."""


class NotYet(AssertionError):
    """A polled condition still false when its time ran out; says what was last seen."""


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 60.0,
    every: float = 0.3,
    what: str = "condition",
) -> T:
    """The probe's first truthy answer, or NotYet after `timeout` seconds.

    A probe may raise AssertionError while the system has not caught up; the
    last one is reported if time runs out."""
    last: object = None
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = await probe()
        except AssertionError as exc:
            last, result = exc, None
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise NotYet(f"{what} not reached within {timeout}s; last seen: {last or result!r}")
        await asyncio.sleep(every)


def raw_email(sender: str, subject: str, text: str) -> bytes:
    """A plain-text RFC 5322 message as the mail gateway hands it to case-service."""
    return (
        f"From: Accounts Payable <{sender}>\r\nTo: ar@receivables.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{uuid4().hex}@customer.test>\r\n"
        f"Date: {datetime.now(UTC).strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()


def unique(prefix: str) -> str:
    """An external id no other test in the session uses (the system is shared)."""
    return f"{prefix}-{uuid4().hex[:12]}"


@dataclass
class Stories:
    """The public calls the stories make, as the roles that make them."""

    system: RunningSystem
    http: httpx.AsyncClient

    def url(self, service: str, path: str) -> str:
        return f"{self.system.url(service)}{path}"

    def as_(self, *roles: str, sub: str = "system-test") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.system.token(*roles, sub=sub)}"}

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        *,
        roles: tuple[str, ...],
        sub: str = "system-test",
        expect: int | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call; `expect` checks the status (and shows the problem when it differs)."""
        response = await self.http.request(
            method,
            self.url(service, path),
            headers={**self.as_(*roles, sub=sub), **(headers or {})},
            **kwargs,
        )
        if expect is not None:
            assert response.status_code == expect, (
                f"{method} {service}{path}: {response.status_code} {response.text}"
            )
        return response

    async def create(
        self,
        service: str,
        path: str,
        body: dict[str, Any],
        *,
        roles: tuple[str, ...],
        sub: str = "system-test",
    ) -> dict[str, Any]:
        """POST with a fresh Idempotency-Key, expecting 201; the created representation."""
        response = await self.send(
            "POST",
            service,
            path,
            roles=roles,
            sub=sub,
            expect=201,
            json=body,
            headers={"Idempotency-Key": str(uuid4())},
        )
        created: dict[str, Any] = response.json()
        return created

    async def get(
        self,
        service: str,
        path: str,
        *,
        roles: tuple[str, ...] = ("supervisor",),
        sub: str = "system-test",
        **params: Any,
    ) -> Any:
        response = await self.send(
            "GET", service, path, roles=roles, sub=sub, expect=200, params=params
        )
        return response.json()

    # -- billing ----------------------------------------------------------------------------------

    async def account(self, name: str, currency: str, **extra: Any) -> str:
        created = await self.create(
            "billing-adapter",
            "/v1/accounts",
            {
                "external_id": unique("CUS"),
                "name": name,
                "currency": currency,
                "payment_terms_days": 30,
                **extra,
            },
            roles=("integration",),
        )
        return str(created["account_id"])

    async def invoice(self, account_id: str, total_minor: int, *, issued: date, due: date) -> str:
        created = await self.create(
            "billing-adapter",
            "/v1/invoices",
            {
                "external_id": unique("INV"),
                "account_id": account_id,
                "total_minor": total_minor,
                "issue_date": issued.isoformat(),
                "due_date": due.isoformat(),
            },
            roles=("integration",),
        )
        return str(created["invoice_id"])

    async def pay(
        self,
        account_id: str,
        amount_minor: int,
        currency: str,
        *,
        on: date,
        invoice_id: str | None = None,
    ) -> dict[str, Any]:
        """Money received and applied (to the invoice given, else oldest first)."""
        payment = await self.create(
            "billing-adapter",
            "/v1/payments",
            {
                "external_id": unique("PAY"),
                "account_id": account_id,
                "amount_minor": amount_minor,
                "currency": currency,
                "method": "wire",
                "received_on": on.isoformat(),
            },
            roles=("integration",),
        )
        allocations = (
            None
            if invoice_id is None
            else [{"invoice_id": invoice_id, "amount_minor": amount_minor}]
        )
        return await self.create(
            "billing-adapter",
            f"/v1/payments/{payment['payment_id']}/applications",
            {"applied_on": on.isoformat(), "allocations": allocations},
            roles=("integration",),
        )

    # -- collections ------------------------------------------------------------------------------

    async def segment_with_calls(self, *offsets: int) -> str:
        """A segment of its own whose cadence calls at these offsets from the due date."""
        segment = unique("seg")
        await self.create(
            "collections-service",
            "/v1/policies",
            {
                "segment": segment,
                "name": f"calls for {segment}",
                "steps": [
                    {"offset_days": d, "channel": "call", "template": "overdue_call"}
                    for d in offsets
                ],
            },
            roles=("supervisor",),
        )
        return segment

    async def collections_account(self, account_id: str, *, invoices: int | None) -> httpx.Response:
        """Collections' view once it has read the account (and that many open invoices)."""

        async def known() -> httpx.Response | None:
            seen = await self.send(
                "GET", "collections-service", f"/v1/accounts/{account_id}", roles=("supervisor",)
            )
            assert seen.status_code == 200, seen.text
            assert invoices is None or len(seen.json()["invoices"]) == invoices, seen.text
            return seen

        return await eventually(known, what=f"collections knows {account_id}")

    async def assign(
        self, account_id: str, collector_id: str, *, invoices: int | None = None
    ) -> None:
        seen = await self.collections_account(account_id, invoices=invoices)
        await self.send(
            "PUT",
            "collections-service",
            f"/v1/accounts/{account_id}/collector",
            roles=("supervisor",),
            expect=200,
            json={"collector_id": collector_id},
            headers={"If-Match": seen.headers["ETag"]},
        )

    async def run_cadence(self, day: date) -> dict[str, Any]:
        response = await self.send(
            "POST",
            "collections-service",
            "/v1/cadence/runs",
            roles=("supervisor",),
            expect=200,
            json={"business_date": day.isoformat()},
        )
        summary: dict[str, Any] = response.json()
        return summary

    async def business_day_on_or_before(self, day: date) -> date:
        """The cadence runs on business days: run it for the latest one up to `day`."""
        while not (await self.run_cadence(day))["business_day"]:
            day = date.fromordinal(day.toordinal() - 1)
        return day

    async def business_day_after(self, day: date) -> date:
        """Run the cadence for each day after `day` up to the next business day; that day."""
        while True:
            day = date.fromordinal(day.toordinal() + 1)
            if (await self.run_cadence(day))["business_day"]:
                return day

    async def tasks_for(
        self, account_id: str, collector_id: str, day: date | None = None
    ) -> list[dict[str, Any]]:
        """The account's tasks on the collector's worklist for the day (default today)."""
        params = {} if day is None else {"date": day.isoformat()}
        worklist = await self.get(
            "collections-service", "/v1/worklist", roles=("collector",), sub=collector_id, **params
        )
        return [t for t in worklist["tasks"] if t["account_id"] == account_id]

    # -- reporting --------------------------------------------------------------------------------

    async def reported(
        self, path: str, check: Callable[[Any], bool], *, what: str, **params: Any
    ) -> Any:
        """A reporting answer once it satisfies `check` (projections catch up eventually)."""

        async def probe() -> Any:
            answer = await self.get("reporting-service", path, **params)
            assert check(answer), answer
            return answer

        return await eventually(probe, what=what)


def kpi_group(kpis: dict[str, Any], key: str) -> dict[str, Any]:
    """One group's row of a `/v1/kpis` answer (a collector's, a team's or `all`)."""
    found: list[dict[str, Any]] = [g for g in kpis["groups"] if g["key"] == key]
    assert found, [g["key"] for g in kpis["groups"]]
    return found[0]
