//! Accounts: sign-up with e-mail verification, login (password and OAuth), logout, password
//! change and reset, the session list, and turning a session cookie or an API key into a
//! [`Principal`].
//!
//! Entry points: [`http::router`] (REST under `/api/v1/auth`), [`oauth::router`] (the
//! provider redirects), [`Accounts`]'s operations (`ops.rs`), which the console calls too.
//! Below it: the store functions (`store.rs`) and `crate::auth` (hashes, tokens, limits).

mod console;
pub mod http;
pub mod oauth;
mod ops;
pub mod store;
mod verification;

use crate::auth::ratelimit::AuthLimiter;
use crate::auth::sessions::SessionKeys;
use crate::config::Config;
use crate::mail::Postman;
use crate::store::Store;
pub(crate) use ops::user_view;
use shared::error::ApiError;
use shared::ids::SessionId;
use std::sync::Arc;
pub use store::{ApiKeyRecord, SessionRecord, UserRecord};

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

impl Principal {
    /// The caller's account, or 403 for an API key (which acts only inside its workspace).
    pub fn user(&self) -> Result<&UserRecord, ApiError> {
        match self {
            Principal::User { user, .. } => Ok(user),
            Principal::ApiKey(_) => Err(api_keys_have_no_user()),
        }
    }
}

/// The refusal of a user-only operation to an API key.
fn api_keys_have_no_user() -> ApiError {
    ApiError::forbidden("this needs a signed-in user; API keys act only inside their workspace")
}

/// The accounts service: the store, the session signing keys, the login rate limits and
/// the postman that carries account mail.
pub struct Accounts {
    store: Store,
    config: Arc<Config>,
    keys: SessionKeys,
    limiter: AuthLimiter,
    postman: Postman,
}

impl Accounts {
    /// Accounts over `store`, configured by `config`.
    pub fn new(store: Store, config: Arc<Config>) -> Accounts {
        Accounts {
            keys: SessionKeys::new(&config.session_secret),
            limiter: AuthLimiter::new(config.auth_limits),
            postman: config.mail.postman(),
            store,
            config,
        }
    }

    /// The caller behind a console request's session cookie (401 without one).
    pub async fn console_caller(
        &self,
        session: &shared::contracts::SessionToken,
    ) -> Result<Principal, ApiError> {
        if session.0.is_empty() {
            return Err(ApiError::unauthorized());
        }
        self.authenticate_session(&session.0).await
    }

    /// Mails `mail` unless its address has had its account mails for the hour (the same
    /// limit sign-up and reset mail keeps, so nobody floods a mailbox through invitations).
    pub fn post_limited(&self, what: &'static str, mail: crate::mail::Mail) {
        if self.limiter.may_mail(&mail.to) {
            self.postman.post(what, mail);
        }
    }

    /// Drops rate-limit state that no longer limits anything.
    pub fn forget_idle_limits(&self) {
        self.limiter.forget_idle();
    }
}
