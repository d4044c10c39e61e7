"""Admin over plain HTTP against the real services: what an admin may change today.

Case agents and collectors' teams, the root-cause taxonomy and its SOPs, a
cadence policy edited as lines with a preview before its new version is saved,
portfolio rules added and removed. Each form's refusal comes back next to its
field with what was typed kept.
"""

from __future__ import annotations

import html

import httpx
import pytest

from receivables_devkit.testing.console import ConsoleUser, csrf_of
from receivables_devkit.testing.stories import Stories, unique
from receivables_devkit.testing.system import RunningSystem


@pytest.fixture
async def admin(console: str):
    async with httpx.AsyncClient(base_url=console, timeout=20) as http:
        yield ConsoleUser(http)


async def send(user: ConsoleUser, action: str, data: dict[str, object], expect: int = 200) -> str:
    answer = await user.post(f"/admin/{action}", data)
    assert answer.status_code == expect, (
        action,
        answer.status_code,
        answer.text.split("</header>", 1)[-1][:1500],
    )
    user.csrf = csrf_of(answer.text)
    return html.unescape(answer.text)


async def test_an_admin_keeps_taxonomy_sops_policies_rules_and_people(
    system: RunningSystem, admin: ConsoleUser
):
    async with httpx.AsyncClient(timeout=15) as http:
        segment = await Stories(system, http).segment_with_calls(1, 15)
    await admin.sign_in(unique("admin"), "admin")
    page = html.unescape(await admin.page("/admin"))
    assert f"calls for {segment}" in page

    code = unique("WRONG_SEATS").upper().replace("-", "_")
    bad = await send(admin, "root-cause", {"code": "not a code", "name": "Seats"}, expect=422)
    assert 'id="root-cause-code-error"' in bad and 'value="not a code"' in bad
    page = await send(admin, "root-cause", {"code": code, "name": "Seats keyed wrongly"})
    assert "Root cause added" in page and f"{code} · Seats keyed wrongly" in page
    category_id = page.split(f'name="category:{code}" value="', 1)[1].split('"', 1)[0]
    page = await send(
        admin,
        "sop",
        {"title": "Check seats", "link": "ftp://x", f"category:{code}": category_id},
        expect=422,
    )
    assert 'id="sop-link-error"' in page
    page = await send(
        admin,
        "sop",
        {
            "title": "Check seats",
            "link": "https://wiki.test/seats",
            f"category:{code}": category_id,
        },
    )
    assert '<a href="https://wiki.test/seats" rel="noopener">Check seats</a>' in page
    page = await send(admin, "retire-root-cause", {"category_id": category_id})
    assert f"{code} · Seats keyed wrongly · retired" in page
    await send(admin, "retire-root-cause", {"category_id": "../../x"}, expect=422)

    policy_id = (
        page.split(f"calls for {segment}", 1)[1]
        .split('name="policy_id" value="', 1)[1]
        .split('"', 1)[0]
    )
    version = (
        page.split(f'name="policy_id" value="{policy_id}"', 1)[1]
        .split('name="version" value="', 1)[1]
        .split('"', 1)[0]
    )
    page = await send(
        admin,
        "preview-policy",
        {
            "policy_id": policy_id,
            "version": version,
            "name": "calls",
            "steps": "1, call, overdue_call\nthree, call",
        },
        expect=422,
    )
    assert "Line 2" in page and "three, call" in page
    steps = "1, call, overdue_call\n10, email, overdue_statement\n30, call, overdue_call, escalates"
    page = await send(
        admin,
        "preview-policy",
        {"policy_id": policy_id, "version": version, "name": "calls", "steps": steps},
    )
    preview = page.split('class="preview"', 1)[1].split("</table>", 1)[0]
    assert "overdue_statement" in preview and "yes" in preview
    assert f"calls for {segment} · {segment} · v1" in page, "nothing saved by a preview"
    page = await send(
        admin,
        "policy",
        {"policy_id": policy_id, "version": version, "name": "calls", "steps": steps},
    )
    assert "New policy version saved" in page and f"calls · {segment} · v2" in page
    stale = await send(
        admin,
        "policy",
        {"policy_id": policy_id, "version": version, "name": "calls again", "steps": steps},
        expect=409,
    )
    assert "Someone changed this" in stale

    collector = unique("collector")
    page = await send(
        admin, "rule", {"collector_id": collector, "rank": "5", "min_balance": "10,0,0"}, expect=422
    )
    assert 'id="rule-min_balance-error"' in page
    page = await send(
        admin,
        "rule",
        {"collector_id": collector, "rank": "5", "segment": segment, "min_balance": "1000"},
    )
    row = page.split(f"<td>{collector}</td>", 1)[1].split("</tr>", 1)[0]
    assert "100000" in row
    rule_id = row.split('name="rule_id" value="', 1)[1].split('"', 1)[0]
    page = await send(admin, "remove-rule", {"rule_id": rule_id})
    assert "Portfolio rule removed" in page and f"<td>{collector}</td>" not in page

    agent = unique("agent")
    assert "Case agent saved" in await send(
        admin, "agent", {"user_id": agent, "name": "Ann", "active": "on"}
    )
    assert "Team saved" in await send(admin, "team", {"collector_id": collector, "team": "North"})
    missing = await send(admin, "agent", {"user_id": agent, "name": ""}, expect=422)
    assert 'id="agent-name-error"' in missing


async def test_a_template_is_previewed_as_a_draft_then_saved_as_its_next_version(
    system: RunningSystem, admin: ConsoleUser
):
    """A supervisor edits a dunning template: the draft's preview stores nothing, a broken
    draft is refused next to its field, and a save over a colleague's is "someone changed
    this" with the text kept."""
    name = unique("console").replace("-", "_")
    async with httpx.AsyncClient(timeout=15) as http:
        s = Stories(system, http)
        await s.create(
            "collections-service",
            "/v1/templates",
            {
                "name": name,
                "language": "en",
                "subject": "Hello {{ contact_name }}",
                "body": "Please pay {{ total | money(currency) }}.",
            },
            roles=("supervisor",),
        )
    await admin.sign_in(unique("boss"), "supervisor")
    listed = await admin.page("/admin/templates")
    assert f'href="/admin/templates/{name}/en"' in listed
    page = await admin.page(f"/admin/templates/{name}/en")
    assert "Hello Ana García" in html.unescape(page), "the saved version, on the sample"
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]

    draft = {
        "version": html.unescape(version),
        "subject": "Hello {{ contact_name }}",
        "body": "Pay here: {{ pay_link }}",
        "requires": "pay_link",
    }
    shown = await send(admin, f"templates/{name}/en/preview", draft)
    assert "Pay here: https://pay.example/acct/123" in shown and "Preview of your draft" in shown
    broken = await send(
        admin, f"templates/{name}/en/preview", {**draft, "body": "Pay {{ unclosed"}, expect=422
    )
    assert 'id="template-body-error"' in broken and "Pay {{ unclosed</textarea>" in broken
    lacking = await send(
        admin, f"templates/{name}/en/save", {**draft, "body": "No link here"}, expect=422
    )
    assert 'id="template-body-error"' in lacking and "pay_link" in lacking
    async with httpx.AsyncClient(timeout=15) as http:
        still = await Stories(system, http).get("collections-service", f"/v1/templates/{name}/en")
    assert still["version"] == 1, "a preview or a refused save stores nothing"

    saved = await send(admin, f"templates/{name}/en/save", draft)
    assert "New template version saved" in saved and "version 2" in saved
    stale = await send(
        admin, f"templates/{name}/en/save", {**draft, "body": "Mine: {{ pay_link }}"}, expect=409
    )
    assert "Someone changed this" in stale and "Mine: {{ pay_link }}</textarea>" in stale

    for hostile, status in (
        (f"/admin/templates/{name}/fr", 422),
        ("/admin/templates/..%2F..%2Fv1/en", 422),
    ):
        answer = await admin.http.get(hostile)
        assert answer.status_code in (status, 404), (hostile, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")


async def test_a_person_keeps_their_own_notification_preferences(admin: ConsoleUser):
    await admin.sign_in(unique("agent"), "case_agent", language="es")
    page = html.unescape(await admin.page("/preferences"))
    assert "Mis notificaciones" in page and 'id="channel-sla_at_risk"' in page
    refused = await admin.post("/preferences", {"email": "not an address"}, expect=422)
    assert 'id="pref-email-error"' in refused.text
    admin.csrf = csrf_of(refused.text)
    no_address = await admin.post(
        "/preferences", {"email": "", "channel:sla_at_risk": "digest"}, expect=422
    )
    assert 'class="refusal"' in no_address.text
    admin.csrf = csrf_of(no_address.text)
    webhook = await admin.post(
        "/preferences", {"webhook_url": "https://chat.test/hook"}, expect=422
    )
    assert 'id="pref-webhook_url-error"' in webhook.text
    admin.csrf = csrf_of(webhook.text)
    saved = await admin.post(
        "/preferences",
        {"email": "me@desk.test", "channel:sla_at_risk": "digest", "channel:customer_reply": "off"},
        expect=200,
    )
    assert "Preferencias guardadas" in saved.text
    again = await admin.page("/preferences")
    chosen = again.split('id="channel-sla_at_risk"', 1)[1].split("</select>", 1)[0]
    assert 'value="digest" selected' in chosen and 'value="me@desk.test"' in again
