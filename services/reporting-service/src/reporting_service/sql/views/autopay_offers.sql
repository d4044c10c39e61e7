CREATE OR REPLACE VIEW reporting.autopay_offers AS
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
