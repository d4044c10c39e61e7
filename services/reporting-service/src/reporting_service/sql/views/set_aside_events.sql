CREATE OR REPLACE VIEW reporting.set_aside_events AS
SELECT type, subject AS account_id, event_id, reason, dates, data, set_aside_at
FROM public.set_aside_events;
COMMENT ON VIEW reporting.set_aside_events IS
    'Events left out of every other view: a business date in them is outside the range the platform books (BUSINESS_DATE_MIN..MAX). Corrected at their source, not here.';
COMMENT ON COLUMN reporting.set_aside_events.type IS 'Event type, e.g. billing.invoice.issued.';
COMMENT ON COLUMN reporting.set_aside_events.account_id IS 'Customer account the event is about (its CloudEvents subject).';
COMMENT ON COLUMN reporting.set_aside_events.event_id IS 'CloudEvents id of the event.';
COMMENT ON COLUMN reporting.set_aside_events.reason IS 'Why it was set aside, naming each date outside the range.';
COMMENT ON COLUMN reporting.set_aside_events.dates IS 'The dates outside the range, by field (JSON: {"due_date": "9999-12-31"}).';
COMMENT ON COLUMN reporting.set_aside_events.data IS 'The event''s data as it was published (JSON).';
COMMENT ON COLUMN reporting.set_aside_events.set_aside_at IS 'When the reporting service set it aside.';
