//! A script's module loaded in a runtime of its own: parsed, evaluated once, with its entry
//! function and the pieces every call needs (the `ctx` maker and the log line sink) kept, so
//! a call costs the call itself. [`crate::run`] loads one, calls it once and drops it;
//! [`crate::warm`] keeps them for the next call of the same script in the same workspace.
//!
//! The runtime's interrupt handler reads a [`Watch`] that each call arms with its own
//! deadline and stop switch, so a kept module obeys the limits of the call using it.

use crate::{cut, from_js, syntax, thrown, to_js, Finished, Limits, ScriptError, StopSwitch};
use crate::{MAX_LOG_LINE, MODULE};
use rquickjs::{CatchResultExt, Context, Ctx, Function, Module, Persistent, Runtime, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// What the interrupt handler checks: the running call's deadline and stop switch.
struct Watch {
    deadline: Instant,
    stop: StopSwitch,
    timed_out: bool,
}

/// A runtime and context with the interrupt handler watching [`Watch`]. The engine's own
/// stops (time, cancel, memory, stack) become their errors in [`Engine::verdict`].
pub(crate) struct Engine {
    watch: Arc<Mutex<Watch>>,
    limits: Limits,
    context: Context,
    runtime: Runtime,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// A fresh runtime armed for a call with `limits` watching `stop`.
    pub(crate) fn start(limits: Limits, stop: &StopSwitch) -> Result<Engine, ScriptError> {
        let runtime = Runtime::new()
            .map_err(|e| ScriptError::Result(format!("the sandbox did not start: {e}")))?;
        let watch = Arc::new(Mutex::new(Watch {
            deadline: Instant::now() + limits.time,
            stop: stop.clone(),
            timed_out: false,
        }));
        {
            let watch = watch.clone();
            runtime.set_interrupt_handler(Some(Box::new(move || {
                let mut watch = lock(&watch);
                if Instant::now() >= watch.deadline {
                    watch.timed_out = true;
                    return true;
                }
                watch.stop.is_stopped()
            })));
        }
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let context = Context::full(&runtime).map_err(|e| match e {
            rquickjs::Error::Allocation => ScriptError::OutOfMemory(limits.memory_bytes),
            e => ScriptError::Result(format!("the sandbox did not start: {e}")),
        })?;
        Ok(Engine {
            watch,
            limits,
            context,
            runtime,
        })
    }

    /// Arms the engine for another call: its limits, a deadline from now, its stop switch.
    pub(crate) fn arm(&mut self, limits: Limits, stop: &StopSwitch) {
        if limits.memory_bytes != self.limits.memory_bytes {
            self.runtime.set_memory_limit(limits.memory_bytes);
        }
        if limits.stack_bytes != self.limits.stack_bytes {
            self.runtime.set_max_stack_size(limits.stack_bytes);
        }
        self.limits = limits;
        *lock(&self.watch) = Watch {
            deadline: Instant::now() + limits.time,
            stop: stop.clone(),
            timed_out: false,
        };
    }

    /// `f` in the engine's context, its result with the engine's stops made their errors.
    pub(crate) fn with<T>(
        &self,
        f: impl for<'js> FnOnce(Ctx<'js>) -> Result<T, ScriptError>,
    ) -> Result<T, ScriptError> {
        let result = self.context.with(f);
        self.verdict(result)
    }

    /// The engine's own stops, whatever the script's code made of them.
    fn verdict<T>(&self, result: Result<T, ScriptError>) -> Result<T, ScriptError> {
        let watch = lock(&self.watch);
        if watch.timed_out {
            return Err(ScriptError::TimedOut(self.limits.time));
        }
        if watch.stop.is_stopped() {
            return Err(ScriptError::Stopped);
        }
        match result {
            Err(ScriptError::Thrown { message, .. }) if is_out_of_memory(&message) => {
                Err(ScriptError::OutOfMemory(self.limits.memory_bytes))
            }
            Err(ScriptError::Thrown { message, .. }) if is_stack_overflow(&message) => {
                Err(ScriptError::StackOverflow)
            }
            other => other,
        }
    }
}

pub(crate) fn is_out_of_memory(message: &str) -> bool {
    message.contains("out of memory")
}

fn is_stack_overflow(message: &str) -> bool {
    message.contains("stack overflow") || message.contains("Maximum call stack size exceeded")
}

/// A script's module, evaluated, with what its calls need.
pub(crate) struct Loaded {
    // Released before the engine (see `Drop`): a value kept past its runtime is a leak the
    // runtime's clean-up trips over.
    entry: Option<Persistent<Function<'static>>>,
    make_ctx: Option<Persistent<Function<'static>>>,
    push: Option<Persistent<Function<'static>>>,
    logs: Arc<Mutex<Vec<String>>>,
    log_cap: Arc<AtomicUsize>,
    engine: Engine,
}

// SAFETY: with rquickjs's `parallel` feature the runtime and context are `Send`; the
// persistent values point into this struct's own runtime and are restored only inside its
// context. A `Loaded` has one owner and is used by one thread at a time (the warm pool
// hands it out by value; nothing of it is shared or cloned out), so moving the whole of it
// to another thread moves nothing another thread holds.
unsafe impl Send for Loaded {}

impl Loaded {
    /// Loads `source` in a fresh runtime armed with `limits` and `stop` (its top level runs
    /// now, within them).
    pub(crate) fn load(
        source: &str,
        limits: Limits,
        stop: &StopSwitch,
    ) -> Result<Loaded, ScriptError> {
        let engine = Engine::start(limits, stop)?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let log_cap = Arc::new(AtomicUsize::new(limits.log_lines));
        // A non-exported `main` is reachable too: a line after the source names it (line
        // numbers of the source are unchanged).
        let full = format!(
            "{source}\n;export const __switchyard_main = typeof main === \"function\" ? main : undefined;"
        );
        let (sink, cap) = (logs.clone(), log_cap.clone());
        let (entry, make_ctx, push) = engine.with(|ctx| {
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
            // `Object.freeze` and `JSON.stringify` held now: a script that replaces them
            // later does not break its own `ctx`.
            let make_ctx: Function = ctx
                .eval(
                    "((freeze, stringify) => (input, nodes, push) => freeze({ input, nodes, log: (...args) => push(args.map(a => { \
                       if (typeof a === 'string') return a; \
                       try { const s = stringify(a); return s === undefined ? String(a) : s; } catch (e) { return String(a); } \
                     }).join(' ')) }))(Object.freeze, JSON.stringify)",
                )
                .catch(&ctx)
                .map_err(thrown)?;
            let push = Function::new(ctx.clone(), move |line: String| {
                let mut kept = lock(&sink);
                if kept.len() < cap.load(Ordering::Relaxed) {
                    kept.push(cut(line, MAX_LOG_LINE));
                }
            })
            .catch(&ctx)
            .map_err(thrown)?;
            Ok((
                Persistent::save(&ctx, entry),
                Persistent::save(&ctx, make_ctx),
                Persistent::save(&ctx, push),
            ))
        })?;
        Ok(Loaded {
            entry: Some(entry),
            make_ctx: Some(make_ctx),
            push: Some(push),
            logs,
            log_cap,
            engine,
        })
    }

    /// What the module's runtime holds now, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        usize::try_from(self.engine.runtime.memory_usage().malloc_size).unwrap_or(usize::MAX)
    }

    /// Arms the module for another call (see [`Engine::arm`]).
    pub(crate) fn arm(&mut self, limits: Limits, stop: &StopSwitch) {
        self.engine.arm(limits, stop);
    }

    /// Calls the entry with `(input, {input: run_input, nodes, log})`, within the limits it
    /// was last armed with.
    pub(crate) fn call<N: serde::Serialize + ?Sized>(
        &mut self,
        input: &serde_json::Value,
        run_input: &serde_json::Value,
        nodes: &N,
    ) -> Result<Finished, ScriptError> {
        let limits = self.engine.limits;
        self.log_cap.store(limits.log_lines, Ordering::Relaxed);
        lock(&self.logs).clear();
        let (entry, make_ctx, push) = (
            self.entry.clone().ok_or(ScriptError::NoEntry)?,
            self.make_ctx.clone().ok_or(ScriptError::NoEntry)?,
            self.push.clone().ok_or(ScriptError::NoEntry)?,
        );
        let value = self.engine.with(|ctx| {
            let restore = |p: Persistent<Function<'static>>| {
                p.restore(&ctx).map_err(|e| {
                    ScriptError::Result(format!("the sandbox lost the script's module: {e}"))
                })
            };
            let (entry, make_ctx, push) = (restore(entry)?, restore(make_ctx)?, restore(push)?);
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
            from_js(&ctx, value, limits.output_bytes)
        })?;
        let logs = std::mem::take(&mut *lock(&self.logs));
        Ok(Finished { value, logs })
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let kept = [self.entry.take(), self.make_ctx.take(), self.push.take()];
        self.engine.context.with(|ctx| {
            for value in kept.into_iter().flatten() {
                drop(value.restore(&ctx));
            }
        });
    }
}
