//! The warm pool's bounds: per workspace, for the whole process, and on a module's size. One
//! test in a process of its own, since filling the pool evicts what any other test keeps.

use sandbox::{run_warm, Limits, StopSwitch, KEPT_BYTES, PER_WORKSPACE, WARM_MODULES};
use serde_json::{json, Value};

const COUNTER: &str = "let calls = 0;\nexport default () => ++calls";

fn call(scope: &str, source: &str, input: Value) -> Value {
    run_warm(
        scope,
        source,
        &input,
        &json!({}),
        &json!({}),
        Limits::default(),
        &StopSwitch::default(),
    )
    .map(|f| f.value)
    .expect("the script runs")
}

fn others(scope: impl Fn(usize) -> String, count: usize) {
    for i in 0..count {
        call(&scope(i), &format!("export default () => {i}"), json!({}));
    }
}

#[test]
fn the_pool_is_bounded_per_workspace_in_all_and_by_size() {
    // A workspace's own least recently used goes first past its share.
    assert_eq!(call("bounded", COUNTER, json!({})), json!(1));
    assert_eq!(call("bounded", COUNTER, json!({})), json!(2), "kept");
    others(|_| "bounded".to_owned(), PER_WORKSPACE);
    assert_eq!(call("bounded", COUNTER, json!({})), json!(1), "evicted");
    assert!(sandbox::warm_modules() <= PER_WORKSPACE + 1);

    // The whole pool's least recently used goes first past its bound.
    assert_eq!(call("evict", COUNTER, json!({})), json!(1));
    others(|i| format!("evict-others-{i}"), WARM_MODULES);
    assert_eq!(call("evict", COUNTER, json!({})), json!(1), "evicted");
    assert!(sandbox::warm_modules() <= WARM_MODULES);

    // A module that holds more than the pool keeps is dropped after its call.
    let hoard = "const kept = [];\nexport default (mib) => { kept.push('x'.repeat(mib << 20)); return kept.length }";
    let big = json!((KEPT_BYTES >> 20) + 1);
    assert_eq!(call("hoard", hoard, big.clone()), json!(1));
    assert_eq!(call("hoard", hoard, big), json!(1), "not kept");
    assert_eq!(call("hoard", hoard, json!(1)), json!(1));
    assert_eq!(call("hoard", hoard, json!(1)), json!(2), "kept");
}
