//! Warm modules: a script's module kept loaded after a call, so the next call of the same
//! source in the same workspace skips the runtime, the context, the parse and the module's
//! evaluation (a call of a small handler: about 15 µs warm, 100–400 µs loaded afresh).
//!
//! A warm module belongs to one scope (the workspace) and one source: a call of another
//! workspace, or of a script with another source, never gets it (two routes of one
//! workspace with the very same source may share one). Within it, what the module keeps in
//! its own variables between calls may survive, as in a Workers isolate, but nothing
//! promises it will: a module is dropped when a call of it was stopped (time, memory,
//! stack, cancel; its state is then unknown), when it holds more than [`KEPT_BYTES`], and
//! when it is the least recently used of more than [`WARM_MODULES`] (at most
//! [`PER_WORKSPACE`] per workspace and [`PER_SOURCE`] per source). A call takes its module
//! out of the pool and puts it back when it is done, so two calls never share one;
//! concurrent calls of one script each load their own.

use crate::module::Loaded;
use crate::{Finished, Limits, ScriptError, StopSwitch};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

/// The most modules kept warm in this process (a module costs its runtime, about 200 KiB
/// plus what the script keeps).
pub const WARM_MODULES: usize = 64;

/// The most modules one workspace keeps warm (its least recently used goes first).
pub const PER_WORKSPACE: usize = 16;

/// The most modules of one source in one workspace (concurrent calls each load one).
pub const PER_SOURCE: usize = 4;

/// A module holding more than this after its call is dropped, not kept: the pool's memory
/// stays near `WARM_MODULES` x this at most, whatever limits routes are given.
pub const KEPT_BYTES: usize = 16 << 20;

struct Kept {
    source: String,
    module: Loaded,
    used: u64,
}

#[derive(Default)]
struct Pool {
    by_scope: HashMap<(String, u64), Vec<Kept>>,
    count: usize,
    clock: u64,
}

static POOL: LazyLock<Mutex<Pool>> = LazyLock::new(Mutex::default);

fn pool() -> MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

fn hash(source: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut hasher);
    hasher.finish()
}

/// A warm module of `source` in `scope`, taken out of the pool.
fn take(scope: &str, source: &str) -> Option<Loaded> {
    let mut pool = pool();
    let key = (scope.to_owned(), hash(source));
    let kept = pool.by_scope.get_mut(&key)?;
    // The source is compared, not only its hash: a collision must not cross scripts.
    let at = kept.iter().rposition(|k| k.source == source)?;
    let module = kept.swap_remove(at).module;
    if kept.is_empty() {
        pool.by_scope.remove(&key);
    }
    pool.count -= 1;
    Some(module)
}

/// Puts `module` back, evicting the least recently used of its source, of its workspace
/// or of the pool when that is full; a module holding more than [`KEPT_BYTES`] is dropped.
fn put(scope: &str, source: &str, module: Loaded) {
    if module.memory_bytes() > KEPT_BYTES {
        return;
    }
    let key = (scope.to_owned(), hash(source));
    let evicted = {
        let mut pool = pool();
        pool.clock += 1;
        let used = pool.clock;
        let same_source = pool
            .by_scope
            .get(&key)
            .map_or(0, |kept| kept.iter().filter(|k| k.source == source).count());
        let same_scope: usize = pool
            .by_scope
            .iter()
            .filter(|((s, _), _)| s == scope)
            .map(|(_, kept)| kept.len())
            .sum();
        let evicted = if same_source >= PER_SOURCE {
            least_recently_used(&mut pool, |(s, h), k| {
                s == scope && *h == key.1 && k.source == source
            })
        } else if same_scope >= PER_WORKSPACE {
            least_recently_used(&mut pool, |(s, _), _| s == scope)
        } else if pool.count >= WARM_MODULES {
            least_recently_used(&mut pool, |_, _| true)
        } else {
            None
        };
        pool.by_scope.entry(key).or_default().push(Kept {
            source: source.to_owned(),
            module,
            used,
        });
        pool.count += 1;
        evicted
    };
    // Dropped outside the lock: freeing a runtime takes a while.
    drop(evicted);
}

/// Takes the least recently used module among those `among` picks out of the pool.
fn least_recently_used(
    pool: &mut Pool,
    among: impl Fn(&(String, u64), &Kept) -> bool,
) -> Option<Loaded> {
    let (key, at) = pool
        .by_scope
        .iter()
        .flat_map(|(key, kept)| kept.iter().enumerate().map(move |(i, k)| (key, i, k)))
        .filter(|(key, _, k)| among(key, k))
        .min_by_key(|(_, _, k)| k.used)
        .map(|(key, at, _)| (key.clone(), at))?;
    let kept = pool.by_scope.get_mut(&key)?;
    let module = kept.swap_remove(at).module;
    if kept.is_empty() {
        pool.by_scope.remove(&key);
    }
    pool.count -= 1;
    Some(module)
}

/// How many modules are warm now.
pub fn warm_modules() -> usize {
    pool().count
}

/// Whether a module may be used again after its call ended with `result`: not when the
/// engine stopped it, since it may have stopped anywhere.
fn reusable(result: &Result<Finished, ScriptError>) -> bool {
    matches!(
        result,
        Ok(_) | Err(ScriptError::Thrown { .. }) | Err(ScriptError::Result(_))
    )
}

/// Like [`crate::run`], with the module of `source` in `scope` reused when one is warm
/// and kept warm afterwards.
pub fn run_warm<N: serde::Serialize + ?Sized>(
    scope: &str,
    source: &str,
    input: &serde_json::Value,
    run_input: &serde_json::Value,
    nodes: &N,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<Finished, ScriptError> {
    call_warm(
        scope,
        source,
        (input, run_input, nodes),
        limits,
        stop,
        reusable,
    )
}

/// A call of `source`'s module in `scope` with `(input, run_input, nodes)`: a warm module
/// when there is one, kept afterwards when `keep` says so of the call's result.
fn call_warm<N: serde::Serialize + ?Sized>(
    scope: &str,
    source: &str,
    (input, run_input, nodes): (&serde_json::Value, &serde_json::Value, &N),
    limits: Limits,
    stop: &StopSwitch,
    keep: fn(&Result<Finished, ScriptError>) -> bool,
) -> Result<Finished, ScriptError> {
    crate::check_source_size(source)?;
    let mut module = match take(scope, source) {
        Some(mut module) => {
            module.arm(limits, stop);
            module
        }
        None => Loaded::load(source, limits, stop)?,
    };
    let result = module.call(input, run_input, nodes);
    if keep(&result) {
        put(scope, source, module);
    }
    result
}

/// The module that evaluates a workspace's expressions: the global `eval` of the expression,
/// parenthesised so it is one expression and not statements (as [`crate::evaluate`]).
/// `eval` is held from the start, and once the module is loaded the global object and
/// every built-in reachable from it (their prototypes, properties and accessors) are
/// frozen, so no expression can leave anything behind for the next one (expressions are
/// the pipelines' own text: templates put run data in as JSON literals).
const EVALUATOR: &str = "const indirect = eval;
const seen = new Set();
const harden = (o) => {
  if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) return;
  seen.add(o);
  Object.freeze(o);
  for (const key of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) { harden(d.value); harden(d.get); harden(d.set); }
  }
  harden(Object.getPrototypeOf(o));
};
harden(globalThis);
export default (expression) => indirect('(' + expression + '\\n)');";

/// Like [`crate::evaluate`], in a module kept warm for `scope`'s expressions (see
/// [`EVALUATOR`]).
pub fn evaluate_warm(
    scope: &str,
    expression: &str,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<serde_json::Value, ScriptError> {
    crate::check_source_size(expression)?;
    let input = serde_json::Value::String(expression.to_owned());
    let null = serde_json::Value::Null;
    // Kept only after a result: an expression that threw may have found a way to leave
    // the evaluator in a state the next one should not meet.
    let keep = |result: &Result<Finished, ScriptError>| result.is_ok();
    match call_warm(scope, EVALUATOR, (&input, &null, &null), limits, stop, keep) {
        Ok(finished) => Ok(finished.value),
        Err(ScriptError::Thrown { message, .. }) if message.starts_with("SyntaxError") => {
            Err(ScriptError::Syntax {
                line: 1,
                column: None,
                message: message
                    .trim_start_matches("SyntaxError")
                    .trim_start_matches(": ")
                    .to_owned(),
            })
        }
        Err(e) => Err(e),
    }
}
