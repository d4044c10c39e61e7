"""Inbound email: real multipart messages built with Python's `email` package, over HTTP."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from case_service.adapters.attachment_limits import AttachmentLimits
from case_service.adapters.inbound_mail import InboundEmailLimits, parse
from case_service.settings import CaseDependencies
from case_service.testing import AGENT, auth, billing_account, count

GATEWAY = {**auth("mail-gateway", "integration"), "Content-Type": "message/rfc822"}
PDF = b"%PDF-1.4 statement " + bytes(range(256))


def email_from(
    sender: str = "Pat Customer <pat@customer.test>",
    subject: str = "Wrong bill",
    text: str = "My October invoice is twice what it should be.",
    attach: bool = True,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = sender, "billing@receivables.test"
    message["Subject"], message["Message-ID"] = subject, make_msgid(domain="customer.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    message.add_alternative(f"<p>{text}</p>", subtype="html")
    if attach:
        message.add_attachment(
            PDF, maintype="application", subtype="pdf", filename="Rechnung März.pdf"
        )
    return message


async def post(api: httpx.AsyncClient, message: EmailMessage | bytes) -> httpx.Response:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    return await api.post("/v1/inbound-email", content=raw, headers=GATEWAY)


def test_the_parser_decodes_encoded_headers_and_attachment_names():
    message = email_from(subject="=?utf-8?q?Rechnung_f=C3=BCr_Oktober?= [CASE-000042]")
    parsed = parse(message.as_bytes(), InboundEmailLimits(), AttachmentLimits())
    assert parsed.subject == "Rechnung für Oktober [CASE-000042]"
    assert parsed.case_tag == "CASE-000042" and parsed.sender == "pat@customer.test"
    [attachment] = parsed.attachments
    assert attachment.filename == "Rechnung März.pdf"
    assert attachment.size_bytes == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()


async def test_an_email_from_a_known_contact_opens_a_case_on_its_account(api, cases_url):
    account_id, _ = await billing_account(cases_url, email="pat@customer.test")
    filed = await post(api, email_from())
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["threaded_by"] == "sender_contact" and body["created"]
    case = body["case"]
    assert case["account_id"] == str(account_id) and case["origin"] == "inbound_email"
    assert case["owner_id"] == AGENT and case["subject"] == "Wrong bill"  # first in turn
    [note] = case["notes"]
    assert note["source"] == "inbound_email" and "twice" in note["body"]
    assert (
        await count(
            cases_url,
            "SELECT count(*) FROM events "
            "WHERE data->'attachments'->0->>'filename' = "
            "'Rechnung März.pdf'",
        )
        == 1
    )


async def test_an_unknown_sender_opens_an_unassigned_case_without_account(api, cases_url):
    filed = await post(api, email_from(sender="stranger@elsewhere.test", attach=False))
    assert filed.status_code == 201 and filed.json()["threaded_by"] == "none"
    assert filed.json()["case"]["account_id"] is None


async def test_replies_thread_by_tag_or_in_reply_to_and_a_resend_changes_nothing(api, cases_url):
    await billing_account(cases_url, email="pat@customer.test")
    first_message = email_from()
    first = (await post(api, first_message)).json()["case"]
    tagged = await post(
        api,
        email_from(
            subject=f"Re: [{first['case_number']}] Wrong bill",
            sender="colleague@customer.test",
            attach=False,
        ),
    )
    assert tagged.status_code == 200 and tagged.json()["threaded_by"] == "subject_tag"
    reply = email_from(
        subject="Re: Wrong bill",
        attach=False,
        In_Reply_To=first_message["Message-ID"],
        References=first_message["Message-ID"],
    )
    replied = await post(api, reply)
    assert replied.json()["threaded_by"] == "reply"
    assert replied.json()["case"]["case_id"] == first["case_id"]
    assert len(replied.json()["case"]["notes"]) == 3
    events = await count(cases_url, "SELECT count(*) FROM events")
    again = await post(api, reply)
    assert again.status_code == 200 and again.json()["threaded_by"] == "already_received"
    assert await count(cases_url, "SELECT count(*) FROM events") == events


async def test_malformed_messages_are_422_and_write_nothing(api, cases_url):
    no_sender = email_from()
    del no_sender["From"]
    refused = await post(api, no_sender)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "header.From"
    broken = (
        b"From: pat@customer.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"no boundary ever starts here\r\n"
    )
    malformed = await post(api, broken)
    assert malformed.status_code == 422 and "malformed" in malformed.json()["detail"]
    empty = await post(api, b"")
    assert empty.status_code == 422
    assert await count(cases_url, "SELECT count(*) FROM events") == 0


async def test_an_oversized_message_is_413(api):
    from case_service.api.inbound_email import MAX_BYTES

    huge = await api.post("/v1/inbound-email", content=b"x" * (MAX_BYTES + 1), headers=GATEWAY)
    assert huge.status_code == 413 and huge.json()["errors"][0]["field"] == "body"


async def test_only_the_gateway_may_file_email(api):
    denied = await api.post(
        "/v1/inbound-email",
        content=email_from().as_bytes(),
        headers={**auth(), "Content-Type": "message/rfc822"},
    )
    assert denied.status_code == 403


async def test_a_case_from_an_unknown_sender_is_linked_to_its_account_later(api, cases_url):
    filed = await post(api, email_from(sender="new-ap@customer.test", attach=False))
    case = filed.json()["case"]
    account_id, [invoice_id] = await billing_account(cases_url)
    url = f"/v1/cases/{case['case_id']}"
    headers = {**auth(), "If-Match": filed.headers["ETag"]}
    foreign = (await billing_account(cases_url))[1][0]
    refused = await api.post(
        f"{url}/links",
        json={"account_id": str(account_id), "invoice_ids": [str(foreign)]},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.invoice_ids.0"
    linked = await api.post(
        f"{url}/links",
        json={"account_id": str(account_id), "invoice_ids": [str(invoice_id)]},
        headers=headers,
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["account_id"] == str(account_id)
    assert linked.json()["invoice_ids"] == [str(invoice_id)]
    assert (
        await count(
            cases_url,
            "SELECT count(*) FROM events WHERE type = 'cases.case.linked' "
            f"AND partition_key = '{account_id}'",
        )
        == 1
    )


async def test_text_postgresql_cannot_hold_is_filed_as_replacement_characters(api, cases_url):
    """The fuzz found 500s: NUL in a header or the text, raw 8-bit header bytes, an
    attachment whose type has a NUL or is longer than the contract allows."""
    raw = email_from(subject="Wrong bill", text="tw\x00ice").as_bytes()
    raw = raw.replace(b"Subject: Wrong bill", b"Subject: Wrong \x00 f\xfcr bill")
    raw = raw.replace(b"application/pdf", b"application/p\x00df", 1)
    long_type = (
        email_from(attach=True)
        .as_bytes()
        .replace(b"application/pdf", b"application/" + b"x" * 300, 1)
    )
    filed = await post(api, raw)
    assert filed.status_code == 201, filed.text
    case = filed.json()["case"]
    assert case["subject"] == "Wrong \ufffd f\ufffdr bill"
    assert case["notes"][0]["body"].startswith("tw\ufffdice")
    assert (
        await count(
            cases_url,
            "SELECT count(*) FROM events "
            "WHERE data->'attachments'->0->>'content_type' = "
            "'application/p\ufffddf'",
        )
        == 1
    )
    assert (await post(api, long_type)).status_code == 201


def nested(depth: int) -> bytes:
    """A message whose multipart parts sit `depth` levels inside each other."""
    part = b"Content-Type: text/plain\r\n\r\nMy October invoice is wrong.\r\n"
    for level in range(depth):
        boundary = f"level{level}".encode()
        part = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + part
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return b"From: pat@customer.test\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + part


async def test_a_message_nested_a_thousand_levels_deep_is_422_not_a_stack_overflow(api, cases_url):
    refused = await post(api, nested(1000))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "nests parts more than" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "body"
    assert (await post(api, nested(20))).status_code == 201  # forwards of forwards still file
    assert (
        await count(cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.opened'") == 1
    )


def with_attachments(count: int, size: int = 1) -> EmailMessage:
    message = email_from(attach=False)
    for n in range(count):
        message.add_attachment(
            b"x" * size, maintype="application", subtype="octet-stream", filename=f"part-{n}.bin"
        )
    return message


async def test_attachments_over_their_limits_are_refused_with_the_limit_and_store_nothing(
    api, cases_url, case_server
):
    many = await post(api, with_attachments(101))
    assert many.status_code == 422, many.text
    assert many.json()["limit"] == 100 and many.json()["errors"][0]["field"] == "body"
    assert (await post(api, with_attachments(100))).status_code == 201

    limits = InboundEmailLimits(max_attachment_bytes=1000, max_attachments_total_bytes=2500)
    tight_limits = replace(CaseDependencies.from_environment(), inbound_email=limits)
    async with (
        case_server(cases_url, tight_limits) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as tight,
    ):
        large = await post(tight, with_attachments(1, size=1001))
        assert large.status_code == 413 and large.json()["limit"] == 1000, large.text
        together = await post(tight, with_attachments(3, size=1000))
        assert together.status_code == 413 and together.json()["limit"] == 2500, together.text
    assert (
        await count(cases_url, "SELECT count(*) FROM events WHERE type = 'cases.case.opened'") == 1
    )


async def test_an_email_whose_case_event_would_pass_the_event_limit_is_413(
    api, cases_url, monkeypatch
):
    """Whatever the route checks itself, the event store refuses an event the broker would
    not take, and the email's case is not opened half-way."""
    from receivables_platform.store import event_limits

    monkeypatch.setenv("EVENT_MAX_BYTES", "20000")
    event_limits.cache_clear()
    try:
        refused = await post(api, email_from(text="twice the amount " * 2000))
    finally:
        monkeypatch.undo()
        event_limits.cache_clear()
    assert refused.status_code == 413, refused.text
    problem = refused.json()
    assert problem["limit_bytes"] == 20000 and problem["size_bytes"] > 20000
    assert problem["type"].endswith("event-too-large")
    assert await count(cases_url, "SELECT count(*) FROM events") == 0
