//! The sandbox's promises, each proven against the real engine: results and logs, syntax
//! errors at their line, and the limits (time, memory, stack, output, cancellation) holding
//! against scripts written to break them; nothing of the host or of another run is reachable.

use sandbox::{check, evaluate, run, truthy, Limits, ScriptError, StopSwitch};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn go(source: &str, input: Value) -> Result<sandbox::Finished, ScriptError> {
    run(
        source,
        &input,
        &json!({"run": true}),
        &json!({"fetch": {"status": 200}}),
        Limits::default(),
        &StopSwitch::default(),
    )
}

fn quick() -> Limits {
    Limits {
        time: Duration::from_millis(300),
        memory_bytes: 16 << 20,
        ..Limits::default()
    }
}

#[test]
fn the_default_export_gets_its_input_and_ctx() {
    let done = go(
        "export default function (input, ctx) {\n  ctx.log('got', input, 7);\n  return { doubled: input.n * 2, run: ctx.input.run, status: ctx.nodes.fetch.status };\n}",
        json!({"n": 21}),
    )
    .expect("runs");
    assert_eq!(
        done.value,
        json!({"doubled": 42, "run": true, "status": 200})
    );
    assert_eq!(done.logs, vec!["got {\"n\":21} 7"]);
}

#[test]
fn a_main_function_exported_or_not_and_async_functions_work() {
    assert_eq!(
        go("function main(x) { return x + 1 }", json!(1)).map(|d| d.value),
        Ok(json!(2))
    );
    assert_eq!(
        go("export function main(x) { return [x] }", json!("a")).map(|d| d.value),
        Ok(json!(["a"]))
    );
    assert_eq!(
        go(
            "export default async (x) => { const y = await Promise.resolve(x); return y * 3 }",
            json!(2)
        )
        .map(|d| d.value),
        Ok(json!(6))
    );
    assert_eq!(
        go("export default () => undefined", json!(null)).map(|d| d.value),
        Ok(Value::Null)
    );
    assert_eq!(go("const x = 1;", json!(null)), Err(ScriptError::NoEntry));
}

#[test]
fn syntax_errors_name_their_line_before_anything_runs() {
    let e = check("export default function (x) {\n  const a = 1;\n  return a +;\n}").unwrap_err();
    match e {
        ScriptError::Syntax { line, message, .. } => {
            assert_eq!(line, 3, "{message}");
            assert!(!message.is_empty());
        }
        other => panic!("not a syntax error: {other:?}"),
    }
    assert_eq!(check("export default (x) => x"), Ok(()));
    // The same error from a run, which never starts.
    assert!(matches!(
        go("export default (x) => {", json!(1)),
        Err(ScriptError::Syntax { line: 1, .. })
    ));
}

#[test]
fn thrown_errors_carry_their_message_and_line() {
    let e = go("export default function () {\n  null.x;\n}", json!(1)).unwrap_err();
    match e {
        ScriptError::Thrown { message, line } => {
            assert!(message.starts_with("TypeError"), "{message}");
            assert_eq!(line, Some(2));
        }
        other => panic!("{other:?}"),
    }
    let e = go("export default () => { throw {code: 7} }", json!(1)).unwrap_err();
    assert_eq!(
        e,
        ScriptError::Thrown {
            message: "the script threw {\"code\":7}".into(),
            line: None
        }
    );
}

#[test]
fn an_infinite_loop_is_stopped_at_the_time_limit() {
    let started = Instant::now();
    let e = run(
        "export default () => { for (;;) {} }",
        &json!(1),
        &json!({}),
        &json!({}),
        quick(),
        &StopSwitch::default(),
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::TimedOut(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(5));
    // A loop that catches everything is still stopped: the interrupt is uncatchable.
    let e = run(
        "export default () => { for (;;) { try { for (;;) {} } catch (e) {} } }",
        &json!(1),
        &json!({}),
        &json!({}),
        quick(),
        &StopSwitch::default(),
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::TimedOut(Duration::from_millis(300)));
}

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_limit() {
    for bomb in [
        "export default () => { const a = []; for (;;) a.push(new Array(100000).fill(1)); }",
        "export default () => { const keep = []; for (let n = 1; ; n *= 2) keep.push('x'.repeat(n)); }",
        "export default () => { try { const a = []; for (;;) a.push({k: Math.random()}); } catch (e) { return 'caught'; } }",
    ] {
        let limits = Limits { time: Duration::from_secs(20), ..quick() };
        let e = run(bomb, &json!(1), &json!({}), &json!({}), limits, &StopSwitch::default());
        assert!(matches!(e, Err(ScriptError::OutOfMemory(_)) | Ok(sandbox::Finished { .. })), "{bomb}: {e:?}");
        if let Ok(done) = e {
            // A script may catch the allocation failure, but it got nothing past the limit.
            assert_eq!(done.value, json!("caught"));
        }
    }
}

#[test]
fn deep_recursion_is_a_stack_overflow_not_a_crash() {
    let e = go(
        "function f(n) { return f(n + 1) + 1 }\nexport default () => f(0)",
        json!(1),
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::StackOverflow);
}

#[test]
fn the_host_and_other_runs_are_out_of_reach() {
    let probe = "export default () => ({
        require: typeof require, process: typeof process, fetch: typeof fetch, std: typeof std,
        os: typeof os, setTimeout: typeof setTimeout, XMLHttpRequest: typeof XMLHttpRequest,
        Deno: typeof Deno, Bun: typeof Bun, leaked: typeof globalThis.leaked,
    })";
    go(
        "export default () => { globalThis.leaked = 'secret of another run'; return 1 }",
        json!(1),
    )
    .expect("runs");
    let seen = go(probe, json!(1)).expect("runs").value;
    for (name, kind) in seen.as_object().expect("an object") {
        assert_eq!(kind, "undefined", "{name} is reachable");
    }
    // No module loader: importing the engine's OS modules fails before anything runs.
    for import in [
        "import * as os from 'os'",
        "import * as std from 'std'",
        "import x from '/etc/passwd'",
    ] {
        let e = go(&format!("{import};\nexport default () => 1"), json!(1)).unwrap_err();
        assert!(!matches!(e, ScriptError::NoEntry), "{import}: {e:?}");
    }
    // eval and Function exist in the language but reach nothing more than the script could.
    assert_eq!(
        go(
            "export default () => new Function('return typeof require')()",
            json!(1)
        )
        .map(|d| d.value),
        Ok(json!("undefined"))
    );
}

#[test]
fn cancelling_stops_a_running_script() {
    let stop = StopSwitch::default();
    let trigger = stop.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        trigger.stop();
    });
    let limits = Limits {
        time: Duration::from_secs(30),
        ..Limits::default()
    };
    let e = run(
        "export default () => { for (;;) {} }",
        &json!(1),
        &json!({}),
        &json!({}),
        limits,
        &stop,
    )
    .unwrap_err();
    assert_eq!(e, ScriptError::Stopped);
    t.join().expect("joined");
}

#[test]
fn results_must_be_json_and_fit_the_output_limit() {
    let limits = Limits {
        output_bytes: 1_000,
        ..Limits::default()
    };
    let e = run(
        "export default () => 'x'.repeat(5000)",
        &json!(1),
        &json!({}),
        &json!({}),
        limits,
        &StopSwitch::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, ScriptError::Result(ref m) if m.contains("limit")),
        "{e:?}"
    );
    assert!(matches!(
        go("export default () => () => 1", json!(1)),
        Err(ScriptError::Result(_))
    ));
    assert!(matches!(
        go("export default () => 10n", json!(1)),
        Err(ScriptError::Result(_))
    ));
    let e = go(
        "export default () => { const a = {}; a.a = a; return a }",
        json!(1),
    )
    .unwrap_err();
    assert!(
        matches!(e, ScriptError::Result(ref m) if m.contains("not JSON")),
        "{e:?}"
    );
    assert!(
        matches!(go("export default () => new Promise(() => {})", json!(1)), Err(ScriptError::Result(ref m)) if m.contains("never settles"))
    );
}

#[test]
fn logs_are_capped() {
    let limits = Limits {
        log_lines: 3,
        ..Limits::default()
    };
    let done = run(
        "export default (x, ctx) => { for (let i = 0; i < 10; i++) ctx.log(i); ctx.log; return 1 }",
        &json!(1),
        &json!({}),
        &json!({}),
        limits,
        &StopSwitch::default(),
    )
    .expect("runs");
    assert_eq!(done.logs, vec!["0", "1", "2"]);
}

#[test]
fn conditions_evaluate_to_values() {
    let stop = StopSwitch::default();
    // A fresh runtime, and the workspace's warm evaluator, alike.
    let fresh = |e: &str, limits| evaluate(e, limits, &stop);
    let warm = |e: &str, limits| sandbox::evaluate_warm("conditions", e, limits, &stop);
    for (how, evaluate) in [
        ("fresh", &fresh as &dyn Fn(&str, Limits) -> _),
        ("warm", &warm),
    ] {
        assert_eq!(
            evaluate("200 == 200 && \"a\" != \"\"", Limits::default()),
            Ok(json!(true)),
            "{how}"
        );
        assert_eq!(
            evaluate("[1,2].length", Limits::default()),
            Ok(json!(2)),
            "{how}"
        );
        assert!(
            matches!(
                evaluate("1 +", Limits::default()),
                Err(ScriptError::Syntax { line: 1, .. })
            ),
            "{how}"
        );
        assert!(
            matches!(
                evaluate("1); for(;;){}; (1", quick()),
                Err(ScriptError::TimedOut(_)) | Err(ScriptError::Syntax { .. })
            ),
            "{how}"
        );
    }
    assert!(truthy(&json!(1)) && truthy(&json!("x")) && truthy(&json!({})) && truthy(&json!([])));
    assert!(
        !truthy(&json!(0))
            && !truthy(&json!(""))
            && !truthy(&Value::Null)
            && !truthy(&json!(false))
    );
}
