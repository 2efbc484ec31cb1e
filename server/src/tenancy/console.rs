//! The console's calls about this domain: each authenticates the session, then runs the
//! same operation the REST API runs.

use super::Tenancy;
use async_trait::async_trait;
use shared::api::*;
use shared::contracts::{ConsoleResult, SessionToken, TenancyConsole};
use shared::ids::{ApiKeyId, UserId};
use shared::roles::Role;

#[async_trait]
impl TenancyConsole for Tenancy {
    async fn me(&self, session: &SessionToken) -> ConsoleResult<MeResponse> {
        let p = self.accounts.console_caller(session).await?;
        self.me(&p).await
    }

    async fn create_workspace(
        &self,
        session: &SessionToken,
        req: CreateWorkspaceRequest,
    ) -> ConsoleResult<Workspace> {
        let p = self.accounts.console_caller(session).await?;
        self.create_workspace(&p, req).await
    }

    async fn workspace(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Workspace> {
        let p = self.accounts.console_caller(session).await?;
        self.workspace(&p, slug).await
    }

    async fn rename_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        req: UpdateWorkspaceRequest,
    ) -> ConsoleResult<Workspace> {
        let p = self.accounts.console_caller(session).await?;
        self.rename_workspace(&p, slug, req).await
    }

    async fn delete_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        confirm: &str,
    ) -> ConsoleResult<()> {
        let p = self.accounts.console_caller(session).await?;
        self.delete_workspace(&p, slug, confirm).await
    }

    async fn members(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<Member>> {
        let p = self.accounts.console_caller(session).await?;
        self.members(&p, slug).await
    }

    async fn change_member_role(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
        role: Role,
    ) -> ConsoleResult<Member> {
        let p = self.accounts.console_caller(session).await?;
        self.change_member_role(&p, slug, user_id, role).await
    }

    async fn remove_member(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
    ) -> ConsoleResult<()> {
        let p = self.accounts.console_caller(session).await?;
        self.remove_member(&p, slug, user_id).await
    }

    async fn invite(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateInvitationRequest,
    ) -> ConsoleResult<InvitationCreated> {
        let p = self.accounts.console_caller(session).await?;
        self.invite(&p, slug, req).await
    }

    async fn invitations(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<PendingInvitation>> {
        let p = self.accounts.console_caller(session).await?;
        self.invitations(&p, slug).await
    }

    async fn invitation_preview(&self, token: &str) -> ConsoleResult<InvitationPreview> {
        self.invitation_preview(token).await
    }

    async fn accept_invitation(
        &self,
        session: &SessionToken,
        token: &str,
    ) -> ConsoleResult<Workspace> {
        let p = self.accounts.console_caller(session).await?;
        self.accept_invitation(&p, token).await
    }

    async fn api_keys(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<ApiKey>> {
        let p = self.accounts.console_caller(session).await?;
        self.api_keys(&p, slug).await
    }

    async fn create_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateApiKeyRequest,
    ) -> ConsoleResult<ApiKeyCreated> {
        let p = self.accounts.console_caller(session).await?;
        self.create_api_key(&p, slug, req).await
    }

    async fn revoke_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        id: ApiKeyId,
    ) -> ConsoleResult<()> {
        let p = self.accounts.console_caller(session).await?;
        self.revoke_api_key(&p, slug, id).await
    }
}
