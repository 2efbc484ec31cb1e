//! Jobs: the job list with its queues and "Run a test job", a job with its live log, the
//! workers of the pools the workspace can use, and the browser's side of a job's live
//! stream.

pub mod api;
mod job;
mod job_list;
mod live;
mod test_job;
mod workers;

pub use job::JobPage;
pub use job_list::JobsPage;
pub(crate) use live::follow_job;
pub use workers::WorkersPage;

lazy_routes!(jobs_pages {
    /// `/w/:slug/jobs`.
    JobsRoute => JobsPage,
    /// `/w/:slug/jobs/:id`.
    JobRoute => JobPage,
    /// `/w/:slug/workers`.
    WorkersRoute => WorkersPage,
});
