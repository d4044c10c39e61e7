"""The services' logs never carry secrets, tokens or a customer's full contact details.

Drives the running system with the things that must not leak (a bearer token,
a forged one, a contact's email and phone, a webhook signature) and then reads
every line every service wrote: none of them may appear in full.
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

import httpx

from receivables_devkit.testing.system import RunningSystem
from receivables_platform.web.auth import issue_token


async def test_no_secret_token_or_contact_detail_reaches_the_logs(system: RunningSystem):
    email = f"ann.{uuid4().hex[:10]}@customer-{uuid4().hex[:6]}.test"
    phone = f"+1 555 {uuid4().int % 10_000_000:07d}"
    token = system.token("integration")
    forged = issue_token("a-wrong-secret-" + uuid4().hex, "mallory", ["admin"])
    signature = f"t=1700000000,v1={uuid4().hex}{uuid4().hex}"
    billing = system.url("billing-adapter")
    async with httpx.AsyncClient(timeout=30) as client:
        bearer = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())}
        created = await client.post(
            f"{billing}/v1/accounts",
            headers=bearer,
            json={
                "external_id": f"CUS-{uuid4().hex[:8]}",
                "name": "Hygiene Ltd",
                "currency": "USD",
                "payment_terms_days": 30,
                "contacts": [{"name": "Ann", "email": email, "phone": phone}],
            },
        )
        assert created.status_code == 201, created.text
        account = created.json()["account_id"]
        read = await client.get(f"{billing}/v1/accounts/{account}", headers=bearer)
        assert read.status_code == 200
        # identity providers often use the email as the subject; the request log names it
        as_person = {"Authorization": f"Bearer {system.token('collector', sub=email)}"}
        read = await client.get(f"{billing}/v1/accounts/{account}", headers=as_person)
        assert read.status_code == 200
        # and a client that puts it in a path, which the request log records too
        mistaken = await client.get(f"{billing}/v1/accounts/{email}", headers=as_person)
        assert mistaken.status_code == 422
        # the same details sent where they are refused, so they show up in error paths too
        refused = await client.post(
            f"{billing}/v1/accounts",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())},
            json={"name": "", "contacts": [{"email": email, "phone": phone}]},
        )
        assert refused.status_code == 422
        for service in system.processes:
            answer = await client.get(
                f"{system.url(service)}/v1/status", headers={"Authorization": f"Bearer {forged}"}
            )
            assert answer.status_code in (401, 404)
        hook = await client.post(
            f"{billing}/v1/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": signature}
        )
        assert hook.status_code == 400
    await asyncio.sleep(1.0)  # the services flush their lines

    secrets = {
        "bearer token": token,
        "forged token": forged,
        "JWT secret": system.jwt_secret,
        "contact email": email,
        "contact phone": phone,
        "webhook signature": signature.split("v1=")[1],
    }
    logs = {
        path.name: path.read_text(errors="replace") for path in sorted(system.log_dir.glob("*.log"))
    }
    assert logs and all(logs.values()), "the services wrote no logs to check"
    assert any(account in text for text in logs.values()), "the requests were not logged"
    leaks = [
        f"{what} in {name}"
        for name, text in logs.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    assert not leaks, leaks
