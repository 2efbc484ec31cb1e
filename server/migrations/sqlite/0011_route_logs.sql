-- Route logs: per gateway request an access line (its status and duration) and the
-- handler's own lines and failure, kept for a week (`switchyard logs`, the console).
CREATE TABLE route_logs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    route TEXT NOT NULL,
    request_id TEXT NOT NULL,
    status INTEGER,
    duration_ms DOUBLE PRECISION,
    line TEXT NOT NULL
);
CREATE INDEX route_logs_by_time ON route_logs(tenant_id, at, id);
CREATE INDEX route_logs_expiry ON route_logs(at);
