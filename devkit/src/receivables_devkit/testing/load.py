"""A mixed workload of the four services' real APIs, started on a fixed schedule.

Used by the system load benchmark (`bench/bench_system_load.py`) and the
fault-under-load test. Open loop: request i starts at `i / rate` seconds
whether or not earlier ones have finished, and its latency is measured from
that scheduled instant, so queueing in the client or a service shows up as
latency instead of silently lowering the rate.

Which operations run is discovered from each service's OpenAPI: an operation
whose route a service does not (yet) offer is left out and listed as skipped.
The client does what a well-behaved frontend does: never two writes on one
account at once, and payments no larger than what it knows is open.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import aiohttp

Headers = dict[str, str]


class RequestFailed(Exception):
    """A non-2xx answer: counted as an error of its route."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status


class Counted(Exception):
    """A failure already counted against its route: the operation stops, nothing more."""


@dataclass
class RouteStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Recorder:
    """Per route: latencies of successes and errors by status (or exception name)."""

    routes: dict[str, RouteStats] = field(default_factory=lambda: defaultdict(RouteStats))
    lags_ms: list[float] = field(default_factory=list)
    lag_timeouts: int = 0
    error_samples: list[str] = field(default_factory=list)

    def ok(self, route: str, scheduled: float) -> None:
        self.routes[route].latencies_ms.append((time.perf_counter() - scheduled) * 1000)

    def failed(self, route: str, error: BaseException) -> None:
        key = str(error.status) if isinstance(error, RequestFailed) else type(error).__name__
        self.routes[route].errors[key] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{route}: {error}")

    @property
    def requests(self) -> int:
        return sum(len(s.latencies_ms) + s.errors.total() for s in self.routes.values())

    @property
    def errors(self) -> int:
        return sum(s.errors.total() for s in self.routes.values())


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of unsorted values (nan for none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Invoice:
    invoice_id: str
    open_minor: int


@dataclass
class Account:
    account_id: str
    registered_at: float
    currency: str
    invoices: list[Invoice] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)

    @property
    def open_minor(self) -> int:
        return sum(i.open_minor for i in self.invoices)


@dataclass(frozen=True)
class Operation:
    name: str
    weight: float
    needs: tuple[tuple[str, str, str], ...]  # (service, METHOD, path template)
    run: Callable[[float], Awaitable[None]]


COLLECTOR = "collector-load-1"


class MixedWorkload:
    """The operations, the accounts they act on, and the client they share."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        urls: dict[str, str],
        token: Callable[[str, str], str],
        recorder: Recorder,
        today: date | None = None,
        seed: int = 1,
        lag_sample_every: float = 2.0,
        visible_after: float = 5.0,
    ) -> None:
        self.http, self.urls, self.recorder = http, urls, recorder
        self.today = today or date.today()
        self.rng = random.Random(seed)
        self.headers = {
            role: {"Authorization": f"Bearer {token(role, sub)}"}
            for role, sub in (
                ("integration", "load-integration"),
                ("case_agent", "agent-load-1"),
                ("collector", COLLECTOR),
                ("supervisor", "supervisor-load-1"),
            )
        }
        self.accounts: list[Account] = []
        self.busy: set[str] = set()
        self.lag_sample_every, self._next_lag_sample = lag_sample_every, 0.0
        self.visible_after = visible_after  # seconds before other services know an account
        self.probes: set[asyncio.Task[None]] = set()
        self.operations: list[Operation] = []
        self.skipped: list[str] = []
        self.stopping = False

    # -- discovery ---------------------------------------------------------------------------

    def catalogue(self) -> list[Operation]:
        billing, cases = "billing-adapter", "case-service"
        reporting, collections = "reporting-service", "collections-service"
        return [
            Operation(
                "billing: register account",
                2,
                ((billing, "POST", "/v1/accounts"),),
                self.register_account,
            ),
            Operation(
                "billing: issue invoice",
                14,
                ((billing, "POST", "/v1/invoices"),),
                self.issue_invoice,
            ),
            Operation(
                "billing: record and apply payment",
                6,
                (
                    (billing, "POST", "/v1/payments"),
                    (billing, "POST", "/v1/payments/{payment_id}/applications"),
                ),
                self.pay,
            ),
            Operation(
                "billing: credit adjustment",
                1,
                ((billing, "POST", "/v1/invoices/{invoice_id}/adjustments"),),
                self.adjust,
            ),
            Operation(
                "billing: read account",
                10,
                ((billing, "GET", "/v1/accounts/{account_id}"),),
                self.read_account,
            ),
            Operation(
                "billing: read invoice",
                10,
                ((billing, "GET", "/v1/invoices/{invoice_id}"),),
                self.read_invoice,
            ),
            Operation(
                "billing: list account invoices",
                6,
                ((billing, "GET", "/v1/accounts/{account_id}/invoices"),),
                self.list_invoices,
            ),
            Operation(
                "reporting: account aging",
                12,
                ((reporting, "GET", "/v1/aging"),),
                self.account_aging,
            ),
            Operation(
                "reporting: account summary",
                6,
                ((reporting, "GET", "/v1/accounts/{account_id}/summary"),),
                self.account_summary,
            ),
            Operation("reporting: KPIs", 1, ((reporting, "GET", "/v1/kpis"),), self.kpis),
            Operation("cases: open case", 3, ((cases, "POST", "/v1/cases"),), self.open_case),
            Operation(
                "cases: add note", 4, ((cases, "POST", "/v1/cases/{case_id}/notes"),), self.add_note
            ),
            Operation(
                "cases: read case", 5, ((cases, "GET", "/v1/cases/{case_id}"),), self.read_case
            ),
            Operation(
                "collections: worklist", 5, ((collections, "GET", "/v1/worklist"),), self.worklist
            ),
            Operation(
                "collections: log call",
                2,
                ((collections, "POST", "/v1/contacts/calls"),),
                self.log_call,
            ),
            Operation(
                "collections: account contacts",
                3,
                ((collections, "GET", "/v1/accounts/{account_id}/contacts"),),
                self.account_contacts,
            ),
        ]

    async def discover(self) -> None:
        """Keep the operations whose routes the services serve; list the others as skipped."""
        offered: set[tuple[str, str, str]] = set()
        for service, url in self.urls.items():
            async with self.http.get(f"{url}/openapi.json") as response:
                schema = await response.json()
            for path, methods in schema.get("paths", {}).items():
                offered.update((service, m.upper(), path) for m in methods)
        for op in self.catalogue():
            missing = [f"{s} {m} {p}" for s, m, p in op.needs if (s, m, p) not in offered]
            if missing:
                self.skipped.append(f"{op.name} (not offered: {', '.join(missing)})")
            else:
                self.operations.append(op)

    # -- scheduling --------------------------------------------------------------------------

    async def warm_up(self, accounts: int = 100, invoices_each: int = 2) -> None:
        """Accounts with invoices to read and pay, outside the measured run."""
        scratch = Recorder()
        real, self.recorder = self.recorder, scratch
        try:
            for _ in range(accounts):
                await self.register_account(time.perf_counter())
            for account in list(self.accounts):
                for _ in range(invoices_each):
                    await self._issue_on(account, time.perf_counter(), probe=False)
        finally:
            self.recorder = real
        if scratch.errors:
            raise RuntimeError(f"warm-up failed: {scratch.error_samples}")
        await self.settle()

    async def settle(self, timeout: float = 300.0) -> None:
        """Wait until the newest account's invoice has reached reporting and the account has
        reached collections: every relay and consumer is up before anything is measured."""
        account = self.accounts[-1]
        visible = Recorder()
        real, self.recorder = self.recorder, visible
        try:
            await self._visible(account.account_id, account.invoices[-1].invoice_id, timeout)
        finally:
            self.recorder = real
        if visible.lag_timeouts:
            raise RuntimeError(f"reporting did not show a warm-up invoice within {timeout:g} s")
        url = f"{self.urls.get('collections-service')}/v1/accounts/{account.account_id}"
        deadline = time.perf_counter() + timeout
        while "collections-service" in self.urls and time.perf_counter() < deadline:
            async with self.http.get(url, headers=self.headers["supervisor"]) as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.2)
        if "collections-service" in self.urls:
            raise RuntimeError(f"collections did not know a warm-up account within {timeout:g} s")

    def stop(self) -> None:
        """End a run early: nothing more is started, what is in flight finishes."""
        self.stopping = True

    def draw(self) -> Operation:
        """The next operation of the mix, at random by the operations' weights."""
        return self.rng.choices(self.operations, [op.weight for op in self.operations])[0]

    async def run(self, rate: float, duration: float, max_in_flight: int = 5000) -> float:
        """Start `rate * duration` operations on schedule (fewer if stopped); return the
        seconds until all ended."""
        total = int(rate * duration)
        in_flight: set[asyncio.Task[None]] = set()
        started = time.perf_counter()
        for i in range(total):
            if self.stopping:
                break
            scheduled = started + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= max_in_flight:
                self.recorder.failed("client: shed (too many in flight)", RuntimeError("shed"))
                continue
            task = asyncio.create_task(self._guarded(self.draw(), scheduled))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight)
        if self.probes:
            await asyncio.wait(self.probes)
        return time.perf_counter() - started

    async def _guarded(self, op: Operation, scheduled: float) -> None:
        try:
            await op.run(scheduled)
        except Counted:
            pass
        except Exception as exc:
            self.recorder.failed(op.name, exc)

    # -- HTTP --------------------------------------------------------------------------------

    async def call(
        self,
        route: str,
        scheduled: float,
        method: str,
        service: str,
        path: str,
        role: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        headers = dict(self.headers[role])
        if idempotent:
            headers["Idempotency-Key"] = str(uuid4())
        try:
            async with self.http.request(
                method, f"{self.urls[service]}{path}", json=json, params=params, headers=headers
            ) as response:
                body = await response.read()
            if response.status >= 300:
                raise RequestFailed(response.status, body.decode(errors="replace"))
        except Exception as exc:
            self.recorder.failed(route, exc)
            raise Counted(route) from exc
        self.recorder.ok(route, scheduled)
        return jsonlib.loads(body)

    # -- choosing what to act on -------------------------------------------------------------

    def _free_account(self, want: Callable[[Account], bool] = lambda a: True) -> Account | None:
        for _ in range(8):
            if not self.accounts:
                return None
            account = self.rng.choice(self.accounts)
            if account.account_id not in self.busy and want(account):
                return account
        return None

    def _any_account(self, want: Callable[[Account], bool] = lambda a: True) -> Account | None:
        candidates = [self.rng.choice(self.accounts) for _ in range(8)] if self.accounts else []
        return next((a for a in candidates if want(a)), None)

    def _known_everywhere(self, account: Account) -> bool:
        return time.perf_counter() - account.registered_at > self.visible_after

    # -- operations --------------------------------------------------------------------------

    async def register_account(self, scheduled: float) -> None:
        body = {
            "external_id": f"LOAD-{uuid4().hex[:16]}",
            "name": "Load Test Ltd",
            "currency": "EUR",
            "payment_terms_days": 30,
            "contacts": [{"name": "Ann Payer", "email": "ap@example.com"}],
        }
        made = await self.call(
            "billing POST /v1/accounts",
            scheduled,
            "POST",
            "billing-adapter",
            "/v1/accounts",
            "integration",
            body,
            idempotent=True,
        )
        self.accounts.append(Account(made["account_id"], time.perf_counter(), "EUR"))

    async def issue_invoice(self, scheduled: float) -> None:
        account = self._free_account()
        if account is None:  # every account picked was busy: read instead of waiting
            return await self.read_account(scheduled)
        await self._issue_on(account, scheduled, probe=True)

    async def _issue_on(self, account: Account, scheduled: float, probe: bool) -> None:
        issued = self.today - timedelta(days=self.rng.randint(0, 150))
        total = self.rng.randint(1_000, 500_000)
        body = {
            "external_id": f"INV-{uuid4().hex[:16]}",
            "account_id": account.account_id,
            "total_minor": total,
            "issue_date": issued.isoformat(),
            "due_date": (issued + timedelta(days=30)).isoformat(),
        }
        self.busy.add(account.account_id)
        try:
            made = await self.call(
                "billing POST /v1/invoices",
                scheduled,
                "POST",
                "billing-adapter",
                "/v1/invoices",
                "integration",
                body,
                idempotent=True,
            )
        finally:
            self.busy.discard(account.account_id)
        account.invoices.append(Invoice(made["invoice_id"], total))
        if probe and time.perf_counter() >= self._next_lag_sample:
            self._next_lag_sample = time.perf_counter() + self.lag_sample_every
            task = asyncio.create_task(self._visible(account.account_id, made["invoice_id"]))
            self.probes.add(task)
            task.add_done_callback(self.probes.discard)

    async def _visible(
        self, account_id: str, invoice_id: str, timeout: float = 60.0, every: float = 0.02
    ) -> None:
        """Append-to-visible: from the invoice's 201 until reporting's aging lists it.

        Polled every `every` seconds at first, then every tenth of the time waited so far
        (at most a second): a lag is overstated by at most a tenth plus `every`, and when
        reporting falls behind the probes do not pile up polls on it (at a fixed 20 ms,
        probes started every two seconds against a 10 s lag add 250 requests a second,
        making the lag they measure longer still)."""
        created = time.perf_counter()
        url = f"{self.urls['reporting-service']}/v1/aging"
        params = {
            "account_id": account_id,
            "group_by": "invoice",
            "as_of": (self.today + timedelta(days=1)).isoformat(),
        }
        while time.perf_counter() - created < timeout:
            try:
                async with self.http.get(
                    url, params=params, headers=self.headers["collector"]
                ) as response:
                    rows = (await response.json())["rows"] if response.status == 200 else []
                if any(row.get("invoice_id") == invoice_id for row in rows):
                    self.recorder.lags_ms.append((time.perf_counter() - created) * 1000)
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(max(every, min(1.0, (time.perf_counter() - created) / 10)))
        self.recorder.lag_timeouts += 1

    async def pay(self, scheduled: float) -> None:
        account = self._free_account(lambda a: a.open_minor > 0)
        if account is None:
            return await self.issue_invoice(scheduled)
        target = next(i for i in account.invoices if i.open_minor > 0)
        amount = min(target.open_minor, self.rng.randint(500, 200_000))
        self.busy.add(account.account_id)
        try:
            payment = await self.call(
                "billing POST /v1/payments",
                scheduled,
                "POST",
                "billing-adapter",
                "/v1/payments",
                "integration",
                {
                    "external_id": f"PAY-{uuid4().hex[:16]}",
                    "account_id": account.account_id,
                    "amount_minor": amount,
                    "currency": account.currency,
                    "method": "ach",
                    "received_on": self.today.isoformat(),
                },
                idempotent=True,
            )
            await self.call(
                "billing POST /v1/payments/{id}/applications",
                time.perf_counter(),
                "POST",
                "billing-adapter",
                f"/v1/payments/{payment['payment_id']}/applications",
                "integration",
                {
                    "applied_on": self.today.isoformat(),
                    "allocations": [{"invoice_id": target.invoice_id, "amount_minor": amount}],
                },
                idempotent=True,
            )
            target.open_minor -= amount
        finally:
            self.busy.discard(account.account_id)

    async def adjust(self, scheduled: float) -> None:
        account = self._free_account(lambda a: a.open_minor > 100)
        if account is None:
            return await self.issue_invoice(scheduled)
        target = next(i for i in account.invoices if i.open_minor > 100)
        amount = self.rng.randint(1, target.open_minor // 2)
        self.busy.add(account.account_id)
        try:
            await self.call(
                "billing POST /v1/invoices/{id}/adjustments",
                scheduled,
                "POST",
                "billing-adapter",
                f"/v1/invoices/{target.invoice_id}/adjustments",
                "integration",
                {
                    "kind": "credit",
                    "amount_minor": amount,
                    "reason_code": "goodwill",
                    "effective_date": self.today.isoformat(),
                },
                idempotent=True,
            )
            target.open_minor -= amount
        finally:
            self.busy.discard(account.account_id)

    async def read_account(self, scheduled: float) -> None:
        account = self._any_account()
        if account is None:
            return await self.register_account(scheduled)
        await self.call(
            "billing GET /v1/accounts/{id}",
            scheduled,
            "GET",
            "billing-adapter",
            f"/v1/accounts/{account.account_id}",
            "collector",
        )

    async def read_invoice(self, scheduled: float) -> None:
        account = self._any_account(lambda a: bool(a.invoices))
        if account is None:
            return await self.issue_invoice(scheduled)
        invoice = self.rng.choice(account.invoices)
        await self.call(
            "billing GET /v1/invoices/{id}",
            scheduled,
            "GET",
            "billing-adapter",
            f"/v1/invoices/{invoice.invoice_id}",
            "collector",
        )

    async def list_invoices(self, scheduled: float) -> None:
        account = self._any_account()
        if account is None:
            return await self.register_account(scheduled)
        await self.call(
            "billing GET /v1/accounts/{id}/invoices",
            scheduled,
            "GET",
            "billing-adapter",
            f"/v1/accounts/{account.account_id}/invoices",
            "collector",
        )

    async def account_aging(self, scheduled: float) -> None:
        account = self._any_account()
        if account is None:
            return await self.register_account(scheduled)
        await self.call(
            "reporting GET /v1/aging?account_id",
            scheduled,
            "GET",
            "reporting-service",
            "/v1/aging",
            "collector",
            params={"account_id": account.account_id, "group_by": "invoice"},
        )

    async def account_summary(self, scheduled: float) -> None:
        account = self._any_account(self._known_everywhere)
        if account is None:
            return await self.read_account(scheduled)
        await self.call(
            "reporting GET /v1/accounts/{id}/summary",
            scheduled,
            "GET",
            "reporting-service",
            f"/v1/accounts/{account.account_id}/summary",
            "collector",
        )

    async def kpis(self, scheduled: float) -> None:
        await self.call(
            "reporting GET /v1/kpis",
            scheduled,
            "GET",
            "reporting-service",
            "/v1/kpis",
            "supervisor",
            params={"currency": "EUR", "period": self.today.strftime("%Y-%m")},
        )

    async def open_case(self, scheduled: float) -> None:
        account = self._free_account(self._known_everywhere)
        if account is None:
            return await self.read_account(scheduled)
        made = await self.call(
            "cases POST /v1/cases",
            scheduled,
            "POST",
            "case-service",
            "/v1/cases",
            "case_agent",
            {
                "account_id": account.account_id,
                "type": "billing_inquiry",
                "origin": "inbound_phone",
                "subject": "Question about a charge",
                "description": "Customer asks what the second line on the invoice is for.",
            },
            idempotent=True,
        )
        account.case_ids.append(made["case_id"])

    def _case(self) -> tuple[Account, str] | None:
        account = self._free_account(lambda a: bool(a.case_ids))
        return None if account is None else (account, self.rng.choice(account.case_ids))

    async def add_note(self, scheduled: float) -> None:
        picked = self._case()
        if picked is None:
            return await self.open_case(scheduled)
        account, case_id = picked
        self.busy.add(account.account_id)  # one case writer at a time, as a frontend would
        try:
            await self.call(
                "cases POST /v1/cases/{id}/notes",
                scheduled,
                "POST",
                "case-service",
                f"/v1/cases/{case_id}/notes",
                "case_agent",
                {"body": "Called the customer back; explained the proration."},
            )
        finally:
            self.busy.discard(account.account_id)

    async def read_case(self, scheduled: float) -> None:
        account = self._any_account(lambda a: bool(a.case_ids))
        if account is None:
            return await self.read_account(scheduled)
        await self.call(
            "cases GET /v1/cases/{id}",
            scheduled,
            "GET",
            "case-service",
            f"/v1/cases/{self.rng.choice(account.case_ids)}",
            "case_agent",
        )

    async def worklist(self, scheduled: float) -> None:
        await self.call(
            "collections GET /v1/worklist",
            scheduled,
            "GET",
            "collections-service",
            "/v1/worklist",
            "collector",
        )

    async def log_call(self, scheduled: float) -> None:
        account = self._free_account(self._known_everywhere)
        if account is None:
            return await self.read_account(scheduled)
        self.busy.add(account.account_id)
        try:
            await self.call(
                "collections POST /v1/contacts/calls",
                scheduled,
                "POST",
                "collections-service",
                "/v1/contacts/calls",
                "collector",
                {"account_id": account.account_id, "outcome": "no_answer"},
                idempotent=True,
            )
        finally:
            self.busy.discard(account.account_id)

    async def account_contacts(self, scheduled: float) -> None:
        account = self._any_account(self._known_everywhere)
        if account is None:
            return await self.read_account(scheduled)
        await self.call(
            "collections GET /v1/accounts/{id}/contacts",
            scheduled,
            "GET",
            "collections-service",
            f"/v1/accounts/{account.account_id}/contacts",
            "collector",
        )


def report(recorder: Recorder, seconds: float, rate: float, skipped: list[str]) -> str:
    """The figures, one line per route, for a terminal or a test's output."""
    lines = [
        f"{recorder.requests} requests in {seconds:.1f} s = {recorder.requests / seconds:.1f}"
        f" req/s (target {rate:g}/s); errors: {recorder.errors}"
    ]
    lines.append(
        f"{'route':48} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  errors"
    )
    every: list[float] = []
    for route, stats in sorted(recorder.routes.items()):
        ms = stats.latencies_ms
        every.extend(ms)
        errors = ", ".join(f"{k}x{v}" for k, v in sorted(stats.errors.items())) or "0"
        lines.append(
            f"{route:48} {len(ms):>7} {percentile(ms, 50):>8.1f} "
            f"{percentile(ms, 95):>8.1f} {percentile(ms, 99):>8.1f} "
            f"{max(ms, default=float('nan')):>8.1f}  {errors}"
        )
    lines.append(
        f"{'all routes':48} {len(every):>7} {percentile(every, 50):>8.1f} "
        f"{percentile(every, 95):>8.1f} {percentile(every, 99):>8.1f} "
        f"{max(every, default=float('nan')):>8.1f}  {recorder.errors}"
    )
    lags = recorder.lags_ms
    lines.append(
        f"append-to-visible (invoice 201 -> in reporting's aging), {len(lags)} samples: "
        f"p50 {percentile(lags, 50):.0f} ms, p95 {percentile(lags, 95):.0f} ms, "
        f"p99 {percentile(lags, 99):.0f} ms, max {max(lags, default=float('nan')):.0f} "
        f"ms; not visible within 60 s: {recorder.lag_timeouts}"
    )
    for name in skipped:
        lines.append(f"skipped: {name}")
    for sample in recorder.error_samples[:10]:
        lines.append(f"error sample: {sample}")
    return "\n".join(lines)
