CREATE OR REPLACE VIEW reporting.task_due_days AS SELECT task_id, due_date FROM public.col_task_due_days;
COMMENT ON VIEW reporting.task_due_days IS 'Every day a task was due: its business date and each day it was carried over to. Cadence completion = completed / due per collector per day.';
COMMENT ON COLUMN reporting.task_due_days.task_id IS 'Collections task id.';
COMMENT ON COLUMN reporting.task_due_days.due_date IS 'A business date the task was due on.';
