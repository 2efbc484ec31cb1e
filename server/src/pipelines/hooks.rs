//! Webhook triggers: `POST /hooks/{slug}/{hook}` with any JSON body starts a run of the
//! pipeline's live version with the body as its input. A hook with a signing key (set by an
//! admin, shown once) accepts only requests signed with it: `X-Switchyard-Timestamp` (Unix
//! seconds) and `X-Switchyard-Signature: sha256=<hex of HMAC-SHA256(key, timestamp + "." +
//! body)>`, within [`SIGNATURE_WINDOW_SECS`] of now, so a captured request cannot be
//! replayed later. Requests are limited per hook. A webhook node with `wait_seconds` answers
//! with the run's output when it finishes within that time, else (and by default) 202 with
//! the run's id.

use super::ops::PipelineOps;
use super::Cause;
use crate::accounts::Principal;
use crate::clock::now;
use crate::secrets::cipher::Sealed;
use governor::{DefaultKeyedRateLimiter, Quota};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::ids::{HookId, PipelineId};
use shared::pipelines::NodeKind;
use shared::roles::Permission;
use std::num::NonZeroU32;
use std::time::Duration;

/// How far a signed request's timestamp may be from now.
pub const SIGNATURE_WINDOW_SECS: i64 = 300;
/// Requests one hook takes per minute (bursts up to the same number).
pub const HOOK_REQUESTS_PER_MINUTE: u32 = 120;
/// The longest a webhook node may wait for its run's output.
pub const MAX_WAIT_SECONDS: f64 = 30.0;

/// A hook's signing key, shown once when it is made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SigningKey {
    /// The key (URL-safe base64, used as it is): sign `timestamp + "." + body` with
    /// HMAC-SHA256 under its bytes as written.
    pub key: String,
}

/// What a webhook request got.
pub enum HookAnswer {
    /// The run started (202).
    Started(String),
    /// The run finished within the node's wait: its output (200).
    Finished(serde_json::Value),
    /// The run failed within the node's wait: its error (the caller sees 502).
    Failed(String),
}

/// The per-hook request limiter.
pub fn hook_limiter() -> DefaultKeyedRateLimiter<String> {
    let n = NonZeroU32::new(HOOK_REQUESTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
    DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))
}

fn key_name(hook: HookId) -> String {
    format!("webhook:{hook}")
}

impl PipelineOps {
    /// Makes a new signing key for the webhook node `node` (admin and up); requests must
    /// carry its signature from now on. The key is shown once.
    pub async fn new_signing_key(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        node: &str,
    ) -> ApiResult<SigningKey> {
        let access = self
            .tenancy()
            .authorize(p, slug, Permission::ManageSecrets)
            .await?;
        let pipeline = self.pipeline_in(access.tenant(), id).await?;
        let hook = self.hook_of(access.tenant(), pipeline, node).await?;
        let key = crate::auth::secrets::random_token(32);
        let sealed = self.keyring().seal(access.tenant(), &key_name(hook), &key);
        let sealed = serde_json::to_string(&sealed).map_err(|_| ApiError::internal())?;
        self.store()
            .set_hook_signing_key(access.tenant(), pipeline, node, Some(&sealed))
            .await?;
        Ok(SigningKey { key })
    }

    /// Removes a webhook's signing key (admin and up): it accepts unsigned requests again.
    pub async fn remove_signing_key(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        node: &str,
    ) -> ApiResult<()> {
        let access = self
            .tenancy()
            .authorize(p, slug, Permission::ManageSecrets)
            .await?;
        let pipeline = self.pipeline_in(access.tenant(), id).await?;
        self.hook_of(access.tenant(), pipeline, node).await?;
        self.store()
            .set_hook_signing_key(access.tenant(), pipeline, node, None)
            .await?;
        Ok(())
    }

    async fn hook_of(
        &self,
        tenant: shared::ids::TenantId,
        pipeline: PipelineId,
        node: &str,
    ) -> ApiResult<HookId> {
        self.store()
            .pipeline_hooks(tenant, pipeline)
            .await?
            .into_iter()
            .find(|h| h.node == node)
            .map(|h| h.id)
            .ok_or_else(|| ApiError::not_found("webhook node"))
    }

    /// A request to a webhook: checked (workspace, limit, signature, live version) and, when
    /// it passes, a run.
    pub async fn receive_hook(
        &self,
        slug: &str,
        hook: &str,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> ApiResult<HookAnswer> {
        let not_found = || ApiError::not_found("webhook");
        let hook: HookId = hook.parse().map_err(|_| not_found())?;
        let record = self
            .store()
            .hook_any_tenant(hook)
            .await?
            .ok_or_else(not_found)?;
        let workspace = self
            .store()
            .workspace(record.tenant_id)
            .await?
            .filter(|w| w.slug == slug)
            .ok_or_else(not_found)?;
        if self.hooks_limiter().check_key(&hook.to_string()).is_err() {
            let mut error = ApiError::new(
                ErrorCode::RateLimited,
                format!("this webhook takes at most {HOOK_REQUESTS_PER_MINUTE} requests a minute"),
            );
            error.retry_after = Some(60);
            return Err(error);
        }
        if let Some(sealed) = &record.signing_key {
            let sealed: Sealed = serde_json::from_str(sealed).map_err(|_| ApiError::internal())?;
            let key = self
                .keyring()
                .open(workspace.id, &key_name(hook), &sealed)
                .map_err(|e| {
                    tracing::error!(error = %e, "a webhook's signing key does not open");
                    ApiError::internal()
                })?;
            check_signature(&key, timestamp, signature, body, now())?;
        }
        let input: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("the body is not valid JSON: {e}"),
                )
            })?
        };
        let pipeline = self
            .store()
            .pipeline(workspace.id, record.pipeline_id)
            .await?
            .ok_or_else(not_found)?;
        let live = self
            .store()
            .pipeline_version(workspace.id, pipeline.id, pipeline.live_version)
            .await?
            .ok_or_else(not_found)?;
        let Some(node) =
            live.graph.nodes.iter().find(|n| {
                n.id == record.node && NodeKind::parse(&n.kind) == Some(NodeKind::Webhook)
            })
        else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "this webhook's node is not in the pipeline's live version",
            ));
        };
        let wait = node
            .config
            .get("wait_seconds")
            .and_then(serde_json::Value::as_f64)
            .filter(|w| w.is_finite() && *w > 0.0)
            .map(|w| Duration::from_secs_f64(w.min(MAX_WAIT_SECONDS)));
        let run = self
            .start_triggered(workspace.id, &pipeline, input, Cause::Webhook)
            .await?;
        let Some(wait) = wait else {
            return Ok(HookAnswer::Started(run.to_string()));
        };
        Ok(match self.wait_for_run(workspace.id, run, wait).await? {
            super::RunEnd::Finished(output) => HookAnswer::Finished(output),
            super::RunEnd::Failed(error) => HookAnswer::Failed(error),
            super::RunEnd::Running => HookAnswer::Started(run.to_string()),
        })
    }
}

/// Checks a signed request: the timestamp within the window, and the signature over
/// `timestamp.body` (compared in constant time).
pub fn check_signature(
    key: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> ApiResult<()> {
    let refused = |m: &str| ApiError::new(ErrorCode::Unauthorized, m.to_owned());
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(refused(
            "this webhook requires X-Switchyard-Timestamp and X-Switchyard-Signature",
        ));
    };
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| refused("X-Switchyard-Timestamp must be Unix seconds"))?;
    if now.abs_diff(at) > SIGNATURE_WINDOW_SECS.unsigned_abs() {
        return Err(refused(
            "the request's timestamp is too far from now (replayed or the clock is off)",
        ));
    }
    let given = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(hex_decode)
        .ok_or_else(|| refused("X-Switchyard-Signature must be sha256=<hex>"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).map_err(|_| ApiError::internal())?;
    mac.update(timestamp.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| refused("the signature does not match"))
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(key: &str, ts: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("key");
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        format!(
            "sha256={}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }

    #[test]
    fn signatures_are_checked_within_the_window() {
        let body = br#"{"a":1}"#;
        let good = sign("k", "1000", body);
        assert!(check_signature("k", Some("1000"), Some(&good), body, 1100).is_ok());
        let e = check_signature(
            "k",
            Some("1000"),
            Some(&good),
            body,
            1000 + SIGNATURE_WINDOW_SECS + 1,
        )
        .unwrap_err();
        assert!(e.message.contains("too far"));
        assert!(check_signature("k", Some("1000"), Some(&good), b"{}", 1000).is_err());
        assert!(check_signature("other", Some("1000"), Some(&good), body, 1000).is_err());
        assert!(check_signature("k", None, Some(&good), body, 1000).is_err());
        assert!(check_signature("k", Some("1000"), Some("sha256=zz"), body, 1000).is_err());
        assert_eq!(
            check_signature("k", Some("1000"), Some("md5=00"), body, 1000)
                .unwrap_err()
                .code,
            ErrorCode::Unauthorized
        );
    }
}
