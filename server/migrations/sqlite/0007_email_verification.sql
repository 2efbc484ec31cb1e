-- E-mail verification and password reset. A password sign-up is pending until its link is
-- followed: the pending account (name, password hash, where to go next) waits in its token,
-- so no unverified account row exists for anyone to hold. `verify` tokens verify an older
-- account's address; `reset` tokens set a new password. Tokens are stored as SHA-256 hashes
-- and work once.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('signup', 'verify', 'reset')),
    email TEXT NOT NULL,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    name TEXT,
    password_hash TEXT,
    next_path TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_tokens_by_email ON email_tokens(email, created_at);
