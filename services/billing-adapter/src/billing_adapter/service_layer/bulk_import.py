"""Bulk import: many creates decided like single ones, appended as one batch.

A batch is one transaction: it looks up which external ids exist already,
locks every account it touches (in one order, so batches cannot deadlock),
loads those accounts in one query, decides each row with the aggregate's own
`decide` against the account as the earlier rows of the batch left it, and
appends every account's new events in one multi-stream statement with the
external ids and entity index. A row the domain refuses is reported and
skipped; the rest commit. A row whose external id already exists changes
nothing when it says the same thing (so a file imported twice is a no-op),
and is refused as a conflict when it does not, exactly as the REST API does.
An account row for a known account updates what differs.

When another writer wins a race for an account or an external id, the batch's
transaction fails as a whole and is decided again from the new state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

import asyncpg
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from billing_adapter.adapters import account_entities, external_ids
from billing_adapter.adapters.repositories import accounts, load_for_creates
from billing_adapter.domain.account import decide, evolve
from billing_adapter.domain.commands import (
    Command,
    IssueInvoice,
    RecordPayment,
    RegisterAccount,
    UpdateAccount,
)
from billing_adapter.domain.state import Account
from billing_adapter.service_layer.accounts import (
    ACCOUNT,
    in_use,
    lock_accounts,
    same_invoice,
    same_payment,
    team_today,
)
from receivables_platform.contracts.base import EventContract
from receivables_platform.domain import Refused, fold
from receivables_platform.ids import new_id
from receivables_platform.store import ConcurrencyError, EventTooLarge, PendingStream

Build = Callable[[UUID, UUID], Command]
RACES = (
    ConcurrencyError,
    asyncpg.UniqueViolationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


class Kind(StrEnum):
    """What an import file holds."""

    ACCOUNTS = "accounts"
    INVOICES = "invoices"
    PAYMENTS = "payments"


_ENTITY = {Kind.ACCOUNTS: "account", Kind.INVOICES: "invoice", Kind.PAYMENTS: "payment"}


def entity_kind(kind: Kind) -> str:
    """The external-id kind of what a file of `kind` creates."""
    return _ENTITY[kind]


class FileRefused(Exception):
    """The file as a whole cannot be imported (its header, its encoding); no row is read."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


class Incoming(NamedTuple):
    """One readable row: what it creates, named by the billing system's id.

    `account` is our account id or the billing system's id of the account
    (None for an account row, which is its own account); `build(entity_id,
    account_id)` makes the create command once both are known. A named tuple,
    not a frozen dataclass: as immutable, and made in a third of the time (a
    bulk import makes one per row).
    """

    row: int
    line: int | None
    external_id: str
    account: UUID | str | None
    build: Build


@dataclass(frozen=True)
class Rejection:
    row: int
    line: int | None
    field: str | None
    reason: str


class SourceRow(NamedTuple):
    """Row `number` (1 is the first record after any header) as read, or why it is unreadable.

    Whoever reads the file (an upload, the command line) makes these; the use
    case needs only the row's command, never the file format. A named tuple,
    like `Incoming`: immutable and cheap to make once per row."""

    number: int
    line: int
    value: Incoming | None
    errors: tuple[Rejection, ...] = ()


@dataclass
class Tally:
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: Tally) -> None:
        for name in ("read", "imported", "updated", "unchanged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class BatchResult:
    tally: Tally = field(default_factory=Tally)
    rejections: list[Rejection] = field(default_factory=list)


async def import_batch(
    conn: asyncpg.Connection,
    kind: str,
    rows: Sequence[Incoming],
    *,
    correlation_id: str | None = None,
    attempts: int = 5,
    today: date | None = None,
    actor: str | None = None,
) -> BatchResult:
    """Decide and append `rows` (all of one `kind`) in one transaction, retried on a lost race.

    A row whose event the broker would not take (`EventTooLarge`, an invoice of a thousand
    long lines) fails the whole append; the batch then runs again measuring each row's
    events, so that only that row is rejected. Only that rare batch pays for measuring.
    `actor` (who submitted the file) is recorded on every event the rows decide.
    """
    on = today if today is not None else team_today()
    try:
        return await _import_batch(
            conn, kind, rows, correlation_id, attempts, on, measure=False, actor=actor
        )
    except EventTooLarge:
        return await _import_batch(
            conn, kind, rows, correlation_id, attempts, on, measure=True, actor=actor
        )


async def _import_batch(
    conn: asyncpg.Connection,
    kind: str,
    rows: Sequence[Incoming],
    correlation_id: str | None,
    attempts: int,
    on: date,
    *,
    measure: bool,
    actor: str | None,
) -> BatchResult:
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(RACES),
        stop=stop_after_attempt(attempts),
        wait=wait_random(0.01, 0.2),
        reraise=True,
    ):
        with attempt:
            async with conn.transaction():
                batch = _Batch(kind, on, measure=measure, actor=actor)
                await batch.prepare(conn, rows)
                for row in rows:
                    batch.decide(row)
                await batch.save(conn, correlation_id)
                return batch.result
    raise AssertionError("unreachable: tenacity reraises the last race")


@dataclass
class _Batch:
    kind: str
    today: date
    measure: bool = False
    actor: str | None = None
    result: BatchResult = field(default_factory=BatchResult)
    known: dict[str, UUID] = field(default_factory=dict)
    account_refs: dict[str, UUID] = field(default_factory=dict)
    holders: dict[UUID, UUID] = field(default_factory=dict)
    states: dict[UUID, Account] = field(default_factory=dict)
    versions: dict[UUID, int] = field(default_factory=dict)
    pending: dict[UUID, list[EventContract]] = field(default_factory=dict)
    claims: list[tuple[str, UUID]] = field(default_factory=list)
    created: dict[UUID, list[EventContract]] = field(default_factory=dict)

    async def prepare(self, conn: asyncpg.Connection, rows: Sequence[Incoming]) -> None:
        """What exists already, and every account the batch touches, locked and loaded."""
        self.known = await external_ids.find_many(conn, self.kind, [r.external_id for r in rows])
        if self.kind == ACCOUNT:
            self.holders = {entity: entity for entity in self.known.values()}
        else:
            self.account_refs = await external_ids.find_many(
                conn, ACCOUNT, [r.account for r in rows if isinstance(r.account, str)]
            )
            self.holders = await account_entities.owners(conn, self.kind, self.known.values())
        touched = set(self.holders.values()) | {
            a for a in (self._account_of(r) for r in rows) if a is not None
        }
        await lock_accounts(conn, touched)
        views = await load_for_creates(conn, touched, self.kind, self.holders.keys())
        self.states = {a: view.state for a, view in views.items()}
        self.versions = {a: view.version for a, view in views.items()}

    def _account_of(self, row: Incoming) -> UUID | None:
        if isinstance(row.account, str):
            return self.account_refs.get(row.account)
        return row.account

    def decide(self, row: Incoming) -> None:
        self.result.tally.read += 1
        try:
            self._decide(row)
        except Refused as refusal:
            self.result.tally.rejected += 1
            self.result.rejections.append(
                Rejection(row.row, row.line, refusal.field, refusal.detail)
            )

    def _decide(self, row: Incoming) -> None:
        account_id = self._account_of(row)
        if row.account is not None and account_id is None:
            raise Refused(
                f"no account has the external id {row.account!r}", field="account_external_id"
            )
        existing = self.known.get(row.external_id)
        if existing is not None:
            self._again(row, existing, account_id)
            return
        entity_id = new_id()
        owner = account_id or entity_id
        command = replace(row.build(entity_id, owner), actor=self.actor)
        events = decide(command, self._state(owner), self.today)
        if self.measure:
            self._refuse_too_large(
                owner, events, "lines" if isinstance(command, IssueInvoice) else None
            )
        if isinstance(command, RegisterAccount):
            self._apply(owner, events)
        else:
            self._append(owner, events)
            self.created[entity_id] = events
        self.known[row.external_id] = entity_id
        self.holders[entity_id] = owner
        self.claims.append((row.external_id, entity_id))
        self.result.tally.imported += 1

    def _refuse_too_large(
        self, account_id: UUID, events: list[EventContract], field: str | None
    ) -> None:
        try:
            accounts.store.check_sizes(
                [PendingStream(accounts.stream_id(account_id), 0, events, str(account_id))]
            )
        except EventTooLarge as exc:
            raise Refused(
                f"{exc}: the row would make an event larger than the broker takes", field=field
            ) from None

    def _again(self, row: Incoming, entity_id: UUID, account_id: UUID | None) -> None:
        """A known external id: the same thing again is a no-op, something else a conflict."""
        holder = self.holders[entity_id]
        state = fold(evolve, self.states[holder], self.created.get(entity_id, ()))
        command = replace(row.build(entity_id, account_id or holder), actor=self.actor)
        if isinstance(command, RegisterAccount):
            if command.currency != state.currency:
                raise in_use(self.kind, row.external_id)
            events = decide(_update_from(command), state, self.today)
            self._apply(holder, events)
            if events:
                self.result.tally.updated += 1
                return
        elif not _same(command, state, entity_id):
            raise in_use(self.kind, row.external_id)
        self.result.tally.unchanged += 1

    def _apply(self, account_id: UUID, events: list[EventContract]) -> None:
        """Events that change the profile, which later rows are decided on."""
        if events:
            self.states[account_id] = fold(evolve, self._state(account_id), events)
        self._append(account_id, events)

    def _state(self, account_id: UUID) -> Account:
        """The account as the batch left it; a new one only when there is none (not made
        and thrown away for every row, as a `get` default would be)."""
        state = self.states.get(account_id)
        return Account() if state is None else state

    def _append(self, account_id: UUID, events: list[EventContract]) -> None:
        """Events that create an invoice or payment: later creates do not read them (see
        `load_for_creates`), so they are folded only for a row that names them again."""
        if events:
            self.versions.setdefault(account_id, 0)
            self.pending.setdefault(account_id, []).extend(events)

    async def save(self, conn: asyncpg.Connection, correlation_id: str | None) -> None:
        """`prepare` read every touched account's version under its lock in this
        transaction, so the store need not read them again."""
        if not self.pending:
            return
        await accounts.store.append(
            conn,
            [
                PendingStream(accounts.stream_id(a), self.versions[a], events, subject=str(a))
                for a, events in self.pending.items()
            ],
            correlation_id=correlation_id,
            read_back=False,
            versions_read=True,
        )
        if self.claims:
            await external_ids.claim_many(conn, self.kind, self.claims)
        if self.kind != ACCOUNT and self.claims:
            await account_entities.add_many(
                conn, self.kind, [(entity, self.holders[entity]) for _, entity in self.claims]
            )


def _same(command: Command, state: Account, entity_id: UUID) -> bool:
    if isinstance(command, IssueInvoice):
        return same_invoice(command, state, entity_id)
    if isinstance(command, RecordPayment):
        return same_payment(command, state, entity_id)
    raise AssertionError(f"a bulk import does not create {type(command).__name__}")


def _update_from(command: RegisterAccount) -> UpdateAccount:
    """An account row for a known account: what it says now (an absent segment stays)."""
    return UpdateAccount(
        account_id=command.account_id,
        name=command.name,
        contacts=command.contacts,
        payment_terms_days=command.payment_terms_days,
        segment=command.segment,
        actor=command.actor,
    )
