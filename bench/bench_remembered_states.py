"""What billing-adapter's remembered account states cost the garbage collector.

The account repository remembers the latest state of up to 5,000 accounts
(`remember=5_000`), so a request folds only the events since. Every object in
those states that the collector tracks is walked by every full collection,
and a full collection stops the event loop: at 200 requests/s for 20 minutes
they were 0.3-0.74 s every 30-60 s, billing's p99 (docs/benchmarks.md).

This builds states shaped like the load mix's accounts (by default seven
invoices of one line and one instalment, three payments applied to them, a
credit memo), holds as many as the repository remembers, and prints the
tracked objects a state holds, by type, and how long a full collection over
them takes, with the machine's speed for the fixed loop.

    .venv/bin/python bench/bench_remembered_states.py
    .venv/bin/python bench/bench_remembered_states.py --accounts 5000 --invoices 20
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import timedelta
from uuid import uuid4

from process_cpu import machine_speed

from billing_adapter.domain.commands import AdjustInvoice, Allocation, ApplyPayment, Command
from billing_adapter.domain.state import Account
from billing_adapter.testing import TODAY, given, invoice, payment, register
from receivables_devkit.testing.tracked import tracked_objects
from receivables_platform.contracts.billing import AdjustmentKind
from receivables_platform.heap import freeze_start_up


def account_state(invoices: int, payments: int, credits: int) -> Account:
    """One account's state after the commands the load mix sends it, folded as a
    repository folds them (each command decided on the state before it)."""
    account_id = uuid4()
    issued = TODAY - timedelta(days=90)
    invoice_ids = [uuid4() for _ in range(invoices)]
    commands: list[Command] = [
        register(account_id=account_id, external_id=f"CUS-{account_id.hex[:12]}")
    ]
    for n, invoice_id in enumerate(invoice_ids):
        day = issued + timedelta(days=n)
        commands.append(
            invoice(
                invoice_id=invoice_id,
                account_id=account_id,
                external_id=f"INV-{invoice_id.hex[:16]}",
                issue_date=day,
                due_date=day + timedelta(days=30),
            )
        )
    for n in range(payments):
        paid = payment(account_id=account_id, external_id=f"PAY-{n}", amount_minor=4_000)
        allocation = Allocation(invoice_ids[n % invoices], 4_000)
        commands += [
            paid,
            ApplyPayment(account_id, paid.payment_id, issued + timedelta(days=40), (allocation,)),
        ]
    commands += [
        AdjustInvoice(
            account_id,
            invoice_ids[-1 - n % invoices],
            uuid4(),
            AdjustmentKind.CREDIT,
            500,
            "goodwill",
            issued + timedelta(days=45),
        )
        for n in range(credits)
    ]
    return given(*commands)


def full_collection_seconds(rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--invoices", type=int, default=7)
    parser.add_argument("--payments", type=int, default=3)
    parser.add_argument("--credits", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"machine speed (fixed loop): {machine_speed():.3f} s")
    freeze_start_up()  # as a service does with its start-up heap: only the states are walked
    empty = full_collection_seconds(args.rounds)
    states = [
        account_state(args.invoices, args.payments, args.credits) for _ in range(args.accounts)
    ]
    gc.collect()  # a remembered state has lived through young collections: untracked what can be
    one = tracked_objects(states[0])
    print(
        f"{args.accounts} states of {args.invoices} invoices, {args.payments} payments, "
        f"{args.credits} credits: {sum(one.values())} tracked objects a state"
    )
    print("  " + ", ".join(f"{name} {count}" for name, count in one.most_common()))
    print(f"  in the collector's generations: {len(gc.get_objects())} objects")
    full = full_collection_seconds(args.rounds)
    print(
        f"full collection: median {statistics.median(full) * 1000:.1f} ms, "
        f"max {max(full) * 1000:.1f} ms "
        f"(without the states {statistics.median(empty) * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
