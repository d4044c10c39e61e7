"""Search over the read model: one query per kind of result, each answered from its index.

Each kind is asked separately (and only when the caller may see it) so that every
statement stays on the one index that serves it: exact and prefix matches of
numbers on their byte-ordered B-trees, fuzzy name and email matches on trigrams.
Scores are 1 for an exact match, about 0.9 for a prefix (more for a longer share
of the number) and at most 0.85 for a fuzzy match, so a number read out exactly
always ranks above a name that merely looks like it.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from reporting_service.domain.search import SearchText

# how alike a word of the name must be to the query (pg_trgm's default 0.6 drops
# "acne" for "acme": one wrong letter in a short word costs too many trigrams)
WORD_SIMILARITY = 0.4
# how alike a word of a name must be to a word of the query to make that name a candidate
WORD_ALIKE = 0.3

# names made of words like the query's: the distinct words (a few hundred) are compared by
# trigrams, then the names using the best of them are read by word; only those few are
# compared with the whole query
# (OFFSET 0 keeps each step apart: the planner would otherwise hash every name's words, or
# compare every account's name with the query, before narrowing to the few words matched)
_NAMED = """
SELECT n.account_id, n.position
FROM (SELECT s.word, word_similarity(q.w, s.word) AS likeness
      FROM search_words_of($1) q (w)
      JOIN search_words s ON q.w <% s.word OR q.w % s.word) m
CROSS JOIN LATERAL (SELECT account_id, position FROM search_name_words
                    WHERE word = m.word AND kind = '{kind}' OFFSET 0) n
GROUP BY n.account_id, n.position
ORDER BY sum(m.likeness) DESC, n.account_id, n.position LIMIT {candidates}
"""
CANDIDATES = 2_000

_ACCOUNTS = """
WITH found AS (
    SELECT account_id FROM ar_accounts WHERE lower(external_id) COLLATE "C" LIKE $2
    {fuzzy}
)
SELECT 'account' AS kind, a.account_id::text AS id, a.account_id, a.name AS title,
       a.external_id AS subtitle,
       CASE WHEN lower(a.external_id) = $1 OR lower(a.name) = $1 THEN 1.0
            WHEN lower(a.external_id) COLLATE "C" LIKE $2
                 THEN 0.5 + 0.4 * length($1) / length(a.external_id)
            ELSE 0.85 * word_similarity($1, a.name)
       END::float8 AS score
FROM (SELECT a.* FROM found JOIN ar_accounts a ON a.account_id = found.account_id
      OFFSET 0) a
WHERE a.name IS NOT NULL AND (lower(a.external_id) COLLATE "C" LIKE $2
                              OR word_similarity($1, a.name) >= {likeness})
ORDER BY score DESC, a.account_id LIMIT $3
"""

_INVOICES = """
SELECT 'invoice' AS kind, i.invoice_id::text AS id, i.account_id, i.external_id AS title,
       a.name AS subtitle,
       CASE WHEN lower(i.external_id) = $1 THEN 1.0
            ELSE 0.5 + 0.4 * length($1) / length(i.external_id) END::float8 AS score
FROM (SELECT * FROM ar_invoices
      WHERE lower(external_id) COLLATE "C" LIKE $2 AND external_id IS NOT NULL
      ORDER BY lower(external_id) COLLATE "C" LIMIT $3) i
LEFT JOIN ar_accounts a ON a.account_id = i.account_id
"""

_CONTACTS = """
SELECT 'contact' AS kind, c.account_id::text || ':' || c.position AS id, c.account_id,
       coalesce(c.name, c.email, c.phone) AS title,
       concat_ws(' · ', CASE WHEN c.name IS NOT NULL THEN c.email END, c.phone, a.name)
           AS subtitle,
       CASE WHEN lower(c.email) = $1 OR c.phone_digits = $4 THEN 1.0
            WHEN lower(c.email) COLLATE "C" LIKE $2
                 THEN 0.5 + 0.4 * length($1) / length(c.email)
            WHEN $4 <> '' AND c.phone_digits LIKE '%' || $4 || '%'
                 THEN 0.5 + 0.4 * length($4) / length(c.phone_digits)
            ELSE 0.85 * greatest(coalesce(word_similarity($1, c.email), 0),
                                    coalesce(word_similarity($1, c.name), 0))
       END::float8 AS score
FROM ar_account_contacts c
LEFT JOIN ar_accounts a ON a.account_id = c.account_id
WHERE lower(c.email) COLLATE "C" LIKE $2 {fuzzy} {phone}
ORDER BY score DESC, c.account_id, c.position LIMIT $3
"""
_BY_PHONE = "OR c.phone_digits LIKE '%' || $4 || '%'"
# a number or an email address looks like too many names and addresses to be worth
# comparing by trigrams (they share "inv", "000", ".example"): only words are
_NAMED_ACCOUNTS = _NAMED.format(kind="account", candidates=CANDIDATES)
_NAME_LIKE = f"UNION SELECT account_id FROM ({_NAMED_ACCOUNTS}) named"  # noqa: S608
_CONTACT_LIKE = "OR $1 <% c.email OR $1 <% c.name"

_CASES = """
SELECT 'case' AS kind, c.case_id::text AS id, c.account_id, c.case_number AS title,
       concat_ws(' · ', a.name, replace(c.type, '_', ' '), replace(c.status, '_', ' '))
           AS subtitle,
       CASE WHEN lower(c.case_number) IN ($1, $4) THEN 1.0
            ELSE 0.5 + 0.4 * length($1) / length(c.case_number) END::float8 AS score
FROM cases c
LEFT JOIN ar_accounts a ON a.account_id = c.account_id
WHERE c.case_number IS NOT NULL
  AND (lower(c.case_number) COLLATE "C" LIKE $2 OR lower(c.case_number) = $4)
ORDER BY score DESC, c.case_number LIMIT $3
"""


async def search(
    conn: asyncpg.Connection, query: SearchText, kinds: tuple[str, ...], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` of each kind in `kinds`, best first within each kind."""
    found: list[dict[str, Any]] = []
    async with conn.transaction(readonly=True):
        await conn.execute(f"SET LOCAL pg_trgm.word_similarity_threshold = {WORD_SIMILARITY}")
        # a misspelt word as a whole (swapped letters), beside a word's misspelt beginning
        await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {WORD_ALIKE}")
        if "account" in kinds:
            sql = _ACCOUNTS.replace("{fuzzy}", _NAME_LIKE if query.fuzzy else "").replace(
                "{likeness}", str(WORD_SIMILARITY)
            )
            found += await conn.fetch(sql, query.lowered, query.prefix, limit)
        if "invoice" in kinds:
            found += await conn.fetch(_INVOICES, query.lowered, query.prefix, limit)
        if "contact" in kinds:
            sql = _CONTACTS.replace("{phone}", _BY_PHONE if query.phone_digits else "").replace(
                "{fuzzy}", _CONTACT_LIKE if query.fuzzy else ""
            )
            found += await conn.fetch(
                sql, query.lowered, query.prefix, limit, query.phone_digits or ""
            )
        if "case" in kinds:
            found += await conn.fetch(
                _CASES, query.lowered, query.prefix, limit, query.case_number or ""
            )
    return [dict(row) for row in found]
