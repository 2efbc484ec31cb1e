-- Routes with a pipeline handler and topics with a pipeline subscriber start runs too.
-- SQLite cannot change a CHECK constraint: the table is made again with the new one (no
-- table refers to pipeline_runs, so nothing cascades).
CREATE TABLE pipeline_runs_next (
    id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'webhook', 'schedule', 'rerun', 'route', 'topic')),
    rerun_of TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    tick_at BIGINT,
    UNIQUE (pipeline_id, tick_at)
);
INSERT INTO pipeline_runs_next (id, tenant_id, pipeline_id, version, trigger, rerun_of, created_by, created_at, tick_at)
    SELECT id, tenant_id, pipeline_id, version, trigger, rerun_of, created_by, created_at, tick_at FROM pipeline_runs;
DROP TABLE pipeline_runs;
ALTER TABLE pipeline_runs_next RENAME TO pipeline_runs;
CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs(pipeline_id, created_at);
