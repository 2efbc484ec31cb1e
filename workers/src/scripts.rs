//! Calling the sandbox from async code. A script's call is synchronous and CPU-bound, so a
//! long one belongs on a blocking thread; but most scripts (a route handler shaping a
//! response, a pipeline step mapping JSON) finish in well under a millisecond, less than
//! the two thread hand-offs a blocking thread costs. So a call is first tried right here
//! with its time cut to [`INLINE_BUDGET`]; only one that needs longer runs again, from the
//! start, on a blocking thread with its whole time.
//!
//! Running a script again is safe: it has no effects outside its result and its log lines
//! (no I/O of any kind, see `sandbox`), the first try's result and lines are dropped, and a
//! warm module the budget stopped is dropped with them (its state is unknown).
//! The cost of a long script is one budget of CPU more; an async worker thread is never
//! held longer than the budget. A script whose last call needed longer (a pipeline's
//! Fibonacci step, run again for every run) goes straight to a blocking thread the next
//! time, without spending the budget first; once it finishes within the budget there, it is
//! tried here again.

use sandbox::{Limits, ScriptError};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// The longest a script runs on an async worker thread before it is moved to a blocking
/// thread (and started again there).
pub const INLINE_BUDGET: Duration = Duration::from_millis(1);

/// The most scripts remembered as needing longer than the budget (then all are forgotten).
const SLOW_REMEMBERED: usize = 1024;

/// Scripts (their source's hash) whose last call needed longer than the budget.
static SLOW: LazyLock<Mutex<HashSet<u64>>> = LazyLock::new(Mutex::default);

/// What a script is remembered by: its source's hash.
pub fn key(source: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut hasher);
    hasher.finish()
}

fn slow() -> std::sync::MutexGuard<'static, HashSet<u64>> {
    SLOW.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether the last call of the script [`key`]ed `script` needed longer than the budget.
pub fn known_slow(script: u64) -> bool {
    slow().contains(&script)
}

fn remember(script: u64, needed_longer: bool) {
    let mut slow = slow();
    if needed_longer {
        if slow.len() >= SLOW_REMEMBERED {
            slow.clear();
        }
        slow.insert(script);
    } else {
        slow.remove(&script);
    }
}

/// `call(limits)` (a call of the script [`key`]ed `script`) tried here within the budget:
/// its outcome, or `None` when it needs longer than the budget (or did last time) and must
/// run with [`on_blocking_thread`].
pub fn try_inline<T>(
    script: u64,
    limits: Limits,
    call: &impl Fn(Limits) -> Result<T, ScriptError>,
) -> Option<Result<T, ScriptError>> {
    if limits.time <= INLINE_BUDGET {
        return Some(call(limits));
    }
    if known_slow(script) {
        return None;
    }
    match call(Limits {
        time: INLINE_BUDGET,
        ..limits
    }) {
        Err(ScriptError::TimedOut(_)) => {
            remember(script, true);
            None
        }
        done => Some(done),
    }
}

/// `call(limits)` (a call of the script [`key`]ed `script`) on a blocking thread, with its
/// whole time.
pub async fn on_blocking_thread<T, F>(
    script: u64,
    limits: Limits,
    call: F,
) -> Result<T, ScriptError>
where
    T: Send + 'static,
    F: Fn(Limits) -> Result<T, ScriptError> + Send + 'static,
{
    // Timed on its thread: waiting for a free blocking thread is not the script's time.
    let ran = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let done = call(limits);
        (done, started.elapsed())
    })
    .await;
    match ran {
        Ok((done, took)) => {
            remember(script, took > INLINE_BUDGET);
            done
        }
        Err(e) => Err(ScriptError::Result(format!(
            "the script's thread failed: {e}"
        ))),
    }
}

/// `call(limits)` (a call of the script [`key`]ed `script`): here when it fits the budget,
/// else on a blocking thread.
pub async fn run<T, F>(script: u64, limits: Limits, call: F) -> Result<T, ScriptError>
where
    T: Send + 'static,
    F: Fn(Limits) -> Result<T, ScriptError> + Send + 'static,
{
    match try_inline(script, limits, &call) {
        Some(done) => done,
        None => on_blocking_thread(script, limits, call).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn script(
        source: &'static str,
    ) -> impl Fn(Limits) -> Result<serde_json::Value, ScriptError> + Send + 'static {
        move |limits| {
            sandbox::run(
                source,
                &json!(2),
                &json!({}),
                &json!({}),
                limits,
                &sandbox::StopSwitch::default(),
            )
            .map(|f| f.value)
        }
    }

    #[tokio::test]
    async fn a_short_script_finishes_here_and_a_long_one_gets_its_whole_time() {
        let limits = Limits::default();
        const QUICK: &str = "export default (x) => x * 21";
        assert_eq!(
            try_inline(key(QUICK), limits, &script(QUICK)),
            Some(Ok(json!(42)))
        );
        assert!(!known_slow(key(QUICK)));
        // Past the budget: not finished here, but finished with its whole time.
        const SLOW: &str =
            "export default (x) => { const end = Date.now() + 20; while (Date.now() < end) {} return x }";
        assert_eq!(try_inline(key(SLOW), limits, &script(SLOW)), None);
        assert!(known_slow(key(SLOW)), "remembered as needing longer");
        assert_eq!(run(key(SLOW), limits, script(SLOW)).await, Ok(json!(2)));
        assert!(known_slow(key(SLOW)), "it needed longer again");
        // A script that never ends still stops at its own limit, not the budget's.
        const FOREVER: &str = "export default () => { while (true) {} }";
        let short = Limits {
            time: Duration::from_millis(50),
            ..limits
        };
        assert_eq!(
            run(key(FOREVER), short, script(FOREVER)).await,
            Err(ScriptError::TimedOut(Duration::from_millis(50)))
        );
        // Errors other than the budget's are the script's own, at once.
        const THROWN: &str = "export default () => { throw new Error('no') }";
        assert!(matches!(
            try_inline(key(THROWN), limits, &script(THROWN)),
            Some(Err(ScriptError::Thrown { .. }))
        ));
    }

    #[tokio::test]
    async fn a_script_slow_last_time_goes_straight_to_a_thread_until_it_is_quick_there() {
        let limits = Limits::default();
        // Its first call needs longer than the budget; so the next is not tried here (its
        // call would answer at once here, proving it was not made).
        const SOURCE: &str = "export default (x) => x + 1 // remembered";
        let slow_once = |limits: Limits| {
            if limits.time <= INLINE_BUDGET {
                Err(ScriptError::TimedOut(limits.time))
            } else {
                std::thread::sleep(Duration::from_millis(5));
                Ok(json!(1))
            }
        };
        assert_eq!(try_inline(key(SOURCE), limits, &slow_once), None);
        assert_eq!(try_inline(key(SOURCE), limits, &|_| Ok(json!(2))), None);
        assert_eq!(run(key(SOURCE), limits, slow_once).await, Ok(json!(1)));
        assert!(known_slow(key(SOURCE)));
        // Quick on its thread: forgotten, and tried here again.
        assert_eq!(
            run(key(SOURCE), limits, |_| Ok(json!(3))).await,
            Ok(json!(3))
        );
        assert!(!known_slow(key(SOURCE)));
        assert_eq!(
            try_inline(key(SOURCE), limits, &|_| Ok(json!(4))),
            Some(Ok(json!(4)))
        );
    }
}
