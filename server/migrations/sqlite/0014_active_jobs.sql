-- The jobs that hold a slot of their workspace's concurrency (running, or queued with a
-- ticket on the bus), by workspace: what a dispatch round and a worker's own claim count
-- for each waiting workspace, without reading the workspace's finished jobs.
CREATE INDEX jobs_active ON jobs(tenant_id)
    WHERE status = 'running' OR (status = 'queued' AND dispatched_at IS NOT NULL);
-- A pool's queued jobs by due time: what a worker's own claim chooses from, without
-- reading other pools' queues.
CREATE INDEX jobs_queued_by_pool ON jobs(pool, run_at) WHERE status = 'queued';
