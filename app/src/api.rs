//! Server functions: the console's only data boundary. Each one reads the caller's session
//! from the request and calls the `ConsoleService` the server provides.

use crate::error::AppError;
use leptos::prelude::*;
use shared::api::*;
use shared::code::{
    AddRepositoryRequest, CodeQuery, RepositoryAccepted, RepositoryView, SearchResponse,
    SymbolDetail,
};
use shared::ids::{ApiKeyId, JobId, SessionId, UserId};
use shared::jobs::{JobLogEntry, JobSubmitted, JobView, WorkerView};
use shared::roles::Role;

#[cfg(feature = "ssr")]
pub(crate) use ssr::set_error_status;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;
    use leptos::prelude::*;
    use shared::contracts::{ClientInfo, Console, SessionToken};
    use shared::error::ApiError;

    /// The control plane, one service per domain.
    pub fn console() -> Result<Console, AppError> {
        use_context::<Console>().ok_or_else(|| AppError::Api(ApiError::internal()))
    }

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    /// The session cookie of the request (empty when there is none).
    pub fn session() -> SessionToken {
        parts()
            .and_then(|p| p.extensions.get::<SessionToken>().cloned())
            .unwrap_or_else(|| SessionToken(String::new()))
    }

    /// The client making the request.
    pub fn client() -> ClientInfo {
        parts()
            .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
            .unwrap_or_default()
    }

    /// Adds a `Set-Cookie` header to the response.
    pub fn set_cookie(value: &str) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(value),
        ) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }

    /// Answers a failed call with the error's HTTP status (and `Retry-After` when rate
    /// limited), as the REST API does.
    pub fn set_error_status(error: &ApiError) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.code.http_status()) {
                response.set_status(status);
            }
            if let Some(secs) = error.retry_after {
                if let Ok(value) = http::HeaderValue::from_str(&secs.to_string()) {
                    response.insert_header(http::header::RETRY_AFTER, value);
                }
            }
        }
    }
}

/// Signs up and goes to the workspace list (or `next`).
#[server]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
    next: String,
) -> Result<(), AppError> {
    let signed = ssr::console()?
        .accounts
        .sign_up(
            SignupRequest {
                email,
                password,
                name,
            },
            &ssr::client(),
        )
        .await?;
    ssr::set_cookie(&signed.set_cookie);
    leptos_axum::redirect(shared::redirects::local_path(&next, "/workspaces"));
    Ok(())
}

/// Logs in and goes to the workspace list (or `next`).
#[server]
pub async fn log_in(email: String, password: String, next: String) -> Result<(), AppError> {
    let signed = ssr::console()?
        .accounts
        .log_in(LoginRequest { email, password }, &ssr::client())
        .await?;
    ssr::set_cookie(&signed.set_cookie);
    leptos_axum::redirect(shared::redirects::local_path(&next, "/workspaces"));
    Ok(())
}

/// The OAuth2 providers the login page offers.
#[server]
pub async fn oauth_providers() -> Result<Vec<OAuthProvider>, AppError> {
    Ok(ssr::console()?.accounts.oauth_providers().await?)
}

/// Logs out and goes to the login page.
#[server]
pub async fn log_out() -> Result<(), AppError> {
    let clear = ssr::console()?.accounts.log_out(&ssr::session()).await?;
    ssr::set_cookie(&clear);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user and their workspaces.
#[server]
pub async fn current_user() -> Result<MeResponse, AppError> {
    Ok(ssr::console()?.tenancy.me(&ssr::session()).await?)
}

/// Creates a workspace and opens it.
#[server]
pub async fn create_workspace(slug: String, name: String) -> Result<Workspace, AppError> {
    let ws = ssr::console()?
        .tenancy
        .create_workspace(&ssr::session(), CreateWorkspaceRequest { slug, name })
        .await?;
    leptos_axum::redirect(&format!("/w/{}", ws.slug));
    Ok(ws)
}

/// One workspace.
#[server]
pub async fn get_workspace(slug: String) -> Result<Workspace, AppError> {
    Ok(ssr::console()?
        .tenancy
        .workspace(&ssr::session(), &slug)
        .await?)
}

/// Renames a workspace.
#[server]
pub async fn rename_workspace(slug: String, name: String) -> Result<Workspace, AppError> {
    Ok(ssr::console()?
        .tenancy
        .rename_workspace(&ssr::session(), &slug, UpdateWorkspaceRequest { name })
        .await?)
}

/// Deletes a workspace and goes back to the list.
#[server]
pub async fn delete_workspace(slug: String, confirm: String) -> Result<(), AppError> {
    ssr::console()?
        .tenancy
        .delete_workspace(&ssr::session(), &slug, &confirm)
        .await?;
    leptos_axum::redirect("/workspaces");
    Ok(())
}

/// The workspace's members.
#[server]
pub async fn list_members(slug: String) -> Result<Vec<Member>, AppError> {
    Ok(ssr::console()?
        .tenancy
        .members(&ssr::session(), &slug)
        .await?)
}

/// Changes a member's role.
#[server]
pub async fn change_role(slug: String, user_id: UserId, role: Role) -> Result<Member, AppError> {
    Ok(ssr::console()?
        .tenancy
        .change_member_role(&ssr::session(), &slug, user_id, role)
        .await?)
}

/// Removes a member.
#[server]
pub async fn remove_member(slug: String, user_id: UserId) -> Result<(), AppError> {
    Ok(ssr::console()?
        .tenancy
        .remove_member(&ssr::session(), &slug, user_id)
        .await?)
}

/// Invites someone; the answer carries the link to hand over.
#[server]
pub async fn invite_member(
    slug: String,
    email: String,
    role: Role,
) -> Result<InvitationCreated, AppError> {
    Ok(ssr::console()?
        .tenancy
        .invite(
            &ssr::session(),
            &slug,
            CreateInvitationRequest { email, role },
        )
        .await?)
}

/// Invitations not yet used.
#[server]
pub async fn list_invitations(slug: String) -> Result<Vec<PendingInvitation>, AppError> {
    Ok(ssr::console()?
        .tenancy
        .invitations(&ssr::session(), &slug)
        .await?)
}

/// What an invitation link offers.
#[server]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, AppError> {
    Ok(ssr::console()?.tenancy.invitation_preview(&token).await?)
}

/// Accepts an invitation and opens the workspace.
#[server]
pub async fn accept_invitation(token: String) -> Result<Workspace, AppError> {
    let ws = ssr::console()?
        .tenancy
        .accept_invitation(&ssr::session(), &token)
        .await?;
    leptos_axum::redirect(&format!("/w/{}", ws.slug));
    Ok(ws)
}

/// The workspace's API keys.
#[server]
pub async fn list_api_keys(slug: String) -> Result<Vec<ApiKey>, AppError> {
    Ok(ssr::console()?
        .tenancy
        .api_keys(&ssr::session(), &slug)
        .await?)
}

/// Creates an API key; the secret is in this answer only.
#[server]
pub async fn create_api_key(
    slug: String,
    name: String,
    role: Role,
) -> Result<ApiKeyCreated, AppError> {
    Ok(ssr::console()?
        .tenancy
        .create_api_key(&ssr::session(), &slug, CreateApiKeyRequest { name, role })
        .await?)
}

/// Revokes an API key.
#[server]
pub async fn revoke_api_key(slug: String, id: ApiKeyId) -> Result<(), AppError> {
    Ok(ssr::console()?
        .tenancy
        .revoke_api_key(&ssr::session(), &slug, id)
        .await?)
}

/// Changes the password; other sessions end, this browser gets a fresh one.
#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let signed = ssr::console()?
        .accounts
        .change_password(
            &ssr::session(),
            ChangePasswordRequest {
                current_password,
                new_password,
            },
            &ssr::client(),
        )
        .await?;
    ssr::set_cookie(&signed.set_cookie);
    Ok(())
}

/// The caller's sessions.
#[server]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    Ok(ssr::console()?.accounts.sessions(&ssr::session()).await?)
}

/// Ends one of the caller's sessions.
#[server]
pub async fn revoke_session(id: SessionId) -> Result<(), AppError> {
    Ok(ssr::console()?
        .accounts
        .revoke_session(&ssr::session(), id)
        .await?)
}

/// Runs the diagnostic job ("Run a test job") and opens it.
#[server]
pub async fn run_test_job(
    slug: String,
    lines: u32,
    seconds: f64,
    fail: Option<String>,
    hang: Option<String>,
) -> Result<JobSubmitted, AppError> {
    let req = shared::jobs::SubmitJobRequest {
        kind: "diagnostic".to_owned(),
        pool: "default".to_owned(),
        payload: serde_json::json!({"lines": lines, "seconds": seconds, "fail": fail.is_some(), "hang": hang.is_some()}),
        max_attempts: None,
    };
    let job = ssr::console()?
        .jobs
        .submit_job(&ssr::session(), &slug, req)
        .await?;
    leptos_axum::redirect(&format!("/w/{slug}/jobs/{}", job.id));
    Ok(job)
}

/// The workspace's jobs.
#[server]
pub async fn list_jobs(
    slug: String,
    status: Option<String>,
    pool: Option<String>,
) -> Result<Vec<JobView>, AppError> {
    Ok(ssr::console()?
        .jobs
        .jobs(&ssr::session(), &slug, status, pool)
        .await?)
}

/// One job and its log so far.
#[server]
pub async fn get_job(slug: String, id: JobId) -> Result<(JobView, Vec<JobLogEntry>), AppError> {
    let jobs = ssr::console()?.jobs;
    let session = ssr::session();
    let job = jobs.job(&session, &slug, id).await?;
    let log = jobs.job_logs(&session, &slug, id, 0).await?;
    Ok((job, log.lines))
}

/// Stops a job.
#[server]
pub async fn cancel_job(slug: String, id: JobId) -> Result<JobView, AppError> {
    Ok(ssr::console()?
        .jobs
        .cancel_job(&ssr::session(), &slug, id)
        .await?)
}

/// Runs a job again.
#[server]
pub async fn retry_job(slug: String, id: JobId) -> Result<JobView, AppError> {
    Ok(ssr::console()?
        .jobs
        .retry_job(&ssr::session(), &slug, id)
        .await?)
}

/// The workers the workspace can use.
#[server]
pub async fn list_workers(slug: String) -> Result<Vec<WorkerView>, AppError> {
    Ok(ssr::console()?.jobs.workers(&ssr::session(), &slug).await?)
}

/// Queue depth and pressure of the pools the workspace can use.
#[server]
pub async fn list_pools(slug: String) -> Result<Vec<shared::jobs::PoolView>, AppError> {
    Ok(ssr::console()?.jobs.pools(&ssr::session(), &slug).await?)
}

/// The workspace's code repositories.
#[server]
pub async fn list_repositories(slug: String) -> Result<Vec<RepositoryView>, AppError> {
    Ok(ssr::console()?
        .code
        .repositories(&ssr::session(), &slug)
        .await?)
}

/// Registers a repository by git URL and queues its index run.
#[server]
pub async fn add_repository(
    slug: String,
    url: String,
    branch: Option<String>,
) -> Result<RepositoryAccepted, AppError> {
    let req = AddRepositoryRequest {
        url: Some(url),
        path: None,
        name: None,
        branch: branch.filter(|b| !b.trim().is_empty()),
    };
    Ok(ssr::console()?
        .code
        .add_repository(&ssr::session(), &slug, req)
        .await?)
}

/// Queues an index run of a repository.
#[server]
pub async fn reindex_repository(slug: String, id: String) -> Result<RepositoryAccepted, AppError> {
    Ok(ssr::console()?
        .code
        .reindex_repository(&ssr::session(), &slug, &id)
        .await?)
}

/// Removes a repository and its index.
#[server]
pub async fn delete_repository(slug: String, id: String) -> Result<(), AppError> {
    Ok(ssr::console()?
        .code
        .delete_repository(&ssr::session(), &slug, &id)
        .await?)
}

/// Searches the workspace's code.
#[server]
pub async fn search_code(slug: String, query: CodeQuery) -> Result<SearchResponse, AppError> {
    Ok(ssr::console()?
        .code
        .search_code(&ssr::session(), &slug, query)
        .await?)
}

/// A symbol with its code, callers and callees.
#[server]
pub async fn get_symbol(slug: String, id: String) -> Result<SymbolDetail, AppError> {
    Ok(ssr::console()?
        .code
        .symbol(&ssr::session(), &slug, &id)
        .await?)
}
