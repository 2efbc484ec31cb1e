//! Warm modules: reused by the next call of the same script in the same workspace, never by
//! another workspace or script, dropped when a call was stopped, and every call still held
//! to its own limits (the pool's bounds are `warm_bounds.rs`, a process of their own).

use sandbox::{run_warm, Limits, ScriptError, StopSwitch};
use serde_json::{json, Value};
use std::time::Duration;

const COUNTER: &str = "let calls = 0;\nexport default (input, ctx) => {\n  calls += 1;\n  ctx.log('call', calls);\n  if (input.spin) { while (true) {} }\n  if (input.deep) { const f = (n) => f(n + 1) + 1; return f(0) }\n  if (input.bomb) { const a = []; while (true) { a.push('x'.repeat(1 << 16)) } }\n  if (input.fail) { throw new Error('asked to') }\n  return calls;\n}";

fn call(scope: &str, source: &str, input: Value, limits: Limits) -> Result<Value, ScriptError> {
    run_warm(
        scope,
        source,
        &input,
        &json!({}),
        &json!({}),
        limits,
        &StopSwitch::default(),
    )
    .map(|f| f.value)
}

fn counter(scope: &str, input: Value) -> Result<Value, ScriptError> {
    call(scope, COUNTER, input, Limits::default())
}

#[test]
fn a_scripts_module_is_reused_within_its_workspace_only() {
    assert_eq!(counter("reuse-a", json!({})), Ok(json!(1)));
    assert_eq!(
        counter("reuse-a", json!({})),
        Ok(json!(2)),
        "the module was kept"
    );
    // Another workspace with the very same source has a module of its own.
    assert_eq!(counter("reuse-b", json!({})), Ok(json!(1)));
    // Another script of the same workspace sees nothing the first left in its globals.
    call(
        "reuse-a",
        "globalThis.leaked = 'mine'; export default () => 1",
        json!({}),
        Limits::default(),
    )
    .expect("runs");
    assert_eq!(
        call(
            "reuse-a",
            "export default () => typeof globalThis.leaked",
            json!({}),
            Limits::default()
        ),
        Ok(json!("undefined"))
    );
    // A script that threw keeps its module (its state is the language's, not unknown).
    assert!(matches!(
        counter("reuse-a", json!({"fail": true})),
        Err(ScriptError::Thrown { .. })
    ));
    assert_eq!(counter("reuse-a", json!({})), Ok(json!(4)));
}

#[test]
fn each_call_logs_only_its_own_lines() {
    let first = run_warm(
        "logs",
        COUNTER,
        &json!({}),
        &json!({}),
        &json!({}),
        Limits::default(),
        &StopSwitch::default(),
    )
    .expect("runs");
    let second = run_warm(
        "logs",
        COUNTER,
        &json!({}),
        &json!({}),
        &json!({}),
        Limits {
            log_lines: 0,
            ..Limits::default()
        },
        &StopSwitch::default(),
    )
    .expect("runs");
    assert_eq!(first.logs, vec!["call 1".to_owned()]);
    assert_eq!(second.value, json!(2));
    assert!(second.logs.is_empty(), "this call kept no lines");
}

#[test]
fn a_warm_module_obeys_each_calls_limits_and_is_dropped_when_stopped() {
    let short = Limits {
        time: Duration::from_millis(50),
        ..Limits::default()
    };
    assert_eq!(counter("stops", json!({})), Ok(json!(1)));
    assert_eq!(
        call("stops", COUNTER, json!({"spin": true}), short),
        Err(ScriptError::TimedOut(Duration::from_millis(50)))
    );
    assert_eq!(
        counter("stops", json!({})),
        Ok(json!(1)),
        "dropped, loaded again"
    );
    // Its next call, on another thread (another stack), still stops deep recursion.
    let deep = std::thread::spawn(|| counter("stops", json!({"deep": true})))
        .join()
        .expect("the thread ends");
    assert_eq!(deep, Err(ScriptError::StackOverflow));
    assert_eq!(counter("stops", json!({})), Ok(json!(1)));
    let small = Limits {
        memory_bytes: 8 << 20,
        ..Limits::default()
    };
    assert_eq!(
        call("stops", COUNTER, json!({"bomb": true}), small),
        Err(ScriptError::OutOfMemory(8 << 20))
    );
    assert_eq!(counter("stops", json!({})), Ok(json!(1)));
    // A cancelled call.
    let stop = StopSwitch::default();
    stop.stop();
    let cancelled = run_warm(
        "stops",
        COUNTER,
        &json!({"spin": true}),
        &json!({}),
        &json!({}),
        Limits::default(),
        &stop,
    );
    assert_eq!(cancelled, Err(ScriptError::Stopped));
    assert_eq!(counter("stops", json!({})), Ok(json!(1)));
}

#[test]
fn a_workspaces_expressions_share_an_evaluator_that_keeps_nothing_of_them() {
    let limits = Limits::default();
    let stop = StopSwitch::default();
    let evaluate = |e: &str| sandbox::evaluate_warm("expressions", e, limits, &stop);
    assert_eq!(evaluate("(globalThis.eval = null, 1)"), Ok(json!(1)));
    assert_eq!(evaluate("1 + 1"), Ok(json!(2)), "eval was held before");
    assert_eq!(
        evaluate("(globalThis.seen = 1, Object.freeze = null, Array.prototype.at = 0, 2)"),
        Ok(json!(2))
    );
    assert_eq!(
        evaluate("typeof globalThis.seen + typeof Object.freeze + typeof [].at"),
        Ok(json!("undefinedfunctionfunction")),
        "the global object and the built-ins are frozen"
    );
    assert_eq!(
        evaluate("[3, 1, 2].sort().concat([4]).length"),
        Ok(json!(4))
    );
    assert_eq!(
        sandbox::evaluate_warm("other-expressions", "typeof globalThis.eval", limits, &stop),
        Ok(json!("function")),
        "another workspace's evaluator is its own"
    );
}
