-- Pipelines: definitions with immutable versions, their webhook triggers and schedules, runs (each run is a
-- job of kind `pipeline.run`; the run row says which pipeline, version and trigger), and the
-- journal of finished steps that durable jobs record (fenced by lease holder and attempt).
CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    latest_version BIGINT NOT NULL,
    live_version BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE pipeline_versions (
    pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    graph TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (pipeline_id, version)
);

CREATE TABLE pipeline_hooks (
    id TEXT PRIMARY KEY,
    pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    node TEXT NOT NULL,
    signing_key TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (pipeline_id, node)
);

CREATE TABLE pipeline_runs (
    id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'webhook', 'schedule', 'rerun')),
    rerun_of TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    tick_at BIGINT,
    UNIQUE (pipeline_id, tick_at)
);
CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs(pipeline_id, created_at);

-- The schedule of a pipeline whose live version starts with a schedule trigger. A tick's run
-- carries `tick_at`, unique per pipeline: two control planes firing the same tick make one run.
CREATE TABLE pipeline_schedules (
    pipeline_id TEXT PRIMARY KEY REFERENCES pipelines(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    node TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    missed TEXT NOT NULL CHECK (missed IN ('skip', 'run_once')),
    next_at BIGINT NOT NULL
);
CREATE INDEX pipeline_schedules_due ON pipeline_schedules(next_at);

-- A job asleep until its `run_at` (a pipeline's long delay) holds no worker and no place in
-- the queue's admission counts.
ALTER TABLE jobs ADD COLUMN asleep BIGINT NOT NULL DEFAULT 0;

CREATE TABLE job_steps (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    entry TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, key)
);
