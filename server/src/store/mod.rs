//! The control-plane `Store`: the connection to SQLite (embedded default) or PostgreSQL
//! (production) through one implementation on sqlx's `Any` driver, its migrations, and the
//! transaction scopes row-level security reads. Each domain keeps its own store functions
//! and records beside its operations (`accounts/store.rs`, `tenancy/store.rs`,
//! `jobs/store.rs`, `code/store.rs`), as `impl Store` blocks over the helpers here.
//!
//! Invariants:
//! - SQL is written once, portable between the two backends (`$n` parameters, `BIGINT` Unix
//!   seconds, UUIDs as text). What differs — migrations and row-level security — is decided by
//!   [`Backend`] in this module only.
//! - Every method that touches a workspace's rows takes its [`TenantId`] explicitly and filters
//!   by it; on PostgreSQL, acting for a caller, it runs in a transaction whose scope is also
//!   set for the RLS policies, so a query that forgot its `tenant_id` filter still cannot see
//!   another workspace. The control plane's own work across workspaces ([`Scope::System`])
//!   runs on connections of its own that hold that scope for their session. (SQLite has no row security: its reads use a plain connection, see
//!   [`Store::begin_read`].)
//! - Multi-row changes (a workspace and its owner, accepting an invitation, a password change
//!   and the sessions it ends) commit in one transaction or not at all.

use shared::ids::{TenantId, UserId};
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
    /// A write gathered with others failed (each of them hears why, in this message), or
    /// the task writing it is gone.
    #[error("{0}")]
    Unavailable(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// What a client is told about a store failure: conflicts and missing rows as they are,
/// everything else logged here and answered without internals.
impl From<StoreError> for shared::error::ApiError {
    fn from(e: StoreError) -> Self {
        use shared::error::{ApiError, ErrorCode};
        match e {
            StoreError::Conflict(field) => {
                ApiError::conflict(Some(field), format!("this {field} is already taken"))
            }
            StoreError::LastOwner => {
                ApiError::conflict(None, "a workspace must keep at least one owner")
            }
            StoreError::NotFound => ApiError::not_found("resource"),
            other => {
                tracing::error!(error = %other, "store failure");
                if matches!(other, StoreError::Database(sqlx::Error::PoolTimedOut)) {
                    ApiError::new(ErrorCode::Unavailable, "the database is not available")
                } else {
                    ApiError::internal()
                }
            }
        }
    }
}

/// Who a transaction acts for; on PostgreSQL this selects the rows RLS lets it see.
pub(crate) enum Scope<'a> {
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
    /// The control plane's own work across every tenant: dispatching jobs, claims, journal
    /// entries and the ends of attempts, expiring leases, and judging a submission against every
    /// workspace's queue (storing it beside, under the workspace the caller was authorised
    /// for). Its statements name the workspace themselves; never a caller's own reads.
    System,
}

/// The control plane's durable state.
#[derive(Clone, Debug)]
pub struct Store {
    /// Where writes (and transactions that read, then write) go. On SQLite one connection:
    /// SQLite has one writer, and one connection avoids "database is locked" between a
    /// deferred transaction's read and its write.
    pub(crate) pool: AnyPool,
    /// Where reads go. On SQLite a pool of read-only connections that read beside the
    /// writer (WAL), so a burst of writes does not queue the console's reads behind it; on
    /// PostgreSQL the same pool as writes.
    pub(crate) readers: AnyPool,
    /// On PostgreSQL, connections that hold the system scope for their whole session
    /// (`app.system`, set once when each connects) and serve [`Scope::System`] only: the
    /// control plane's own work across workspaces (dispatching, claims, journal fences,
    /// leases) runs one statement per round trip, not `BEGIN`, `set_config`, the statement
    /// and `COMMIT`. A pool of its own, so that scope never reaches a connection that
    /// serves a caller (provided no pooler in transaction mode sits between the server and
    /// PostgreSQL). On SQLite the writer (unused: SQLite has no row security).
    pub(crate) system: AnyPool,
    pub(crate) backend: Backend,
}

/// Read-only SQLite connections beside the one writer.
const SQLITE_READERS: u32 = 4;

/// Options for [`Store::connect`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Largest number of pooled connections (SQLite always uses one writer connection). On
    /// PostgreSQL the system scope's pool (see `Store::system`) may hold as many again.
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
        let readers = match backend {
            Backend::Sqlite => Some(
                AnyPoolOptions::new()
                    .acquire_timeout(Duration::from_secs(10))
                    .test_before_acquire(false)
                    .max_connections(SQLITE_READERS)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA query_only = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(connect_options.clone())
                    .await?,
            ),
            Backend::Postgres => None,
        };
        // No ping before each use (sqlx's default): it is a round trip per statement — to
        // PostgreSQL, or to SQLite's connection thread — on every request and pipeline step.
        // A connection that broke meanwhile fails its statement instead, which callers
        // already handle (an error answer, or a retried journal entry), and is replaced.
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
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
        let system = match backend {
            Backend::Postgres => {
                let app_role = options.app_role.clone();
                Some(
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(10))
                        .test_before_acquire(false)
                        .max_connections(options.max_connections.max(2))
                        .after_connect(move |conn, _meta| {
                            let app_role = app_role.clone();
                            Box::pin(async move {
                                if let Some(role) = app_role.filter(|r| !r.is_empty()) {
                                    let quoted = role.replace('"', "\"\"");
                                    conn.execute(format!("SET ROLE \"{quoted}\"").as_str())
                                        .await?;
                                }
                                conn.execute("SET app.system = 'on'").await?;
                                Ok(())
                            })
                        })
                        .connect_lazy_with(connect_options.clone()),
                )
            }
            Backend::Sqlite => None,
        };
        let pool = pool_options.connect_with(connect_options).await?;
        let readers = readers.unwrap_or_else(|| pool.clone());
        let system = system.unwrap_or_else(|| pool.clone());
        Ok(Store {
            pool,
            readers,
            system,
            backend,
        })
    }

    /// The engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (readiness probe).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1").execute(&self.system).await?;
        }
        Ok(())
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.readers.close().await;
        self.system.close().await;
        self.pool.close().await;
    }

    /// A transaction in `scope`: on PostgreSQL one holding the scope (for the system scope
    /// a plain one on [`Store::system`]'s connections, which hold it already).
    pub(crate) async fn begin(&self, scope: Scope<'_>) -> StoreResult<Transaction<'static, Any>> {
        match (self.backend, &scope) {
            (Backend::Postgres, Scope::System) => Ok(self.system.begin().await?),
            (Backend::Postgres, _) => begin_scoped(&self.pool, &scope).await,
            (Backend::Sqlite, _) => Ok(self.pool.begin().await?),
        }
    }

    /// A connection for one writing statement in `scope`: on SQLite the writer connection
    /// with no transaction around the statement (it is its own: one trip to the
    /// connection's thread instead of three); on PostgreSQL a transaction holding the
    /// scope, or for the system scope a plain connection of [`Store::system`] (the
    /// statement its own transaction). Only for a write that is one statement.
    pub(crate) async fn begin_statement(&self, scope: Scope<'_>) -> StoreResult<Session> {
        match (self.backend, &scope) {
            (Backend::Sqlite, _) => Ok(Session::Plain(self.pool.acquire().await?)),
            (Backend::Postgres, Scope::System) => Ok(Session::Plain(self.system.acquire().await?)),
            (Backend::Postgres, _) => Ok(Session::Scoped(self.begin(scope).await?)),
        }
    }

    /// A read in `scope`, on the readers (see [`Store::readers`]). Only for reads: on
    /// SQLite its connection refuses writes. On PostgreSQL it is a transaction holding the
    /// scope (row security), or for the system scope a plain connection of
    /// [`Store::system`]; on SQLite, which has none, a plain connection, so a read is not
    /// three trips to its connection's thread (`BEGIN`, the query, `COMMIT`). Either way
    /// each statement sees what was committed when it began (PostgreSQL's read committed).
    pub(crate) async fn begin_read(&self, scope: Scope<'_>) -> StoreResult<Session> {
        match (self.backend, &scope) {
            (Backend::Sqlite, _) => Ok(Session::Plain(self.readers.acquire().await?)),
            (Backend::Postgres, Scope::System) => Ok(Session::Plain(self.system.acquire().await?)),
            (Backend::Postgres, _) => {
                Ok(Session::Scoped(begin_scoped(&self.readers, &scope).await?))
            }
        }
    }

    /// Within an open transaction (or a read), switches the RLS scope to `tenant` as well
    /// (PostgreSQL; nothing on SQLite).
    pub(crate) async fn widen_to_tenant(
        &self,
        tx: &mut impl std::ops::DerefMut<Target = sqlx::AnyConnection>,
        tenant: TenantId,
    ) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            set_scope(tx, &Scope::Tenant(tenant)).await?;
        }
        Ok(())
    }

    /// Within an open transaction (or a read), switches the RLS scope to `user`'s
    /// memberships as well (PostgreSQL; nothing on SQLite).
    pub(crate) async fn widen_to_user(
        &self,
        tx: &mut impl std::ops::DerefMut<Target = sqlx::AnyConnection>,
        user: UserId,
    ) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            set_scope(tx, &Scope::User(user)).await?;
        }
        Ok(())
    }
}

/// The setting a scope puts in the transaction (row security reads it); none for
/// [`Scope::Global`].
fn scope_setting(scope: &Scope<'_>) -> Option<(&'static str, String)> {
    Some(match scope {
        Scope::Tenant(t) => ("app.tenant_id", t.to_string()),
        Scope::User(u) => ("app.user_id", u.to_string()),
        Scope::ApiKey(h) => ("app.api_key", (*h).to_owned()),
        Scope::Invitation(h) => ("app.invitation", (*h).to_owned()),
        Scope::System => ("app.system", "on".to_owned()),
        Scope::Global => return None,
    })
}

/// A PostgreSQL transaction holding `scope`: `BEGIN`, then the scope's `set_config`.
/// Two round trips, on purpose: sent as one simple query, a begin cancelled while waiting
/// for its answer would leave the pooled connection in a transaction sqlx does not know
/// of, with the scope still set for the connection's next user (sqlx rolls back only a
/// transaction it has seen begin).
async fn begin_scoped(pool: &AnyPool, scope: &Scope<'_>) -> StoreResult<Transaction<'static, Any>> {
    let mut tx = pool.begin().await?;
    set_scope(&mut tx, scope).await?;
    Ok(tx)
}

async fn set_scope(
    tx: &mut impl std::ops::DerefMut<Target = sqlx::AnyConnection>,
    scope: &Scope<'_>,
) -> StoreResult<()> {
    let Some((key, value)) = scope_setting(scope) else {
        return Ok(());
    };
    sqlx::query("SELECT set_config($1, $2, true)")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A read's connection (see [`Store::begin_read`]): use it as `&mut *read`, then
/// [`Session::commit`].
pub(crate) enum Session {
    /// PostgreSQL: a transaction holding the scope.
    Scoped(Transaction<'static, Any>),
    /// SQLite: a plain connection (each statement its own transaction).
    Plain(sqlx::pool::PoolConnection<Any>),
}

impl Session {
    /// Ends the read, or commits the statement's transaction (PostgreSQL).
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Session::Scoped(tx) => tx.commit().await,
            Session::Plain(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for Session {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        match self {
            Session::Scoped(tx) => tx,
            Session::Plain(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        match self {
            Session::Scoped(tx) => tx,
            Session::Plain(conn) => conn,
        }
    }
}

/// `count` numbered parameters from `$first`, comma-separated: an `IN (...)` list bound
/// value by value (`placeholders(2, 3)` is `$2, $3, $4`).
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `role` column of a row.
pub(crate) fn parse_role(row: &AnyRow) -> StoreResult<Role> {
    let raw: String = row.try_get("role")?;
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("role {raw:?}")))
}

/// A unique-constraint violation as a conflict on `field`; other errors as they are.
pub(crate) fn unique_to_conflict(e: sqlx::Error, field: &'static str) -> StoreError {
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

/// A UUID-typed id column of a row.
pub(crate) fn id<T: FromStr>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let raw: String = row.try_get(column)?;
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} {raw:?} is not a UUID")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(super::placeholders(2, 3), "$2, $3, $4");
        assert_eq!(super::placeholders(1, 1), "$1");
        assert_eq!(super::placeholders(5, 0), "");
    }
}
