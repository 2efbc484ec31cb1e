//! Calling the sandbox from async code. A script's call is synchronous and CPU-bound, so a
//! long one belongs on a blocking thread; but most scripts (a route handler shaping a
//! response, a pipeline step mapping JSON) finish in well under a millisecond, less than
//! the two thread hand-offs a blocking thread costs. So a call is first tried right here
//! with its time cut to [`INLINE_BUDGET`]; only one that needs longer runs again, from the
//! start, on a blocking thread with its whole time.
//!
//! Running a script again is safe: it has no effects outside its result and its log lines
//! (no I/O of any kind, see `sandbox`), and the first try's result and lines are dropped.
//! The cost of a long script is one budget of CPU more; an async worker thread is never
//! held longer than the budget.

use sandbox::{Limits, ScriptError};
use std::time::Duration;

/// The longest a script runs on an async worker thread before it is moved to a blocking
/// thread (and started again there).
pub const INLINE_BUDGET: Duration = Duration::from_millis(1);

/// `call(limits)` tried here within the budget: its outcome, or `None` when it needs
/// longer than the budget and must run with [`on_blocking_thread`].
pub fn try_inline<T>(
    limits: Limits,
    call: &impl Fn(Limits) -> Result<T, ScriptError>,
) -> Option<Result<T, ScriptError>> {
    if limits.time <= INLINE_BUDGET {
        return Some(call(limits));
    }
    match call(Limits {
        time: INLINE_BUDGET,
        ..limits
    }) {
        Err(ScriptError::TimedOut(_)) => None,
        done => Some(done),
    }
}

/// `call(limits)` on a blocking thread, with its whole time.
pub async fn on_blocking_thread<T, F>(limits: Limits, call: F) -> Result<T, ScriptError>
where
    T: Send + 'static,
    F: Fn(Limits) -> Result<T, ScriptError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || call(limits))
        .await
        .unwrap_or_else(|e| {
            Err(ScriptError::Result(format!(
                "the script's thread failed: {e}"
            )))
        })
}

/// `call(limits)`: here when it fits the budget, else again on a blocking thread.
pub async fn run<T, F>(limits: Limits, call: F) -> Result<T, ScriptError>
where
    T: Send + 'static,
    F: Fn(Limits) -> Result<T, ScriptError> + Send + 'static,
{
    match try_inline(limits, &call) {
        Some(done) => done,
        None => on_blocking_thread(limits, call).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn script(source: &'static str) -> impl Fn(Limits) -> Result<serde_json::Value, ScriptError> {
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
        let quick = script("export default (x) => x * 21");
        assert_eq!(try_inline(limits, &quick), Some(Ok(json!(42))));
        // Past the budget: not finished here, but finished with its whole time.
        let slow = script(
            "export default (x) => { const end = Date.now() + 20; while (Date.now() < end) {} return x }",
        );
        assert_eq!(try_inline(limits, &slow), None);
        assert_eq!(run(limits, slow).await, Ok(json!(2)));
        // A script that never ends still stops at its own limit, not the budget's.
        let forever = script("export default () => { while (true) {} }");
        let short = Limits {
            time: Duration::from_millis(50),
            ..limits
        };
        assert_eq!(
            run(short, forever).await,
            Err(ScriptError::TimedOut(Duration::from_millis(50)))
        );
        // Errors other than the budget's are the script's own, at once.
        let thrown = script("export default () => { throw new Error('no') }");
        assert!(matches!(
            try_inline(limits, &thrown),
            Some(Err(ScriptError::Thrown { .. }))
        ));
    }
}
