//! The control-plane `Store`: every piece of durable state, in SQLite (embedded default) or
//! PostgreSQL (production), through one implementation on sqlx's `Any` driver.
//!
//! Invariants:
//! - SQL is written once, portable between the two backends (`$n` parameters, `BIGINT` Unix
//!   seconds, UUIDs as text). What differs — migrations and row-level security — is decided by
//!   [`Backend`] in this module only.
//! - Every method that touches a workspace's rows takes its [`TenantId`] explicitly and runs in
//!   a transaction scoped to it; on PostgreSQL the scope is also set for the RLS policies, so a
//!   query that forgot its `tenant_id` filter still cannot see another workspace.
//! - Multi-row changes (a workspace and its owner, accepting an invitation, a password change
//!   and the sessions it ends) commit in one transaction or not at all.

mod code;
mod jobs;
mod records;

pub use code::*;
pub use jobs::*;
pub use records::*;

use shared::ids::{ApiKeyId, InvitationId, SessionId, TenantId, UserId};
use shared::roles::Role;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Connection, Executor, Row, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Which database engine a [`Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (embedded default).
    Sqlite,
    /// A PostgreSQL server, with row-level security.
    Postgres,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is already taken; names the API field it came from.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// The change would leave a workspace without an owner.
    #[error("a workspace must keep at least one owner")]
    LastOwner,
    /// The row to change does not exist (in this tenant).
    #[error("not found")]
    NotFound,
    /// The database URL is not one we can use.
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A value read back from the database does not parse (a corrupt or foreign row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Who a transaction acts for; on PostgreSQL this selects the rows RLS lets it see.
enum Scope<'a> {
    /// One workspace.
    Tenant(TenantId),
    /// One user's memberships and the workspaces they belong to.
    User(UserId),
    /// The API key with this hash (authentication, before the tenant is known).
    ApiKey(&'a str),
    /// The invitation with this token hash (before the tenant is known).
    Invitation(&'a str),
    /// Rows that belong to no tenant (users, sessions).
    Global,
    /// The control plane's own background work across every tenant (dispatching jobs,
    /// expiring leases). Never used on behalf of a caller.
    System,
}

/// The control plane's durable state.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Options for [`Store::connect`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Largest number of pooled connections (SQLite always uses one writer connection).
    pub max_connections: u32,
    /// On PostgreSQL, the role to `SET ROLE` to after connecting, so RLS applies even when
    /// the login role owns the tables or is a superuser. `None` keeps the login role.
    pub app_role: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            app_role: Some("switchyard_app".to_owned()),
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`), applies pending migrations and
    /// returns a ready store. A SQLite file and its directory are created when missing.
    pub async fn connect(url: &str, options: StoreOptions) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let connect_options = AnyConnectOptions::from_str(&url)?;

        // Migrations run as the login role, which owns the schema.
        let mut conn = sqlx::AnyConnection::connect_with(&connect_options).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&mut conn).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&mut conn).await?,
        }
        conn.close().await?;

        let app_role = options.app_role.clone();
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                let app_role = app_role.clone();
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                            )
                            .await?;
                        }
                        Backend::Postgres => {
                            if let Some(role) = app_role.filter(|r| !r.is_empty()) {
                                let quoted = role.replace('"', "\"\"");
                                conn.execute(format!("SET ROLE \"{quoted}\"").as_str()).await?;
                            }
                        }
                    }
                    Ok(())
                })
            });
        // SQLite serialises writers anyway; one connection avoids "database is locked"
        // between a deferred transaction's read and its write.
        let pool_options = match backend {
            Backend::Sqlite => pool_options.max_connections(1),
            Backend::Postgres => pool_options.max_connections(options.max_connections.max(1)),
        };
        let pool = pool_options.connect_with(connect_options).await?;
        Ok(Store { pool, backend })
    }

    /// The engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (readiness probe).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin(&self, scope: Scope<'_>) -> StoreResult<Transaction<'static, Any>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            set_scope(&mut tx, &scope).await?;
        }
        Ok(tx)
    }

    /// Within an open transaction, switches the RLS scope to `tenant` as well.
    async fn widen_to_tenant(
        &self,
        tx: &mut Transaction<'static, Any>,
        tenant: TenantId,
    ) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            set_scope(tx, &Scope::Tenant(tenant)).await?;
        }
        Ok(())
    }

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
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Global).await?;
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
        tx.commit().await?;
        Ok(())
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

    // ---- workspaces --------------------------------------------------------------------

    /// Creates a workspace with `owner` as its first owner, atomically; the slug must be unused.
    pub async fn create_workspace(&self, ws: &WorkspaceRecord, owner: UserId) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(ws.id)).await?;
        sqlx::query("INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(ws.id.to_string())
            .bind(&ws.slug)
            .bind(&ws.name)
            .bind(ws.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_to_conflict(e, "slug"))?;
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ws.id.to_string())
        .bind(owner.to_string())
        .bind(Role::Owner.as_str())
        .bind(ws.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The workspace with this id.
    pub async fn workspace(&self, tenant: TenantId) -> StoreResult<Option<WorkspaceRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let row = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|r| WorkspaceRecord::from_row(&r)).transpose()
    }

    /// The workspaces `user` belongs to, with their role and member count, by name.
    pub async fn workspaces_of(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let mut tx = self.begin(Scope::User(user)).await?;
        let rows = sqlx::query(
            "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w
             JOIN memberships m ON m.tenant_id = w.id
             WHERE m.user_id = $1 ORDER BY w.name, w.slug",
        )
        .bind(user.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let workspace = WorkspaceRecord::from_row(r)?;
            let role = parse_role(r)?;
            self.widen_to_tenant(&mut tx, workspace.id).await?;
            let member_count = count_members(&mut tx, workspace.id).await?;
            out.push(Membership {
                workspace,
                role,
                member_count,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `user`'s membership in the workspace called `slug`; `None` when there is no such
    /// workspace or the user is not in it (the two are indistinguishable on purpose).
    pub async fn membership_by_slug(
        &self,
        user: UserId,
        slug: &str,
    ) -> StoreResult<Option<Membership>> {
        let mut tx = self.begin(Scope::User(user)).await?;
        let row = sqlx::query(
            "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w
             JOIN memberships m ON m.tenant_id = w.id
             WHERE m.user_id = $1 AND w.slug = $2",
        )
        .bind(user.to_string())
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await?;
        let out = match row {
            None => None,
            Some(r) => {
                let workspace = WorkspaceRecord::from_row(&r)?;
                let role = parse_role(&r)?;
                self.widen_to_tenant(&mut tx, workspace.id).await?;
                let member_count = count_members(&mut tx, workspace.id).await?;
                Some(Membership {
                    workspace,
                    role,
                    member_count,
                })
            }
        };
        tx.commit().await?;
        Ok(out)
    }

    /// Counts the members of `tenant`.
    pub async fn member_count(&self, tenant: TenantId) -> StoreResult<i64> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let n = count_members(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Renames `tenant`.
    pub async fn rename_workspace(&self, tenant: TenantId, name: &str) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes `tenant` and every row it owns.
    pub async fn delete_workspace(&self, tenant: TenantId) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let id = tenant.to_string();
        for table in ["api_keys", "invitations", "memberships"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM workspaces WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    // ---- members -----------------------------------------------------------------------

    /// The members of `tenant`, by name.
    pub async fn members(&self, tenant: TenantId) -> StoreResult<Vec<MemberRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM memberships m
             JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 ORDER BY u.name, u.email",
        )
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(MemberRecord::from_row).collect()
    }

    /// One member of `tenant`.
    pub async fn member(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Option<MemberRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let row = fetch_member(&mut tx, tenant, user).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Changes a member's role; refuses to demote the last owner.
    pub async fn set_member_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: Role,
    ) -> StoreResult<MemberRecord> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        lock_workspace(self.backend, &mut tx, tenant).await?;
        let current = fetch_member(&mut tx, tenant, user)
            .await?
            .ok_or(StoreError::NotFound)?;
        if current.role == Role::Owner
            && role != Role::Owner
            && count_owners(&mut tx, tenant).await? <= 1
        {
            return Err(StoreError::LastOwner);
        }
        sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(tenant.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(MemberRecord { role, ..current })
    }

    /// Removes a member; refuses to remove the last owner.
    pub async fn remove_member(&self, tenant: TenantId, user: UserId) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        lock_workspace(self.backend, &mut tx, tenant).await?;
        let current = fetch_member(&mut tx, tenant, user)
            .await?
            .ok_or(StoreError::NotFound)?;
        if current.role == Role::Owner && count_owners(&mut tx, tenant).await? <= 1 {
            return Err(StoreError::LastOwner);
        }
        sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- invitations -------------------------------------------------------------------

    /// Records an invitation (its token only as a hash).
    pub async fn create_invitation(&self, inv: &InvitationRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(inv.tenant_id)).await?;
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(inv.id.to_string())
        .bind(inv.tenant_id.to_string())
        .bind(&inv.email)
        .bind(inv.role.as_str())
        .bind(&inv.token_hash)
        .bind(inv.invited_by.to_string())
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Invitations of `tenant` neither accepted, revoked nor expired at `now`, newest first.
    pub async fn pending_invitations(
        &self,
        tenant: TenantId,
        now: i64,
    ) -> StoreResult<Vec<InvitationRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id"
        ))
        .bind(tenant.to_string())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(InvitationRecord::from_row).collect()
    }

    /// Revokes a pending invitation of `tenant`.
    pub async fn revoke_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// The invitation with this token hash and its workspace, whatever its state.
    pub async fn invitation_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(InvitationRecord, WorkspaceRecord)>> {
        let mut tx = self.begin(Scope::Invitation(token_hash)).await?;
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let inv = InvitationRecord::from_row(&row)?;
        self.widen_to_tenant(&mut tx, inv.tenant_id).await?;
        let ws = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(inv.tenant_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        match ws {
            Some(ws) => Ok(Some((inv, WorkspaceRecord::from_row(&ws)?))),
            None => Ok(None),
        }
    }

    /// Accepts the usable invitation with this token hash for `user`: marks it used and adds
    /// the membership (an existing member keeps their role), atomically. `NotFound` when the
    /// token is unknown, used, revoked or expired.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        user: UserId,
        now: i64,
    ) -> StoreResult<Membership> {
        let mut tx = self.begin(Scope::Invitation(token_hash)).await?;
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let inv = InvitationRecord::from_row(&row.ok_or(StoreError::NotFound)?)?;
        // Writes happen in the tenant's scope (the RLS write check).
        self.widen_to_tenant(&mut tx, inv.tenant_id).await?;
        let used = sqlx::query(
            "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3 AND accepted_at IS NULL",
        )
        .bind(now)
        .bind(user.to_string())
        .bind(inv.id.to_string())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        let existing = fetch_member(&mut tx, inv.tenant_id, user).await?;
        let role = match existing {
            Some(m) => m.role,
            None => {
                sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
                    .bind(inv.tenant_id.to_string())
                    .bind(user.to_string())
                    .bind(inv.role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                inv.role
            }
        };
        let ws = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(inv.tenant_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let workspace = WorkspaceRecord::from_row(&ws)?;
        let member_count = count_members(&mut tx, inv.tenant_id).await?;
        tx.commit().await?;
        Ok(Membership {
            workspace,
            role,
            member_count,
        })
    }

    // ---- API keys ----------------------------------------------------------------------

    /// Records an API key (its secret only as a hash).
    pub async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(key.tenant_id)).await?;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, created_by, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(key.id.to_string())
        .bind(key.tenant_id.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.key_hash)
        .bind(key.role.as_str())
        .bind(key.created_by.to_string())
        .bind(key.created_at)
        .bind(key.last_used_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unrevoked API keys of `tenant`, newest first.
    pub async fn api_keys(&self, tenant: TenantId) -> StoreResult<Vec<ApiKeyRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id"
        ))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(ApiKeyRecord::from_row).collect()
    }

    /// Revokes an API key of `tenant`; `NotFound` if it is not theirs or already revoked.
    pub async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// The unrevoked API key with this hash, recording its use at `now`.
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

const INVITATION_COLUMNS: &str =
    "id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at, revoked_at";
const API_KEY_COLUMNS: &str =
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

/// On PostgreSQL, locks the workspace row so that concurrent changes to its owners
/// serialise (SQLite has a single writer already).
async fn lock_workspace(
    backend: Backend,
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
) -> StoreResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
            .bind(tenant.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn set_scope(tx: &mut Transaction<'static, Any>, scope: &Scope<'_>) -> StoreResult<()> {
    let (key, value) = match scope {
        Scope::Tenant(t) => ("app.tenant_id", t.to_string()),
        Scope::User(u) => ("app.user_id", u.to_string()),
        Scope::ApiKey(h) => ("app.api_key", (*h).to_owned()),
        Scope::Invitation(h) => ("app.invitation", (*h).to_owned()),
        Scope::System => ("app.system", "on".to_owned()),
        Scope::Global => return Ok(()),
    };
    sqlx::query("SELECT set_config($1, $2, true)")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn count_members(tx: &mut Transaction<'static, Any>, tenant: TenantId) -> StoreResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = $1")
        .bind(tenant.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

async fn count_owners(tx: &mut Transaction<'static, Any>, tenant: TenantId) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = $1 AND role = 'owner'",
    )
    .bind(tenant.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

async fn fetch_member(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    user: UserId,
) -> StoreResult<Option<MemberRecord>> {
    let row = sqlx::query(
        "SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM memberships m
         JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant.to_string())
    .bind(user.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| MemberRecord::from_row(&r)).transpose()
}

fn parse_role(row: &AnyRow) -> StoreResult<Role> {
    let raw: String = row.try_get("role")?;
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("role {raw:?}")))
}

fn unique_to_conflict(e: sqlx::Error, field: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(field),
        _ => StoreError::Database(e),
    }
}

/// Turns `sqlite://PATH` into a URL that creates the file, and creates its directory.
fn prepare_sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => format!("sqlite://{path}?{q}"),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}
