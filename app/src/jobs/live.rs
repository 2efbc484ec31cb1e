//! Live views over WebSocket. The browser opens the stream after hydration (effects do not
//! run on the server); the server-rendered page shows the state at render time until then.

use leptos::prelude::*;
use shared::jobs::{JobLogEntry, JobStreamMessage, JobView};

/// Follows a job's stream into `job` and `lines`. `target` gives the workspace slug and the
/// job id; the stream (`/api/v1/workspaces/{slug}/jobs/{id}/stream`) is reopened when it
/// names another job or when `restart` changes (after a retry the job runs again), and
/// closed when the calling component goes away.
///
/// While a page is being left its route parameters stop naming a job (`target` answers
/// `None`): then nothing is opened, since the component is about to be torn down and the
/// socket would be closed the moment it opened.
pub(crate) fn follow_job(
    target: impl Fn() -> Option<(String, String)> + Send + Sync + 'static,
    restart: impl Fn() -> usize + 'static,
    job: RwSignal<Option<JobView>>,
    lines: RwSignal<Option<Vec<JobLogEntry>>>,
) {
    // Only a change of the job itself reopens the stream, not every change of the route.
    let target = Memo::new(move |_| target());
    Effect::new(move |_| {
        restart();
        let Some((slug, id)) = target.get() else {
            return;
        };
        // What the previous stream said belongs to another job or another attempt.
        job.set(None);
        lines.set(None);
        crate::components::open_socket(
            &format!("/api/v1/workspaces/{slug}/jobs/{id}/stream"),
            move |text| match serde_json::from_str::<JobStreamMessage>(&text) {
                Ok(JobStreamMessage::Job { job: j }) => job.set(Some(*j)),
                Ok(JobStreamMessage::Log { lines: new }) => lines.update(|all| {
                    let all = all.get_or_insert_with(Vec::new);
                    let last = all.last().map_or(0, |l| l.seq);
                    all.extend(new.into_iter().filter(|l| l.seq > last));
                }),
                Err(_) => {}
            },
        );
    });
}
