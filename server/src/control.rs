//! The control plane's core: one [`Control`] value holds the store, the configuration and the
//! authentication state, and every operation of the REST API and the console goes through
//! its methods (`accounts.rs`, `tenancy.rs`). Each method authorises its caller first.

use crate::auth::ratelimit::{AuthLimiter, RetryAfter};
use crate::auth::sessions::SessionKeys;
use crate::config::Config;
use crate::store::{ApiKeyRecord, Store, StoreError, UserRecord};
use shared::error::{ApiError, ErrorCode};
use shared::ids::SessionId;
use std::sync::Arc;

/// Who is calling: a signed-in user or an API key of one workspace.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A person, through their session cookie.
    User {
        /// The account.
        user: UserRecord,
        /// The session the request came with.
        session: SessionId,
    },
    /// An API key; it acts only inside its own workspace, with its own role.
    ApiKey(ApiKeyRecord),
}

/// A failure of a control-plane operation: the error the client sees, plus for rate limits
/// how long to wait.
#[derive(Debug)]
pub struct Failure {
    /// What the client is told.
    pub error: ApiError,
    /// Seconds for `Retry-After`, when rate limited.
    pub retry_after: Option<u64>,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

impl From<shared::error::FieldError> for Failure {
    fn from(e: shared::error::FieldError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<RetryAfter> for Failure {
    fn from(r: RetryAfter) -> Self {
        Failure {
            error: ApiError::new(
                ErrorCode::RateLimited,
                format!("too many attempts; try again in {} seconds", r.seconds()),
            ),
            retry_after: Some(r.seconds()),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        let error = match e {
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
        };
        error.into()
    }
}

/// Result of a control-plane operation.
pub type ControlResult<T> = Result<T, Failure>;

/// The control plane: state and operations shared by every front door.
pub struct Control {
    pub(crate) store: Store,
    pub(crate) config: Arc<Config>,
    pub(crate) keys: SessionKeys,
    pub(crate) limiter: AuthLimiter,
    pub(crate) jobs: Arc<crate::jobs::Jobs>,
    pub(crate) code: Arc<crate::code::CodeEngine>,
}

impl Control {
    /// A control plane over `store` configured by `config`, running jobs through `jobs`.
    pub fn new(store: Store, config: Arc<Config>, jobs: Arc<crate::jobs::Jobs>) -> Control {
        let code = crate::code::CodeEngine::new(config.code.clone());
        jobs.observe(Arc::new(crate::code::ops::RepositoryObserver {
            store: store.clone(),
            engine: code.clone(),
        }));
        Control {
            jobs,
            code,
            keys: SessionKeys::new(&config.session_secret),
            limiter: AuthLimiter::new(config.auth_limits),
            store,
            config,
        }
    }

    /// The store (for readiness checks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Drops rate-limit state that no longer limits anything.
    pub fn forget_idle_limits(&self) {
        self.limiter.forget_idle();
    }
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A Unix timestamp as RFC 3339 (UTC).
pub(crate) fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
