CREATE OR REPLACE VIEW reporting.collector_teams AS SELECT collector_id, team FROM public.collector_teams;
COMMENT ON VIEW reporting.collector_teams IS 'Which team each collector works in (set by supervisors over the API).';
COMMENT ON COLUMN reporting.collector_teams.collector_id IS 'Collector (the sub of their token).';
COMMENT ON COLUMN reporting.collector_teams.team IS 'Team name.';
