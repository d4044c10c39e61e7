CREATE OR REPLACE VIEW reporting.tasks AS
SELECT task_id, account_id, collector_id, kind, business_date, escalates, completed_on,
       completed_by, outcome, cancelled_on, times_missed
FROM public.col_tasks;
COMMENT ON VIEW reporting.tasks IS 'Collections tasks: one per account and business date the cadence put on a worklist.';
COMMENT ON COLUMN reporting.tasks.task_id IS 'Collections task id.';
COMMENT ON COLUMN reporting.tasks.account_id IS 'Account the task is about.';
COMMENT ON COLUMN reporting.tasks.collector_id IS 'Collector whose worklist it was on.';
COMMENT ON COLUMN reporting.tasks.kind IS 'cadence (a dunning step fell due) or commitment_follow_up (a promise was broken).';
COMMENT ON COLUMN reporting.tasks.business_date IS 'First day the task was due (its due time for follow-up timeliness).';
COMMENT ON COLUMN reporting.tasks.escalates IS 'The step escalates to a supervisor.';
COMMENT ON COLUMN reporting.tasks.completed_on IS 'Business date it was done, if it was.';
COMMENT ON COLUMN reporting.tasks.completed_by IS 'Who completed it (a supervisor may complete a collector''s task).';
COMMENT ON COLUMN reporting.tasks.outcome IS 'What came of it (reached_promised, voicemail, email_sent, ...).';
COMMENT ON COLUMN reporting.tasks.cancelled_on IS 'Business date it stopped being needed (paid, held, promised), if it did.';
COMMENT ON COLUMN reporting.tasks.times_missed IS 'How many end-of-days passed with the task still open.';
