//! The accounts operations: login, logout, password change, the session list, OAuth
//! sign-in, and authentication of session tokens and API keys. Sign-up, e-mail
//! verification and password reset are in `verification.rs`.

use super::{Accounts, Principal, SessionRecord, UserRecord};
use crate::auth::oauth::Identity;
use crate::auth::sessions::{self, Claims};
use crate::auth::{passwords, secrets};
use crate::clock::{now, rfc3339};
use shared::accounts::{check_new_password, parse_display_name, Email};
use shared::api::{ChangePasswordRequest, LoginRequest, SessionView, UserView};
use shared::contracts::{ClientInfo, SignedIn};
use shared::error::{ApiError, ApiResult, FieldError};
use shared::ids::{SessionId, UserId};

/// The public view of a user.
pub(crate) fn user_view(u: &UserRecord) -> UserView {
    UserView {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
    }
}

impl Accounts {
    /// Signs in with e-mail and password. An account whose address was never verified (one
    /// from before verification existed) is mailed a link and refused until it is followed.
    pub async fn log_in(&self, req: LoginRequest, client: &ClientInfo) -> ApiResult<SignedIn> {
        self.limiter.attempt_from(client_key(client))?;
        let email = Email::parse(&req.email)?;
        // Failures lock the account for this client only: a stranger's guesses from another
        // address cannot lock its owner out.
        let lock = account_lock_key(email.as_str(), client);
        self.limiter.check_account(&lock)?;
        let invalid = || {
            ApiError::new(
                shared::error::ErrorCode::Unauthorized,
                "e-mail or password is wrong",
            )
        };
        let user = self.store.user_by_email(email.as_str()).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let password = req.password;
        let ok = tokio::task::spawn_blocking(move || match stored {
            Some(hash) => passwords::verify(&password, &hash),
            None => {
                passwords::verify_dummy(&password);
                false
            }
        })
        .await
        .map_err(|_| ApiError::internal())?;
        match user {
            Some(user) if ok && user.email_verified_at.is_none() => {
                self.mail_verification(&user);
                Err(ApiError::forbidden(format!(
                    "verify your e-mail address first: we sent a link to {}",
                    user.email
                )))
            }
            Some(user) if ok => self.start_session(user, client).await,
            _ => {
                self.limiter.record_failure(&lock);
                Err(invalid())
            }
        }
    }

    /// Ends the caller's session (API keys have none).
    pub async fn log_out(&self, principal: &Principal) -> ApiResult<()> {
        if let Principal::User { user, session } = principal {
            match self.store.revoke_session(user.id, *session, now()).await {
                Ok(()) | Err(crate::store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The user behind a session token, if the token is genuine and its session is live. A
    /// request made this way counts as activity (the idle timeout starts over).
    pub async fn authenticate_session(&self, token: &str) -> ApiResult<Principal> {
        self.session_principal(token, true).await
    }

    /// [`Accounts::authenticate_session`] for a check the user did not ask for (a live view
    /// re-checking its caller): it does not count as activity, so an open page cannot keep
    /// an idle session alive.
    pub async fn recheck_session(&self, token: &str) -> ApiResult<Principal> {
        self.session_principal(token, false).await
    }

    async fn session_principal(&self, token: &str, activity: bool) -> ApiResult<Principal> {
        let claims = self.keys.verify(token).ok_or_else(ApiError::unauthorized)?;
        let session = self
            .store
            .session(claims.sid)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let t = now();
        let idle = self.config.session_idle_timeout.as_secs() as i64;
        let live = session.user_id == claims.sub
            && session.revoked_at.is_none()
            && session.expires_at > t
            && session.last_seen_at + idle > t;
        if !live {
            return Err(ApiError::unauthorized());
        }
        // Recording every request would turn reads into writes; a coarse mark is enough for
        // the inactivity timeout.
        if activity && t - session.last_seen_at >= (idle / 10).clamp(1, 60) {
            self.store.touch_session(session.id, t).await?;
        }
        let user = self
            .store
            .user(claims.sub)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Principal::User {
            user,
            session: session.id,
        })
    }

    /// The workspace key behind an `Authorization: Bearer` secret.
    pub async fn authenticate_api_key(&self, key: &str) -> ApiResult<Principal> {
        if !key.starts_with(secrets::API_KEY_PREFIX) {
            return Err(ApiError::unauthorized());
        }
        let record = self
            .store
            .use_api_key(&secrets::hash(key), now())
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Principal::ApiKey(record))
    }

    /// Changes the caller's password after checking the current one; ends every session and
    /// starts a fresh one for this client.
    pub async fn change_password(
        &self,
        principal: &Principal,
        req: ChangePasswordRequest,
        client: &ClientInfo,
    ) -> ApiResult<SignedIn> {
        let user = principal.user()?.clone();
        self.limiter.attempt_from(client_key(client))?;
        // Guessing the current password through a stolen session counts against the account.
        let lock = account_lock_key(&user.email, client);
        self.limiter.check_account(&lock)?;
        check_new_password(&req.new_password, "new_password")?;
        let stored = user.password_hash.clone();
        let current = req.current_password;
        let ok = tokio::task::spawn_blocking(move || {
            stored.is_some_and(|h| passwords::verify(&current, &h))
        })
        .await
        .map_err(|_| ApiError::internal())?;
        if !ok {
            self.limiter.record_failure(&lock);
            return Err(FieldError::new("current_password", "is not your current password").into());
        }
        let hash = hash_password(req.new_password).await?;
        let (session, signed) = self.new_session(&user, client)?;
        let revoked = self
            .store
            .change_password(user.id, &hash, now(), &session)
            .await?;
        tracing::info!(user = %user.id, revoked_keys = revoked, "password changed; other sessions and the user's API keys ended");
        Ok(signed)
    }

    /// The caller's live sessions.
    pub async fn sessions(&self, principal: &Principal) -> ApiResult<Vec<SessionView>> {
        let (user, current) = match principal {
            Principal::User { user, session } => (user, *session),
            Principal::ApiKey(_) => return Err(super::api_keys_have_no_user()),
        };
        let t = now();
        let idle = self.config.session_idle_timeout.as_secs() as i64;
        Ok(self
            .store
            .active_sessions(user.id, t)
            .await?
            .into_iter()
            .filter(|s| s.last_seen_at + idle > t)
            .map(|s| SessionView {
                id: s.id,
                created_at: rfc3339(s.created_at),
                last_seen_at: rfc3339(s.last_seen_at),
                user_agent: s.user_agent,
                current: s.id == current,
            })
            .collect())
    }

    /// Ends one of the caller's sessions.
    pub async fn revoke_session(&self, principal: &Principal, id: SessionId) -> ApiResult<()> {
        let user = principal.user()?;
        self.store
            .revoke_session(user.id, id, now())
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound => ApiError::not_found("session"),
                other => other.into(),
            })
    }

    /// The OAuth2 providers offered on the login page.
    pub fn oauth_providers(&self) -> Vec<shared::api::OAuthProvider> {
        self.config
            .oauth_providers
            .iter()
            .map(|p| shared::api::OAuthProvider {
                id: p.id.clone(),
                name: p.display_name.clone(),
            })
            .collect()
    }

    /// Signs in the person a provider vouched for: the user already linked to the identity,
    /// else the account with the same e-mail, else a new account without a password. Only
    /// an address the provider verified may link to or create an account.
    pub async fn oauth_sign_in(
        &self,
        provider: &str,
        identity: Identity,
        client: &ClientInfo,
    ) -> ApiResult<SignedIn> {
        if let Some(user) = self.store.oauth_user(provider, &identity.subject).await? {
            return self.start_session(user, client).await;
        }
        let email = Email::parse(&identity.email)
            .map_err(|_| ApiError::field("email", "the provider's e-mail address is not valid"))?;
        if let Some(user) = self.store.user_by_email(email.as_str()).await? {
            // Both sides must have shown the address is theirs: an account made by whoever
            // typed the address first is not the provider's user.
            if !identity.email_verified || user.email_verified_at.is_none() {
                return Err(ApiError::conflict(
                    Some("email"),
                    "an account with this e-mail exists and its address is not verified on both sides; log in with your password first (or reset it from the mail)",
                ));
            }
            self.store
                .link_oauth_identity(provider, &identity.subject, user.id, now())
                .await?;
            tracing::info!(user = %user.id, provider, "OAuth identity linked");
            return self.start_session(user, client).await;
        }
        if !identity.email_verified {
            // An unverified address could be someone else's: it may not claim an account.
            return Err(ApiError::forbidden(
                "the provider has not verified your e-mail address; verify it there, or sign up with a password",
            ));
        }
        let fallback_name = email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("user")
            .to_owned();
        let name = parse_display_name(&identity.name).unwrap_or(fallback_name);
        let user = UserRecord {
            id: UserId::new(),
            email: email.as_str().to_owned(),
            name,
            password_hash: None,
            created_at: now(),
            // The provider verified it (checked above).
            email_verified_at: Some(now()),
        };
        let (session, signed) = self.new_session(&user, client)?;
        self.store
            .create_oauth_user(&user, provider, &identity.subject, &session)
            .await?;
        tracing::info!(user = %user.id, provider, "account created through OAuth");
        Ok(signed)
    }

    /// Records a new session for `user` and answers its cookie.
    pub(super) async fn start_session(
        &self,
        user: UserRecord,
        client: &ClientInfo,
    ) -> ApiResult<SignedIn> {
        let (session, signed) = self.new_session(&user, client)?;
        self.store.create_session(&session).await?;
        Ok(signed)
    }

    /// A session for `user` not yet stored, and the cookie that will carry it. Callers store
    /// it, in the same transaction as the change that starts it where there is one.
    pub(super) fn new_session(
        &self,
        user: &UserRecord,
        client: &ClientInfo,
    ) -> ApiResult<(SessionRecord, SignedIn)> {
        let session = self.session_for(user.id, client);
        let signed = self.signed_in(user, &session)?;
        Ok((session, signed))
    }

    /// A new session of `user` from `client`, not yet stored.
    pub(super) fn session_for(&self, user: UserId, client: &ClientInfo) -> SessionRecord {
        let t = now();
        SessionRecord {
            id: SessionId::new(),
            user_id: user,
            created_at: t,
            last_seen_at: t,
            expires_at: t + self.config.session_lifetime.as_secs() as i64,
            revoked_at: None,
            user_agent: client
                .user_agent
                .clone()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect(),
        }
    }

    /// The cookie that carries `session` of `user`.
    pub(super) fn signed_in(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
    ) -> ApiResult<SignedIn> {
        let token = self
            .keys
            .sign(&Claims {
                sub: user.id,
                sid: session.id,
                iat: session.created_at,
                exp: session.expires_at,
            })
            .map_err(|e| {
                tracing::error!(error = %e, "signing a session token failed");
                ApiError::internal()
            })?;
        let lifetime = session.expires_at - session.created_at;
        Ok(SignedIn {
            user: user_view(user),
            set_cookie: sessions::set_cookie(&token, lifetime, self.config.secure_cookies()),
        })
    }
}

/// The rate-limit key for a client: its IP, or one shared bucket when the IP is unknown.
pub(super) fn client_key(client: &ClientInfo) -> &str {
    client.ip.as_deref().unwrap_or("unknown")
}

/// The failed-login lock's key: the account together with the client's address (an IPv6
/// client by its /64, which one client holds whole).
fn account_lock_key(email: &str, client: &ClientInfo) -> String {
    let from = match client_key(client).parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => client_key(client).to_owned(),
    };
    format!("{email} from {from}")
}

pub(super) async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}
