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

ALTER TABLE code_repositories ADD COLUMN credential TEXT;

ALTER TABLE jobs ADD COLUMN attempts_granted BIGINT;
