//! Accounts in the store: users, their OAuth identities and sessions, and the API-key lookup
//! that authenticates a request. Timestamps are Unix seconds.

use crate::store::{id, parse_role, unique_to_conflict, Scope, Store, StoreError, StoreResult};
use shared::ids::{ApiKeyId, SessionId, TenantId, UserId};
use shared::roles::Role;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

impl Store {
    // ---- users -------------------------------------------------------------------------

    /// Creates a user (and its first session, if given) in one transaction; the e-mail must
    /// be unused.
    pub async fn create_user(
        &self,
        user: &UserRecord,
        session: Option<&SessionRecord>,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Global).await?;
        insert_user(&mut tx, user).await?;
        if let Some(session) = session {
            insert_session(&mut tx, session).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user with this (normalised) e-mail.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    /// The user with this id.
    pub async fn user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.readers)
            .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    /// Replaces the user's password hash, ends every session they have and starts
    /// `new_session`, atomically.
    pub async fn change_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: i64,
        new_session: &SessionRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.begin(Scope::User(id)).await?;
        let revoked = self
            .replace_password(&mut tx, id, password_hash, now, new_session)
            .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// In `tx`: sets `id`'s password hash, ends every session of theirs, revokes the API keys
    /// they created (whoever knew the old password may have made them) and records
    /// `new_session`. Answers how many keys were revoked.
    async fn replace_password(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: UserId,
        password_hash: &str,
        now: i64,
        new_session: &SessionRecord,
    ) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
        insert_session(tx, new_session).await?;
        let tenants: Vec<String> =
            sqlx::query_scalar("SELECT tenant_id FROM memberships WHERE user_id = $1")
                .bind(id.to_string())
                .fetch_all(&mut **tx)
                .await?;
        let mut revoked = 0;
        for tenant in tenants {
            let tenant: TenantId = tenant
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("membership tenant {tenant:?}")))?;
            self.widen_to_tenant(tx, tenant).await?;
            revoked += revoke_keys_created_by(tx, tenant, id, now).await?;
        }
        Ok(revoked)
    }

    // ---- e-mail tokens -----------------------------------------------------------------

    /// Records a new e-mail token. Earlier unused verification and reset tokens for the same
    /// address stop working: only the newest such link does. Sign-up links all stay usable,
    /// each with its own sign-up's password, so a stranger signing up with someone's address
    /// cannot void that person's own link.
    pub async fn create_email_token(&self, t: &EmailTokenRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Global).await?;
        if t.purpose != EmailPurpose::SignUp {
            sqlx::query(
                "UPDATE email_tokens SET used_at = $1 WHERE email = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(t.created_at)
            .bind(&t.email)
            .bind(t.purpose.as_str())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, purpose, email, user_id, name, password_hash, next_path, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&t.token_hash)
        .bind(t.purpose.as_str())
        .bind(&t.email)
        .bind(t.user_id.map(|u| u.to_string()))
        .bind(t.name.clone())
        .bind(t.password_hash.clone())
        .bind(t.next_path.clone())
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&mut *tx)
        .await?;
        // Spent and expired tokens are of no use to anyone: drop those a day old.
        sqlx::query("DELETE FROM email_tokens WHERE expires_at < $1")
            .bind(t.created_at - 86_400)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unused token with this hash, still usable at `now`, whatever its purpose.
    pub async fn email_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<EmailTokenRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM email_tokens
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| EmailTokenRecord::from_row(&r)).transpose()
    }

    /// The newest pending sign-up for `email` still usable at `now`, if any.
    pub async fn pending_sign_up(
        &self,
        email: &str,
        now: i64,
    ) -> StoreResult<Option<EmailTokenRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM email_tokens
             WHERE email = $1 AND purpose = 'signup' AND used_at IS NULL AND expires_at > $2
             ORDER BY created_at DESC LIMIT 1"
        ))
        .bind(email)
        .bind(now)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| EmailTokenRecord::from_row(&r)).transpose()
    }

    /// Uses up the token with this hash and purpose, in `tx`; `None` if there is no such
    /// token, or it was used or has expired.
    async fn take_email_token(
        tx: &mut Transaction<'static, Any>,
        token_hash: &str,
        purpose: EmailPurpose,
        now: i64,
    ) -> StoreResult<Option<EmailTokenRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM email_tokens
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
        ))
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        // The conditional update makes a second use of the same link lose, even when two
        // arrive together.
        let done = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        EmailTokenRecord::from_row(&row).map(Some)
    }

    /// Follows a verification link, atomically: a pending sign-up becomes a verified account,
    /// an older account's address becomes verified; either way the session `session` makes
    /// for the user starts. Answers the user, or [`EmailOutcome::Invalid`] when the link is
    /// unknown, used or expired, or [`EmailOutcome::Taken`] when the address got an account
    /// since the sign-up started.
    pub async fn verify_email(
        &self,
        token_hash: &str,
        now: i64,
        session: impl FnOnce(UserId) -> SessionRecord,
    ) -> StoreResult<EmailOutcome> {
        let mut tx = self.begin(Scope::Global).await?;
        let token = match Self::take_email_token(&mut tx, token_hash, EmailPurpose::SignUp, now)
            .await?
        {
            Some(t) => t,
            None => match Self::take_email_token(&mut tx, token_hash, EmailPurpose::Verify, now)
                .await?
            {
                Some(t) => t,
                None => return Ok(EmailOutcome::Invalid),
            },
        };
        let user = match (token.purpose, token.user_id) {
            (EmailPurpose::SignUp, _) => {
                let user = UserRecord {
                    id: UserId::new(),
                    email: token.email.clone(),
                    name: token.name.clone().unwrap_or_default(),
                    password_hash: token.password_hash.clone(),
                    created_at: now,
                    email_verified_at: Some(now),
                };
                let taken: Option<String> =
                    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                        .bind(&user.email)
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    // Spend the token anyway: the pending account can never be made.
                    tx.commit().await?;
                    return Ok(EmailOutcome::Taken);
                }
                insert_user(&mut tx, &user).await?;
                user
            }
            (_, Some(user_id)) => {
                // The address the link went to must still be the account's.
                let done = sqlx::query(
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2 AND email = $3",
                )
                .bind(now)
                .bind(user_id.to_string())
                .bind(&token.email)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.commit().await?;
                    return Ok(EmailOutcome::Invalid);
                }
                user_in(&mut tx, user_id)
                    .await?
                    .ok_or(StoreError::NotFound)?
            }
            (_, None) => return Err(StoreError::Corrupt("a verify token without a user".into())),
        };
        let session = session(user.id);
        insert_session(&mut tx, &session).await?;
        tx.commit().await?;
        Ok(EmailOutcome::Done(Box::new(FollowedLink {
            user,
            session,
            next: token.next_path,
        })))
    }

    /// Follows a password reset link, atomically: sets the new password, marks the address
    /// verified (the link reached it), ends every session, revokes the API keys the user
    /// created, and starts `session`.
    pub async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
        session: impl FnOnce(UserId) -> SessionRecord,
    ) -> StoreResult<EmailOutcome> {
        let mut tx = self.begin(Scope::Global).await?;
        let Some(token) =
            Self::take_email_token(&mut tx, token_hash, EmailPurpose::Reset, now).await?
        else {
            return Ok(EmailOutcome::Invalid);
        };
        let Some(user_id) = token.user_id else {
            return Err(StoreError::Corrupt("a reset token without a user".into()));
        };
        let done = sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2 AND email = $3",
        )
        .bind(now)
        .bind(user_id.to_string())
        .bind(&token.email)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.commit().await?;
            return Ok(EmailOutcome::Invalid);
        }
        let user = user_in(&mut tx, user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let session = session(user_id);
        self.widen_to_user(&mut tx, user_id).await?;
        self.replace_password(&mut tx, user_id, password_hash, now, &session)
            .await?;
        tx.commit().await?;
        let user = UserRecord {
            password_hash: Some(password_hash.to_owned()),
            ..user
        };
        Ok(EmailOutcome::Done(Box::new(FollowedLink {
            user,
            session,
            next: None,
        })))
    }

    /// The user an OAuth identity belongs to.
    pub async fn oauth_user(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.password_hash, u.created_at, u.email_verified_at FROM oauth_identities o
             JOIN users u ON u.id = o.user_id WHERE o.provider = $1 AND o.subject = $2",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    /// Links an OAuth identity to an existing user.
    pub async fn link_oauth_identity(
        &self,
        provider: &str,
        subject: &str,
        user: UserId,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO oauth_identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(provider)
            .bind(subject)
            .bind(user.to_string())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|e| unique_to_conflict(e, "identity"))?;
        Ok(())
    }

    /// Creates a user without a password, links its OAuth identity and starts its first
    /// session, atomically.
    pub async fn create_oauth_user(
        &self,
        user: &UserRecord,
        provider: &str,
        subject: &str,
        session: &SessionRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Global).await?;
        insert_user(&mut tx, user).await?;
        sqlx::query("INSERT INTO oauth_identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(provider)
            .bind(subject)
            .bind(user.id.to_string())
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_to_conflict(e, "identity"))?;
        insert_session(&mut tx, session).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- sessions ----------------------------------------------------------------------

    /// Records a new session.
    pub async fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Global).await?;
        insert_session(&mut tx, s).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session with this id, revoked or not.
    pub async fn session(&self, id: SessionId) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT id, user_id, created_at, last_seen_at, expires_at, revoked_at, user_agent FROM sessions WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| SessionRecord::from_row(&r)).transpose()
    }

    /// Marks the session as used at `now`.
    pub async fn touch_session(&self, id: SessionId, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends one of `user`'s sessions; `NotFound` if it is not theirs or already ended.
    pub async fn revoke_session(&self, user: UserId, id: SessionId, now: i64) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(user.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// `user`'s sessions that are neither revoked nor past their absolute expiry, newest first.
    pub async fn active_sessions(&self, user: UserId, now: i64) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(
            "SELECT id, user_id, created_at, last_seen_at, expires_at, revoked_at, user_agent FROM sessions
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY last_seen_at DESC, id",
        )
        .bind(user.to_string())
        .bind(now)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(SessionRecord::from_row).collect()
    }

    /// The unrevoked API key with this hash, recording its use at `now` — at most once a
    /// minute, so that a busy key's requests stay reads (a write per request would queue
    /// behind SQLite's one writer).
    pub async fn use_api_key(&self, key_hash: &str, now: i64) -> StoreResult<Option<ApiKeyRecord>> {
        let mut read = self.begin_read(Scope::ApiKey(key_hash)).await?;
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(key_hash)
        .fetch_optional(&mut *read)
        .await?;
        read.commit().await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = ApiKeyRecord::from_row(&row)?;
        if key
            .last_used_at
            .is_some_and(|at| now - at < KEY_USE_RESOLUTION_SECS)
        {
            return Ok(Some(key));
        }
        let mut tx = self.begin(Scope::Tenant(key.tenant_id)).await?;
        // Only while the key is still unrevoked: a revocation since the read wins.
        let done = sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(key.id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        Ok(Some(ApiKeyRecord {
            last_used_at: Some(now),
            ..key
        }))
    }
}

/// How precisely an API key's last use is recorded, in seconds.
const KEY_USE_RESOLUTION_SECS: i64 = 60;

pub(crate) const API_KEY_COLUMNS: &str =
    "id, tenant_id, name, prefix, key_hash, role, created_by, created_at, last_used_at";

async fn insert_session(tx: &mut Transaction<'static, Any>, s: &SessionRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, revoked_at, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id.to_string())
    .bind(s.user_id.to_string())
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .bind(s.revoked_at)
    .bind(&s.user_agent)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// User id.
    pub id: UserId,
    /// Normalised e-mail, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string; `None` for accounts that only sign in through OAuth.
    pub password_hash: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// When the address was shown to reach the person (a followed link, or a provider that
    /// verified it); `None` for accounts from before e-mail verification until they verify.
    pub email_verified_at: Option<i64>,
}

const USER_COLUMNS: &str = "id, email, name, password_hash, created_at, email_verified_at";

impl UserRecord {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            created_at: row.try_get("created_at")?,
            email_verified_at: row.try_get("email_verified_at")?,
        })
    }
}

async fn insert_user(tx: &mut Transaction<'static, Any>, user: &UserRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at, email_verified_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user.id.to_string())
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.password_hash.clone())
    .bind(user.created_at)
    .bind(user.email_verified_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| unique_to_conflict(e, "email"))?;
    Ok(())
}

async fn user_in(
    tx: &mut Transaction<'static, Any>,
    id: UserId,
) -> StoreResult<Option<UserRecord>> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| UserRecord::from_row(&r)).transpose()
}

/// What an e-mail token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailPurpose {
    /// A pending password sign-up; following it creates the account.
    SignUp,
    /// Verifies an existing account's address.
    Verify,
    /// Sets a new password.
    Reset,
}

impl EmailPurpose {
    fn as_str(self) -> &'static str {
        match self {
            EmailPurpose::SignUp => "signup",
            EmailPurpose::Verify => "verify",
            EmailPurpose::Reset => "reset",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "signup" => Ok(EmailPurpose::SignUp),
            "verify" => Ok(EmailPurpose::Verify),
            "reset" => Ok(EmailPurpose::Reset),
            other => Err(StoreError::Corrupt(format!(
                "e-mail token purpose {other:?}"
            ))),
        }
    }
}

/// A single-use link mailed to an address (stored by the hash of its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailTokenRecord {
    /// SHA-256 of the token in the link.
    pub token_hash: String,
    /// What following it does.
    pub purpose: EmailPurpose,
    /// The (normalised) address it was mailed to.
    pub email: String,
    /// The account it is for (`None` for a pending sign-up).
    pub user_id: Option<UserId>,
    /// A pending sign-up's display name.
    pub name: Option<String>,
    /// A pending sign-up's password hash.
    pub password_hash: Option<String>,
    /// Where a pending sign-up goes once verified (a local path).
    pub next_path: Option<String>,
    /// When it was mailed.
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
}

const TOKEN_COLUMNS: &str =
    "token_hash, purpose, email, user_id, name, password_hash, next_path, created_at, expires_at";

impl EmailTokenRecord {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let user_id: Option<String> = row.try_get("user_id")?;
        Ok(Self {
            token_hash: row.try_get("token_hash")?,
            purpose: EmailPurpose::parse(&row.try_get::<String, _>("purpose")?)?,
            email: row.try_get("email")?,
            user_id: user_id
                .map(|u| {
                    u.parse()
                        .map_err(|_| StoreError::Corrupt(format!("token user {u:?}")))
                })
                .transpose()?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            next_path: row.try_get("next_path")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

/// A link followed: the account, the session that started, and where a sign-up goes next.
#[derive(Debug)]
pub struct FollowedLink {
    /// The account.
    pub user: UserRecord,
    /// The session that started.
    pub session: SessionRecord,
    /// Where a sign-up goes next.
    pub next: Option<String>,
}

/// What following an e-mail link did.
#[derive(Debug)]
pub enum EmailOutcome {
    /// Done: the user and their new session.
    Done(Box<FollowedLink>),
    /// The link is unknown, used, expired, or no longer matches the account's address.
    Invalid,
    /// The address got an account while the sign-up was pending.
    Taken,
}

/// A login session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session id (the JWT's `sid`).
    pub id: SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// Sign-in time.
    pub created_at: i64,
    /// Last authenticated request.
    pub last_seen_at: i64,
    /// Absolute end of the session.
    pub expires_at: i64,
    /// When it was ended by logout, password change or revocation.
    pub revoked_at: Option<i64>,
    /// The browser's user agent at sign-in.
    pub user_agent: String,
}

impl SessionRecord {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            user_id: id(row, "user_id")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            user_agent: row.try_get("user_agent")?,
        })
    }
}

/// An API key of a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Key id.
    pub id: ApiKeyId,
    /// The workspace it authenticates for.
    pub tenant_id: TenantId,
    /// What it is for.
    pub name: String,
    /// First characters of the key, shown in lists.
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    pub key_hash: String,
    /// What it may do.
    pub role: Role,
    /// Who made it.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: i64,
    /// Last authenticated request.
    pub last_used_at: Option<i64>,
}

impl ApiKeyRecord {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            tenant_id: id(row, "tenant_id")?,
            name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            key_hash: row.try_get("key_hash")?,
            role: parse_role(row)?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }
}

/// Revokes the live API keys `user` created in `tenant`; answers how many.
pub(crate) async fn revoke_keys_created_by(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant: TenantId,
    user: UserId,
    now: i64,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND created_by = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant.to_string())
    .bind(user.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
