-- Accounts signed in through an OAuth2 provider: (provider, subject) names one user.
CREATE TABLE oauth_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_identities_by_user ON oauth_identities(user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_identities TO switchyard_app;
