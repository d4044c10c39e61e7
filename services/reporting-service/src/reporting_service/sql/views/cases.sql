CREATE OR REPLACE VIEW reporting.cases AS
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
