-- A pipeline whose live version has a topic trigger starts on each message to that topic.
ALTER TABLE pipelines ADD COLUMN live_topic TEXT;
CREATE INDEX pipelines_by_live_topic ON pipelines(tenant_id, live_topic) WHERE live_topic IS NOT NULL;
