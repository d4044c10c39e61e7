CREATE OR REPLACE VIEW reporting.contacts AS
SELECT contact_id, account_id, collector_id, channel, outcome, business_date, attempted_at
FROM public.col_contacts;
COMMENT ON VIEW reporting.contacts IS 'Every attempt to reach a customer (call, email, letter). Starts the collections-secured attribution window.';
COMMENT ON COLUMN reporting.contacts.contact_id IS 'Contact attempt id.';
COMMENT ON COLUMN reporting.contacts.account_id IS 'Account contacted.';
COMMENT ON COLUMN reporting.contacts.collector_id IS 'Collector who made the attempt.';
COMMENT ON COLUMN reporting.contacts.channel IS 'call, email or letter.';
COMMENT ON COLUMN reporting.contacts.outcome IS 'What happened (reached_promised, no_answer, email_sent, ...).';
COMMENT ON COLUMN reporting.contacts.business_date IS 'Business date of the attempt.';
COMMENT ON COLUMN reporting.contacts.attempted_at IS 'Instant of the attempt (UTC).';
