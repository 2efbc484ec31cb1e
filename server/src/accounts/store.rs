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
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.to_string())
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.password_hash.clone())
        .bind(user.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "email"))?;
        if let Some(session) = session {
            insert_session(&mut tx, session).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user with this (normalised) e-mail.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT id, email, name, password_hash, created_at FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    /// The user with this id.
    pub async fn user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT id, email, name, password_hash, created_at FROM users WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
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
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        insert_session(&mut tx, new_session).await?;
        // The keys the user made go too: whoever knew the old password may have made them.
        let tenants: Vec<String> =
            sqlx::query_scalar("SELECT tenant_id FROM memberships WHERE user_id = $1")
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?;
        let mut revoked = 0;
        for tenant in tenants {
            let tenant: TenantId = tenant
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("membership tenant {tenant:?}")))?;
            self.widen_to_tenant(&mut tx, tenant).await?;
            revoked += revoke_keys_created_by(&mut tx, tenant, id, now).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// The user an OAuth identity belongs to.
    pub async fn oauth_user(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.name, u.password_hash, u.created_at FROM oauth_identities o
             JOIN users u ON u.id = o.user_id WHERE o.provider = $1 AND o.subject = $2",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
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
        sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.id.to_string())
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.password_hash.clone())
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_to_conflict(e, "email"))?;
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
        .fetch_optional(&self.pool)
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
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(SessionRecord::from_row).collect()
    }

    /// The unrevoked API key with this hash, recording its use at `now` — at most once a
    /// minute, so that a busy key's requests stay reads (a write per request would queue
    /// behind SQLite's one writer).
    pub async fn use_api_key(&self, key_hash: &str, now: i64) -> StoreResult<Option<ApiKeyRecord>> {
        let mut tx = self.begin(Scope::ApiKey(key_hash)).await?;
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(key_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = ApiKeyRecord::from_row(&row)?;
        if key
            .last_used_at
            .is_some_and(|at| now - at < KEY_USE_RESOLUTION_SECS)
        {
            tx.commit().await?;
            return Ok(Some(key));
        }
        self.widen_to_tenant(&mut tx, key.tenant_id).await?;
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(key.id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
}

impl UserRecord {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            created_at: row.try_get("created_at")?,
        })
    }
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
