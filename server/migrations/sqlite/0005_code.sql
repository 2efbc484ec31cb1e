-- Code intelligence: the repositories a workspace indexes, and job progress reports.
-- The code graph, chunks and vectors live in the LanceDB / Tantivy index (ARCHITECTURE.md).

ALTER TABLE jobs ADD COLUMN progress TEXT;

CREATE TABLE code_repositories (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('git', 'path', 'upload')),
    location TEXT NOT NULL,
    branch TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'indexing', 'ready', 'failed')),
    commit_sha TEXT,
    files_indexed BIGINT NOT NULL DEFAULT 0,
    files_skipped BIGINT NOT NULL DEFAULT 0,
    symbols BIGINT NOT NULL DEFAULT 0,
    chunks BIGINT NOT NULL DEFAULT 0,
    report TEXT,
    error TEXT,
    job_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    indexed_at BIGINT,
    UNIQUE (tenant_id, location)
);
CREATE INDEX code_repositories_by_tenant ON code_repositories(tenant_id, created_at);
