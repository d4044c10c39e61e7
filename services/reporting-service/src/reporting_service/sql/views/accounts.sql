CREATE OR REPLACE VIEW reporting.accounts AS
SELECT a.account_id, a.external_id, a.name, a.segment, a.currency, a.payment_terms_days,
       ca.collector_id, ct.team,
       coalesce((SELECT h.enrolled FROM public.ar_autopay_history h
                 WHERE h.account_id = a.account_id AND h.effective_date <= current_date
                 ORDER BY h.effective_date DESC, h.enrolled ASC LIMIT 1), false) AS on_autopay
FROM public.ar_accounts a
LEFT JOIN public.col_assignments ca ON ca.account_id = a.account_id
LEFT JOIN public.collector_teams ct ON ct.collector_id = ca.collector_id;
COMMENT ON VIEW reporting.accounts IS 'Customer accounts as billing registered them, with their collector and auto-pay status today.';
COMMENT ON COLUMN reporting.accounts.account_id IS 'Platform account id (UUIDv7); every event is keyed by it.';
COMMENT ON COLUMN reporting.accounts.external_id IS 'The billing system''s account id.';
COMMENT ON COLUMN reporting.accounts.name IS 'Customer name.';
COMMENT ON COLUMN reporting.accounts.segment IS 'Customer segment (dunning policies and reports group by it); NULL when none.';
COMMENT ON COLUMN reporting.accounts.currency IS 'Account currency, ISO 4217.';
COMMENT ON COLUMN reporting.accounts.payment_terms_days IS 'Payment terms in days from issue.';
COMMENT ON COLUMN reporting.accounts.collector_id IS 'Collector the account is assigned to (from collections), NULL when unassigned.';
COMMENT ON COLUMN reporting.accounts.team IS 'Collections team of that collector, when known.';
COMMENT ON COLUMN reporting.accounts.on_autopay IS 'Enrolled in auto-pay as of today.';
