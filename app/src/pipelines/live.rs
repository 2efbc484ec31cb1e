//! A run's live stream in the browser: `/api/v1/workspaces/{slug}/runs/{id}/stream` sends
//! the run whenever it changes and each node as it starts; the page shows what the server
//! rendered until the stream has something newer.

use leptos::prelude::*;
use shared::pipelines::views::RunView;

/// Follows run `id` of `slug` into `run` (and `started`: nodes that started since).
pub(crate) fn follow_run(
    slug: String,
    id: String,
    run: RwSignal<RunView>,
    started: RwSignal<Vec<String>>,
) {
    Effect::new(move |_| {
        crate::components::open_socket(
            &format!("/api/v1/workspaces/{slug}/runs/{id}/stream"),
            move |text| {
                let Ok(message) = serde_json::from_str::<serde_json::Value>(&text) else {
                    return;
                };
                match message["type"].as_str() {
                    Some("run") => {
                        if let Ok(view) = serde_json::from_value::<RunView>(message["run"].clone())
                        {
                            started.set(Vec::new());
                            run.set(view);
                        }
                    }
                    Some("started") => {
                        if let Some(node) = message["node"].as_str() {
                            started.update(|s| s.push(node.to_owned()));
                        }
                    }
                    _ => {}
                }
            },
        );
    });
}
