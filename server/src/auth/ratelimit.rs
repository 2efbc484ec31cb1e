//! Login and sign-up rate limits: attempts per client IP, and failed logins per account.
//! Both answer with how long to wait, for `Retry-After`.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// Limits on authentication attempts.
#[derive(Clone, Copy, Debug)]
pub struct AuthLimits {
    /// Login and sign-up attempts per IP per minute.
    pub attempts_per_ip_per_minute: u32,
    /// Failed logins per account before it is locked for [`AuthLimits::lockout`].
    pub failed_logins_per_account: u32,
    /// How long an account stays locked after too many failures.
    pub lockout: Duration,
}

/// The limiter state, shared by the REST API and the console.
pub struct AuthLimiter {
    per_ip: Keyed,
    failures: Keyed,
    locked_until: Mutex<HashMap<String, Instant>>,
    lockout: Duration,
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

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl AuthLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: AuthLimits) -> Self {
        let failures_period = limits.lockout / limits.failed_logins_per_account.max(1);
        let failures_quota = Quota::with_period(failures_period.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_minute(nonzero(1)))
            .allow_burst(nonzero(limits.failed_logins_per_account));
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(nonzero(
                limits.attempts_per_ip_per_minute,
            ))),
            failures: RateLimiter::keyed(failures_quota),
            locked_until: Mutex::new(HashMap::new()),
            lockout: limits.lockout,
        }
    }

    /// Counts one attempt from `ip`; refuses it when the IP is over its limit.
    pub fn attempt_from(&self, ip: &str) -> Result<(), RetryAfter> {
        self.per_ip.check_key(&ip.to_owned()).map_err(|not_until| {
            RetryAfter(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Refuses a login to `account` while it is locked.
    pub fn check_account(&self, account: &str) -> Result<(), RetryAfter> {
        let mut locked = self.locked_until.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match locked.get(account) {
            Some(until) if *until > now => Err(RetryAfter(*until - now)),
            Some(_) => {
                locked.remove(account);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records a failed login to `account`; locks it once the failures exceed the limit.
    pub fn record_failure(&self, account: &str) {
        if self.failures.check_key(&account.to_owned()).is_err() {
            let mut locked = self.locked_until.lock().unwrap_or_else(|p| p.into_inner());
            locked.insert(account.to_owned(), Instant::now() + self.lockout);
        }
    }

    /// Drops state of keys that no longer limit anything (call periodically).
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.failures.retain_recent();
        let now = Instant::now();
        let mut locked = self.locked_until.lock().unwrap_or_else(|p| p.into_inner());
        locked.retain(|_, until| *until > now);
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
    fn account_locks_after_repeated_failures_only() {
        let l = limiter();
        l.record_failure("a@example.com");
        l.record_failure("a@example.com");
        assert!(l.check_account("a@example.com").is_ok());
        l.record_failure("a@example.com");
        let retry = l.check_account("a@example.com").unwrap_err();
        assert!(retry.seconds() > 500);
        assert!(l.check_account("b@example.com").is_ok());
    }
}
