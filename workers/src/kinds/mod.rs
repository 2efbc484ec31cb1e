//! Job kinds. Every kind of work the pools run (the diagnostic job, index runs, and the
//! pipelines, handlers and workflows to come) is one [`JobKind`]: its name, its typed payload
//! and how that payload is validated, and how one attempt runs. A [`Kinds`] registry holds
//! them by name; the control plane validates submissions against it (422 naming the field)
//! and workers run attempts through it. Nothing else matches on kind names.

mod context;
pub mod diagnostic;

pub use context::JobContext;

use crate::protocol::Outcome;
use serde::de::DeserializeOwned;
use shared::error::FieldError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One kind of job.
#[async_trait::async_trait]
pub trait JobKind: Send + Sync + 'static {
    /// What a job of this kind is given, as submitted (JSON).
    type Payload: DeserializeOwned + Send + 'static;
    /// The kind's name, as jobs carry it.
    const NAME: &'static str;
    /// Whether workspace members may submit it through the API. Kinds that only the control
    /// plane submits (index runs, whose payload carries server paths) keep this false.
    const OPEN_TO_API: bool = false;
    /// The longest one attempt may run; an attempt still running then is stopped and fails
    /// (not retried), so a hung job cannot hold a worker slot for ever.
    const MAX_RUN_TIME: Duration = Duration::from_secs(3600);
    /// Checks a payload beyond its shape; the error names the field (`payload.…`).
    fn validate(_payload: &Self::Payload) -> Result<(), FieldError> {
        Ok(())
    }
    /// Runs one attempt.
    async fn run(&self, payload: Self::Payload, ctx: JobContext) -> Outcome;
}

/// A [`JobKind`] with its payload type erased, so kinds of every payload share a registry.
#[async_trait::async_trait]
trait AnyKind: Send + Sync {
    fn open_to_api(&self) -> bool;
    fn validate(&self, payload: &serde_json::Value) -> Result<(), FieldError>;
    async fn run(&self, payload: &str, ctx: JobContext) -> Outcome;
}

fn parse<P: DeserializeOwned>(payload: &serde_json::Value) -> Result<P, FieldError> {
    P::deserialize(payload).map_err(|e| FieldError::new("payload", e.to_string()))
}

#[async_trait::async_trait]
impl<K: JobKind> AnyKind for K {
    fn open_to_api(&self) -> bool {
        K::OPEN_TO_API
    }

    fn validate(&self, payload: &serde_json::Value) -> Result<(), FieldError> {
        K::validate(&parse::<K::Payload>(payload)?)
    }

    async fn run(&self, payload: &str, ctx: JobContext) -> Outcome {
        // A stored payload passed validation at submission; one that no longer does (a
        // newer version tightened the rules) fails the job instead of running it.
        let checked = serde_json::from_str::<serde_json::Value>(payload)
            .map_err(|e| FieldError::new("payload", e.to_string()))
            .and_then(|value| {
                let payload = parse::<K::Payload>(&value)?;
                K::validate(&payload)?;
                Ok(payload)
            });
        let payload = match checked {
            Ok(payload) => payload,
            Err(e) => {
                return Outcome::Failed {
                    error: e.to_string(),
                    retryable: false,
                }
            }
        };
        match tokio::time::timeout(K::MAX_RUN_TIME, JobKind::run(self, payload, ctx.clone())).await
        {
            Ok(outcome) => outcome,
            Err(_) => {
                let error = format!(
                    "stopped: ran longer than the {:?} a {} job may run",
                    K::MAX_RUN_TIME,
                    K::NAME
                );
                ctx.log(error.clone());
                Outcome::Failed {
                    error,
                    retryable: false,
                }
            }
        }
    }
}

/// The job kinds an installation knows, by name.
#[derive(Clone, Default)]
pub struct Kinds(BTreeMap<&'static str, Arc<dyn AnyKind>>);

impl Kinds {
    /// The kinds every worker runs: the diagnostic job.
    pub fn builtin() -> Kinds {
        Kinds::default().with(diagnostic::Diagnostic)
    }

    /// These kinds and `kind`.
    pub fn with<K: JobKind>(mut self, kind: K) -> Kinds {
        self.0.insert(K::NAME, Arc::new(kind));
        self
    }

    /// The kinds' names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.keys().copied().collect()
    }

    /// Checks a submission of `kind` with `payload`; `from_api` limits it to the kinds open
    /// to workspace members. An unknown kind names the ones available.
    pub fn validate(
        &self,
        kind: &str,
        payload: &serde_json::Value,
        from_api: bool,
    ) -> Result<(), FieldError> {
        let found = self.0.get(kind).filter(|k| !from_api || k.open_to_api());
        let Some(found) = found else {
            let available: Vec<&str> = self
                .0
                .iter()
                .filter(|(_, k)| !from_api || k.open_to_api())
                .map(|(name, _)| *name)
                .collect();
            return Err(FieldError::new(
                "kind",
                format!("unknown job kind; available: {}", available.join(", ")),
            ));
        };
        found.validate(payload)
    }

    /// Runs one attempt of a job of `kind`.
    pub async fn run(&self, kind: &str, payload: &str, ctx: JobContext) -> Outcome {
        match self.0.get(kind) {
            Some(found) => found.run(payload, ctx).await,
            None => Outcome::Failed {
                error: format!("this worker cannot run jobs of kind {kind:?}"),
                retryable: false,
            },
        }
    }
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

    #[test]
    fn submissions_are_checked_by_their_kind() {
        let kinds = Kinds::builtin();
        assert_eq!(kinds.names(), vec!["diagnostic"]);
        assert!(kinds
            .validate("diagnostic", &serde_json::json!({"lines": 2}), true)
            .is_ok());
        let e = kinds
            .validate("diagnostic", &serde_json::json!({"lines": 20_000}), true)
            .unwrap_err();
        assert_eq!(e.field, "payload.lines");
        let e = kinds
            .validate("diagnostic", &serde_json::json!({"bogus": 1}), true)
            .unwrap_err();
        assert_eq!(e.field, "payload");
        let e = kinds
            .validate("nope", &serde_json::json!({}), true)
            .unwrap_err();
        assert_eq!(
            (e.field, e.message.as_str()),
            ("kind", "unknown job kind; available: diagnostic")
        );
    }

    struct Internal;

    #[async_trait::async_trait]
    impl JobKind for Internal {
        type Payload = serde_json::Value;
        const NAME: &'static str = "internal";
        async fn run(&self, _payload: serde_json::Value, _ctx: JobContext) -> Outcome {
            Outcome::Cancelled
        }
    }

    struct Hangs;

    #[async_trait::async_trait]
    impl JobKind for Hangs {
        type Payload = serde_json::Value;
        const NAME: &'static str = "hangs";
        const MAX_RUN_TIME: Duration = Duration::from_millis(50);
        async fn run(&self, _payload: serde_json::Value, _ctx: JobContext) -> Outcome {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn an_attempt_is_stopped_at_its_kinds_maximum_run_time() {
        let kinds = Kinds::default().with(Hangs);
        let (_tx, rx) = watch::channel(false);
        let ctx = JobContext::detached(rx);
        let outcome = tokio::time::timeout(
            Duration::from_secs(5),
            kinds.run("hangs", "{}", ctx.clone()),
        )
        .await
        .expect("stopped by the kind's limit");
        assert_eq!(
            outcome,
            Outcome::Failed {
                error: "stopped: ran longer than the 50ms a hangs job may run".into(),
                retryable: false
            }
        );
        let lines: Vec<String> = ctx.take_lines().into_iter().map(|l| l.line).collect();
        assert_eq!(
            lines,
            vec!["stopped: ran longer than the 50ms a hangs job may run"]
        );
    }

    #[tokio::test]
    async fn kinds_closed_to_the_api_run_but_cannot_be_submitted_by_members() {
        let kinds = Kinds::builtin().with(Internal);
        let e = kinds
            .validate("internal", &serde_json::json!({}), true)
            .unwrap_err();
        assert_eq!(e.message, "unknown job kind; available: diagnostic");
        assert!(kinds
            .validate("internal", &serde_json::json!({}), false)
            .is_ok());
        let (_tx, rx) = watch::channel(false);
        let ctx = JobContext::detached(rx);
        assert_eq!(
            kinds.run("internal", "{}", ctx.clone()).await,
            Outcome::Cancelled
        );
        assert!(matches!(
            kinds.run("missing", "{}", ctx.clone()).await,
            Outcome::Failed {
                retryable: false,
                ..
            }
        ));
        assert!(matches!(
            kinds.run("diagnostic", "{\"lines\": 20000}", ctx).await,
            Outcome::Failed {
                retryable: false,
                ..
            }
        ));
    }
}
