-- Durable jobs, their log lines, and the workers that run them.
-- Job and lease times are Unix milliseconds (leases are seconds long).

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    pool TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead')),
    attempt BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    lease_holder TEXT,
    lease_expires_at BIGINT,
    run_at BIGINT NOT NULL,
    dispatched_at BIGINT,
    cancel_requested BIGINT NOT NULL,
    result TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX jobs_by_tenant ON jobs(tenant_id, created_at);
CREATE INDEX jobs_to_dispatch ON jobs(status, dispatched_at, run_at);
CREATE INDEX jobs_by_lease ON jobs(status, lease_expires_at);

CREATE TABLE job_logs (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    pool TEXT NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('online', 'draining', 'offline')),
    running BIGINT NOT NULL,
    concurrency BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    last_heartbeat BIGINT NOT NULL
);
