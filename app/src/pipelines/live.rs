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
        browser::open(
            format!("/api/v1/workspaces/{slug}/runs/{id}/stream"),
            run,
            started,
        );
    });
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    /// Opens the WebSocket at `path` on this host; closed when the view goes away.
    pub fn open(path: String, run: RwSignal<RunView>, started: RwSignal<Vec<String>>) {
        let Some(location) = web_sys::window().map(|w| w.location()) else {
            return;
        };
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let Ok(host) = location.host() else {
            return;
        };
        let Ok(socket) = web_sys::WebSocket::new(&format!("{scheme}://{host}{path}")) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
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
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let socket = send_wrapper::SendWrapper::new(socket);
        on_cleanup(move || {
            let _ = socket.close();
        });
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::*;

    /// On the server the page renders the stored run.
    pub fn open(_path: String, _run: RwSignal<RunView>, _started: RwSignal<Vec<String>>) {}
}
