-- A run started by a topic's message (a pipeline subscriber or a topic trigger) keeps the
-- message's id, so the topic's tail lists the runs each message started. No foreign key:
-- runs start before their message is stored, and a run outlives its message's retention.
ALTER TABLE pipeline_runs ADD COLUMN message_id TEXT;
CREATE INDEX pipeline_runs_by_message ON pipeline_runs(tenant_id, message_id) WHERE message_id IS NOT NULL;
