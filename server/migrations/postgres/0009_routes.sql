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

GRANT SELECT, INSERT, UPDATE, DELETE ON routes, topics, topic_subscribers, deploys, topic_messages, topic_deliveries TO switchyard_app;

ALTER TABLE routes ENABLE ROW LEVEL SECURITY;
ALTER TABLE routes FORCE ROW LEVEL SECURITY;
CREATE POLICY routes_scope ON routes
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

ALTER TABLE topics ENABLE ROW LEVEL SECURITY;
ALTER TABLE topics FORCE ROW LEVEL SECURITY;
CREATE POLICY topics_scope ON topics
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

ALTER TABLE topic_subscribers ENABLE ROW LEVEL SECURITY;
ALTER TABLE topic_subscribers FORCE ROW LEVEL SECURITY;
CREATE POLICY topic_subscribers_scope ON topic_subscribers
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

ALTER TABLE deploys ENABLE ROW LEVEL SECURITY;
ALTER TABLE deploys FORCE ROW LEVEL SECURITY;
CREATE POLICY deploys_scope ON deploys
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

ALTER TABLE topic_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE topic_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY topic_messages_scope ON topic_messages
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

ALTER TABLE topic_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE topic_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY topic_deliveries_scope ON topic_deliveries
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

-- The gateway resolves a request's workspace by its slug before it knows the tenant: the
-- system scope may read workspaces (never write them).
CREATE POLICY workspaces_system_read ON workspaces FOR SELECT
    USING (current_setting('app.system', true) = 'on');
