-- Re-derives what the accounts `ids` add to the auto-pay KPIs and moves only the
-- difference into the sums per collector and day (ar_autopay_by_collector) that the KPI
-- report reads instead of every account's history. An account adds 1 to `accounts` (on
-- -infinity: it counts whatever the period) and +1 or -1 to `on_autopay` on each day its
-- auto-pay status changes. Its status as of D is that of its latest history day by D,
-- where a cancellation and an enrolment on the same day leave it cancelled (the KPI
-- report's and the analyst view's rule); only accounts billing registered count, as the
-- report's scan of ar_accounts did. Each step records the collector it was summed under,
-- so a reassignment moves the account's steps. Called at commit (ar_aging_at_commit)
-- under the aging lock, for the same reason as the aging steps: two projections writing
-- the same account at once would otherwise each miss the other's row.
CREATE OR REPLACE FUNCTION ar_autopay_restep(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(6161676967);
    WITH old AS (DELETE FROM ar_autopay_steps WHERE account_id = ANY (ids) RETURNING *)
    INSERT INTO ar_autopay_by_collector (collector_id, day, accounts, on_autopay)
    SELECT collector_id, day, -sum(accounts), -sum(on_autopay)
    FROM old GROUP BY collector_id, day ORDER BY collector_id, day
    ON CONFLICT (collector_id, day) DO UPDATE SET
        accounts = ar_autopay_by_collector.accounts + EXCLUDED.accounts,
        on_autopay = ar_autopay_by_collector.on_autopay + EXCLUDED.on_autopay;
    WITH status AS (
        SELECT h.account_id, h.effective_date AS day,
               bool_and(h.enrolled)::int - lag(bool_and(h.enrolled)::int, 1, 0)
                   OVER (PARTITION BY h.account_id ORDER BY h.effective_date) AS change
        FROM ar_autopay_history h JOIN ar_accounts a ON a.account_id = h.account_id
        WHERE h.account_id = ANY (ids)
        GROUP BY h.account_id, h.effective_date
    ), step AS (
        SELECT a.account_id, '-infinity'::date AS day, 1 AS accounts, 0 AS on_autopay
        FROM ar_accounts a WHERE a.account_id = ANY (ids)
        UNION ALL
        SELECT s.account_id, s.day, 0, s.change FROM status s WHERE s.change <> 0
    ), fresh AS (
        INSERT INTO ar_autopay_steps (account_id, day, collector_id, accounts, on_autopay)
        SELECT s.account_id, s.day,
               (SELECT ca.collector_id FROM col_assignments ca
                WHERE ca.account_id = s.account_id),  -- by key, whatever the plan
               s.accounts, s.on_autopay
        FROM step s
        RETURNING *
    )
    INSERT INTO ar_autopay_by_collector (collector_id, day, accounts, on_autopay)
    SELECT collector_id, day, sum(accounts), sum(on_autopay)
    FROM fresh GROUP BY collector_id, day ORDER BY collector_id, day
    ON CONFLICT (collector_id, day) DO UPDATE SET
        accounts = ar_autopay_by_collector.accounts + EXCLUDED.accounts,
        on_autopay = ar_autopay_by_collector.on_autopay + EXCLUDED.on_autopay;
END $fn$;
