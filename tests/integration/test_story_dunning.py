"""Story: a Spanish customer's statement goes out by itself, bounces, and the cadence catches up.

Billing registers a customer with a billing contact and a copied one and an
invoice ten days late; collections learns it from the topic. The customer
speaks Spanish, the policy (written on go-live, both email steps' days already
passed) starts with the first step not done: the statement, sent by the
service's own sender inside the send window, in Spanish with Spanish money and
dates, to the billing contact with the other in copy, signed by the collector.
The statement carries a pay link billing-adapter made at its payment provider
(Stripe), asked for by collections over HTTP. The mail gateway then posts the
DSN of a bounce, and it is recorded.

The sender works on the team's business days only, so the story runs against a
collections deployment of its own (its own database and consumer group, no
relay) whose team works every day and whose window is the whole day: the story
then proves the same thing whatever the date it runs on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from collections_service.testing import Inbox, free_port
from receivables_devkit.testing.stories import Stories, eventually, unique
from receivables_devkit.testing.system import RunningSystem


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[Inbox, str]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{controller.port}?from=cobros@receivables.test"
    finally:
        controller.stop()


@pytest.fixture
async def every_day_collections(
    system: RunningSystem, inbox: tuple[Inbox, str], tmp_path: Path
) -> AsyncIterator[str]:
    """A collections deployment beside the system's, reading the same billing topic."""
    _, smtp_url = inbox
    deployment = RunningSystem(
        system.server_url,
        system.kafka_bootstrap,
        tmp_path,
        jwt_secret=system.jwt_secret,
        env=dict(system.env),
        service_env={
            "collections-service": {
                "SMTP_URL": smtp_url,
                "CONSUMER_GROUP": unique("dunning"),
                "RUN_RELAY": "false",
                "COLLECTIONS_DAILY_RUN": "false",
                "COLLECTIONS_WEEKEND": "[]",
                "COLLECTIONS_CALENDAR_COUNTRY": "",
                "DUNNING_WINDOW_START": "00:00",
                "DUNNING_WINDOW_END": "23:59:59.999999",
                "DUNNING_POLL_SECONDS": "0.5",
                "PAY_LINK_URL_TEMPLATE": "https://pay.example/a/{account_id}",
                "BILLING_ADAPTER_URL": system.url("billing-adapter"),
                "REMITTANCE_INSTRUCTIONS": "IBAN ES91 2100 0418 4502 0005 1332",
            }
        },
    )
    try:
        await deployment.start(["collections-service"])
        yield deployment.url("collections-service")
    finally:
        await deployment.stop()


def dsn(message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.sol.test\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.sol.test\r\n"
        "\r\nFinal-Recipient: rfc822; ana@sol.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n\r\n"
        "--b--\r\n"
    ).encode()


async def test_a_spanish_statement_goes_out_by_itself_bounces_and_catches_up_in_order(
    system: RunningSystem, every_day_collections: str, inbox: tuple[Inbox, str]
) -> None:
    mail, _ = inbox
    collections = every_day_collections
    today = date.today()
    collector, segment = unique("collector"), unique("dunning")
    supervisor = system.auth("supervisor")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        account_id = await s.account(
            "Muebles Sol SL",
            "EUR",
            segment=segment,
            contacts=[
                {"name": "Ana García", "email": "ana@sol.test", "role": "billing"},
                {"name": "Luis Pérez", "email": "luis@sol.test", "role": "billing_cc"},
            ],
        )
        await s.invoice(
            account_id, 120_000, issued=today - timedelta(days=40), due=today - timedelta(days=10)
        )

        async def seen() -> httpx.Response | None:
            view = await http.get(f"{collections}/v1/accounts/{account_id}", headers=supervisor)
            return view if view.status_code == 200 and view.json()["past_due_minor"] else None

        view = await eventually(seen)
        assigned = await http.put(
            f"{collections}/v1/accounts/{account_id}/collector",
            json={"collector_id": collector},
            headers={**supervisor, "If-Match": view.headers["ETag"]},
        )
        assert assigned.status_code == 200, assigned.text
        profile = await http.get(
            f"{collections}/v1/accounts/{account_id}/profile", headers=supervisor
        )
        spanish = await http.put(
            f"{collections}/v1/accounts/{account_id}/profile",
            json={"language": "es"},
            headers={**supervisor, "If-Match": profile.headers["ETag"]},
        )
        assert spanish.status_code == 200, spanish.text
        named = await http.put(
            f"{collections}/v1/collectors/{collector}",
            json={"name": "Marta Ruiz"},
            headers=supervisor,
        )
        assert named.status_code == 200, named.text
        policy = await http.post(
            f"{collections}/v1/policies",
            json={
                "segment": segment,
                "name": "Go-live",
                "steps": [
                    {
                        "step_id": "statement",
                        "offset_days": 1,
                        "channel": "email",
                        "template": "overdue_statement",
                    },
                    {
                        "step_id": "final",
                        "offset_days": 5,
                        "channel": "email",
                        "template": "final_notice",
                    },
                ],
            },
            headers={**supervisor, "Idempotency-Key": unique("key")},
        )
        assert policy.status_code == 201, policy.text
        assert policy.json()["catch_up"] == "first_not_done"
        tomorrow = await http.get(
            f"{collections}/v1/dunning/preview",
            params={"date": today.isoformat()},
            headers=supervisor,
        )
        [planned] = [p for p in tomorrow.json()["sends"] if p["account_id"] == account_id]
        assert (planned["step_id"], planned["language"]) == ("statement", "es")

        ran = await http.post(
            f"{collections}/v1/cadence/runs",
            json={"business_date": today.isoformat()},
            headers=supervisor,
        )
        assert ran.status_code == 200 and ran.json()["tasks_scheduled"] == 1, ran.text

        async def delivered() -> bool | None:
            return True if mail.messages else None

        await eventually(delivered)
        [message] = mail.messages
        assert message["To"] == "ana@sol.test" and message["Cc"] == "luis@sol.test"
        assert message["Content-Language"] == "es"
        assert message["Subject"] == "Muebles Sol SL: 1 factura vencida, 1.200,00 €"
        body = message.get_content()
        assert "Estimado/a Ana García" in body and "Total vencido: 1.200,00\xa0€" in body
        # the pay link is billing's (a Stripe Checkout Session), asked for over HTTP, not
        # the URL template this deployment also has
        assert "https://checkout.stripe.com/" in body and "pay.example" not in body, body
        assert "IBAN ES91" in body
        assert body.rstrip().endswith("Marta Ruiz")

        async def recorded() -> list[dict[str, object]] | None:
            # the server accepts the message a moment before the sender records it
            sends = await http.get(
                f"{collections}/v1/accounts/{account_id}/dunning", headers=supervisor
            )
            return sends.json() if sends.json()[0]["status"] != "claimed" else None

        [sent] = await eventually(recorded)
        assert (sent["step_id"], sent["status"], sent["language"]) == ("statement", "sent", "es")
        assert sent["message_id"] == message["Message-ID"]

        gateway = {**system.auth("integration"), "Content-Type": "multipart/report"}
        bounced = await http.post(
            f"{collections}/v1/mail/bounces", content=dsn(message["Message-ID"]), headers=gateway
        )
        assert bounced.status_code == 200, bounced.text
        assert bounced.json()["bounced_at"] is not None
        [after] = (
            await http.get(f"{collections}/v1/accounts/{account_id}/dunning", headers=supervisor)
        ).json()
        assert after["status"] == "bounced" and "5.1.1" in after["error"]
        await asyncio.sleep(1.5)  # three more passes of the sender: still the one email
        assert len(mail.messages) == 1
