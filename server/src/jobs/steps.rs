//! What the job service writes by group commit (`group.rs`): the journal steps runs
//! finish ([`Store::record_steps`]) and the ends of attempts workers report
//! ([`Store::end_attempts`]).

use super::group::{Batch, GroupWriter};
use super::store::{EndOf, StepRecord};
use super::JobRecord;
use crate::store::{Store, StoreResult};

/// Journal steps, each answered whether its attempt still held the job.
pub(super) struct Steps {
    store: Store,
    async_commit: bool,
}

#[async_trait::async_trait]
impl Batch for Steps {
    type Item = StepRecord;
    type Answer = bool;

    async fn write(&self, items: &[StepRecord]) -> StoreResult<Vec<bool>> {
        self.store.record_steps(items, self.async_commit).await
    }
}

/// Where finished steps are recorded, those reported together in one commit.
pub(super) type StepWriter = GroupWriter<Steps>;

/// A writer of steps to `store`, its commits not waiting for the disk with
/// `async_commit` (see `JobsConfig::journal_async_commit`).
pub(super) fn step_writer(store: &Store, async_commit: bool) -> StepWriter {
    GroupWriter::new(
        store,
        Steps {
            store: store.clone(),
            async_commit,
        },
    )
}

/// Ends of attempts, each answered with the job as it became (`None`: the attempt no
/// longer held it).
pub(super) struct Ends {
    store: Store,
}

#[async_trait::async_trait]
impl Batch for Ends {
    type Item = EndOf;
    type Answer = Option<JobRecord>;

    async fn write(&self, items: &[EndOf]) -> StoreResult<Vec<Option<JobRecord>>> {
        self.store.end_attempts(items).await
    }
}

/// Where workers' reported ends are written, those reported together in one commit.
pub(super) type EndWriter = GroupWriter<Ends>;

/// A writer of ends to `store`.
pub(super) fn end_writer(store: &Store) -> EndWriter {
    GroupWriter::new(
        store,
        Ends {
            store: store.clone(),
        },
    )
}
