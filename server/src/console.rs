//! The web console: Leptos server-side rendering and server functions, wired to the control
//! plane through the `ConsoleService` contract from `shared`. The console crate (`app`) never
//! sees the store; every call here authenticates the session and goes through [`Control`],
//! the same code the REST API uses.

use crate::control::{Control, ControlResult, Failure, Principal};
use crate::http::extract::{client_info, session_token};
use crate::http::AppState;
use app::{shell, App, Console};
use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use shared::api::*;
use shared::code::{
    AddRepositoryRequest, CodeQuery, RepositoryAccepted, RepositoryView, SearchResponse,
    SymbolDetail,
};
use shared::contracts::{ClientInfo, ConsoleResult, ConsoleService, SessionToken, SignedIn};
use shared::error::ApiError;
use shared::ids::{ApiKeyId, JobId, SessionId, UserId};
use shared::jobs::{JobLogPage, JobSubmitted, JobView, SubmitJobRequest, WorkerView};
use shared::roles::Role;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;

/// Middleware putting the caller's [`ClientInfo`] and session cookie (if any) into the
/// request's extensions, where the console's server functions read them.
pub async fn identify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let client = client_info(&parts, state.control.config().trust_forwarded_for);
    if let Some(token) = session_token(&parts.headers) {
        parts.extensions.insert(SessionToken(token));
    }
    parts.extensions.insert(client);
    next.run(Request::from_parts(parts, body)).await
}

/// The console routes (pages, server functions, static assets).
pub fn router(control: Arc<Control>, max_body: usize) -> Router {
    let config = control.config();
    let options = LeptosOptions::builder()
        .output_name("switchyard")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let service: Arc<dyn ConsoleService> = Arc::new(ConsoleImpl(control));
    let routes = generate_route_list(App);
    let context = move || provide_context(Console(service.clone()));
    Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(RequestBodyLimitLayer::new(max_body))
}

/// [`ConsoleService`] over the control plane.
struct ConsoleImpl(Arc<Control>);

fn plain<T>(r: ControlResult<T>) -> ConsoleResult<T> {
    r.map_err(|f: Failure| ApiError {
        retry_after: f.retry_after,
        ..f.error
    })
}

impl ConsoleImpl {
    async fn caller(&self, session: &SessionToken) -> ConsoleResult<Principal> {
        if session.0.is_empty() {
            return Err(ApiError::unauthorized());
        }
        plain(self.0.authenticate_session(&session.0).await)
    }
}

#[async_trait]
impl ConsoleService for ConsoleImpl {
    async fn sign_up(&self, req: SignupRequest, client: &ClientInfo) -> ConsoleResult<SignedIn> {
        plain(self.0.sign_up(req, client).await)
    }

    async fn log_in(&self, req: LoginRequest, client: &ClientInfo) -> ConsoleResult<SignedIn> {
        plain(self.0.log_in(req, client).await)
    }

    async fn oauth_providers(&self) -> ConsoleResult<Vec<OAuthProvider>> {
        Ok(self.0.oauth_providers())
    }

    async fn log_out(&self, session: &SessionToken) -> ConsoleResult<String> {
        // Logging out with a dead session still clears the cookie.
        if let Ok(p) = self.caller(session).await {
            plain(self.0.log_out(&p).await)?;
        }
        Ok(crate::auth::sessions::clear_cookie(
            self.0.config().secure_cookies(),
        ))
    }

    async fn me(&self, session: &SessionToken) -> ConsoleResult<MeResponse> {
        let p = self.caller(session).await?;
        plain(self.0.me(&p).await)
    }

    async fn create_workspace(
        &self,
        session: &SessionToken,
        req: CreateWorkspaceRequest,
    ) -> ConsoleResult<Workspace> {
        let p = self.caller(session).await?;
        plain(self.0.create_workspace(&p, req).await)
    }

    async fn workspace(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Workspace> {
        let p = self.caller(session).await?;
        plain(self.0.workspace(&p, slug).await)
    }

    async fn rename_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        req: UpdateWorkspaceRequest,
    ) -> ConsoleResult<Workspace> {
        let p = self.caller(session).await?;
        plain(self.0.rename_workspace(&p, slug, req).await)
    }

    async fn delete_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        confirm: &str,
    ) -> ConsoleResult<()> {
        let p = self.caller(session).await?;
        plain(self.0.delete_workspace(&p, slug, confirm).await)
    }

    async fn members(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<Member>> {
        let p = self.caller(session).await?;
        plain(self.0.members(&p, slug).await)
    }

    async fn change_member_role(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
        role: Role,
    ) -> ConsoleResult<Member> {
        let p = self.caller(session).await?;
        plain(self.0.change_member_role(&p, slug, user_id, role).await)
    }

    async fn remove_member(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
    ) -> ConsoleResult<()> {
        let p = self.caller(session).await?;
        plain(self.0.remove_member(&p, slug, user_id).await)
    }

    async fn invite(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateInvitationRequest,
    ) -> ConsoleResult<InvitationCreated> {
        let p = self.caller(session).await?;
        plain(self.0.invite(&p, slug, req).await)
    }

    async fn invitations(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<PendingInvitation>> {
        let p = self.caller(session).await?;
        plain(self.0.invitations(&p, slug).await)
    }

    async fn invitation_preview(&self, token: &str) -> ConsoleResult<InvitationPreview> {
        plain(self.0.invitation_preview(token).await)
    }

    async fn accept_invitation(
        &self,
        session: &SessionToken,
        token: &str,
    ) -> ConsoleResult<Workspace> {
        let p = self.caller(session).await?;
        plain(self.0.accept_invitation(&p, token).await)
    }

    async fn api_keys(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<ApiKey>> {
        let p = self.caller(session).await?;
        plain(self.0.api_keys(&p, slug).await)
    }

    async fn create_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateApiKeyRequest,
    ) -> ConsoleResult<ApiKeyCreated> {
        let p = self.caller(session).await?;
        plain(self.0.create_api_key(&p, slug, req).await)
    }

    async fn revoke_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        id: ApiKeyId,
    ) -> ConsoleResult<()> {
        let p = self.caller(session).await?;
        plain(self.0.revoke_api_key(&p, slug, id).await)
    }

    async fn change_password(
        &self,
        session: &SessionToken,
        req: ChangePasswordRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<SignedIn> {
        let p = self.caller(session).await?;
        plain(self.0.change_password(&p, req, client).await)
    }

    async fn sessions(&self, session: &SessionToken) -> ConsoleResult<Vec<SessionView>> {
        let p = self.caller(session).await?;
        plain(self.0.sessions(&p).await)
    }

    async fn submit_job(
        &self,
        session: &SessionToken,
        slug: &str,
        req: SubmitJobRequest,
    ) -> ConsoleResult<JobSubmitted> {
        let p = self.caller(session).await?;
        plain(self.0.submit_job(&p, slug, req).await)
    }

    async fn jobs(
        &self,
        session: &SessionToken,
        slug: &str,
        status: Option<String>,
        pool: Option<String>,
    ) -> ConsoleResult<Vec<JobView>> {
        let p = self.caller(session).await?;
        plain(
            self.0
                .list_jobs(&p, slug, status.as_deref(), pool.as_deref(), None)
                .await,
        )
    }

    async fn job(&self, session: &SessionToken, slug: &str, id: JobId) -> ConsoleResult<JobView> {
        let p = self.caller(session).await?;
        plain(self.0.get_job(&p, slug, id).await)
    }

    async fn job_logs(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
        after: i64,
    ) -> ConsoleResult<JobLogPage> {
        let p = self.caller(session).await?;
        plain(self.0.job_logs(&p, slug, id, after).await)
    }

    async fn cancel_job(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
    ) -> ConsoleResult<JobView> {
        let p = self.caller(session).await?;
        plain(self.0.cancel_job(&p, slug, id).await)
    }

    async fn retry_job(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
    ) -> ConsoleResult<JobView> {
        let p = self.caller(session).await?;
        plain(self.0.retry_job(&p, slug, id).await)
    }

    async fn pools(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<shared::jobs::PoolView>> {
        let p = self.caller(session).await?;
        plain(self.0.pools(&p, slug).await)
    }

    async fn workers(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<WorkerView>> {
        let p = self.caller(session).await?;
        plain(self.0.workers(&p, slug).await)
    }

    async fn revoke_session(&self, session: &SessionToken, id: SessionId) -> ConsoleResult<()> {
        let p = self.caller(session).await?;
        plain(self.0.revoke_session(&p, id).await)
    }

    async fn repositories(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<RepositoryView>> {
        let p = self.caller(session).await?;
        plain(self.0.list_repositories(&p, slug).await)
    }

    async fn repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryView> {
        let p = self.caller(session).await?;
        plain(self.0.get_repository(&p, slug, id).await)
    }

    async fn add_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        req: AddRepositoryRequest,
    ) -> ConsoleResult<RepositoryAccepted> {
        let p = self.caller(session).await?;
        plain(self.0.add_repository(&p, slug, req).await)
    }

    async fn reindex_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryAccepted> {
        let p = self.caller(session).await?;
        plain(self.0.reindex_repository(&p, slug, id).await)
    }

    async fn delete_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<()> {
        let p = self.caller(session).await?;
        plain(self.0.delete_repository(&p, slug, id).await)
    }

    async fn search_code(
        &self,
        session: &SessionToken,
        slug: &str,
        query: CodeQuery,
    ) -> ConsoleResult<SearchResponse> {
        let p = self.caller(session).await?;
        plain(self.0.search_code(&p, slug, query).await)
    }

    async fn symbol(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<SymbolDetail> {
        let p = self.caller(session).await?;
        plain(self.0.symbol_detail(&p, slug, id).await)
    }
}
