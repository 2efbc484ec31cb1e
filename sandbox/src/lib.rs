//! The script sandbox: a tenant's JavaScript runs in QuickJS (through `rquickjs`) with a
//! memory limit, a time limit enforced by the engine's interrupt handler, a stack limit, and
//! no ambient I/O. QuickJS's core has no filesystem, network, environment, timers or module
//! loader (those live in its `quickjs-libc`, which is not built in); a script sees only the
//! language's built-ins and what it is given: its input and a `ctx` with the run's input, the
//! upstream nodes' outputs and `log`.
//!
//! Every script runs in a runtime of its own, so nothing one script leaves in its globals is
//! visible to another script, of the same workspace or another (a workspace's branch
//! conditions share one evaluator, whose globals are frozen). [`run`] loads the script for
//! one call; [`run_warm`] keeps its module loaded for the next call of the same script in the
//! same workspace (`warm.rs`: what such a module keeps between calls may survive, without any
//! promise that it will). Calls are synchronous and CPU-bound (see `workers::scripts` for
//! how async callers run them).
//!
//! A script is an ES module whose default export (or a function named `main`) is called with
//! `(input, ctx)`; it may be `async`. What it returns must be JSON (a value JSON cannot hold
//! is an error naming it, not a silent `null`).

mod module;
mod warm;

pub use warm::{
    evaluate_warm, run_warm, warm_modules, KEPT_BYTES, PER_SOURCE, PER_WORKSPACE, WARM_MODULES,
};

use module::{is_out_of_memory, Engine, Loaded};
use rquickjs::{CatchResultExt, CaughtError, Ctx, Module, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How much a script may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Heap the runtime may allocate, in bytes.
    pub memory_bytes: usize,
    /// Wall time a call may run.
    pub time: Duration,
    /// The interpreter's stack, in bytes (deep recursion stops here, well inside the thread's
    /// own stack).
    pub stack_bytes: usize,
    /// The most bytes the result may have as JSON.
    pub output_bytes: usize,
    /// The most log lines kept (later ones are counted, not kept).
    pub log_lines: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 64 << 20,
            time: Duration::from_secs(10),
            stack_bytes: 512 << 10,
            output_bytes: 1 << 20,
            log_lines: 1_000,
        }
    }
}

/// The longest log line kept; longer ones are cut.
pub const MAX_LOG_LINE: usize = 4_096;

/// Why a script did not give a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The source does not parse.
    #[error("syntax error at line {line}: {message}")]
    Syntax {
        /// 1-based line of the source.
        line: u32,
        /// 1-based column, when the engine gives one.
        column: Option<u32>,
        /// The engine's message.
        message: String,
    },
    /// The script threw.
    #[error("{message}{}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Thrown {
        /// The exception's message (`TypeError: x is not a function`).
        message: String,
        /// The source line it was thrown at, when known.
        line: Option<u32>,
    },
    /// It ran past its time limit.
    #[error("stopped: the script ran longer than {0:?}")]
    TimedOut(Duration),
    /// It was stopped from outside (the run was cancelled).
    #[error("stopped: the run was cancelled")]
    Stopped,
    /// It allocated past its memory limit.
    #[error("stopped: the script used more than {} MiB of memory", .0 >> 20)]
    OutOfMemory(usize),
    /// It recursed past its stack limit.
    #[error("stopped: the script recursed too deeply (stack overflow)")]
    StackOverflow,
    /// The module exports neither a default function nor `main`.
    #[error("the script must export a default function or a function named main")]
    NoEntry,
    /// The result is not JSON, or is too large.
    #[error("{0}")]
    Result(String),
}

/// What a call produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    /// The returned value (`undefined` is `null`).
    pub value: serde_json::Value,
    /// What it logged through `ctx.log`.
    pub logs: Vec<String>,
}

/// A switch that stops a running call at its next interrupt check (a cancelled run).
#[derive(Clone, Debug, Default)]
pub struct StopSwitch(Arc<AtomicBool>);

impl StopSwitch {
    /// Stops every call watching this switch.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether it was thrown.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub(crate) const MODULE: &str = "script";

/// Checks that `source` parses as a module, without running any of it.
pub fn check(source: &str) -> Result<(), ScriptError> {
    let engine = Engine::start(Limits::default(), &StopSwitch::default())?;
    engine.with(|ctx| {
        Module::declare(ctx.clone(), MODULE, source)
            .catch(&ctx)
            .map(|_| ())
            .map_err(|e| syntax(e, source))
    })
}

/// Runs a script in a runtime of its own: its default export (or `main`) is called with
/// `(input, ctx)`, where `ctx` is `{input: run_input, nodes, log}`. [`run_warm`] does the
/// same with the script's module kept for its next call.
pub fn run<N: serde::Serialize + ?Sized>(
    source: &str,
    input: &serde_json::Value,
    run_input: &serde_json::Value,
    nodes: &N,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<Finished, ScriptError> {
    check_source_size(source)?;
    Loaded::load(source, limits, stop)?.call(input, run_input, nodes)
}

/// Evaluates a JavaScript expression (a branch's condition, already rendered) to a value.
pub fn evaluate(
    expression: &str,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<serde_json::Value, ScriptError> {
    check_source_size(expression)?;
    Engine::start(limits, stop)?.with(|ctx| {
        // Parenthesised, so it is one expression and not statements.
        let value: Value =
            ctx.eval(format!("({expression}\n)"))
                .catch(&ctx)
                .map_err(|e| match e {
                    CaughtError::Exception(ref x)
                        if x.message().is_some_and(|m| {
                            m.contains("SyntaxError")
                                || x.get::<_, String>("name").ok().as_deref() == Some("SyntaxError")
                        }) =>
                    {
                        ScriptError::Syntax {
                            line: 1,
                            column: None,
                            message: x.message().unwrap_or_default(),
                        }
                    }
                    other => thrown(other),
                })?;
        from_js(&ctx, value, limits.output_bytes)
    })
}

/// JavaScript's truthiness of a JSON value (what an `if` would decide).
pub fn truthy(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        serde_json::Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// The most source a script may have.
pub const MAX_SOURCE_BYTES: usize = 256 << 10;

pub(crate) fn check_source_size(source: &str) -> Result<(), ScriptError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ScriptError::Syntax {
            line: 1,
            column: None,
            message: format!("the script is longer than {} KiB", MAX_SOURCE_BYTES >> 10),
        });
    }
    Ok(())
}

pub(crate) fn to_js<'js, T: serde::Serialize + ?Sized>(
    ctx: &Ctx<'js>,
    value: &T,
) -> Result<Value<'js>, ScriptError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ScriptError::Result(format!("a value cannot be given to the script: {e}")))?;
    ctx.json_parse(text).catch(ctx).map_err(thrown)
}

pub(crate) fn from_js<'js>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    cap: usize,
) -> Result<serde_json::Value, ScriptError> {
    if value.is_undefined() {
        return Ok(serde_json::Value::Null);
    }
    if value.is_function() || value.is_symbol() {
        return Err(ScriptError::Result(
            "the script returned a function or symbol, which is not JSON".to_owned(),
        ));
    }
    if value.is_big_int() {
        return Err(ScriptError::Result(
            "the script returned a BigInt, which is not JSON; return it as a string".to_owned(),
        ));
    }
    let text = ctx
        .json_stringify(value)
        .catch(ctx)
        .map_err(|e| match thrown(e) {
            ScriptError::Thrown { message, .. } => {
                ScriptError::Result(format!("the result is not JSON: {message}"))
            }
            other => other,
        })?;
    let Some(text) = text else {
        return Ok(serde_json::Value::Null);
    };
    let text = text
        .to_string()
        .map_err(|e| ScriptError::Result(format!("the result is not text: {e}")))?;
    if text.len() > cap {
        return Err(ScriptError::Result(format!(
            "the result is {} KiB as JSON; the limit is {} KiB",
            text.len() >> 10,
            cap >> 10
        )));
    }
    serde_json::from_str(&text)
        .map_err(|e| ScriptError::Result(format!("the result is not JSON: {e}")))
}

/// A caught exception as a [`ScriptError::Thrown`] with the line it came from.
pub(crate) fn thrown(e: CaughtError<'_>) -> ScriptError {
    match e {
        CaughtError::Exception(x) => {
            let name: Option<String> = x.get("name").ok();
            let message = x.message().unwrap_or_default();
            let message = match name {
                Some(name) if !name.is_empty() && !message.starts_with(&name) => {
                    format!("{name}: {message}")
                }
                _ => message,
            };
            ScriptError::Thrown {
                message,
                line: x.stack().as_deref().and_then(line_in_stack),
            }
        }
        CaughtError::Value(v) => {
            let text = v
                .ctx()
                .json_stringify(v.clone())
                .ok()
                .flatten()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("a {}", v.type_name()));
            ScriptError::Thrown {
                message: format!("the script threw {text}"),
                line: None,
            }
        }
        CaughtError::Error(rquickjs::Error::Allocation) => ScriptError::Thrown {
            message: "out of memory".to_owned(),
            line: None,
        },
        CaughtError::Error(e) => ScriptError::Thrown {
            message: e.to_string(),
            line: None,
        },
    }
}

/// A syntax error with its line (from the exception's `lineNumber`, else its stack).
pub(crate) fn syntax(e: CaughtError<'_>, source: &str) -> ScriptError {
    let last_line = source.lines().count().max(1) as u32;
    match e {
        CaughtError::Exception(x) => {
            let line: Option<u32> = x.get("lineNumber").ok().filter(|n: &u32| *n > 0);
            let column: Option<u32> = x.get("columnNumber").ok().filter(|n: &u32| *n > 0);
            let line = line
                .or_else(|| x.stack().as_deref().and_then(line_in_stack))
                .unwrap_or(1)
                .min(last_line);
            let message = x.message().unwrap_or_default();
            if is_out_of_memory(&message) {
                return ScriptError::Thrown {
                    message,
                    line: None,
                };
            }
            ScriptError::Syntax {
                line,
                column,
                message,
            }
        }
        other => thrown(other),
    }
}

/// The first `script:LINE` position in a stack trace.
fn line_in_stack(stack: &str) -> Option<u32> {
    let at = stack.find(&format!("{MODULE}:"))?;
    let rest = &stack[at + MODULE.len() + 1..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

pub(crate) fn cut(mut line: String, max: usize) -> String {
    if line.len() > max {
        let mut end = max;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}
