"""The platform's own words the console shows (outcomes, statuses, roles, channels).

They arrive from the APIs as codes; listing them here puts them in the catalog
so a Spanish-speaking collector reads "promesa de pago", not `reached_promised`.
"""

from console_service.i18n import N_

WORDS = (
    N_("reached_promised"), N_("reached_refused"), N_("reached_disputed"), N_("voicemail"),
    N_("no_answer"), N_("wrong_number"), N_("email_sent"), N_("email_failed"),
    N_("letter_sent"), N_("no_action_needed"),
    N_("open"), N_("completed"), N_("missed"), N_("cancelled"), N_("kept"), N_("broken"),
    N_("partially_kept"), N_("issued"), N_("paid"), N_("partially_paid"), N_("void"),
    N_("written_off"),
    N_("new"), N_("investigating"), N_("waiting_on_customer"), N_("waiting_on_internal"),
    N_("resolved"), N_("closed"),
    N_("collector"), N_("case_agent"), N_("supervisor"), N_("integration"), N_("admin"),
    N_("call"), N_("email"), N_("letter"),
    N_("account"), N_("invoice"), N_("case"), N_("contact"),
    N_("billing_inquiry"), N_("dispute"), N_("account_setup"), N_("payment_misapplied"),
    N_("refund_request"), N_("other"),
    N_("low"), N_("normal"), N_("high"), N_("urgent"),
    N_("service"), N_("installation"), N_("operations"), N_("billing_operations"),
    N_("phone"), N_("sms"), N_("portal"), N_("in_person"), N_("credit"), N_("debit"),
    N_("requested"), N_("applied"), N_("rejected"),
    N_("problem_statement"), N_("investigation_note"), N_("root_cause"),
    N_("resolution_summary"), N_("customer_update"), N_("customer_confirmation"),
    N_("linked_invoice"),
    # the dunning templates collections ships
    N_("overdue_statement"), N_("reminder"), N_("final_notice"),
    # reporting's weekly-review KPI labels
    N_("DSO (days)"), N_("Best possible DSO (days)"), N_("ADD (days)"), N_("CEI (%)"),
    N_("Cadence completion (%)"), N_("Collections secured (payments)"),
    N_("Collections secured (minor units)"), N_("Promise-kept rate by count (%)"),
    N_("Promise-kept rate by amount (%)"), N_("Auto-pay conversion (%)"),
    N_("Auto-pay penetration (%)"), N_("Follow-up timeliness (%)"), N_("Cases opened"),
    N_("Cases closed"), N_("Investigations completed"), N_("Cases open over 14 days"),
    N_("Mean days to resolution"), N_("Median days to resolution"),
    N_("Documentation completeness (%)"),
)
