//! Periodic refresh of views the server does not push.

use leptos::prelude::*;
use std::time::Duration;

/// Calls `tick` every `period` while the calling component lives, in the browser only
/// (effects do not run on the server, so the server renders the state at render time).
/// A resource that reads a signal `tick` bumps refetches on each tick.
pub fn every(period: Duration, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(tick.clone(), period) {
            on_cleanup(move || handle.clear());
        }
    });
}
