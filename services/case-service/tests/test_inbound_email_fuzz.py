"""Raw-email fuzz: mutations of real multipart messages posted to a running case-service.

Hypothesis starts from messages built with Python's `email` package (text and
HTML alternatives, attachments, a nested multipart, a forwarded message) and
breaks them the ways real mail arrives broken: encoded words in unknown or
lying charsets, boundaries that never start or end, missing and huge headers,
bytes that are not UTF-8, NULs, bad base64 and quoted-printable, attachment
names no file system would take, truncation, an empty body, random bytes.
Whatever comes in, the service answers 200/201 or a problem+json 4xx naming
the header or body at fault; a refused message writes nothing, and a filed one
posted again changes nothing. Derandomized and bounded, so CI replays the
same examples in about a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from case_service.testing import auth, billing_account, count

GATEWAY = {**auth("mail-gateway", "integration"), "Content-Type": "message/rfc822"}
CONTACT = "pat@customer.test"
SEED_ID = "seed@customer.test"  # made unique per example, so each is filed afresh
EVENTS = "SELECT count(*) FROM events"
FUZZ = settings(
    max_examples=250,
    deadline=timedelta(seconds=15),
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _plain(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = f"Pat Customer <{CONTACT}>", "billing@receivables.test"
    message["Subject"], message["Message-ID"] = subject, f"<{subject[:3]}.{SEED_ID}>"
    message.set_content("My October invoice is twice what it should be.\nPlease check.")
    return message


def _alternative_with_attachment() -> EmailMessage:
    message = _plain("=?utf-8?q?Rechnung_f=C3=BCr_Oktober?=")
    message.add_alternative(
        "<p>My October invoice is <b>twice</b> what it should be.</p>", subtype="html"
    )
    message.add_attachment(
        b"%PDF-1.4 " + bytes(range(256)),
        maintype="application",
        subtype="pdf",
        filename="Rechnung März.pdf",
    )
    return message


def _nested_with_forward() -> EmailMessage:
    message = _alternative_with_attachment()
    message.replace_header("Subject", "Fwd: disputed charge")
    message.add_attachment(
        b"col1,col2\r\n1,2\r\n", maintype="text", subtype="csv", filename="statement.csv"
    )
    message.add_attachment(_plain("the original complaint"))
    return message


def _latin1_quoted_printable() -> EmailMessage:
    message = _plain("Facture trop élevée")
    message.set_content(
        "Le montant facturé est erroné, merci de vérifier.",
        charset="iso-8859-1",
        cte="quoted-printable",
    )
    return message


def _fixed(message: EmailMessage) -> EmailMessage:
    """Boundaries set, not drawn at random by `email`, so every run fuzzes the same bytes."""
    for level, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_seed_{level}")
    return message


SEEDS = tuple(
    _fixed(build())
    for build in (
        lambda: _plain("Wrong bill"),
        _alternative_with_attachment,
        _nested_with_forward,
        _latin1_quoted_printable,
    )
)

HEADERS = (
    "From",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "MIME-Version",
    "Content-Transfer-Encoding",
    "To",
    "Date",
)
CHARSETS = (
    "utf-8",
    "x-unknown",
    "iso-2022-jp",
    "utf-7",
    "ascii",
    "",
    "utf-8*en",
    "unicode-1-1",
    "gb18030",
    "hz",
)
ODD_NAMES = (
    "../../etc/passwd",
    "CON",
    "a\x00b.pdf",
    "\u202eexe.pdf",
    " ",
    "x" * 2000,
    "=?x-unknown?B?aGk=?=",
    "name\r\n.pdf",
    "%00.pdf",
    "\udcff.pdf",
)
JUNK = st.binary(min_size=1, max_size=40)


def _seed_with(old: bytes, new: bytes, seed: int = 0) -> bytes:
    """A seed with `old` replaced: a hand-picked hostile example, tried first."""
    raw = SEEDS[seed].as_bytes()
    assert old in raw
    return raw.replace(old, new)


def encoded_word() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda charset, kind, body: b"=?%s?%s?%s?=" % (charset.encode(), kind, body),
        st.sampled_from(CHARSETS),
        st.sampled_from([b"B", b"Q", b"b", b"X"]),
        st.one_of(JUNK, st.sampled_from([b"=FF=FE", b"!!!", b"w4k=", b"", b"_"])),
    )


def header_value() -> st.SearchStrategy[bytes]:
    return st.one_of(
        encoded_word(),
        st.lists(encoded_word(), min_size=2, max_size=5).map(b" ".join),
        JUNK,
        st.integers(1000, 200_000).map(lambda n: b"A" * n),  # huge
        st.integers(10, 2000).map(lambda n: b" ".join(b"<m%d@x>" % i for i in range(n))),
        st.sampled_from(
            [
                b"",
                b"<>",
                b"<<@>>",
                b'"unterminated',
                b"a@",
                b"@b",
                b"(comment",
                b"=?utf-8?q?[CASE-000001]?=",
                b"[CASE-999999]",
                b"\x00",
                b"\xff\xfe",
                b"Pat <pat@customer.test",
                b"<pat@customer.test>",
                b"a,,,b@c.d",
                b"undisclosed-recipients:;",
                b'"\\" <x@y.z>',
            ]
        ),
    )


def _set_header(raw: bytes, name: str, value: bytes | None) -> bytes:
    head, sep, body = raw.partition(b"\n\n")
    lines = [
        line
        for line in head.split(b"\n")
        if not line.lower().startswith(name.lower().encode() + b":")
    ]
    if value is not None:
        lines.insert(0, name.encode() + b": " + value)
    return b"\n".join(lines) + sep + body


def _boundary(message: EmailMessage) -> bytes:
    return (message.get_boundary() or "none").encode()


@st.composite
def mutation(draw: st.DrawFn, message: EmailMessage) -> tuple[str, Callable[[bytes], bytes]]:
    kind = draw(
        st.sampled_from(
            (
                "header",
                "drop",
                "boundary",
                "bytes",
                "payload",
                "filename",
                "truncate",
                "nest",
                "replace",
            )
        )
    )
    if kind == "header":
        name, value = draw(st.sampled_from(HEADERS)), draw(header_value())
        return f"{name}: {value[:80]!r}", lambda raw: _set_header(raw, name, value)
    if kind == "drop":
        name = draw(st.sampled_from(HEADERS))
        return f"no {name}", lambda raw: _set_header(raw, name, None)
    if kind == "boundary":
        old, new = (
            _boundary(message),
            draw(st.sampled_from([b"", b"other", b"--", b"x" * 200, b"\xff", b'" broken'])),
        )
        count_ = draw(st.integers(1, 3))
        return f"boundary {new!r} x{count_}", lambda raw: raw.replace(old, new, count_)
    if kind == "bytes":
        junk, where = (
            draw(st.sampled_from([b"\xff\xfe\xfd", b"\x00", b"\xc3", b"\r", b"\x1b$B"]) | JUNK),
            draw(st.floats(0, 1)),
        )
        return f"{junk!r} at {where:.2f}", lambda raw: _insert(raw, junk, where)
    if kind == "payload":
        junk = draw(st.sampled_from([b"!!!not base64===", b"=ZZ=\n=", b"====", b"\xff" * 9]))
        return f"payload {junk!r}", lambda raw: raw.replace(b"\n\n", b"\n\n" + junk + b"\n", 3)
    if kind == "filename":
        name = draw(st.sampled_from(ODD_NAMES))
        value = name.encode("utf-8", "surrogateescape")
        return f"filename {name[:40]!r}", lambda raw: raw.replace(
            b'filename="', b'filename="' + value, 2
        )
    if kind == "truncate":
        where = draw(st.floats(0, 1))
        return f"truncated at {where:.2f}", lambda raw: raw[: int(len(raw) * where)]
    if kind == "nest":
        depth = draw(st.integers(2, 60))
        return f"nested {depth}", lambda raw: _nest(raw, depth)
    whole = draw(st.sampled_from([b"", b"\r\n", b"\n\n\n"]) | st.binary(max_size=300))
    return f"replaced by {whole[:60]!r}", lambda raw: whole


def _insert(raw: bytes, junk: bytes, where: float) -> bytes:
    at = int(len(raw) * where)
    return raw[:at] + junk + raw[at:]


def _nest(raw: bytes, depth: int) -> bytes:
    """`depth` multiparts inside each other around the message's own body."""
    head, _, body = raw.partition(b"\n\n")
    for level in range(depth):
        boundary = b"n%d" % level
        body = b'Content-Type: multipart/mixed; boundary="%s"\n\n--%s\n%s\n--%s--\n' % (
            boundary,
            boundary,
            body,
            boundary,
        )
    return head + b"\n" + body


@st.composite
def hostile_messages(draw: st.DrawFn) -> bytes:
    message = draw(st.sampled_from(SEEDS))
    raw = message.as_bytes()
    if draw(st.booleans()):
        raw = raw.replace(b"\n", b"\r\n")
    for _ in range(draw(st.integers(1, 3))):
        described, apply = draw(mutation(message))
        note(described)
        raw = apply(raw)
    return raw


def check_problem(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    problem = response.json()
    assert problem["status"] == response.status_code and problem["detail"]
    assert problem["errors"] and all(e["field"] for e in problem["errors"]), problem


@pytest.fixture
async def contact(cases_url: str) -> str:
    """An account whose contact is the seeds' sender, so filed email threads by contact."""
    await billing_account(cases_url, email=CONTACT)
    return CONTACT


@pytest.mark.timeout(240)
@FUZZ
@given(raw=hostile_messages())
@example(raw=_seed_with(b"Subject: Wrong bill", b"Subject: Wrong \x00 bill"))
@example(raw=_seed_with(b"Subject: Wrong bill", b"Subject: Rechnung f\xfcr \xff"))
@example(raw=_seed_with(b"twice", b"tw\x00ice"))
@example(raw=_seed_with(b"twice", b"tw\xff\xfeice"))
@example(raw=_seed_with(b"From: Pat Customer", b"From: P\xe4t \x00Customer"))
@example(raw=_seed_with(b'charset="utf-8"', b'charset="x-unknown"'))
@example(raw=_seed_with(b"text/plain", b"text/pl\x00\xffain"))
@example(raw=_seed_with(b"Message-ID: <", b"Message-ID: <\x00\xff"))
@example(raw=_seed_with(b"application/pdf", b"application/p\x00\xffdf", seed=1))
@example(raw=_seed_with(b"application/pdf", b"application/" + b"x" * 300, seed=1))
@example(
    raw=_seed_with(
        b"Content-Type: application/pdf\n",
        b"Content-Type: application/pdf\nContent-Description: " + b"d" * 300_000 + b"\n",
        seed=1,
    )
)
async def test_hostile_email_gets_a_case_or_a_problem_and_never_a_5xx(
    api: httpx.AsyncClient, cases_url: str, contact: str, raw: bytes
):
    raw = raw.replace(SEED_ID.encode(), f"{uuid4()}@customer.test".encode())
    before = await count(cases_url, EVENTS)
    response = await api.post("/v1/inbound-email", content=raw, headers=GATEWAY)
    note(f"{response.status_code} {response.text[:300]}")
    assert response.status_code in (200, 201, 413, 422), response.text
    if response.status_code >= 400:
        check_problem(response)
        assert await count(cases_url, EVENTS) == before, "a refused email wrote events"
        return
    filed = response.json()
    written = await count(cases_url, EVENTS)
    assert written > before or filed["threaded_by"] == "already_received"
    again = await api.post("/v1/inbound-email", content=raw, headers=GATEWAY)
    assert (again.status_code, again.json()["threaded_by"]) == (200, "already_received")
    assert again.json()["case"]["case_id"] == filed["case"]["case_id"]
    assert await count(cases_url, EVENTS) == written, "the same email was filed twice"
