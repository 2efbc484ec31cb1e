//! The console's calls about workspaces, members, invitations and API keys.

use super::{ConsoleResult, SessionToken};
use crate::api::*;
use crate::ids::{ApiKeyId, UserId};
use crate::roles::Role;
use async_trait::async_trait;

/// Workspaces, members, invitations and API keys.
#[async_trait]
pub trait TenancyConsole: Send + Sync + 'static {
    /// The caller and their workspaces.
    async fn me(&self, session: &SessionToken) -> ConsoleResult<MeResponse>;

    /// Creates a workspace owned by the caller.
    async fn create_workspace(
        &self,
        session: &SessionToken,
        req: CreateWorkspaceRequest,
    ) -> ConsoleResult<Workspace>;

    /// One workspace the caller belongs to.
    async fn workspace(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Workspace>;

    /// Renames a workspace (admin and up).
    async fn rename_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        req: UpdateWorkspaceRequest,
    ) -> ConsoleResult<Workspace>;

    /// Deletes a workspace (owner only); `confirm` must equal the slug.
    async fn delete_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        confirm: &str,
    ) -> ConsoleResult<()>;

    /// The workspace's members.
    async fn members(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<Member>>;

    /// Changes a member's role (admin and up; never demotes the last owner).
    async fn change_member_role(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
        role: Role,
    ) -> ConsoleResult<Member>;

    /// Removes a member (admin and up, or oneself leaving; never the last owner).
    async fn remove_member(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
    ) -> ConsoleResult<()>;

    /// Invites someone by e-mail (admin and up).
    async fn invite(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateInvitationRequest,
    ) -> ConsoleResult<InvitationCreated>;

    /// Invitations not yet accepted (admin and up).
    async fn invitations(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<PendingInvitation>>;

    /// What an invitation offers; anyone holding the token may look.
    async fn invitation_preview(&self, token: &str) -> ConsoleResult<InvitationPreview>;

    /// Accepts an invitation as the signed-in caller.
    async fn accept_invitation(
        &self,
        session: &SessionToken,
        token: &str,
    ) -> ConsoleResult<Workspace>;

    /// The workspace's API keys (admin and up).
    async fn api_keys(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<ApiKey>>;

    /// Creates an API key (admin and up); the secret is in the answer only.
    async fn create_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateApiKeyRequest,
    ) -> ConsoleResult<ApiKeyCreated>;

    /// Revokes an API key (admin and up).
    async fn revoke_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        id: ApiKeyId,
    ) -> ConsoleResult<()>;
}
