//! Login and sign-up rate limits: attempts per client IP (governor); failed logins per
//! account and client IP (N failures within the lockout window lock that pair for the
//! window, so a stranger cannot lock the owner out from elsewhere); and account mail per
//! address, so nobody can flood a mailbox through sign-up or reset. The first two answer
//! with how long to wait, for `Retry-After`.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// Account mails (verification links, resets, notes) one address gets per hour at most.
pub const MAILS_PER_ADDRESS_PER_HOUR: NonZeroU32 = match NonZeroU32::new(5) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// Limits on authentication attempts.
#[derive(Clone, Copy, Debug)]
pub struct AuthLimits {
    /// Login and sign-up attempts per IP per minute.
    pub attempts_per_ip_per_minute: u32,
    /// Failed logins per account within [`AuthLimits::lockout`] that lock it.
    pub failed_logins_per_account: u32,
    /// The failure window, and how long an account stays locked.
    pub lockout: Duration,
}

#[derive(Default)]
struct AccountState {
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

/// The limiter state, shared by the REST API and the console.
pub struct AuthLimiter {
    per_ip: Keyed,
    mail_per_address: Keyed,
    accounts: Mutex<HashMap<String, AccountState>>,
    limits: AuthLimits,
}

/// Too many attempts: wait this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds to wait, at least one.
    pub fn seconds(self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// A rate limit as the client sees it: 429 with `Retry-After`.
impl From<RetryAfter> for shared::error::ApiError {
    fn from(r: RetryAfter) -> Self {
        let mut error = shared::error::ApiError::new(
            shared::error::ErrorCode::RateLimited,
            format!("too many attempts; try again in {} seconds", r.seconds()),
        );
        error.retry_after = Some(r.seconds());
        error
    }
}

impl AuthLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: AuthLimits) -> Self {
        let per_minute =
            NonZeroU32::new(limits.attempts_per_ip_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(per_minute)),
            mail_per_address: RateLimiter::keyed(
                Quota::per_hour(MAILS_PER_ADDRESS_PER_HOUR).allow_burst(MAILS_PER_ADDRESS_PER_HOUR),
            ),
            accounts: Mutex::new(HashMap::new()),
            limits,
        }
    }

    fn accounts(&self) -> MutexGuard<'_, HashMap<String, AccountState>> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one attempt from `ip`; refuses it when the IP is over its limit.
    pub fn attempt_from(&self, ip: &str) -> Result<(), RetryAfter> {
        self.per_ip.check_key(&ip.to_owned()).map_err(|not_until| {
            RetryAfter(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Whether one more account mail may go to `address` now (at most
    /// [`MAILS_PER_ADDRESS_PER_HOUR`]); a refused mail is silently not sent.
    pub fn may_mail(&self, address: &str) -> bool {
        self.mail_per_address.check_key(&address.to_owned()).is_ok()
    }

    /// Refuses a login to `account` while it is locked.
    pub fn check_account(&self, account: &str) -> Result<(), RetryAfter> {
        let now = Instant::now();
        match self.accounts().get(account).and_then(|a| a.locked_until) {
            Some(until) if until > now => Err(RetryAfter(until - now)),
            _ => Ok(()),
        }
    }

    /// Records a failed login to `account`; the N-th failure within the window locks it.
    pub fn record_failure(&self, account: &str) {
        let now = Instant::now();
        let window = self.limits.lockout;
        let mut accounts = self.accounts();
        let state = accounts.entry(account.to_owned()).or_default();
        state.failures.retain(|t| now.duration_since(*t) < window);
        state.failures.push(now);
        if state.failures.len() >= self.limits.failed_logins_per_account.max(1) as usize {
            state.failures.clear();
            state.locked_until = Some(now + window);
        }
    }

    /// Drops state of keys that no longer limit anything (call periodically).
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.mail_per_address.retain_recent();
        let now = Instant::now();
        let window = self.limits.lockout;
        self.accounts().retain(|_, a| {
            a.locked_until.is_some_and(|u| u > now)
                || a.failures.iter().any(|t| now.duration_since(*t) < window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> AuthLimiter {
        AuthLimiter::new(AuthLimits {
            attempts_per_ip_per_minute: 3,
            failed_logins_per_account: 2,
            lockout: Duration::from_secs(600),
        })
    }

    #[test]
    fn ip_limit_refuses_after_the_quota_and_keeps_ips_apart() {
        let l = limiter();
        for _ in 0..3 {
            assert!(l.attempt_from("10.0.0.1").is_ok());
        }
        let retry = l.attempt_from("10.0.0.1").unwrap_err();
        assert!(retry.seconds() >= 1 && retry.seconds() <= 60);
        assert!(l.attempt_from("10.0.0.2").is_ok());
    }

    #[test]
    fn the_nth_failure_locks_the_account() {
        let l = limiter();
        l.record_failure("a@example.com");
        assert!(l.check_account("a@example.com").is_ok());
        l.record_failure("a@example.com");
        let retry = l.check_account("a@example.com").unwrap_err();
        assert!(retry.seconds() > 500);
        assert!(l.check_account("b@example.com").is_ok());
        l.forget_idle();
        assert!(
            l.check_account("a@example.com").is_err(),
            "a lock outlives the janitor"
        );
    }

    #[test]
    fn an_address_gets_a_bounded_number_of_mails_per_hour() {
        let l = limiter();
        for _ in 0..MAILS_PER_ADDRESS_PER_HOUR.get() {
            assert!(l.may_mail("a@example.com"));
        }
        assert!(!l.may_mail("a@example.com"), "the next mail waits");
        assert!(
            l.may_mail("b@example.com"),
            "other addresses are not affected"
        );
    }
}
