CREATE OR REPLACE VIEW reporting.escalations AS
SELECT escalation_id, origin, account_id, case_id, collector_id, cause, escalated_on, due_date,
       answered_on, overdue
FROM public.escalations;
COMMENT ON VIEW reporting.escalations IS 'Escalations: cadence steps to a supervisor (collections) and case questions to internal teams (case).';
COMMENT ON COLUMN reporting.escalations.escalation_id IS 'Escalation id (collections ones are prefixed collections:).';
COMMENT ON COLUMN reporting.escalations.origin IS 'collections or case.';
COMMENT ON COLUMN reporting.escalations.account_id IS 'Account concerned.';
COMMENT ON COLUMN reporting.escalations.case_id IS 'Case that escalated, for case escalations.';
COMMENT ON COLUMN reporting.escalations.collector_id IS 'Collector of the account, for collections escalations.';
COMMENT ON COLUMN reporting.escalations.cause IS 'The team asked (case) or the reason given (collections): what escalations-by-cause groups on.';
COMMENT ON COLUMN reporting.escalations.escalated_on IS 'Business date escalated.';
COMMENT ON COLUMN reporting.escalations.due_date IS 'When the answer is due (case escalations).';
COMMENT ON COLUMN reporting.escalations.answered_on IS 'Business date answered, if it was.';
COMMENT ON COLUMN reporting.escalations.overdue IS 'The answer came after the due date.';
