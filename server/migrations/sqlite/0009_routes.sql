-- Routes, topics and subscribers as drafts (what the console and the CLI edit), the deploys
-- that made them live (each an immutable manifest; the live one is the highest version), the
-- messages published to topics (kept for their topic's retention) and their deliveries (one
-- durable job per message and subscriber; a dead job is a dead letter).
CREATE TABLE routes (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, method, path)
);

CREATE TABLE topics (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    retention_hours BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE topic_subscribers (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (topic_id, name)
);

CREATE TABLE deploys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    manifest TEXT NOT NULL,
    hash TEXT NOT NULL,
    summary TEXT NOT NULL,
    rollback_of TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, version)
);

CREATE TABLE topic_messages (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX topic_messages_by_topic ON topic_messages(tenant_id, topic, published_at);
CREATE INDEX topic_messages_expiry ON topic_messages(expires_at);

CREATE TABLE topic_deliveries (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES topic_messages(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    subscriber TEXT NOT NULL,
    replay_of TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX topic_deliveries_by_message ON topic_deliveries(message_id);
CREATE INDEX topic_deliveries_by_subscriber ON topic_deliveries(tenant_id, topic, subscriber, created_at);
