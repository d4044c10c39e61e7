CREATE OR REPLACE VIEW reporting.payments AS
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
