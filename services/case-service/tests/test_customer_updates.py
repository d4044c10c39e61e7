"""Customer updates by email go through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest

from case_service.testing import auth, billing_account, case_body, create, register_agents
from receivables_devkit.infra.ports import free_port


@pytest.fixture
async def mailing_api(cases_url, inbox, case_server) -> AsyncIterator[httpx.AsyncClient]:
    _, port = inbox
    url = f"smtp://127.0.0.1:{port}?from=cases@receivables.test"
    async with (
        case_server(cases_url, smtp_url=url) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
    ):
        await register_agents(client)
        yield client


async def test_an_email_update_is_sent_by_smtp_and_recorded_with_its_message_id(
    mailing_api, cases_url, inbox
):
    handler, _ = inbox
    account_id, invoices = await billing_account(cases_url)
    opened = await mailing_api.post(
        "/v1/cases", json=case_body(account_id, invoices), headers=create()
    )
    url, number = opened.headers["Location"], opened.json()["case_number"]
    sent = await mailing_api.post(
        f"{url}/customer-updates",
        json={
            "channel": "email",
            "summary": "Credit on its way",
            "recipient": "pat@customer.test",
            "message": "Dear Pat,\nwe credit the duplicate line.\n",
        },
        headers=auth(),
    )
    assert sent.status_code == 200, sent.text
    [message] = handler.messages
    assert message["To"] == "pat@customer.test"
    assert message["Subject"].startswith(f"[{number}]")
    assert "duplicate line" in message.get_payload()
    [update] = sent.json()["customer_updates"]
    assert update["channel"] == "email" and update["recipient"] == "pat@customer.test"


async def test_an_email_update_without_recipient_is_refused_and_sends_nothing(
    mailing_api, cases_url, inbox
):
    handler, _ = inbox
    account_id, invoices = await billing_account(cases_url)
    opened = await mailing_api.post(
        "/v1/cases", json=case_body(account_id, invoices), headers=create()
    )
    refused = await mailing_api.post(
        f"{opened.headers['Location']}/customer-updates",
        json={"channel": "email", "summary": "x"},
        headers=auth(),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.recipient"
    assert handler.messages == []


async def test_an_unreachable_smtp_server_is_502_and_records_nothing(cases_url, case_server):
    url = f"smtp://127.0.0.1:{free_port()}"
    async with (
        case_server(cases_url, smtp_url=url) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as client,
    ):
        account_id, invoices = await billing_account(cases_url)
        opened = await client.post(
            "/v1/cases", json=case_body(account_id, invoices), headers=create()
        )
        failed = await client.post(
            f"{opened.headers['Location']}/customer-updates",
            json={"channel": "email", "summary": "x", "recipient": "pat@customer.test"},
            headers=auth(),
        )
        assert failed.status_code == 502
        after = await client.get(opened.headers["Location"], headers=auth())
        assert after.json()["customer_updates"] == [] and after.headers["ETag"] == '"1"'


async def test_the_customers_reply_to_an_emailed_update_threads_back_to_the_case(
    mailing_api, cases_url, inbox
):
    handler, _ = inbox
    account_id, invoices = await billing_account(cases_url)
    opened = await mailing_api.post(
        "/v1/cases", json=case_body(account_id, invoices), headers=create()
    )
    await mailing_api.post(
        f"{opened.headers['Location']}/customer-updates",
        json={"channel": "email", "summary": "Credit on its way", "recipient": "pat@customer.test"},
        headers=auth(),
    )
    [sent] = handler.messages
    reply = EmailMessage()
    reply["From"], reply["Subject"] = "pat@customer.test", "Re: your message"
    reply["In-Reply-To"] = reply["References"] = sent["Message-ID"]
    reply.set_content("Thanks, that is right.")
    filed = await mailing_api.post(
        "/v1/inbound-email",
        content=reply.as_bytes(),
        headers={**auth("mail-gateway", "integration"), "Content-Type": "message/rfc822"},
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["threaded_by"] == "reply"
    assert filed.json()["case"]["case_id"] == opened.json()["case_id"]


@pytest.mark.parametrize(
    "recipient",
    [
        "]\r\u0001",
        "pat@customer.test\r\nBcc: all@x.test",
        "pat customer.test",
        "<pat@customer.test>",
    ],
)
async def test_a_recipient_that_is_not_one_address_is_refused_and_sends_nothing(
    mailing_api, cases_url, inbox, recipient
):
    """A line break in it would have ended the To header (a 500, or an injected header)."""
    handler, _ = inbox
    account_id, invoices = await billing_account(cases_url)
    opened = await mailing_api.post(
        "/v1/cases", json=case_body(account_id, invoices), headers=create()
    )
    refused = await mailing_api.post(
        f"{opened.headers['Location']}/customer-updates",
        json={"channel": "email", "summary": "Credit on its way", "recipient": recipient},
        headers=auth(),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "body.recipient"
    assert handler.messages == []
