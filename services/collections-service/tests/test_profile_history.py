"""What collectors note about a customer keeps its history: profile edits, notes and portfolio
rules say who changed what and when, through the API (and, as events, for the timeline)."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import httpx

from collections_service.testing import KIM, LEE, SUPERVISOR, BillingFeed, account, creating


async def registered(billing: BillingFeed) -> str:
    made = account()
    await billing.send(made)
    return str(made.account_id)


async def test_each_profile_edit_is_kept_with_who_when_and_each_field_before_and_after(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id = await registered(billing)
    url = f"/v1/accounts/{account_id}/profile"
    empty = await api.get(f"{url}/history", headers=LEE)
    assert empty.status_code == 200 and empty.json() == {"account_id": account_id, "edits": []}

    read = await api.get(url, headers=KIM)
    first = await api.put(
        url,
        json={"tags": ["needs-po"], "preferred_channel": "call"},
        headers={**KIM, "If-Match": read.headers["ETag"]},
    )
    assert first.status_code == 200, first.text
    same = await api.put(
        url,
        json={"tags": ["needs-po"], "preferred_channel": "call"},
        headers={**LEE, "If-Match": first.headers["ETag"]},
    )
    second = await api.put(
        url,
        json={
            "tags": ["needs-po"],
            "preferred_channel": "call",
            "email_opt_out": True,
            "language": "es",
        },
        headers={**LEE, "If-Match": same.headers["ETag"]},
    )
    assert second.status_code == 200, second.text
    stale = await api.put(
        url, json={"tags": []}, headers={**KIM, "If-Match": first.headers["ETag"]}
    )
    assert stale.status_code == 412

    history = await api.get(f"{url}/history", headers=SUPERVISOR)
    assert history.status_code == 200, history.text
    edits = history.json()["edits"]
    assert [(e["changed_by"], e["profile_version"]) for e in edits] == [("kim", 1), ("lee", 3)]
    assert edits[0]["changes"] == [
        {"field": "tags", "before": [], "after": ["needs-po"]},
        {"field": "preferred_channel", "before": None, "after": "call"},
    ]
    assert edits[1]["changes"] == [
        {"field": "language", "before": "en", "after": "es"},
        {"field": "email_opt_out", "before": False, "after": True},
    ]
    assert edits[0]["changed_at"] <= edits[1]["changed_at"]
    published = await db.fetch(
        "SELECT data FROM events WHERE type = "
        "'collections.account.profile_changed' ORDER BY position"
    )
    assert [r["data"]["changed_by"] for r in published] == ["kim", "lee"]

    unknown = await api.get(f"/v1/accounts/{uuid4()}/profile/history", headers=KIM)
    assert unknown.status_code == 404
    assert (await api.get(f"{url}/history")).status_code == 401


async def test_a_note_is_kept_as_written_with_its_author_and_published_for_the_timeline(
    api: httpx.AsyncClient, billing: BillingFeed, db: asyncpg.Connection
) -> None:
    account_id = await registered(billing)
    noted = await api.post(
        f"/v1/accounts/{account_id}/notes", json={"body": "pays on day 45"}, headers=creating(KIM)
    )
    assert noted.status_code == 201, noted.text
    note = noted.json()
    assert (note["author"], note["body"]) == ("kim", "pays on day 45")
    [event] = await db.fetch(
        "SELECT data, partition_key FROM events WHERE type = 'collections.account.note_added'"
    )
    assert event["data"]["note_id"] == note["note_id"] and event["data"]["author"] == "kim"
    assert event["partition_key"] == account_id
    nowhere = await api.post(
        f"/v1/accounts/{uuid4()}/notes", json={"body": "x"}, headers=creating(KIM)
    )
    assert nowhere.status_code == 404
    assert (
        await db.fetchval(
            "SELECT count(*) FROM events WHERE type = 'collections.account.note_added'"
        )
        == 1
    )


async def test_a_portfolio_rule_keeps_its_history_after_it_is_retired(
    api: httpx.AsyncClient,
) -> None:
    added = await api.post(
        "/v1/portfolio-rules",
        json={"collector_id": "kim", "rank": 1, "segment": "smb", "max_balance_minor": 500_000},
        headers=creating(SUPERVISOR),
    )
    assert added.status_code == 201, added.text
    rule_url = added.headers["Location"]
    changed = await api.put(
        rule_url,
        json={"collector_id": "lee", "rank": 1, "segment": "smb", "max_balance_minor": 500_000},
        headers={**SUPERVISOR, "If-Match": added.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    retired = await api.delete(
        rule_url, headers={**SUPERVISOR, "If-Match": changed.headers["ETag"]}
    )
    assert retired.status_code == 204

    history = await api.get(f"{rule_url}/history", headers=KIM)
    assert history.status_code == 200, history.text
    entries = history.json()["entries"]
    assert [(e["version"], e["change"], e["changed_by"]) for e in entries] == [
        (1, "added", "sue"),
        (2, "changed", "sue"),
        (2, "retired", "sue"),
    ]
    assert entries[0]["before"] is None and entries[0]["rule"]["collector_id"] == "kim"
    assert (entries[1]["before"]["collector_id"], entries[1]["rule"]["collector_id"]) == (
        "kim",
        "lee",
    )
    assert entries[2]["rule"]["max_balance_minor"] == 500_000
    never = await api.get(f"/v1/portfolio-rules/{uuid4()}/history", headers=KIM)
    assert never.status_code == 404
