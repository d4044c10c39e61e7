-- Chooses how the next restep statements of this call are planned, from the number of ids
-- they get: the plan kept for the connection (made once, for about ten ids) for the few of
-- a consumer's commit, a plan for this call's ids for a larger set. Takes effect until the
-- calling function returns (ar_aging_at_commit restores the setting by its SET clause).
CREATE OR REPLACE FUNCTION ar_aging_plan_for(ids uuid[]) RETURNS void LANGUAGE sql VOLATILE AS $fn$
    SELECT set_config('plan_cache_mode',
                      CASE WHEN cardinality(ids) <= 1000 THEN 'force_generic_plan'
                           ELSE 'force_custom_plan' END,
                      true);
$fn$;
