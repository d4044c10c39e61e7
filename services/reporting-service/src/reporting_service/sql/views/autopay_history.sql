CREATE OR REPLACE VIEW reporting.autopay_history AS
SELECT account_id, enrolled, effective_date, method_type, reason FROM public.ar_autopay_history;
COMMENT ON VIEW reporting.autopay_history IS 'Every auto-pay enrolment and cancellation; status as of D is the latest row with effective_date <= D.';
COMMENT ON COLUMN reporting.autopay_history.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.autopay_history.enrolled IS 'true: enrolled on that date; false: cancelled.';
COMMENT ON COLUMN reporting.autopay_history.effective_date IS 'Business date of the enrolment or cancellation.';
COMMENT ON COLUMN reporting.autopay_history.method_type IS 'Payment method type of an enrolment (card, ach, ...).';
COMMENT ON COLUMN reporting.autopay_history.reason IS 'Cancellation reason, if given.';
