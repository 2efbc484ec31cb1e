//! Live views over WebSocket. The browser opens the stream after hydration (effects do not
//! run on the server); the server-rendered page shows the state at render time until then.

use leptos::prelude::*;
use shared::jobs::{JobLogEntry, JobView};

/// Follows a job's stream (`/api/v1/workspaces/{slug}/jobs/{id}/stream`) into `job` and
/// `lines`, reconnecting whenever `generation` changes (after a retry the job runs again).
pub fn follow_job(
    slug: impl Fn() -> String + Send + Sync + 'static,
    id: impl Fn() -> String + Send + Sync + 'static,
    generation: RwSignal<usize>,
    job: RwSignal<Option<JobView>>,
    lines: RwSignal<Option<Vec<JobLogEntry>>>,
) {
    Effect::new(move |_| {
        let _restart = generation.get();
        let path = format!("/api/v1/workspaces/{}/jobs/{}/stream", slug(), id());
        browser::open(path, job, lines);
    });
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use shared::jobs::JobStreamMessage;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    pub fn open(
        path: String,
        job: RwSignal<Option<JobView>>,
        lines: RwSignal<Option<Vec<JobLogEntry>>>,
    ) {
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
                match serde_json::from_str::<JobStreamMessage>(&text) {
                    Ok(JobStreamMessage::Job { job: j }) => job.set(Some(*j)),
                    Ok(JobStreamMessage::Log { lines: new }) => lines.update(|all| {
                        let all = all.get_or_insert_with(Vec::new);
                        let last = all.last().map_or(0, |l| l.seq);
                        all.extend(new.into_iter().filter(|l| l.seq > last));
                    }),
                    Err(_) => {}
                }
            },
        );
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The closure lives as long as the socket; the socket closes when the job ends or
        // the view goes away.
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

    /// On the server there is no browser to stream to; the page renders the stored state.
    pub fn open(
        _path: String,
        _job: RwSignal<Option<JobView>>,
        _lines: RwSignal<Option<Vec<JobLogEntry>>>,
    ) {
    }
}
