//! Schedule triggers: a 5-field cron expression in an IANA time zone (`croner`, `chrono-tz`),
//! and what to do with ticks missed while nothing ran (`missed`: `skip`, the default, or
//! `run_once`). The live version's schedule is a row with its next tick; every control plane
//! looks for due rows each second. Exactly one run per tick, however many control planes
//! look: a tick's run carries the tick, unique per pipeline, so a second insert of it fails
//! and is taken as "already fired"; advancing the row is a compare-and-set on the tick.

use super::ops::PipelineOps;
use super::store::ScheduleRecord;
use super::Cause;
use crate::clock::{now_ms, rfc3339_ms};
use chrono::TimeZone;
use shared::error::ApiError;
use shared::ids::{PipelineId, TenantId};
use shared::pipelines::{Graph, NodeKind, Problem};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A tick later than this is missed (the control planes were down), not late.
pub const MISSED_AFTER_MS: i64 = 120_000;

/// What happens to ticks missed while no control plane ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    /// They are dropped; the schedule goes on from the next tick.
    Skip,
    /// One run for the latest of them, then on from the next tick.
    RunOnce,
}

impl Missed {
    /// Its name in config and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Missed::Skip => "skip",
            Missed::RunOnce => "run_once",
        }
    }

    /// The policy named `raw`.
    pub fn parse(raw: &str) -> Option<Missed> {
        match raw {
            "skip" => Some(Missed::Skip),
            "run_once" => Some(Missed::RunOnce),
            _ => None,
        }
    }
}

/// A parsed schedule.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The schedule node's id.
    pub node: String,
    /// The expression as written.
    pub expression: String,
    /// The time zone's name.
    pub zone: String,
    cron: croner::Cron,
    tz: chrono_tz::Tz,
    /// The missed-tick policy.
    pub missed: Missed,
}

impl Schedule {
    /// The schedule from an expression, a zone and a policy; the error names the setting.
    pub fn parse(
        node: &str,
        expression: &str,
        zone: &str,
        missed: &str,
    ) -> Result<Schedule, (&'static str, String)> {
        shared::pipelines::validate::check_cron(expression).map_err(|m| ("cron", m))?;
        let cron = croner::Cron::from_str(expression).map_err(|e| ("cron", e.to_string()))?;
        let tz = chrono_tz::Tz::from_str(zone).map_err(|_| {
            (
                "timezone",
                format!("{zone:?} is not an IANA time zone (like Europe/Paris or UTC)"),
            )
        })?;
        let missed = Missed::parse(missed)
            .ok_or_else(|| ("missed", "must be skip or run_once".to_owned()))?;
        Ok(Schedule {
            node: node.to_owned(),
            expression: expression.to_owned(),
            zone: zone.to_owned(),
            cron,
            tz,
            missed,
        })
    }

    /// The schedule of a graph whose trigger is a schedule node (`None` for other
    /// triggers), or the problems of its settings.
    pub fn of_graph(graph: &Graph) -> Result<Option<Schedule>, Vec<Problem>> {
        let Some(node) = graph
            .nodes
            .iter()
            .find(|n| NodeKind::parse(&n.kind) == Some(NodeKind::Schedule))
        else {
            return Ok(None);
        };
        let text = |key: &str, default: &str| {
            node.config
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        Schedule::parse(
            &node.id,
            &text("cron", ""),
            &text("timezone", "UTC"),
            &text("missed", "skip"),
        )
        .map(Some)
        .map_err(|(field, message)| vec![Problem::setting(&node.id, field, message)])
    }

    /// The first tick strictly after `ms` (Unix ms).
    pub fn next_after(&self, ms: i64) -> Option<i64> {
        let at = self.tz.timestamp_millis_opt(ms).single()?;
        self.cron
            .find_next_occurrence(&at, false)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    /// The latest tick at or before `ms`.
    pub fn latest_until(&self, ms: i64) -> Option<i64> {
        let at = self.tz.timestamp_millis_opt(ms).single()?;
        self.cron
            .find_previous_occurrence(&at, true)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    /// The row a live version with this schedule keeps, its next tick after `now`.
    pub fn record(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        now: i64,
    ) -> Option<ScheduleRecord> {
        Some(ScheduleRecord {
            pipeline_id: pipeline,
            tenant_id: tenant,
            node: self.node.clone(),
            cron: self.expression.clone(),
            timezone: self.zone.clone(),
            missed: self.missed,
            next_at: self.next_after(now)?,
        })
    }
}

impl PipelineOps {
    /// Starts the runs of every tick due at `now`; answers how many this call started.
    pub async fn fire_due(&self, now: i64) -> Result<usize, ApiError> {
        let mut started = 0;
        for due in self.store().due_schedules(now, 100).await? {
            let schedule = match Schedule::parse(
                &due.node,
                &due.cron,
                &due.timezone,
                due.missed.as_str(),
            ) {
                Ok(s) => s,
                Err((field, message)) => {
                    // Put aside for an hour, so it cannot hold up other schedules.
                    tracing::error!(pipeline = %due.pipeline_id, field, message, "a stored schedule does not parse");
                    self.store()
                        .advance_schedule(
                            due.tenant_id,
                            due.pipeline_id,
                            due.next_at,
                            now + 3_600_000,
                        )
                        .await?;
                    continue;
                }
            };
            let late = now - due.next_at > MISSED_AFTER_MS;
            let tick = match (late, schedule.missed) {
                (false, _) => Some(due.next_at),
                (true, Missed::Skip) => None,
                (true, Missed::RunOnce) => schedule.latest_until(now),
            };
            if late {
                tracing::info!(pipeline = %due.pipeline_id, missed_since = %rfc3339_ms(due.next_at), policy = schedule.missed.as_str(), "schedule ticks were missed");
            }
            if let Some(tick) = tick {
                let Some(pipeline) = self
                    .store()
                    .pipeline(due.tenant_id, due.pipeline_id)
                    .await?
                else {
                    continue;
                };
                let input = serde_json::json!({"scheduled_at": rfc3339_ms(tick), "missed": late});
                match self
                    .start_scheduled(due.tenant_id, &pipeline, input, tick)
                    .await
                {
                    Ok(true) => started += 1,
                    Ok(false) => {} // another control plane fired this tick
                    Err(e) => {
                        // The tick is lost (a secret it names was deleted, the queue is
                        // full): said in the log, and the schedule goes on, so one failing
                        // pipeline cannot hold up the others.
                        tracing::warn!(pipeline = %due.pipeline_id, tick = %rfc3339_ms(tick), error = %e, "a scheduled run did not start");
                    }
                }
            }
            let from = if late { now } else { due.next_at };
            if let Some(next) = schedule.next_after(from) {
                self.store()
                    .advance_schedule(due.tenant_id, due.pipeline_id, due.next_at, next)
                    .await?;
            }
        }
        Ok(started)
    }

    /// Looks for due ticks every `every` until the process ends.
    pub fn start_scheduler(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let ops = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = ops.fire_due(now_ms()).await {
                    tracing::warn!(error = %e, "firing schedules failed");
                }
            }
        })
    }

    async fn start_scheduled(
        &self,
        tenant: TenantId,
        pipeline: &super::store::PipelineRecord,
        input: serde_json::Value,
        tick: i64,
    ) -> Result<bool, ApiError> {
        match self
            .start_triggered(tenant, pipeline, input, Cause::Schedule { tick })
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code == shared::error::ErrorCode::Conflict => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_the_zone_and_policies_parse() {
        let s = Schedule::parse("tick", "30 9 * * 1-5", "Europe/Paris", "run_once").expect("valid");
        // Friday 2026-11-27 08:00 UTC is 09:00 in Paris: the next tick is 08:30 UTC.
        let friday_8_utc = 1_795_766_400_000;
        assert_eq!(s.next_after(friday_8_utc), Some(friday_8_utc + 30 * 60_000));
        // From Friday 09:00 UTC the next weekday tick is Monday 08:30 UTC.
        let monday = friday_8_utc + 3 * 86_400_000 + 30 * 60_000;
        assert_eq!(s.next_after(friday_8_utc + 3_600_000), Some(monday));
        assert_eq!(s.latest_until(monday), Some(monday));
        assert_eq!(s.latest_until(monday - 1), Some(friday_8_utc + 30 * 60_000));
        assert_eq!(
            Schedule::parse("t", "* * * * *", "Mars/Olympus", "skip")
                .unwrap_err()
                .0,
            "timezone"
        );
        assert_eq!(
            Schedule::parse("t", "61 * * * *", "UTC", "skip")
                .unwrap_err()
                .0,
            "cron"
        );
        assert_eq!(
            Schedule::parse("t", "* * * * *", "UTC", "twice")
                .unwrap_err()
                .0,
            "missed"
        );
    }
}
