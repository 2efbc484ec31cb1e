-- Routes with a pipeline handler and topics with a pipeline subscriber start runs too.
ALTER TABLE pipeline_runs DROP CONSTRAINT pipeline_runs_trigger_check;
ALTER TABLE pipeline_runs ADD CONSTRAINT pipeline_runs_trigger_check
    CHECK (trigger IN ('manual', 'webhook', 'schedule', 'rerun', 'route', 'topic'));
