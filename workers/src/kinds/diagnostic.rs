//! The diagnostic job: writes `lines` log lines spread over `seconds`, and can be told to
//! fail or to hang until cancelled. It is the data plane's smoke test ("Run a test job").

use super::{JobContext, JobKind};
use crate::protocol::Outcome;
use serde::{Deserialize, Serialize};
use shared::error::FieldError;
use std::time::Duration;

/// The diagnostic job kind.
pub struct Diagnostic;

#[async_trait::async_trait]
impl JobKind for Diagnostic {
    type Payload = Params;
    const NAME: &'static str = "diagnostic";
    const OPEN_TO_API: bool = true;
    /// Its longest run plus a minute; a hanging one (`hang`) is stopped then unless
    /// cancelled first.
    const MAX_RUN_TIME: Duration = Duration::from_secs(MAX_SECONDS as u64 + 60);

    fn validate(params: &Params) -> Result<(), FieldError> {
        params
            .validate()
            .map_err(|(field, message)| FieldError::new(field, message))
    }

    async fn run(&self, params: Params, ctx: JobContext) -> Outcome {
        run(params, ctx).await
    }
}

pub use shared::jobs::diagnostic::{MAX_LINES, MAX_SECONDS};

/// What to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Log lines to write.
    #[serde(default = "default_lines")]
    pub lines: u32,
    /// Seconds to spread them over.
    #[serde(default = "default_seconds")]
    pub seconds: f64,
    /// Fail at the end (retryable).
    #[serde(default)]
    pub fail: bool,
    /// After the lines, wait until cancelled.
    #[serde(default)]
    pub hang: bool,
}

fn default_lines() -> u32 {
    10
}

fn default_seconds() -> f64 {
    1.0
}

impl Params {
    /// Checks the limits; the message names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.lines > MAX_LINES {
            return Err(("payload.lines", format!("must be at most {MAX_LINES}")));
        }
        if !self.seconds.is_finite() || self.seconds < 0.0 || self.seconds > MAX_SECONDS {
            return Err((
                "payload.seconds",
                format!("must be between 0 and {MAX_SECONDS}"),
            ));
        }
        Ok(())
    }
}

/// Runs the diagnostic job.
pub async fn run(params: Params, ctx: JobContext) -> Outcome {
    if let Err((field, message)) = params.validate() {
        return Outcome::Failed {
            error: format!("{field}: {message}"),
            retryable: false,
        };
    }
    let gap = if params.lines > 1 {
        Duration::from_secs_f64(params.seconds / f64::from(params.lines))
    } else {
        Duration::from_secs_f64(params.seconds)
    };
    for n in 1..=params.lines {
        if ctx.should_stop() {
            ctx.log(format!(
                "stopping after {} of {} lines",
                n - 1,
                params.lines
            ));
            return Outcome::Cancelled;
        }
        ctx.log(format!("diagnostic line {n} of {}", params.lines));
        tokio::select! {
            _ = tokio::time::sleep(gap) => {}
            _ = ctx.stopped() => {}
        }
    }
    if params.hang {
        ctx.log("hanging until cancelled");
        ctx.stopped().await;
        ctx.log("cancelled while hanging");
        return Outcome::Cancelled;
    }
    if params.fail {
        ctx.log("failing as asked");
        return Outcome::Failed {
            error: "the diagnostic job was asked to fail".to_owned(),
            retryable: true,
        };
    }
    Outcome::Succeeded {
        result: serde_json::json!({ "lines": params.lines }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

    #[tokio::test]
    async fn writes_its_lines_and_succeeds() {
        let (_tx, rx) = watch::channel(false);
        let ctx = JobContext::detached(rx);
        let outcome = run(
            Params {
                lines: 3,
                seconds: 0.0,
                fail: false,
                hang: false,
            },
            ctx.clone(),
        )
        .await;
        assert_eq!(
            outcome,
            Outcome::Succeeded {
                result: serde_json::json!({"lines": 3})
            }
        );
        let lines: Vec<(i64, String)> = ctx
            .take_lines()
            .into_iter()
            .map(|l| (l.seq, l.line))
            .collect();
        assert_eq!(
            lines,
            vec![
                (1, "diagnostic line 1 of 3".into()),
                (2, "diagnostic line 2 of 3".into()),
                (3, "diagnostic line 3 of 3".into())
            ]
        );
    }

    #[tokio::test]
    async fn fails_when_asked_and_hangs_until_cancelled() {
        let (_tx, rx) = watch::channel(false);
        let failed = run(
            Params {
                lines: 1,
                seconds: 0.0,
                fail: true,
                hang: false,
            },
            JobContext::detached(rx),
        )
        .await;
        assert!(matches!(
            failed,
            Outcome::Failed {
                retryable: true,
                ..
            }
        ));

        let (tx, rx) = watch::channel(false);
        let ctx = JobContext::detached(rx);
        let hanging = tokio::spawn(run(
            Params {
                lines: 1,
                seconds: 0.0,
                fail: false,
                hang: true,
            },
            ctx.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!hanging.is_finished());
        tx.send(true).unwrap();
        assert_eq!(hanging.await.unwrap(), Outcome::Cancelled);
        assert_eq!(
            ctx.take_lines().last().map(|l| l.line.clone()).as_deref(),
            Some("cancelled while hanging")
        );
    }

    #[test]
    fn limits_name_the_field() {
        let p: Params = serde_json::from_str(r#"{"lines": 20000}"#).unwrap();
        assert_eq!(p.validate().unwrap_err().0, "payload.lines");
        let p: Params = serde_json::from_str(r#"{"seconds": -1}"#).unwrap();
        assert_eq!(p.validate().unwrap_err().0, "payload.seconds");
        assert!(serde_json::from_str::<Params>(r#"{"bogus": 1}"#).is_err());
    }
}
