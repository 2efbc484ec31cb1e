//! A repository's index run as it happens: its status badge and progress bar follow the
//! run's job over the job's live stream, so neither waits for the list to be reloaded.

use crate::jobs::follow_job;
use leptos::prelude::*;
use shared::code::{RepositoryStatus, RepositoryView};
use shared::jobs::{JobLogEntry, JobProgress, JobStatus, JobView, QueuePlace};

/// The phases of an index run (as `codeintel` names them) and the stretch of the bar each
/// one fills, in percent. Embedding is most of a first run; scanning and writing are short.
const PHASES: [(&str, u64, u64); 5] = [
    ("scanning", 0, 5),
    ("parsing", 5, 35),
    ("resolving", 35, 45),
    ("embedding", 45, 95),
    ("writing", 95, 100),
];

/// How far the whole run is, in percent: the phase's stretch of the bar, filled as far as
/// the phase is done. A phase the console does not know shows its own percentage.
fn overall_percent(progress: &JobProgress) -> u64 {
    let within = progress.percent().unwrap_or(0);
    match PHASES.iter().find(|(phase, ..)| *phase == progress.phase) {
        Some((_, start, end)) => start + (end - start) * within / 100,
        None if progress.phase == "done" => 100,
        None => within,
    }
}

/// The repository's status while its run's job is `job` (`None` until the stream says).
fn live_status(listed: RepositoryStatus, job: Option<&JobView>) -> RepositoryStatus {
    let Some(job) = job else {
        return listed;
    };
    match job.status {
        JobStatus::Queued if job.progress.is_none() => RepositoryStatus::Queued,
        JobStatus::Queued | JobStatus::Running => RepositoryStatus::Indexing,
        JobStatus::Succeeded => RepositoryStatus::Ready,
        JobStatus::Failed | JobStatus::Cancelled | JobStatus::Dead => RepositoryStatus::Failed,
    }
}

/// The live state of a repository's index run.
#[derive(Clone, Copy)]
pub(super) struct IndexRun {
    /// The repository's status as listed, and now.
    pub status: Signal<RepositoryStatus>,
    /// The run's progress as listed, and now.
    pub progress: Signal<Option<JobProgress>>,
    /// Its place in the indexer pool's line while it waits.
    pub queue: Signal<Option<QueuePlace>>,
}

impl IndexRun {
    /// Follows `repo`'s run while it is busy (queued or indexing), and bumps `ended` once
    /// it ends so the list is reloaded; a repository at rest keeps its listed state.
    pub fn follow(slug: String, repo: &RepositoryView, ended: RwSignal<usize>) -> IndexRun {
        let job = RwSignal::new(None::<JobView>);
        if let (true, Some(job_id)) = (repo.status.is_busy(), repo.job_id.clone()) {
            // The log is not shown here; the stream needs somewhere to put it.
            let lines = RwSignal::new(None::<Vec<JobLogEntry>>);
            follow_job(
                move || Some((slug.clone(), job_id.clone())),
                || 0,
                job,
                lines,
            );
            Effect::new(move |ended_before: Option<bool>| {
                let over = job.with(|j| j.as_ref().is_some_and(|j| j.status.is_final()));
                if over && ended_before != Some(true) {
                    ended.update(|n| *n += 1);
                }
                over
            });
        }
        let listed = repo.status;
        let first = repo.progress.clone();
        IndexRun {
            status: Signal::derive(move || job.with(|j| live_status(listed, j.as_ref()))),
            progress: Signal::derive(move || {
                job.with(|j| j.as_ref().and_then(|j| j.progress.clone()))
                    .or_else(|| first.clone())
            }),
            queue: Signal::derive(move || job.with(|j| j.as_ref().and_then(|j| j.queue.clone()))),
        }
    }
}

/// A repository's status as a coloured label.
#[component]
pub(super) fn RepositoryStatusBadge(
    /// The status shown.
    #[prop(into)]
    status: Signal<RepositoryStatus>,
) -> impl IntoView {
    view! {
        <span class=move || format!("badge repo-{}", status.get().as_str()) data-testid="repo-status">
            {move || status.get().as_str()}
        </span>
    }
    .into_any()
}

/// The progress bar of an index run, over the whole run, with the phase and its count.
#[component]
pub(super) fn IndexProgress(
    /// The run's latest progress (`None` before an indexer took it).
    progress: Signal<Option<JobProgress>>,
    /// Its place in line while it waits for an indexer.
    queue: Signal<Option<QueuePlace>>,
) -> impl IntoView {
    let percent = move || progress.with(|p| p.as_ref().map_or(0, overall_percent));
    let label = move || {
        progress.with(|p| match p {
            Some(p) if p.total > 0 => format!("{} {} / {}", p.phase, p.done, p.total),
            Some(p) => p.phase.clone(),
            None => match queue.get() {
                Some(q) => format!("waiting for an indexer: {}", q.describe()),
                None => "waiting for an indexer".to_owned(),
            },
        })
    };
    view! {
        <div class="progress-wrap">
            <div class="progress" role="progressbar" aria-label="Index run" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || percent().to_string() aria-valuetext=label data-testid="index-progress">
                <div class="progress-bar" style=move || format!("width: {}%", percent())></div>
            </div>
            <span class="muted small" data-testid="index-phase">{label}</span>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(phase: &str, done: u64, total: u64) -> JobProgress {
        JobProgress {
            phase: phase.to_owned(),
            done,
            total,
        }
    }

    fn job(status: JobStatus, progress: Option<JobProgress>) -> JobView {
        JobView {
            id: shared::ids::JobId::new(),
            kind: "code.index".to_owned(),
            pool: "default".to_owned(),
            status,
            attempts: 1,
            max_attempts: 3,
            payload: serde_json::Value::Null,
            result: None,
            error: None,
            cancel_requested: false,
            created_at: "2026-11-27T10:00:00Z".to_owned(),
            started_at: None,
            finished_at: None,
            progress,
            queue: None,
        }
    }

    #[test]
    fn the_bar_moves_on_with_each_phase() {
        assert_eq!(overall_percent(&progress("scanning", 0, 0)), 0);
        assert_eq!(overall_percent(&progress("parsing", 21, 42)), 20);
        assert_eq!(overall_percent(&progress("embedding", 0, 11)), 45);
        assert_eq!(overall_percent(&progress("embedding", 11, 11)), 95);
        assert_eq!(overall_percent(&progress("writing", 1, 1)), 100);
        assert_eq!(overall_percent(&progress("done", 0, 0)), 100);
    }

    #[test]
    fn an_unknown_phase_shows_its_own_share() {
        assert_eq!(overall_percent(&progress("uploading", 1, 4)), 25);
    }

    #[test]
    fn the_badge_follows_the_run() {
        use RepositoryStatus::*;
        assert_eq!(live_status(Queued, None), Queued);
        assert_eq!(
            live_status(Queued, Some(&job(JobStatus::Queued, None))),
            Queued
        );
        let embedding = Some(progress("embedding", 0, 11));
        assert_eq!(
            live_status(Queued, Some(&job(JobStatus::Running, embedding.clone()))),
            Indexing
        );
        assert_eq!(
            live_status(Queued, Some(&job(JobStatus::Queued, embedding))),
            Indexing
        );
        assert_eq!(
            live_status(Indexing, Some(&job(JobStatus::Succeeded, None))),
            Ready
        );
        assert_eq!(
            live_status(Indexing, Some(&job(JobStatus::Dead, None))),
            Failed
        );
    }
}
