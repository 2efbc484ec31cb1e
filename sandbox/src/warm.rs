//! Warm modules: a script's module kept loaded after a call, so the next call of the same
//! script in the same workspace skips the runtime, the context, the parse and the module's
//! evaluation (about 200 µs of a call that takes 20 µs warm).
//!
//! A warm module belongs to one scope (the workspace) and one source: a call of another
//! workspace or another script never gets it, even with the same source. Within it, what
//! the module keeps in its own variables between calls may survive, as in a Workers
//! isolate, but nothing promises it will: a module is dropped when a call of it was stopped
//! (time, memory, stack, cancel; its state is then unknown) and when it is the least
//! recently used of more than [`WARM_MODULES`]. A call takes its module out of the pool and
//! puts it back when it is done, so two calls never share one; concurrent calls of one
//! script each load their own.

use crate::module::Loaded;
use crate::{Finished, Limits, ScriptError, StopSwitch};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

/// The most modules kept warm in this process (a module costs its runtime, about 200 KiB
/// plus what the script keeps).
pub const WARM_MODULES: usize = 64;

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

/// Puts `module` back, evicting the least recently used when the pool is full.
fn put(scope: &str, source: &str, module: Loaded) {
    let evicted = {
        let mut pool = pool();
        pool.clock += 1;
        let used = pool.clock;
        let evicted = if pool.count >= WARM_MODULES {
            least_recently_used(&mut pool)
        } else {
            None
        };
        pool.by_scope
            .entry((scope.to_owned(), hash(source)))
            .or_default()
            .push(Kept {
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

fn least_recently_used(pool: &mut Pool) -> Option<Loaded> {
    let (key, at) = pool
        .by_scope
        .iter()
        .flat_map(|(key, kept)| kept.iter().enumerate().map(move |(i, k)| (key, i, k.used)))
        .min_by_key(|(_, _, used)| *used)
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
    crate::check_source_size(source)?;
    let mut module = match take(scope, source) {
        Some(mut module) => {
            module.arm(limits, stop);
            module
        }
        None => Loaded::load(source, limits, stop)?,
    };
    let result = module.call(input, run_input, nodes);
    if reusable(&result) {
        put(scope, source, module);
    }
    result
}

/// The module that evaluates a workspace's expressions: the global `eval` of the expression,
/// parenthesised so it is one expression and not statements (as [`crate::evaluate`]). `eval`
/// is held from the start, so an expression that replaces the global one breaks nothing.
const EVALUATOR: &str =
    "const indirect = eval;\nexport default (expression) => indirect('(' + expression + '\\n)')";

/// Like [`crate::evaluate`], in a module kept warm for `scope`'s expressions.
pub fn evaluate_warm(
    scope: &str,
    expression: &str,
    limits: Limits,
    stop: &StopSwitch,
) -> Result<serde_json::Value, ScriptError> {
    crate::check_source_size(expression)?;
    let input = serde_json::Value::String(expression.to_owned());
    let null = serde_json::Value::Null;
    match run_warm(scope, EVALUATOR, &input, &null, &null, limits, stop) {
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
