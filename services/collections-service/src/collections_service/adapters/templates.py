"""Where email templates live: versions written by supervisors, and the ones the service ships.

A supervisor's template (table `email_templates`) wins over the shipped file of
the same name and language (`templates/<language>/<name>.subject.j2` and
`.txt.j2`), which stays the default a fresh install sends, as version 0.
"""

from __future__ import annotations

from importlib.resources import files

import asyncpg

from collections_service.domain.templates import EmailTemplate

_SHIPPED = files("collections_service") / "templates"


def _shipped() -> dict[tuple[str, str], EmailTemplate]:
    found: dict[tuple[str, str], EmailTemplate] = {}
    for folder in _SHIPPED.iterdir():
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if not entry.name.endswith(".subject.j2"):
                continue
            name = entry.name.removesuffix(".subject.j2")
            body = folder / f"{name}.txt.j2"
            found[(name, folder.name)] = EmailTemplate(
                name,
                folder.name,
                0,
                entry.read_text(encoding="utf-8"),
                body.read_text(encoding="utf-8"),
            )
    return found


SHIPPED = _shipped()


def of(row: asyncpg.Record) -> EmailTemplate:
    return EmailTemplate(
        row["name"],
        row["language"],
        row["version"],
        row["subject"],
        row["body"],
        tuple(row["requires"]),
    )


async def latest(conn: asyncpg.Connection, name: str, language: str) -> EmailTemplate | None:
    """The newest version, a supervisor's before the shipped one."""
    row = await conn.fetchrow(
        "SELECT * FROM email_templates WHERE name = $1 AND language = $2 "
        "ORDER BY version DESC LIMIT 1",
        name,
        language,
    )
    return of(row) if row is not None else SHIPPED.get((name, language))


async def version(
    conn: asyncpg.Connection, name: str, language: str, number: int
) -> EmailTemplate | None:
    if number == 0:
        return SHIPPED.get((name, language))
    row = await conn.fetchrow(
        "SELECT * FROM email_templates WHERE name = $1 AND language = $2 AND version = $3",
        name,
        language,
        number,
    )
    return of(row) if row is not None else None


async def languages(conn: asyncpg.Connection, name: str) -> set[str]:
    rows = await conn.fetch("SELECT DISTINCT language FROM email_templates WHERE name = $1", name)
    return {r["language"] for r in rows} | {lang for (n, lang) in SHIPPED if n == name}


async def known(conn: asyncpg.Connection, names: set[str]) -> set[str]:
    """Which of `names` exist in some language."""
    rows = await conn.fetch(
        "SELECT DISTINCT name FROM email_templates WHERE name = ANY($1)", list(names)
    )
    return {r["name"] for r in rows} | {n for (n, _) in SHIPPED if n in names}


async def current(conn: asyncpg.Connection) -> list[EmailTemplate]:
    """Every name and language at its newest version (shipped ones not yet revised too)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (name, language) * FROM email_templates "
        "ORDER BY name, language, version DESC"
    )
    written = {(r["name"], r["language"]): of(r) for r in rows}
    merged = {**SHIPPED, **written}
    return [merged[key] for key in sorted(merged)]


async def insert(conn: asyncpg.Connection, template: EmailTemplate, by: str) -> EmailTemplate:
    """Write a version; a racing writer of the same version gets UniqueViolationError."""
    row = await conn.fetchrow(
        "INSERT INTO email_templates (name, language, version, subject, body, requires, "
        "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        template.name,
        template.language,
        template.version,
        template.subject,
        template.body,
        list(template.requires),
        by,
    )
    assert row is not None
    return of(row)
