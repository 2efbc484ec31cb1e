//! The script sandbox: a tenant's JavaScript runs in QuickJS (through `rquickjs`) with a
//! memory limit, a time limit enforced by the engine's interrupt handler, a stack limit, and
//! no ambient I/O. QuickJS's core has no filesystem, network, environment, timers or module
//! loader (those live in its `quickjs-libc`, which is not built in); a script sees only the
//! language's built-ins and what it is given: its input and a `ctx` with the run's input, the
//! upstream nodes' outputs and `log`.
//!
//! Every call gets a fresh runtime, so nothing one script leaves in its globals is visible to
//! another run, of the same workspace or another. Calls are synchronous and CPU-bound: the
//! async callers run them on blocking threads.
//!
//! A script is an ES module whose default export (or a function named `main`) is called with
//! `(input, ctx)`; it may be `async`. What it returns must be JSON (a value JSON cannot hold
//! is an error naming it, not a silent `null`).

use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Module, Runtime, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

const MODULE: &str = "script";

/// Checks that `source` parses as a module, without running any of it.
pub fn check(source: &str) -> Result<(), ScriptError> {
    let limits = Limits::default();
    with_engine(limits, &StopSwitch::default(), |ctx, _| {
        Module::declare(ctx.clone(), MODULE, source)
            .catch(&ctx)
            .map(|_| ())
            .map_err(|e| syntax(e, source))
    })
}

/// Runs a script: its default export (or `main`) is called with `(input, ctx)`, where `ctx`
/// is `{input: run_input, nodes, log}`.
pub fn run<N: serde::Serialize + ?Sized>(
    source: &str,
    input: &serde_json::Value,
    run_input: &serde_json::Value,
    nodes: &N,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<Finished, ScriptError> {
    check_source_size(source)?;
    // A non-exported `main` is reachable too: a line after the source names it (line numbers
    // of the source are unchanged).
    let full = format!(
        "{source}\n;export const __switchyard_main = typeof main === \"function\" ? main : undefined;"
    );
    with_engine(limits, stop, |ctx, lines| {
        let module = match Module::declare(ctx.clone(), MODULE, full.as_str()).catch(&ctx) {
            Ok(m) => m,
            Err(e) => return Err(syntax(e, source)),
        };
        let (module, promise) = module.eval().catch(&ctx).map_err(thrown)?;
        promise.finish::<()>().catch(&ctx).map_err(thrown)?;
        let entry: Value = module.get("default").catch(&ctx).map_err(thrown)?;
        let entry = match entry.into_function() {
            Some(f) => f,
            None => {
                let main: Value = module
                    .get("__switchyard_main")
                    .catch(&ctx)
                    .map_err(thrown)?;
                main.into_function().ok_or(ScriptError::NoEntry)?
            }
        };
        let make_ctx: Function = ctx
            .eval(
                "(input, nodes, push) => Object.freeze({ input, nodes, log: (...args) => push(args.map(a => { \
                   if (typeof a === 'string') return a; \
                   try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); } \
                 }).join(' ')) })",
            )
            .catch(&ctx)
            .map_err(thrown)?;
        let logs = lines.clone();
        let push = Function::new(ctx.clone(), move |line: String| {
            let mut kept = lines.borrow_mut();
            if kept.len() < limits.log_lines {
                kept.push(cut(line, MAX_LOG_LINE));
            }
        })
        .catch(&ctx)
        .map_err(thrown)?;
        let js_ctx: Value = make_ctx
            .call((to_js(&ctx, run_input)?, to_js(&ctx, nodes)?, push))
            .catch(&ctx)
            .map_err(thrown)?;
        let returned: Value = entry
            .call((to_js(&ctx, input)?, js_ctx))
            .catch(&ctx)
            .map_err(thrown)?;
        let value = match returned.as_promise() {
            Some(promise) => match promise.finish::<Value>() {
                Err(rquickjs::Error::WouldBlock) => {
                    return Err(ScriptError::Result(
                        "the script awaits something that never settles (there are no timers or I/O here)"
                            .to_owned(),
                    ))
                }
                other => other.catch(&ctx).map_err(thrown)?,
            },
            None => returned,
        };
        let value = from_js(&ctx, value, limits.output_bytes)?;
        let logs = logs.borrow().clone();
        Ok(Finished { value, logs })
    })
}

/// Evaluates a JavaScript expression (a branch's condition, already rendered) to a value.
pub fn evaluate(
    expression: &str,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<serde_json::Value, ScriptError> {
    check_source_size(expression)?;
    with_engine(limits, stop, |ctx, _| {
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

fn check_source_size(source: &str) -> Result<(), ScriptError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ScriptError::Syntax {
            line: 1,
            column: None,
            message: format!("the script is longer than {} KiB", MAX_SOURCE_BYTES >> 10),
        });
    }
    Ok(())
}

/// Runs `f` in a fresh runtime with `limits`, and turns the engine's stops (interrupt,
/// memory, stack) into their errors whatever `f` made of them.
fn with_engine<T>(
    limits: Limits,
    stop: &StopSwitch,
    f: impl for<'js> FnOnce(Ctx<'js>, Rc<RefCell<Vec<String>>>) -> Result<T, ScriptError>,
) -> Result<T, ScriptError> {
    let runtime = Runtime::new()
        .map_err(|e| ScriptError::Result(format!("the sandbox did not start: {e}")))?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(limits.stack_bytes);
    let deadline = Instant::now() + limits.time;
    let timed_out = Arc::new(AtomicBool::new(false));
    {
        let (timed_out, stop) = (timed_out.clone(), stop.clone());
        runtime.set_interrupt_handler(Some(Box::new(move || {
            if Instant::now() >= deadline {
                timed_out.store(true, Ordering::SeqCst);
                return true;
            }
            stop.is_stopped()
        })));
    }
    let context = Context::full(&runtime).map_err(|e| match e {
        rquickjs::Error::Allocation => ScriptError::OutOfMemory(limits.memory_bytes),
        e => ScriptError::Result(format!("the sandbox did not start: {e}")),
    })?;
    let lines = Rc::new(RefCell::new(Vec::new()));
    let result = context.with(|ctx| f(ctx, lines.clone()));
    if timed_out.load(Ordering::SeqCst) {
        return Err(ScriptError::TimedOut(limits.time));
    }
    if stop.is_stopped() {
        return Err(ScriptError::Stopped);
    }
    match result {
        Err(ScriptError::Thrown { message, .. }) if is_out_of_memory(&message) => {
            Err(ScriptError::OutOfMemory(limits.memory_bytes))
        }
        Err(ScriptError::Thrown { message, .. }) if is_stack_overflow(&message) => {
            Err(ScriptError::StackOverflow)
        }
        other => other,
    }
}

fn is_out_of_memory(message: &str) -> bool {
    message.contains("out of memory")
}

fn is_stack_overflow(message: &str) -> bool {
    message.contains("stack overflow") || message.contains("Maximum call stack size exceeded")
}

fn to_js<'js, T: serde::Serialize + ?Sized>(
    ctx: &Ctx<'js>,
    value: &T,
) -> Result<Value<'js>, ScriptError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ScriptError::Result(format!("a value cannot be given to the script: {e}")))?;
    ctx.json_parse(text).catch(ctx).map_err(thrown)
}

fn from_js<'js>(
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
fn thrown(e: CaughtError<'_>) -> ScriptError {
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
fn syntax(e: CaughtError<'_>, source: &str) -> ScriptError {
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

fn cut(mut line: String, max: usize) -> String {
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
