-- Workspace secrets (values sealed with XChaCha20-Poly1305; see server/src/secrets/cipher.rs),
-- the secret a repository's clone authenticates with, and the attempts a job was submitted
-- with (a manual retry grants that many again).
CREATE TABLE workspace_secrets (
    tenant_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE INDEX workspace_secrets_by_key ON workspace_secrets(key_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON workspace_secrets TO switchyard_app;

ALTER TABLE workspace_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_secrets_scope ON workspace_secrets
    USING (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on')
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)
        OR current_setting('app.system', true) = 'on');

ALTER TABLE code_repositories ADD COLUMN credential TEXT;

ALTER TABLE jobs ADD COLUMN attempts_granted BIGINT;
