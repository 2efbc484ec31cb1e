//! Route logs: per gateway request an access line (route, status, duration) and its
//! handler's own lines and failure, kept per workspace for [`RETENTION_MS`] and read back by
//! `GET /workspaces/{slug}/logs` (the CLI's `switchyard logs [--follow]`, the console).
//!
//! The gateway never waits for them: it hands lines to a bounded buffer that one task
//! writes in batches (one transaction per workspace per batch). When the buffer is full —
//! the store is slower than the traffic — lines are dropped and counted, never the request.

use crate::store::{Backend, Scope, Store, StoreResult};
use prometheus_client::metrics::counter::Counter;
use shared::ids::TenantId;
use shared::routes::views::{MinuteCounts, RouteLogLine};
use sqlx::Row;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// How long lines are kept.
pub const RETENTION_MS: i64 = 7 * 86_400_000;

/// Lines waiting to be written at most; more are dropped.
const BUFFER: usize = 10_000;

/// Lines written in one batch at most.
const BATCH: usize = 1_000;

/// How long the writer gathers lines after the first of a batch arrived: a line is in its
/// route's log at most this much later than without the wait.
const GATHER: std::time::Duration = std::time::Duration::from_millis(50);

/// Rows in one `INSERT` on PostgreSQL (8 parameters each, well under its limit).
const ROWS_PER_INSERT: usize = 200;

/// Rows in one `INSERT` on SQLite. Binding a statement's `$n` parameters costs the square
/// of their number there (sqlx asks each parameter's name by position, and SQLite finds it
/// by walking the statement's list of names): 200 rows' 1,600 parameters took a sixth of a
/// busy gateway's CPU. 16 rows keep it negligible, and the full statement's text repeats,
/// so it is prepared once.
const ROWS_PER_INSERT_SQLITE: usize = 16;

/// The longest line kept; longer ones are cut.
const MAX_LINE: usize = 4_000;

/// The most lines one read answers.
pub const MAX_READ: usize = 1_000;

/// The most durations a route's activity is summarised from.
const DURATIONS: i64 = 5_000;

/// A line on its way to the store.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// The workspace.
    pub tenant: TenantId,
    /// The line.
    pub line: RouteLogLine,
}

/// The gateway's side: lines in, a task writing them out.
pub struct RouteLog {
    /// Line ids are this process's random prefix and a counter (no random draw per line).
    prefix: String,
    next: std::sync::atomic::AtomicU64,
    tx: mpsc::Sender<Pending>,
    rx: Mutex<Option<mpsc::Receiver<Pending>>>,
    dropped: Counter,
}

impl Default for RouteLog {
    fn default() -> RouteLog {
        let (tx, rx) = mpsc::channel(BUFFER);
        RouteLog {
            prefix: uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
            next: std::sync::atomic::AtomicU64::new(0),
            tx,
            rx: Mutex::new(Some(rx)),
            dropped: Counter::default(),
        }
    }
}

impl RouteLog {
    /// Keeps a line of `route` for `tenant` (cut to [`MAX_LINE`]); dropped and counted
    /// when the buffer is full.
    pub fn push(
        &self,
        tenant: TenantId,
        route: &str,
        request_id: &str,
        access: Option<(u16, f64)>,
        line: &str,
    ) {
        let mut text = line.to_owned();
        if text.len() > MAX_LINE {
            let mut end = MAX_LINE;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        let pending = Pending {
            tenant,
            line: RouteLogLine {
                id: format!(
                    "{}{:016x}",
                    self.prefix,
                    self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                ),
                at: crate::clock::now_ms(),
                route: route.to_owned(),
                request_id: request_id.to_owned(),
                status: access.map(|a| a.0),
                duration_ms: access.map(|a| a.1),
                line: text,
            },
        };
        if self.tx.try_send(pending).is_err() {
            self.dropped.inc();
        }
    }

    /// Counts the lines dropped because the buffer was full (a metric).
    pub fn dropped(&self) -> Counter {
        self.dropped.clone()
    }

    /// Starts the task that writes the lines to `store`, once (later calls do nothing). It
    /// ends when the gateway is dropped.
    pub fn start_writing(&self, store: Store) {
        let taken = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(rx) = taken {
            tokio::spawn(write(store, rx));
        }
    }
}

async fn write(store: Store, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        // The first line woke the writer; the lines of the next moments are written with it,
        // so a busy gateway wakes its writer a few times a second, not once a request.
        if batch.len() < BATCH {
            tokio::time::sleep(GATHER).await;
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(line) => batch.push(line),
                    Err(_) => break,
                }
            }
        }
        if let Err(e) = store.append_route_logs(&batch).await {
            tracing::warn!(error = %e, lines = batch.len(), "route log lines were not kept");
        }
        batch.clear();
    }
}

/// Which lines a read wants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogQuery {
    /// Only this route's (`GET /users/{id}`).
    pub route: Option<String>,
    /// Only lines at or after this time (Unix ms); without it, the latest lines.
    pub since: Option<i64>,
    /// At most this many (capped at [`MAX_READ`]).
    pub limit: usize,
}

impl Store {
    /// Writes `lines`, one transaction per workspace, many rows per statement.
    pub async fn append_route_logs(&self, lines: &[Pending]) -> StoreResult<()> {
        let mut tenants: Vec<TenantId> = lines.iter().map(|p| p.tenant).collect();
        tenants.sort_by_key(|t| t.to_string());
        tenants.dedup();
        for tenant in tenants {
            let mine: Vec<&RouteLogLine> = lines
                .iter()
                .filter(|p| p.tenant == tenant)
                .map(|p| &p.line)
                .collect();
            let per_insert = match self.backend() {
                Backend::Sqlite => ROWS_PER_INSERT_SQLITE,
                Backend::Postgres => ROWS_PER_INSERT,
            };
            let tenant_id = tenant.to_string();
            let mut tx = self.begin(Scope::Tenant(tenant)).await?;
            for chunk in mine.chunks(per_insert) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| {
                        let n = i * 8;
                        format!(
                            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                            n + 1,
                            n + 2,
                            n + 3,
                            n + 4,
                            n + 5,
                            n + 6,
                            n + 7,
                            n + 8
                        )
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO route_logs (id, tenant_id, at, route, request_id, status, duration_ms, line) VALUES {}",
                    rows.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for l in chunk {
                    query = query
                        .bind(l.id.clone())
                        .bind(tenant_id.clone())
                        .bind(l.at)
                        .bind(l.route.clone())
                        .bind(l.request_id.clone())
                        .bind(l.status.map(i32::from))
                        .bind(l.duration_ms)
                        .bind(l.line.clone());
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// A workspace's route log lines, oldest first: from `since` on, else the latest.
    pub async fn route_logs(
        &self,
        tenant: TenantId,
        query: &LogQuery,
    ) -> StoreResult<Vec<RouteLogLine>> {
        let limit = query.limit.clamp(1, MAX_READ) as i64;
        let route_clause = if query.route.is_some() {
            "AND route = $3"
        } else {
            "AND $3 = ''"
        };
        let sql = match query.since {
            Some(_) => format!(
                "SELECT id, at, route, request_id, status, duration_ms, line FROM route_logs
                 WHERE tenant_id = $1 AND at >= $2 {route_clause}
                 ORDER BY at, id LIMIT $4"
            ),
            None => format!(
                "SELECT id, at, route, request_id, status, duration_ms, line FROM route_logs
                 WHERE tenant_id = $1 AND at >= $2 {route_clause}
                 ORDER BY at DESC, id DESC LIMIT $4"
            ),
        };
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&sql)
            .bind(tenant.to_string())
            .bind(query.since.unwrap_or(0))
            .bind(query.route.clone().unwrap_or_default())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut lines = rows
            .iter()
            .map(|row| {
                let status: Option<i32> = row.try_get("status")?;
                Ok(RouteLogLine {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    route: row.try_get("route")?,
                    request_id: row.try_get("request_id")?,
                    status: status.and_then(|s| u16::try_from(s).ok()),
                    duration_ms: row.try_get("duration_ms")?,
                    line: row.try_get("line")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        if query.since.is_none() {
            lines.reverse();
        }
        Ok(lines)
    }

    /// `route`'s requests from `since` on (Unix ms): counts per minute by status class,
    /// and the durations of the latest [`DURATIONS`] of them (ms).
    pub async fn route_activity(
        &self,
        tenant: TenantId,
        route: &str,
        since: i64,
    ) -> StoreResult<(Vec<MinuteCounts>, Vec<f64>)> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT at / 60000 AS minute, status / 100 AS class, COUNT(*) AS n FROM route_logs
             WHERE tenant_id = $1 AND route = $2 AND at >= $3 AND status IS NOT NULL
             GROUP BY at / 60000, status / 100 ORDER BY 1",
        )
        .bind(tenant.to_string())
        .bind(route)
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        let durations = sqlx::query(
            "SELECT duration_ms FROM route_logs
             WHERE tenant_id = $1 AND route = $2 AND at >= $3 AND duration_ms IS NOT NULL
             ORDER BY at DESC LIMIT $4",
        )
        .bind(tenant.to_string())
        .bind(route)
        .bind(since)
        .bind(DURATIONS)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut minutes: Vec<MinuteCounts> = Vec::new();
        for row in &rows {
            let minute: i64 = row.try_get("minute")?;
            let class: i64 = row.try_get("class")?;
            let n = u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(u32::MAX);
            if minutes.last().is_none_or(|m| m.at != minute * 60_000) {
                minutes.push(MinuteCounts {
                    at: minute * 60_000,
                    ..MinuteCounts::default()
                });
            }
            if let Some(m) = minutes.last_mut() {
                match class {
                    4 => m.client_errors += n,
                    5 => m.server_errors += n,
                    _ => m.ok += n,
                }
            }
        }
        let durations = durations
            .iter()
            .map(|row| row.try_get::<f64, _>("duration_ms"))
            .collect::<Result<Vec<f64>, _>>()?;
        Ok((minutes, durations))
    }

    /// Deletes lines older than `before` (Unix ms), in every workspace.
    pub async fn expire_route_logs(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin(Scope::System).await?;
        let done = sqlx::query("DELETE FROM route_logs WHERE at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
