//! Durable jobs, their log lines, and the worker registry. A job exists here before anyone
//! hears of it; every change of a running job is fenced by its lease holder and attempt
//! number, so a worker that lost its lease cannot overwrite what replaced it.
//! Job times are Unix milliseconds.

use crate::store::{Backend, Scope, Store, StoreError, StoreResult};
use shared::ids::{JobId, TenantId};
use shared::jobs::JobStatus;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// Job id.
    pub id: JobId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// The worker pool that runs it.
    pub pool: String,
    /// What to run (`diagnostic`, ...).
    pub kind: String,
    /// Its input, JSON.
    pub payload: String,
    /// Where it is in its life.
    pub status: JobStatus,
    /// Attempts started so far.
    pub attempt: i64,
    /// Attempts allowed in all.
    pub max_attempts: i64,
    /// The worker holding the lease of the running attempt.
    pub lease_holder: Option<String>,
    /// When that lease runs out.
    pub lease_expires_at: Option<i64>,
    /// Earliest moment to run (later than creation for a retry).
    pub run_at: i64,
    /// When it was last put on the bus; `None` while it waits to be.
    pub dispatched_at: Option<i64>,
    /// Whether someone asked to stop it.
    pub cancel_requested: bool,
    /// The result of a successful run, JSON.
    pub result: Option<String>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// Submission time.
    pub created_at: i64,
    /// When the first attempt started.
    pub started_at: Option<i64>,
    /// When it reached a final state.
    pub finished_at: Option<i64>,
    /// The latest progress report of the running (or last) attempt, JSON.
    pub progress: Option<String>,
}

/// Jobs marked dispatched in one statement at most (two parameters each).
const MARKED_AT_ONCE: usize = 200;

/// Workspaces whose next jobs are read in one statement at most (two parameters each).
pub const TENANTS_AT_ONCE: usize = 32;

/// A pool with jobs waiting for a ticket, and its room for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolRoom {
    /// The pool.
    pub pool: String,
    /// Its online workers' slots.
    pub slots: i64,
    /// Its jobs that hold a slot or are about to: running, or with a ticket on the bus.
    pub outstanding: i64,
    /// The workspaces with jobs due here and no ticket yet, in id order, each with its
    /// active jobs in every pool ([`Store::active_jobs`]).
    pub waiting: Vec<(TenantId, i64)>,
}

const JOB_COLUMNS: &str = "id, tenant_id, pool, kind, payload, status, attempt, max_attempts, lease_holder, \
     lease_expires_at, run_at, dispatched_at, cancel_requested, result, error, created_at, started_at, finished_at, progress";

fn parse<T: std::str::FromStr>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let raw: String = row.try_get(column)?;
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} {raw:?}")))
}

impl JobRecord {
    /// A new job, queued to run at `now` with no attempt made yet.
    pub fn queued(
        tenant_id: TenantId,
        pool: &str,
        kind: String,
        payload: String,
        max_attempts: i64,
        now: i64,
    ) -> JobRecord {
        JobRecord {
            id: JobId::new(),
            tenant_id,
            pool: pool.to_owned(),
            kind,
            payload,
            status: JobStatus::Queued,
            attempt: 0,
            max_attempts,
            lease_holder: None,
            lease_expires_at: None,
            run_at: now,
            dispatched_at: None,
            cancel_requested: false,
            result: None,
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            progress: None,
        }
    }

    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: parse(row, "id")?,
            tenant_id: parse(row, "tenant_id")?,
            pool: row.try_get("pool")?,
            kind: row.try_get("kind")?,
            payload: row.try_get("payload")?,
            status: parse(row, "status")?,
            attempt: row.try_get("attempt")?,
            max_attempts: row.try_get("max_attempts")?,
            lease_holder: row.try_get("lease_holder")?,
            lease_expires_at: row.try_get("lease_expires_at")?,
            run_at: row.try_get("run_at")?,
            dispatched_at: row.try_get("dispatched_at")?,
            cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
            result: row.try_get("result")?,
            error: row.try_get("error")?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            progress: row.try_get("progress")?,
        })
    }
}

/// How an attempt ended, as its worker (or the lease sweeper) reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptEnd {
    /// Done; the result, JSON.
    Succeeded(String),
    /// Failed and will run again at `retry_at` (ms).
    Retry {
        /// The error.
        error: String,
        /// When to run again.
        retry_at: i64,
    },
    /// Failed and used up its attempts: dead letter.
    Dead(String),
    /// Failed in a way retrying cannot fix.
    Failed(String),
    /// Stopped on request.
    Cancelled,
    /// Handed back unfinished by a draining worker: queued again at once, not counted.
    Released,
    /// Waiting until the time (ms), holding no worker: queued again for then, not counted.
    Sleep(i64),
}

/// A log line of a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobLogLine {
    /// Position in the job's log (per job, from 1; a retry continues the count).
    pub seq: i64,
    /// When it was written (ms).
    pub at: i64,
    /// The text.
    pub line: String,
}

/// A worker process (or in-process pool) as it last reported itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerRecord {
    /// Worker id (unique per process start).
    pub id: String,
    /// Its pool.
    pub pool: String,
    /// Its host name.
    pub host: String,
    /// `online`, `draining` or `offline`.
    pub status: String,
    /// Jobs it runs now.
    pub running: i64,
    /// Jobs it runs at most at once.
    pub concurrency: i64,
    /// When it started (ms).
    pub started_at: i64,
    /// Its last heartbeat (ms).
    pub last_heartbeat: i64,
}

impl WorkerRecord {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            pool: row.try_get("pool")?,
            host: row.try_get("host")?,
            status: row.try_get("status")?,
            running: row.try_get("running")?,
            concurrency: row.try_get("concurrency")?,
            started_at: row.try_get("started_at")?,
            last_heartbeat: row.try_get("last_heartbeat")?,
        })
    }
}

/// Which jobs to list.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub status: Option<JobStatus>,
    /// Only jobs of this pool.
    pub pool: Option<String>,
    /// At most this many (newest first).
    pub limit: i64,
}

/// A finished step to record in its job's journal (see [`Store::record_steps`]).
#[derive(Clone, Debug)]
pub struct StepRecord {
    /// The job's workspace.
    pub tenant: TenantId,
    /// The job.
    pub job: JobId,
    /// The worker that ran the step.
    pub worker: String,
    /// Its attempt at the job.
    pub attempt: i64,
    /// The step's key in the journal.
    pub key: String,
    /// The journal entry (JSON).
    pub entry: String,
    /// When it was recorded (ms since the epoch).
    pub at: i64,
}

impl Store {
    /// Records a new job (queued, not yet dispatched).
    pub async fn insert_job(&self, job: &JobRecord) -> StoreResult<()> {
        let mut one = self.begin_statement(Scope::Tenant(job.tenant_id)).await?;
        insert_job_in(&mut one, job).await?;
        one.commit().await?;
        Ok(())
    }

    /// Stores a new job unless its workspace holds `max_own` open jobs of its pool already
    /// or the pool's queue is deeper than `max_depth` (`None`: admits none). On PostgreSQL
    /// judged and stored in one statement, one round trip on a system connection (a
    /// refusal then reads the counts again for its message: they may have moved since). On SQLite the counts are read on the
    /// readers, then the job inserted: counting on the one writer would hold it for every
    /// open job of the pool (measured: a run's fixed cost rose by a third).
    pub async fn submit_job(
        &self,
        job: &JobRecord,
        max_own: i64,
        max_depth: Option<i64>,
    ) -> StoreResult<Admission> {
        let max_depth = max_depth.unwrap_or(-1);
        if self.backend == Backend::Sqlite {
            let (own, depth) = self.pool_open_jobs(job.tenant_id, &job.pool).await?;
            if own >= max_own || depth > max_depth {
                return Ok(Admission::Refused { own, depth });
            }
            self.insert_job(job).await?;
            return Ok(Admission::Stored);
        }
        let mut one = self.begin_statement(Scope::System).await?;
        let sql = format!(
            "INSERT INTO jobs ({JOB_COLUMNS}, attempts_granted)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20
             WHERE (SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND asleep = 0
                    AND pool = $3 AND tenant_id = $2) < $21
             AND (SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND asleep = 0
                    AND pool = $3) <= $22"
        );
        let stored = bind_job(sqlx::query(&sql), job)
            .bind(max_own)
            .bind(max_depth)
            .execute(&mut *one)
            .await?
            .rows_affected()
            == 1;
        one.commit().await?;
        if stored {
            return Ok(Admission::Stored);
        }
        let (own, depth) = self.pool_open_jobs(job.tenant_id, &job.pool).await?;
        Ok(Admission::Refused { own, depth })
    }

    /// One job of `tenant`.
    pub async fn job(&self, tenant: TenantId, id: JobId) -> StoreResult<Option<JobRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|r| JobRecord::from_row(&r)).transpose()
    }

    /// `tenant`'s jobs of `ids` (those it has), in one read.
    pub async fn jobs_by_id(&self, tenant: TenantId, ids: &[JobId]) -> StoreResult<Vec<JobRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND id IN ({})",
            crate::store::placeholders(2, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(tenant.to_string());
        for id in ids {
            query = query.bind(id.to_string());
        }
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter().map(JobRecord::from_row).collect()
    }

    /// A job by id alone, for the control plane's own bookkeeping (any tenant).
    pub async fn job_any_tenant(&self, id: JobId) -> StoreResult<Option<JobRecord>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|r| JobRecord::from_row(&r)).transpose()
    }

    /// Jobs of `tenant`, newest first.
    pub async fn jobs(&self, tenant: TenantId, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1
             AND ($2 = '' OR status = $2) AND ($3 = '' OR pool = $3)
             ORDER BY created_at DESC, id LIMIT $4"
        ))
        .bind(tenant.to_string())
        .bind(filter.status.map(JobStatus::as_str).unwrap_or(""))
        .bind(filter.pool.clone().unwrap_or_default())
        .bind(filter.limit.clamp(1, 500))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(JobRecord::from_row).collect()
    }

    /// Every pool with queued jobs due at `now` and no ticket on the bus yet, with its room
    /// and the workspaces waiting on it, in one read (the dispatcher's start of a round).
    pub async fn rooms_with_due_jobs(&self, now: i64) -> StoreResult<Vec<PoolRoom>> {
        let mut read = self.begin_read(Scope::System).await?;
        let rows = sqlx::query(&format!(
            "WITH waiting AS (SELECT DISTINCT pool, tenant_id FROM jobs WHERE status = 'queued'
                              AND dispatched_at IS NULL AND run_at <= $1),
                  room AS (SELECT p.pool AS pool,
                     (SELECT CAST(COALESCE(SUM(k.concurrency), 0) AS BIGINT) FROM workers k
                      WHERE k.pool = p.pool AND k.status = 'online') AS slots,
                     (SELECT COUNT(*) FROM jobs o WHERE o.pool = p.pool
                      AND (o.status = 'running' OR (o.status = 'queued' AND o.dispatched_at IS NOT NULL))) AS outstanding
                   FROM (SELECT DISTINCT pool FROM waiting) p)
             SELECT w.pool AS pool, w.tenant_id AS tenant_id, r.slots AS slots, r.outstanding AS outstanding,
                    (SELECT COUNT(*) FROM jobs a WHERE a.tenant_id = w.tenant_id AND {ACTIVE}) AS active
             FROM waiting w JOIN room r ON r.pool = w.pool
             ORDER BY w.pool, w.tenant_id"
        ))
        .bind(now)
        .fetch_all(&mut *read)
        .await?;
        read.commit().await?;
        let mut rooms: Vec<PoolRoom> = Vec::new();
        for row in &rows {
            let pool: String = row.try_get("pool")?;
            let tenant = parse(row, "tenant_id")?;
            let active: i64 = row.try_get("active")?;
            match rooms.last_mut() {
                Some(room) if room.pool == pool => room.waiting.push((tenant, active)),
                _ => rooms.push(PoolRoom {
                    pool,
                    slots: row.try_get("slots")?,
                    outstanding: row.try_get("outstanding")?,
                    waiting: vec![(tenant, active)],
                }),
            }
        }
        // The same order on both engines, whatever their collations.
        rooms.sort_by(|a, b| a.pool.cmp(&b.pool));
        for room in &mut rooms {
            room.waiting.sort();
        }
        Ok(rooms)
    }

    /// The next jobs of several workspaces in `pool`: for each `(tenant, take)`, up to
    /// `take` of its jobs due at `now` without a ticket, oldest first. One read for up to
    /// [`TENANTS_AT_ONCE`] workspaces (a limited select of each, side by side).
    pub async fn due_jobs_of(
        &self,
        pool: &str,
        takes: &[(TenantId, i64)],
        now: i64,
    ) -> StoreResult<Vec<JobRecord>> {
        let mut jobs = Vec::new();
        let takes: Vec<(TenantId, i64)> = takes.iter().copied().filter(|(_, n)| *n > 0).collect();
        for part in takes.chunks(TENANTS_AT_ONCE) {
            let selects: Vec<String> = (0..part.len())
                .map(|i| {
                    format!(
                        "SELECT * FROM (SELECT {JOB_COLUMNS} FROM jobs WHERE pool = $1 AND tenant_id = ${}
                         AND status = 'queued' AND dispatched_at IS NULL AND run_at <= $2
                         ORDER BY run_at, created_at LIMIT ${}) AS t{i}",
                        3 + 2 * i,
                        4 + 2 * i
                    )
                })
                .collect();
            let sql = selects.join(" UNION ALL ");
            let mut query = sqlx::query(&sql).bind(pool).bind(now);
            for (tenant, take) in part {
                query = query.bind(tenant.to_string()).bind(*take);
            }
            let mut read = self.begin_read(Scope::System).await?;
            let rows = query.fetch_all(&mut *read).await?;
            read.commit().await?;
            for row in &rows {
                jobs.push(JobRecord::from_row(row)?);
            }
        }
        // Each workspace's oldest first, whatever order the parts came back in.
        jobs.sort_by(|a, b| {
            (a.tenant_id, a.run_at, a.created_at).cmp(&(b.tenant_id, b.run_at, b.created_at))
        });
        Ok(jobs)
    }

    /// Queued jobs whose ticket went on the bus before `stale_before` and was never claimed
    /// (lost with a restarted bus), oldest first.
    pub async fn stale_dispatches(
        &self,
        stale_before: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobRecord>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'queued' AND dispatched_at < $1
             ORDER BY dispatched_at LIMIT $2"
        ))
        .bind(stale_before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(JobRecord::from_row).collect()
    }

    /// Jobs of `pool` that hold a slot or are about to: running, or with a ticket on the bus.
    pub async fn pool_outstanding(&self, pool: &str) -> StoreResult<i64> {
        let mut tx = self.begin_read(Scope::System).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE pool = $1
             AND (status = 'running' OR (status = 'queued' AND dispatched_at IS NOT NULL))",
        )
        .bind(pool)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Where a queued job without a ticket stands in its pool: how many of its own
    /// workspace's jobs wait ahead of it, and how many jobs every other workspace has
    /// waiting (the dispatcher takes workspaces in turn).
    pub async fn queue_standing(&self, job: &JobRecord) -> StoreResult<(i64, Vec<i64>)> {
        let mut tx = self.begin_read(Scope::System).await?;
        let mine: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE tenant_id = $1 AND pool = $2 AND status = 'queued'
             AND dispatched_at IS NULL AND (run_at < $3 OR (run_at = $3 AND created_at < $4))",
        )
        .bind(job.tenant_id.to_string())
        .bind(&job.pool)
        .bind(job.run_at)
        .bind(job.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let others: Vec<i64> = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE pool = $1 AND status = 'queued'
             AND dispatched_at IS NULL AND tenant_id <> $2 AND run_at <= $3 GROUP BY tenant_id",
        )
        .bind(&job.pool)
        .bind(job.tenant_id.to_string())
        .bind(crate::clock::now_ms())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((mine, others))
    }

    /// How long the last 20 successful jobs of `pool` ran on average, in milliseconds.
    pub async fn recent_run_time(&self, pool: &str) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let avg: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(AVG(d) AS BIGINT) FROM (SELECT finished_at - started_at AS d FROM jobs
             WHERE pool = $1 AND status = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL
             ORDER BY finished_at DESC LIMIT 20) recent",
        )
        .bind(pool)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(avg)
    }

    /// The slots of `pool`'s online workers.
    pub async fn online_slots(&self, pool: &str) -> StoreResult<i64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(concurrency) AS BIGINT) FROM workers WHERE pool = $1 AND status = 'online'",
        )
        .bind(pool)
        .fetch_one(&self.readers)
        .await?;
        Ok(n.unwrap_or(0))
    }

    /// Notes that queued jobs (id and attempt) were put on the bus, in one statement, each
    /// unless it moved on meanwhile (claimed, failed and queued again: that retry must not
    /// inherit this dispatch).
    pub async fn mark_dispatched(&self, jobs: &[(JobId, i64)], now: i64) -> StoreResult<()> {
        for part in jobs.chunks(MARKED_AT_ONCE) {
            let ids = crate::store::placeholders(2, part.len());
            let attempts: String = (0..part.len())
                .map(|i| format!(" WHEN ${} THEN ${}", 2 + i, 2 + part.len() + i))
                .collect();
            let sql = format!(
                "UPDATE jobs SET dispatched_at = $1 WHERE id IN ({ids}) AND status = 'queued'
                 AND attempt = CASE id{attempts} END"
            );
            let mut query = sqlx::query(&sql).bind(now);
            for (id, _) in part {
                query = query.bind(id.to_string());
            }
            for (_, attempt) in part {
                query = query.bind(*attempt);
            }
            let mut one = self.begin_statement(Scope::System).await?;
            query.execute(&mut *one).await?;
            one.commit().await?;
        }
        Ok(())
    }

    /// Starts an attempt: `tenant`'s queued job becomes running under `worker`'s lease
    /// until `lease_until`, in one statement. `None` when the job is not `tenant`'s queued
    /// job (claimed already, cancelled, done, another workspace's, gone).
    pub async fn claim_job(
        &self,
        tenant: TenantId,
        id: JobId,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<JobRecord>> {
        let mut one = self.begin_statement(Scope::System).await?;
        let record = claim_in(&mut one, tenant, id, worker, now, lease_until).await?;
        one.commit().await?;
        Ok(record)
    }

    /// [`Store::claim_job`], with what the attempt resumes from: the job's last log
    /// sequence number and its journal ([`Store::job_steps`]), in one statement (see
    /// [`Store::resume_columns`]).
    pub async fn claim_job_to_resume(
        &self,
        tenant: TenantId,
        id: JobId,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<Claimed>> {
        let sql = format!("{CLAIM} RETURNING {}", self.resume_columns());
        let mut one = self.begin_statement(Scope::System).await?;
        let row = bind_claim(sqlx::query(&sql), tenant, id, worker, now, lease_until)
            .fetch_optional(&mut *one)
            .await?;
        one.commit().await?;
        row.as_ref().map(Claimed::from_row).transpose()
    }

    /// Claims up to `next.at_most` due jobs of `next.pool` for its worker (see
    /// [`Store::claim_job_to_resume`] for what each answers), chosen as the dispatcher
    /// does, in one statement: the workspaces with jobs due at `now` (and not asked to
    /// stop) take turns in the order of their ids, starting after `after` (the workspace
    /// served last) and wrapping round, each its oldest due job a turn, for as many turns
    /// as it has room within `concurrency` (its jobs running in any pool, or with a ticket
    /// out in another pool). A pool claimed this way gets no tickets; a job of it with one
    /// sent before (the ticket is never pulled) is claimed like any other, and its ticket
    /// does not count against its workspace. Empty when no job is due, or every workspace
    /// with one is at its concurrency. A row that cannot be read back is logged and left
    /// out (its lease expires and it runs again), not the whole claim.
    ///
    /// On PostgreSQL, a job another process claims at the same moment is left to it (this
    /// claim takes fewer), and two processes at once may take a workspace past its
    /// concurrency (one process makes its claims one at a time).
    pub async fn claim_next_jobs(
        &self,
        next: &NextJobs<'_>,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let NextJobs {
            pool,
            worker,
            concurrency,
            after,
            at_most,
        } = *next;
        let sql = format!(
            "WITH due AS (SELECT id, tenant_id,
                     ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY run_at, created_at, id) AS turn
                   FROM jobs WHERE pool = $4 AND status = 'queued' AND run_at <= $3
                   AND cancel_requested = 0),
                  room AS (SELECT w.tenant_id,
                     $5 - (SELECT COUNT(*) FROM jobs a WHERE a.tenant_id = w.tenant_id AND {ACTIVE}
                           AND NOT (a.pool = $4 AND a.status = 'queued')) AS free
                   FROM (SELECT DISTINCT tenant_id FROM due) w),
                  chosen AS (SELECT d.id FROM due d JOIN room r ON r.tenant_id = d.tenant_id
                   WHERE d.turn <= r.free
                   ORDER BY d.turn, d.tenant_id <= $6, d.tenant_id LIMIT $7)
             UPDATE jobs SET status = 'running', attempt = attempt + 1, lease_holder = $1,
                lease_expires_at = $2, started_at = COALESCE(started_at, $3), asleep = 0
             WHERE id IN (SELECT id FROM chosen) AND status = 'queued'
             RETURNING {}",
            self.resume_columns()
        );
        let mut one = self.begin_statement(Scope::System).await?;
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(pool)
            .bind(concurrency)
            // Before every workspace id: with no one served yet, all come in id order.
            .bind(after.map(|t| t.to_string()).unwrap_or_default())
            .bind(at_most)
            .fetch_all(&mut *one)
            .await?;
        one.commit().await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            match Claimed::from_row(row) {
                Ok(one) => claimed.push(one),
                Err(e) => {
                    tracing::error!(error = %e, "a claimed job could not be read; its lease will expire")
                }
            }
        }
        Ok(claimed)
    }

    /// What a claim's `RETURNING` answers: the job, and what its attempt resumes from, its
    /// last log sequence number and its journal, read by the claim itself: on SQLite one
    /// trip to the writer (reading a new job's empty journal there costs less than a trip
    /// to a reader, whose page cache every write empties; a resumed job's journal, a
    /// retry's or a woken sleeper's, is read while the writer is held), on PostgreSQL one
    /// round trip on a system connection.
    fn resume_columns(&self) -> String {
        let journal = match self.backend {
            Backend::Sqlite => "json_group_array(s.entry ORDER BY s.recorded_at, s.key)",
            Backend::Postgres => {
                "COALESCE(json_agg(s.entry ORDER BY s.recorded_at, s.key), '[]'::json)::text"
            }
        };
        format!(
            "{JOB_COLUMNS},
               (SELECT COALESCE(MAX(l.seq), 0) FROM job_logs l WHERE l.job_id = jobs.id) AS log_seq,
               (SELECT {journal} FROM job_steps s
                WHERE s.job_id = jobs.id AND s.tenant_id = jobs.tenant_id) AS steps"
        )
    }

    /// Extends the lease of a running attempt; `false` when `worker` no longer holds it.
    pub async fn extend_lease(
        &self,
        id: JobId,
        worker: &str,
        attempt: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::System).await?;
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1
             WHERE id = $2 AND status = 'running' AND lease_holder = $3 AND attempt = $4",
        )
        .bind(lease_until)
        .bind(id.to_string())
        .bind(worker)
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a running attempt, fenced: only `worker` holding attempt `attempt` may. Answers
    /// the job as it is now, or `None` when the fence refused (the attempt was replaced).
    pub async fn end_attempt(
        &self,
        id: JobId,
        worker: &str,
        attempt: i64,
        end: &AttemptEnd,
        now: i64,
    ) -> StoreResult<Option<JobRecord>> {
        self.end_running(None, id, Some(worker), attempt, None, end, now)
            .await
    }

    /// [`Store::end_attempt`] of `tenant`'s job only: `None` too when the job is another
    /// workspace's.
    pub async fn end_attempt_of(
        &self,
        tenant: TenantId,
        id: JobId,
        worker: &str,
        attempt: i64,
        end: &AttemptEnd,
        now: i64,
    ) -> StoreResult<Option<JobRecord>> {
        self.end_running(Some(tenant), id, Some(worker), attempt, None, end, now)
            .await
    }

    /// Running jobs whose lease ran out before `now` (all tenants).
    pub async fn expired_leases(&self, now: i64, limit: i64) -> StoreResult<Vec<JobRecord>> {
        let mut tx = self.begin(Scope::System).await?;
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'running' AND lease_expires_at < $1
             ORDER BY lease_expires_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(JobRecord::from_row).collect()
    }

    /// Ends an attempt whose lease ran out (fenced by attempt and by the lease still being
    /// expired at `now`, so a heartbeat that just arrived wins).
    pub async fn end_expired_attempt(
        &self,
        id: JobId,
        attempt: i64,
        end: &AttemptEnd,
        now: i64,
    ) -> StoreResult<Option<JobRecord>> {
        self.end_running(None, id, None, attempt, Some(now), end, now)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn end_running(
        &self,
        tenant: Option<TenantId>,
        id: JobId,
        worker: Option<&str>,
        attempt: i64,
        expired_before: Option<i64>,
        end: &AttemptEnd,
        now: i64,
    ) -> StoreResult<Option<JobRecord>> {
        let EndValues {
            status,
            result,
            error,
            run_at,
            finished_at,
            extra_attempts,
            asleep,
        } = EndValues::of(end, now);
        // One statement (its row back with RETURNING), its own transaction: on SQLite one
        // trip to the writer, on PostgreSQL one round trip on a system connection.
        let mut one = self.begin_statement(Scope::System).await?;
        let row = sqlx::query(&format!(
            "UPDATE jobs SET status = $1, result = $2, error = COALESCE($3, error), run_at = COALESCE($4, run_at),
             finished_at = $5, lease_holder = NULL, lease_expires_at = NULL, dispatched_at = NULL,
             max_attempts = max_attempts + $10, asleep = $11
             WHERE id = $6 AND status = 'running' AND attempt = $7
             AND ($8 = '' OR lease_holder = $8) AND ($9 < 0 OR lease_expires_at < $9)
             AND ($12 = '' OR tenant_id = $12)
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(status.as_str())
        .bind(result)
        .bind(error)
        .bind(run_at)
        .bind(finished_at)
        .bind(id.to_string())
        .bind(attempt)
        .bind(worker.unwrap_or(""))
        .bind(expired_before.unwrap_or(-1))
        .bind(extra_attempts)
        .bind(asleep)
        .bind(tenant.map(|t| t.to_string()).unwrap_or_default())
        .fetch_optional(&mut *one)
        .await?;
        one.commit().await?;
        row.as_ref().map(JobRecord::from_row).transpose()
    }

    /// Ends the attempts `ends` name, each as [`Store::end_attempt_of`] would, in one
    /// statement: each answered with its job as it became, or `None` when its attempt no
    /// longer held the job (or the job is another workspace's). Ends naming one job twice
    /// are written one by one, so each is judged by its own fence.
    pub async fn end_attempts(&self, ends: &[EndOf]) -> StoreResult<Vec<Option<JobRecord>>> {
        let mut ids: Vec<JobId> = ends.iter().map(|e| e.id).collect();
        ids.sort();
        ids.dedup();
        if ends.len() < 2 || ids.len() < ends.len() {
            let mut each = Vec::with_capacity(ends.len());
            for e in ends {
                each.push(
                    self.end_attempt_of(e.tenant, e.id, &e.worker, e.attempt, &e.end, e.now)
                        .await?,
                );
            }
            return Ok(each);
        }
        let rows: Vec<serde_json::Value> = ends
            .iter()
            .map(|e| {
                let v = EndValues::of(&e.end, e.now);
                serde_json::json!({
                    "end_id": e.id.to_string(),
                    "end_tenant": e.tenant.to_string(),
                    "end_worker": e.worker,
                    "end_attempt": e.attempt,
                    "end_status": v.status.as_str(),
                    "end_result": v.result,
                    "end_error": v.error,
                    "end_run_at": v.run_at,
                    "end_finished_at": v.finished_at,
                    "end_extra": v.extra_attempts,
                    "end_asleep": v.asleep,
                })
            })
            .collect();
        let ends_table = match self.backend {
            Backend::Sqlite => {
                let fields: Vec<String> = END_FIELDS
                    .iter()
                    .map(|(name, _)| format!("value ->> '{name}' AS {name}"))
                    .collect();
                format!("(SELECT {} FROM json_each($1)) AS e", fields.join(", "))
            }
            Backend::Postgres => {
                let fields: Vec<String> = END_FIELDS
                    .iter()
                    .map(|(name, kind)| format!("{name} {kind}"))
                    .collect();
                format!("json_to_recordset($1::json) AS e({})", fields.join(", "))
            }
        };
        let sql = format!(
            "UPDATE jobs SET status = e.end_status, result = e.end_result,
                error = COALESCE(e.end_error, jobs.error), run_at = COALESCE(e.end_run_at, jobs.run_at),
                finished_at = e.end_finished_at, lease_holder = NULL, lease_expires_at = NULL,
                dispatched_at = NULL, max_attempts = jobs.max_attempts + e.end_extra,
                asleep = e.end_asleep
             FROM {ends_table}
             WHERE jobs.id = e.end_id AND jobs.tenant_id = e.end_tenant AND jobs.status = 'running'
             AND jobs.attempt = e.end_attempt AND jobs.lease_holder = e.end_worker
             RETURNING {JOB_COLUMNS}"
        );
        let body = serde_json::Value::Array(rows).to_string();
        let mut one = self.begin_statement(Scope::System).await?;
        let rows = sqlx::query(&sql).bind(body).fetch_all(&mut *one).await?;
        one.commit().await?;
        let mut ended: std::collections::HashMap<JobId, JobRecord> =
            std::collections::HashMap::new();
        for row in &rows {
            let record = JobRecord::from_row(row)?;
            ended.insert(record.id, record);
        }
        Ok(ends.iter().map(|e| ended.remove(&e.id)).collect())
    }

    /// Asks a job of `tenant` to stop: a queued job is cancelled at once, a running one is
    /// marked (its worker is told). `None` when there is no such job.
    pub async fn request_cancel(
        &self,
        tenant: TenantId,
        id: JobId,
        now: i64,
    ) -> StoreResult<Option<JobRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'cancelled', finished_at = $1, dispatched_at = NULL
             WHERE id = $2 AND tenant_id = $3 AND status = 'queued'",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND tenant_id = $2 AND status = 'running'")
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|r| JobRecord::from_row(&r)).transpose()
    }

    /// Puts a dead, failed or cancelled job of `tenant` back in the queue with fresh
    /// attempts. `None` when there is no such job; the job unchanged when it is not in one of
    /// those states.
    pub async fn retry_job(
        &self,
        tenant: TenantId,
        id: JobId,
        now: i64,
    ) -> StoreResult<Option<JobRecord>> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'queued', max_attempts = attempt + COALESCE(attempts_granted, max_attempts), run_at = $1,
             dispatched_at = NULL, result = NULL, error = NULL, finished_at = NULL, cancel_requested = 0,
             progress = NULL
             WHERE id = $2 AND tenant_id = $3 AND status IN ('dead', 'failed', 'cancelled')",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|r| JobRecord::from_row(&r)).transpose()
    }

    /// The highest log sequence number of a job so far (0 without lines).
    pub async fn last_log_seq(&self, job: JobId) -> StoreResult<i64> {
        let mut tx = self.begin_read(Scope::System).await?;
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM job_logs WHERE job_id = $1")
            .bind(job.to_string())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Jobs of `tenant` running or handed to the bus and not yet claimed (for its
    /// concurrency limit).
    pub async fn active_jobs(&self, tenant: TenantId) -> StoreResult<i64> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = $1
             AND (status = 'running' OR (status = 'queued' AND dispatched_at IS NOT NULL))",
        )
        .bind(tenant.to_string())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Open (queued or running, not asleep) jobs of `pool`: `tenant`'s, and every
    /// workspace's, counted in one read (a submission's admission).
    pub async fn pool_open_jobs(&self, tenant: TenantId, pool: &str) -> StoreResult<(i64, i64)> {
        let mut tx = self.begin_read(Scope::System).await?;
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN tenant_id = $1 THEN 1 ELSE 0 END), 0) AS own, COUNT(*) AS all_open
             FROM jobs WHERE status IN ('queued', 'running') AND asleep = 0 AND pool = $2",
        )
        .bind(tenant.to_string())
        .bind(pool)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row.try_get("own")?, row.try_get("all_open")?))
    }

    /// Jobs per pool and status that are not final: of one workspace, or (`None`) of every
    /// workspace (queue depth). A job asleep until later (a pipeline's long delay) holds no
    /// worker and is not counted.
    pub async fn open_job_counts(
        &self,
        tenant: Option<TenantId>,
    ) -> StoreResult<Vec<(String, JobStatus, i64)>> {
        let (scope, filter) = match tenant {
            Some(t) => (Scope::Tenant(t), "AND tenant_id = $1"),
            None => (Scope::System, ""),
        };
        let mut tx = self.begin_read(scope).await?;
        let sql = format!(
            "SELECT pool, status, COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') AND asleep = 0 {filter}
             GROUP BY pool, status ORDER BY pool, status"
        );
        let mut query = sqlx::query(&sql);
        if let Some(t) = tenant {
            query = query.bind(t.to_string());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| Ok((r.try_get("pool")?, parse(r, "status")?, r.try_get("n")?)))
            .collect()
    }

    /// Appends a batch of log lines in one transaction (one commit per batch, not per
    /// line: SQLite has one writer); a line already recorded under its `seq` is kept
    /// (idempotent), and the batch is written whole or not at all.
    pub async fn append_job_logs(
        &self,
        tenant: TenantId,
        job: JobId,
        lines: &[JobLogLine],
    ) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let (job, tenant) = (job.to_string(), tenant.to_string());
        for line in lines {
            sqlx::query(
                "INSERT INTO job_logs (job_id, tenant_id, seq, at, line) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (job_id, seq) DO NOTHING",
            )
            .bind(&job)
            .bind(&tenant)
            .bind(line.seq)
            .bind(line.at)
            .bind(&line.line)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records finished steps in their running jobs' journals, in one statement and one
    /// commit however many there are (the steps concurrent runs report together, gathered
    /// by `jobs::steps`), each fenced: written only while its `worker` holds its job at its
    /// `attempt`, in its `tenant`. The same job and key again keeps the later entry (a
    /// report retried after its answer was lost; within `records`, the last one). Answers,
    /// for each record in order, whether it was written (`false`: its fence refused). With
    /// `async_commit`, on PostgreSQL the commit does not wait for the disk (see
    /// `JobsConfig`).
    ///
    /// One job and key reported under different fences (a stale attempt's report beside
    /// the holder's, or one naming another workspace) go in separate statements, so each
    /// is answered by its own fence.
    ///
    /// The control plane's own write across workspaces (system scope): every step names its
    /// workspace, and the fence joins the job on it.
    pub async fn record_steps(
        &self,
        records: &[StepRecord],
        async_commit: bool,
    ) -> StoreResult<Vec<bool>> {
        type Fence<'a> = (JobId, &'a str, TenantId, &'a str, i64);
        fn fence(r: &StepRecord) -> Fence<'_> {
            (
                r.job,
                r.key.as_str(),
                r.tenant,
                r.worker.as_str(),
                r.attempt,
            )
        }
        // Per fence, the statement it goes in (the n-th fence of a job and key, the n-th);
        // per statement, the last record reported under each of its fences.
        let mut statement_of: HashMap<Fence<'_>, usize> = HashMap::new();
        let mut fences_of_key: HashMap<(JobId, &str), usize> = HashMap::new();
        let mut statements: Vec<Vec<&StepRecord>> = Vec::new();
        for r in records.iter().rev() {
            if statement_of.contains_key(&fence(r)) {
                continue;
            }
            let n = fences_of_key.entry((r.job, r.key.as_str())).or_insert(0);
            statement_of.insert(fence(r), *n);
            if statements.len() <= *n {
                statements.push(Vec::new());
            }
            statements[*n].push(r);
            *n += 1;
        }
        let mut written = HashSet::new();
        for (n, steps) in statements.iter().enumerate() {
            for (job, key) in self.write_steps(steps, async_commit).await? {
                written.insert((n, job, key));
            }
        }
        Ok(records
            .iter()
            .map(|r| {
                statement_of
                    .get(&fence(r))
                    .is_some_and(|&n| written.contains(&(n, r.job.to_string(), r.key.clone())))
            })
            .collect())
    }

    /// One statement of [`Store::record_steps`] (one step per job and key): the job and
    /// key of each step written.
    async fn write_steps(
        &self,
        records: &[&StepRecord],
        async_commit: bool,
    ) -> StoreResult<Vec<(String, String)>> {
        // A step alone (a chain's, or a run's while no other writes): the plain statement,
        // cheaper on SQLite than reading one entry out of JSON.
        if let ([record], Backend::Sqlite) = (records, self.backend) {
            let rows = sqlx::query(
                "INSERT INTO job_steps (job_id, tenant_id, key, entry, recorded_at)
                 SELECT $1, $2, $3, $4, $5 FROM jobs
                 WHERE id = $1 AND tenant_id = $2 AND status = 'running' AND lease_holder = $6 AND attempt = $7
                 ON CONFLICT (job_id, key) DO UPDATE SET entry = excluded.entry, recorded_at = excluded.recorded_at
                 RETURNING job_id, key",
            )
            .bind(record.job.to_string())
            .bind(record.tenant.to_string())
            .bind(&record.key)
            .bind(&record.entry)
            .bind(record.at)
            .bind(&record.worker)
            .bind(record.attempt)
            .fetch_all(&self.pool)
            .await?;
            return written_rows(&rows);
        }
        let steps: Vec<serde_json::Value> = records
            .iter()
            .map(|r| {
                serde_json::json!({
                    "job": r.job.to_string(), "tenant": r.tenant.to_string(), "key": r.key,
                    "entry": r.entry, "at": r.at, "worker": r.worker, "attempt": r.attempt,
                })
            })
            .collect();
        let steps = serde_json::Value::Array(steps).to_string();
        let rows = match self.backend {
            // One statement on the one writer connection, without a transaction around it.
            Backend::Sqlite => {
                sqlx::query(
                    "INSERT INTO job_steps (job_id, tenant_id, key, entry, recorded_at)
                     SELECT s.value ->> 'job', s.value ->> 'tenant', s.value ->> 'key', s.value ->> 'entry', s.value ->> 'at'
                     FROM json_each($1) AS s CROSS JOIN jobs
                     WHERE jobs.id = s.value ->> 'job' AND jobs.tenant_id = s.value ->> 'tenant'
                       AND jobs.status = 'running' AND jobs.lease_holder = s.value ->> 'worker'
                       AND jobs.attempt = s.value ->> 'attempt'
                     ON CONFLICT (job_id, key) DO UPDATE SET entry = excluded.entry, recorded_at = excluded.recorded_at
                     RETURNING job_id, key",
                )
                .bind(&steps)
                .fetch_all(&self.pool)
                .await?
            }
            // Inside `sy_record_steps` (migration 0015), with the commit's durability: one
            // round trip, its own transaction, share locks on the jobs' rows against a
            // replacing attempt.
            Backend::Postgres => {
                sqlx::query("SELECT written_job AS job_id, written_key AS key FROM sy_record_steps($1, $2)")
                    .bind(&steps)
                    .bind(async_commit)
                    .fetch_all(&self.system)
                    .await?
            }
        };
        written_rows(&rows)
    }

    /// A job's journal: its recorded steps (JSON entries) in the order they were recorded.
    pub async fn job_steps(&self, tenant: TenantId, job: JobId) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let steps = steps_in(&mut tx, tenant, job).await?;
        tx.commit().await?;
        Ok(steps)
    }

    /// Records the latest progress report of a job's running attempt (JSON).
    pub async fn set_job_progress(
        &self,
        tenant: TenantId,
        job: JobId,
        attempt: i64,
        progress: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "UPDATE jobs SET progress = $1 WHERE id = $2 AND tenant_id = $3 AND attempt = $4",
        )
        .bind(progress)
        .bind(job.to_string())
        .bind(tenant.to_string())
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Log lines of a job of `tenant` after `after_seq`, in order.
    pub async fn job_log(
        &self,
        tenant: TenantId,
        job: JobId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobLogLine>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT seq, at, line FROM job_logs WHERE job_id = $1 AND tenant_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .bind(job.to_string())
        .bind(tenant.to_string())
        .bind(after_seq)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(JobLogLine {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    line: r.try_get("line")?,
                })
            })
            .collect()
    }

    /// Records a worker's heartbeat (creating it on its first).
    pub async fn upsert_worker(&self, w: &WorkerRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workers (id, pool, host, status, running, concurrency, started_at, last_heartbeat)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, running = excluded.running,
             concurrency = excluded.concurrency, last_heartbeat = excluded.last_heartbeat",
        )
        .bind(&w.id)
        .bind(&w.pool)
        .bind(&w.host)
        .bind(&w.status)
        .bind(w.running)
        .bind(w.concurrency)
        .bind(w.started_at)
        .bind(w.last_heartbeat)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets workers offline since before `before`.
    pub async fn prune_workers(&self, before: i64) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM workers WHERE status = 'offline' AND last_heartbeat < $1")
                .bind(before)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Forgets which queued jobs were put on the bus (an in-process bus starts empty, so
    /// after a restart every queued job must be dispatched again).
    pub async fn reset_dispatch(&self) -> StoreResult<u64> {
        let mut tx = self.begin(Scope::System).await?;
        let done = sqlx::query("UPDATE jobs SET dispatched_at = NULL WHERE status = 'queued'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Marks workers silent since `before` as offline.
    pub async fn mark_silent_workers_offline(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE workers SET status = 'offline', running = 0 WHERE status <> 'offline' AND last_heartbeat < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Workers of the given pools, online first, then by last heartbeat.
    pub async fn workers(&self, pools: &[String]) -> StoreResult<Vec<WorkerRecord>> {
        let rows = sqlx::query(
            "SELECT id, pool, host, status, running, concurrency, started_at, last_heartbeat FROM workers
             ORDER BY CASE status WHEN 'online' THEN 0 WHEN 'draining' THEN 1 ELSE 2 END, last_heartbeat DESC",
        )
        .fetch_all(&self.readers)
        .await?;
        let all: Vec<WorkerRecord> = rows
            .iter()
            .map(WorkerRecord::from_row)
            .collect::<StoreResult<_>>()?;
        Ok(all
            .into_iter()
            .filter(|w| pools.contains(&w.pool))
            .collect())
    }
}

/// What [`Store::submit_job`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The job was stored.
    Stored,
    /// It was not: its workspace's open jobs in the pool (`own`) and every workspace's
    /// (`depth`), as read after the refusal.
    Refused {
        /// Open jobs of the job's workspace in its pool.
        own: i64,
        /// Open jobs of every workspace in its pool.
        depth: i64,
    },
}

/// A claim: the workspace's queued job becomes running under a lease (parameters: worker,
/// lease end, now, job, workspace).
const CLAIM: &str = "UPDATE jobs SET status = 'running', attempt = attempt + 1, lease_holder = $1, lease_expires_at = $2,
     started_at = COALESCE(started_at, $3), asleep = 0
     WHERE id = $4 AND tenant_id = $5 AND status = 'queued' AND run_at <= $3 AND cancel_requested = 0";

/// Which jobs [`Store::claim_next_jobs`] claims, for whom.
#[derive(Clone, Copy, Debug)]
pub struct NextJobs<'a> {
    /// Their pool.
    pub pool: &'a str,
    /// The worker claiming them.
    pub worker: &'a str,
    /// Jobs a workspace may run at once.
    pub concurrency: i64,
    /// The workspace served last in the pool (`None`: none yet).
    pub after: Option<TenantId>,
    /// At most this many.
    pub at_most: i64,
}

/// A job that became running, with what its attempt resumes from.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// The job as it is now.
    pub record: JobRecord,
    /// Its last log sequence number (0 without lines).
    pub log_seq: i64,
    /// Its journal: the recorded steps (JSON entries) in the order they were recorded.
    pub steps: Vec<String>,
}

impl Claimed {
    /// A claim's row (its `RETURNING` is [`Store::resume_columns`]).
    fn from_row(row: &AnyRow) -> StoreResult<Claimed> {
        let steps: String = row.try_get("steps")?;
        Ok(Claimed {
            record: JobRecord::from_row(row)?,
            log_seq: row.try_get("log_seq")?,
            steps: serde_json::from_str(&steps)
                .map_err(|e| StoreError::Corrupt(format!("a claimed job's journal: {e}")))?,
        })
    }
}

/// An attempt's end as its worker reports it (see [`Store::end_attempts`]).
#[derive(Clone, Debug)]
pub struct EndOf {
    /// The job's workspace.
    pub tenant: TenantId,
    /// The job.
    pub id: JobId,
    /// The worker holding it.
    pub worker: String,
    /// The attempt it holds.
    pub attempt: i64,
    /// How it ended.
    pub end: AttemptEnd,
    /// When.
    pub now: i64,
}

/// What an attempt's end writes into its job's row.
struct EndValues {
    status: JobStatus,
    result: Option<String>,
    error: Option<String>,
    run_at: Option<i64>,
    finished_at: Option<i64>,
    /// A released or sleeping attempt does not count against the job's attempts.
    extra_attempts: i64,
    asleep: i64,
}

impl EndValues {
    fn of(end: &AttemptEnd, now: i64) -> EndValues {
        let (status, result, error, run_at, finished_at) = match end {
            AttemptEnd::Succeeded(result) => (
                JobStatus::Succeeded,
                Some(result.clone()),
                None,
                None,
                Some(now),
            ),
            AttemptEnd::Retry { error, retry_at } => (
                JobStatus::Queued,
                None,
                Some(error.clone()),
                Some(*retry_at),
                None,
            ),
            AttemptEnd::Dead(error) => {
                (JobStatus::Dead, None, Some(error.clone()), None, Some(now))
            }
            AttemptEnd::Failed(error) => (
                JobStatus::Failed,
                None,
                Some(error.clone()),
                None,
                Some(now),
            ),
            AttemptEnd::Cancelled => (JobStatus::Cancelled, None, None, None, Some(now)),
            AttemptEnd::Released => (
                JobStatus::Queued,
                None,
                Some("released by a draining worker".to_owned()),
                Some(now),
                None,
            ),
            AttemptEnd::Sleep(until) => (JobStatus::Queued, None, None, Some(*until), None),
        };
        EndValues {
            status,
            result,
            error,
            run_at,
            finished_at,
            extra_attempts: i64::from(matches!(end, AttemptEnd::Released | AttemptEnd::Sleep(_))),
            asleep: i64::from(matches!(end, AttemptEnd::Sleep(_))),
        }
    }
}

/// The fields of one end in [`Store::end_attempts`]'s JSON, with their PostgreSQL types.
const END_FIELDS: [(&str, &str); 11] = [
    ("end_id", "text"),
    ("end_tenant", "text"),
    ("end_worker", "text"),
    ("end_attempt", "bigint"),
    ("end_status", "text"),
    ("end_result", "text"),
    ("end_error", "text"),
    ("end_run_at", "bigint"),
    ("end_finished_at", "bigint"),
    ("end_extra", "bigint"),
    ("end_asleep", "bigint"),
];

/// A job that holds a slot of its workspace's concurrency (the condition on `jobs a`):
/// running, or queued with its ticket on the bus.
const ACTIVE: &str =
    "(a.status = 'running' OR (a.status = 'queued' AND a.dispatched_at IS NOT NULL))";

/// The claim's statement (see [`Store::claim_job`]) on `conn`.
async fn claim_in(
    conn: &mut sqlx::AnyConnection,
    tenant: TenantId,
    id: JobId,
    worker: &str,
    now: i64,
    lease_until: i64,
) -> StoreResult<Option<JobRecord>> {
    let sql = format!("{CLAIM} RETURNING {JOB_COLUMNS}");
    let row = bind_claim(sqlx::query(&sql), tenant, id, worker, now, lease_until)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(JobRecord::from_row).transpose()
}

/// `query` (a [`CLAIM`] with its `RETURNING`) with the claim's parameters bound.
fn bind_claim<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    tenant: TenantId,
    id: JobId,
    worker: &'q str,
    now: i64,
    lease_until: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
}

/// A job's journal entries on `conn`, in the order they were recorded.
async fn steps_in(
    conn: &mut sqlx::AnyConnection,
    tenant: TenantId,
    job: JobId,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT entry FROM job_steps WHERE job_id = $1 AND tenant_id = $2 ORDER BY recorded_at, key",
    )
    .bind(job.to_string())
    .bind(tenant.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("entry").map_err(Into::into))
        .collect()
}

/// The job and key of each journal entry a statement of [`Store::write_steps`] wrote.
fn written_rows(rows: &[AnyRow]) -> StoreResult<Vec<(String, String)>> {
    rows.iter()
        .map(|row| Ok((row.try_get("job_id")?, row.try_get("key")?)))
        .collect()
}

/// Inserts a new job on `conn`: a caller's transaction that writes rows beside it (a
/// pipeline run and its journal), or [`Store::begin_statement`]'s connection.
pub(crate) async fn insert_job_in(
    conn: &mut sqlx::AnyConnection,
    job: &JobRecord,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO jobs ({JOB_COLUMNS}, attempts_granted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    );
    bind_job(sqlx::query(&sql), job).execute(conn).await?;
    Ok(())
}

/// `query` (an insert into `jobs` of [`JOB_COLUMNS`] and `attempts_granted`) with `job`'s
/// values bound as `$1` to `$20`.
fn bind_job<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    job: &'q JobRecord,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(job.id.to_string())
        .bind(job.tenant_id.to_string())
        .bind(&job.pool)
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(job.status.as_str())
        .bind(job.attempt)
        .bind(job.max_attempts)
        .bind(job.lease_holder.clone())
        .bind(job.lease_expires_at)
        .bind(job.run_at)
        .bind(job.dispatched_at)
        .bind(i64::from(job.cancel_requested))
        .bind(job.result.clone())
        .bind(job.error.clone())
        .bind(job.created_at)
        .bind(job.started_at)
        .bind(job.finished_at)
        .bind(job.progress.clone())
        .bind(job.max_attempts - job.attempt)
}
