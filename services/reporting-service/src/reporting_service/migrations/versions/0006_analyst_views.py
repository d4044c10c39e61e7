"""Analyst views over the read models of 0004 and 0005, and aging as of any date in SQL.

New views are granted to `analyst` by default privileges, so a later
migration's view is readable without repeating the grant. The set-returning
function `reporting.open_invoices_as_of(d)` runs with its owner's rights
(like the views) so analysts get reproducible aging for a past date without
reading the raw tables.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "reporting_service_0006"
down_revision = "reporting_service_0005"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO analyst;

CREATE OR REPLACE VIEW reporting.invoices AS
SELECT invoice_id, account_id, external_id, currency, total_minor, issue_date, due_date,
       voided_on, written_off_on
FROM public.ar_invoices;
COMMENT ON COLUMN reporting.invoices.voided_on IS 'Business date the invoice was voided, if it was.';
COMMENT ON COLUMN reporting.invoices.written_off_on IS 'Business date the open balance was written off, if it was.';

CREATE OR REPLACE VIEW reporting.invoice_balance_changes AS
SELECT event_id, invoice_id, kind, amount_minor, effective_date, account_id, reference_id, reason
FROM public.ar_balance_changes;
COMMENT ON COLUMN reporting.invoice_balance_changes.kind IS
    'What changed it: adjustment_credit, adjustment_debit, payment (applied), reversal, void, write_off.';
COMMENT ON COLUMN reporting.invoice_balance_changes.account_id IS 'Customer account of the invoice.';
COMMENT ON COLUMN reporting.invoice_balance_changes.reference_id IS 'The payment (payment, reversal) or adjustment id behind the change.';
COMMENT ON COLUMN reporting.invoice_balance_changes.reason IS 'Reason code or text the billing system gave, if any.';

CREATE VIEW reporting.accounts AS
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

CREATE VIEW reporting.autopay_history AS
SELECT account_id, enrolled, effective_date, method_type, reason FROM public.ar_autopay_history;
COMMENT ON VIEW reporting.autopay_history IS 'Every auto-pay enrolment and cancellation; status as of D is the latest row with effective_date <= D.';
COMMENT ON COLUMN reporting.autopay_history.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.autopay_history.enrolled IS 'true: enrolled on that date; false: cancelled.';
COMMENT ON COLUMN reporting.autopay_history.effective_date IS 'Business date of the enrolment or cancellation.';
COMMENT ON COLUMN reporting.autopay_history.method_type IS 'Payment method type of an enrolment (card, ach, ...).';
COMMENT ON COLUMN reporting.autopay_history.reason IS 'Cancellation reason, if given.';

CREATE VIEW reporting.payments AS
SELECT payment_id, account_id, external_id, amount_minor, currency, method, received_on,
       reversed_on, reversal_reason
FROM public.ar_payments;
COMMENT ON VIEW reporting.payments IS 'Money received, and whether it came back out (returned, charged back).';
COMMENT ON COLUMN reporting.payments.payment_id IS 'Platform payment id.';
COMMENT ON COLUMN reporting.payments.account_id IS 'Paying account.';
COMMENT ON COLUMN reporting.payments.external_id IS 'The billing system''s payment id.';
COMMENT ON COLUMN reporting.payments.amount_minor IS 'Amount received, minor units.';
COMMENT ON COLUMN reporting.payments.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN reporting.payments.method IS 'card, ach, wire, check, cash, direct_debit or other.';
COMMENT ON COLUMN reporting.payments.received_on IS 'Business date the money arrived.';
COMMENT ON COLUMN reporting.payments.reversed_on IS 'Business date it was reversed, if it was.';
COMMENT ON COLUMN reporting.payments.reversal_reason IS 'returned or chargeback.';

CREATE VIEW reporting.payment_applications AS
SELECT reference_id AS payment_id, invoice_id, account_id, -amount_minor AS amount_minor,
       effective_date AS applied_on
FROM public.ar_balance_changes WHERE kind = 'payment';
COMMENT ON VIEW reporting.payment_applications IS 'Which payment paid which invoice, how much and when.';
COMMENT ON COLUMN reporting.payment_applications.payment_id IS 'The payment applied.';
COMMENT ON COLUMN reporting.payment_applications.invoice_id IS 'The invoice it paid.';
COMMENT ON COLUMN reporting.payment_applications.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.payment_applications.amount_minor IS 'Amount applied, minor units (positive).';
COMMENT ON COLUMN reporting.payment_applications.applied_on IS 'Business date of the application.';

CREATE VIEW reporting.invoice_flags AS
SELECT invoice_id, account_id, flag, source, since_date, until_date FROM public.ar_invoice_flags;
COMMENT ON VIEW reporting.invoice_flags IS 'Intervals when an invoice was on hold (collections) or in dispute (an open case); aging flags them, never drops them.';
COMMENT ON COLUMN reporting.invoice_flags.invoice_id IS 'Flagged invoice.';
COMMENT ON COLUMN reporting.invoice_flags.account_id IS 'Customer account.';
COMMENT ON COLUMN reporting.invoice_flags.flag IS 'hold or dispute.';
COMMENT ON COLUMN reporting.invoice_flags.source IS 'What set it: the hold or case id.';
COMMENT ON COLUMN reporting.invoice_flags.since_date IS 'First business date flagged.';
COMMENT ON COLUMN reporting.invoice_flags.until_date IS 'First business date no longer flagged; NULL while it lasts.';

CREATE FUNCTION reporting.open_invoices_as_of(as_of date)
RETURNS TABLE (invoice_id uuid, account_id uuid, external_id text, currency text, due_date date,
               open_minor bigint, days_past_due integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    SELECT i.invoice_id, i.account_id, i.external_id, i.currency, i.due_date,
           (i.total_minor + coalesce(sum(c.amount_minor), 0))::bigint,
           as_of - i.due_date
    FROM public.ar_invoices i
    LEFT JOIN public.ar_balance_changes c
           ON c.invoice_id = i.invoice_id AND c.effective_date <= as_of
    WHERE i.issue_date <= as_of
    GROUP BY i.invoice_id
    HAVING i.total_minor + coalesce(sum(c.amount_minor), 0) > 0
$fn$;
COMMENT ON FUNCTION reporting.open_invoices_as_of(date) IS
    'Invoices with an open balance as of the given date (DESIGN.md section 6), reproducible for any past date.';
REVOKE ALL ON FUNCTION reporting.open_invoices_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.open_invoices_as_of(date) TO analyst;

CREATE VIEW reporting.tasks AS
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

CREATE VIEW reporting.task_due_days AS SELECT task_id, due_date FROM public.col_task_due_days;
COMMENT ON VIEW reporting.task_due_days IS 'Every day a task was due: its business date and each day it was carried over to. Cadence completion = completed / due per collector per day.';
COMMENT ON COLUMN reporting.task_due_days.task_id IS 'Collections task id.';
COMMENT ON COLUMN reporting.task_due_days.due_date IS 'A business date the task was due on.';

CREATE VIEW reporting.contacts AS
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

CREATE VIEW reporting.commitments AS
SELECT commitment_id, account_id, collector_id, amount_minor, currency, promised_date, made_on,
       status, paid_minor, judged_on
FROM public.col_commitments;
COMMENT ON VIEW reporting.commitments IS 'Promises to pay and how they ended. Promise-kept rate = kept / (kept + partially_kept + broken) by count; paid / promised by amount.';
COMMENT ON COLUMN reporting.commitments.commitment_id IS 'Commitment id.';
COMMENT ON COLUMN reporting.commitments.account_id IS 'Account that promised.';
COMMENT ON COLUMN reporting.commitments.collector_id IS 'Collector credited with it.';
COMMENT ON COLUMN reporting.commitments.amount_minor IS 'Amount promised, minor units.';
COMMENT ON COLUMN reporting.commitments.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN reporting.commitments.promised_date IS 'Date the customer promised to pay by.';
COMMENT ON COLUMN reporting.commitments.made_on IS 'Business date the promise was made.';
COMMENT ON COLUMN reporting.commitments.status IS 'open, kept, partially_kept, broken or cancelled.';
COMMENT ON COLUMN reporting.commitments.paid_minor IS 'Amount paid against it when judged.';
COMMENT ON COLUMN reporting.commitments.judged_on IS 'Business date it was judged kept, partly kept or broken (or cancelled).';

CREATE VIEW reporting.autopay_offers AS
SELECT offer_id, account_id, collector_id, offered_on, outcome, answered_on, enrolled_on
FROM public.col_autopay_offers;
COMMENT ON VIEW reporting.autopay_offers IS 'Auto-pay offers collectors made and whether the account enrolled within 30 days.';
COMMENT ON COLUMN reporting.autopay_offers.offer_id IS 'Offer id.';
COMMENT ON COLUMN reporting.autopay_offers.account_id IS 'Account offered auto-pay.';
COMMENT ON COLUMN reporting.autopay_offers.collector_id IS 'Collector who offered it.';
COMMENT ON COLUMN reporting.autopay_offers.offered_on IS 'Business date of the offer.';
COMMENT ON COLUMN reporting.autopay_offers.outcome IS 'What the customer said: accepted, declined, undecided.';
COMMENT ON COLUMN reporting.autopay_offers.answered_on IS 'Business date of the answer.';
COMMENT ON COLUMN reporting.autopay_offers.enrolled_on IS 'Business date billing enrolled the account (converted), if it did.';

CREATE VIEW reporting.escalations AS
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

CREATE VIEW reporting.cases AS
SELECT case_id, case_number, account_id, type, origin, priority, owner_id, status, invoice_ids,
       opened_at, resolved_at, closed_at, reopened_count, root_cause_code, root_cause_name,
       documentation_complete, checklist_satisfied, checklist_required, sla_breached
FROM public.cases;
COMMENT ON VIEW reporting.cases IS 'Receivables cases from opening to close, with root cause and documentation completeness.';
COMMENT ON COLUMN reporting.cases.case_id IS 'Case id.';
COMMENT ON COLUMN reporting.cases.case_number IS 'Human case number, CASE-000123.';
COMMENT ON COLUMN reporting.cases.account_id IS 'Account the case is about; NULL for an unmatched inbound email.';
COMMENT ON COLUMN reporting.cases.type IS 'billing_inquiry, dispute, account_setup, payment_misapplied, refund_request, other.';
COMMENT ON COLUMN reporting.cases.origin IS 'collections, inbound_phone, inbound_email or internal_referral.';
COMMENT ON COLUMN reporting.cases.priority IS 'low, normal, high, urgent.';
COMMENT ON COLUMN reporting.cases.owner_id IS 'Case agent who owns it.';
COMMENT ON COLUMN reporting.cases.status IS 'new, investigating, waiting_on_customer, waiting_on_internal, resolved, closed.';
COMMENT ON COLUMN reporting.cases.invoice_ids IS 'Invoices in dispute while the case is open.';
COMMENT ON COLUMN reporting.cases.opened_at IS 'Instant opened (UTC).';
COMMENT ON COLUMN reporting.cases.resolved_at IS 'Instant resolved (the investigation completed); time to resolution = resolved_at - opened_at.';
COMMENT ON COLUMN reporting.cases.closed_at IS 'Instant closed; NULL while open (a reopen clears it).';
COMMENT ON COLUMN reporting.cases.reopened_count IS 'Times the case was reopened.';
COMMENT ON COLUMN reporting.cases.root_cause_code IS 'Root-cause taxonomy code (the weekly review''s Pareto groups on it).';
COMMENT ON COLUMN reporting.cases.root_cause_name IS 'Root-cause category name when identified.';
COMMENT ON COLUMN reporting.cases.documentation_complete IS 'Every required checklist item was satisfied at close.';
COMMENT ON COLUMN reporting.cases.checklist_satisfied IS 'Checklist items satisfied at close.';
COMMENT ON COLUMN reporting.cases.checklist_required IS 'Checklist items required at close.';
COMMENT ON COLUMN reporting.cases.sla_breached IS 'The case passed its two-week SLA.';

CREATE VIEW reporting.collector_teams AS SELECT collector_id, team FROM public.collector_teams;
COMMENT ON VIEW reporting.collector_teams IS 'Which team each collector works in (set by supervisors over the API).';
COMMENT ON COLUMN reporting.collector_teams.collector_id IS 'Collector (the sub of their token).';
COMMENT ON COLUMN reporting.collector_teams.team IS 'Team name.';

GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO analyst;
"""


def upgrade() -> None:
    execute_script(SCHEMA)
