//! A circuit breaker for the outbound calls job code makes: after `failure_threshold`
//! failures in a row it opens and refuses calls for `open_for`; then it lets one probe
//! through (half-open); the probe's success closes it, its failure opens it again.
//! Pure: the caller passes the time.

use std::time::{Duration, Instant};

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the instant.
    Open {
        /// When a probe may go through.
        until: Instant,
    },
    /// One probe is out; other calls are refused until it settles.
    HalfOpen,
}

/// A circuit breaker.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    failure_threshold: u32,
    open_for: Duration,
    consecutive_failures: u32,
    state: BreakerState,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(failure_threshold: u32, open_for: Duration) -> CircuitBreaker {
        CircuitBreaker {
            failure_threshold: failure_threshold.max(1),
            open_for,
            consecutive_failures: 0,
            state: BreakerState::Closed,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a call may go out at `now`; an open breaker past its wait becomes half-open
    /// and lets this one call through as the probe.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// The call succeeded.
    pub fn record_success(&mut self) {
        self.consecutive_failures = 0;
        self.state = BreakerState::Closed;
    }

    /// The call failed at `now`.
    pub fn record_failure(&mut self, now: Instant) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let trip = matches!(self.state, BreakerState::HalfOpen)
            || self.consecutive_failures >= self.failure_threshold;
        if trip {
            self.state = BreakerState::Open {
                until: now + self.open_for,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_probes_and_closes() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(3, Duration::from_secs(10));
        for _ in 0..2 {
            assert!(b.try_acquire(t0));
            b.record_failure(t0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.try_acquire(t0));
        b.record_failure(t0);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert!(!b.try_acquire(t0 + Duration::from_secs(9)), "open refuses");
        assert!(
            b.try_acquire(t0 + Duration::from_secs(10)),
            "probe after the wait"
        );
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(
            !b.try_acquire(t0 + Duration::from_secs(10)),
            "one probe at a time"
        );
        b.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.try_acquire(t0 + Duration::from_secs(11)));
    }

    #[test]
    fn a_failed_probe_opens_again() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(1, Duration::from_secs(5));
        b.record_failure(t0);
        assert!(b.try_acquire(t0 + Duration::from_secs(5)));
        b.record_failure(t0 + Duration::from_secs(5));
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until: t0 + Duration::from_secs(10)
            }
        );
        assert!(!b.try_acquire(t0 + Duration::from_secs(6)));
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(2, Duration::from_secs(5));
        b.record_failure(t0);
        b.record_success();
        b.record_failure(t0);
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
