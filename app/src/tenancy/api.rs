//! The tenancy server functions: the caller's workspaces, members, invitations, API keys.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{console, session};
use leptos::prelude::*;
use shared::api::{
    ApiKey, ApiKeyCreated, InvitationCreated, InvitationPreview, MeResponse, Member,
    PendingInvitation, Workspace,
};
use shared::ids::{ApiKeyId, UserId};
use shared::roles::Role;

/// The signed-in user and their workspaces.
#[server]
pub async fn current_user() -> Result<MeResponse, AppError> {
    Ok(console()?.tenancy.me(&session()).await?)
}

/// Creates a workspace and opens it.
#[server]
pub async fn create_workspace(slug: String, name: String) -> Result<Workspace, AppError> {
    let req = shared::api::CreateWorkspaceRequest { slug, name };
    let ws = console()?.tenancy.create_workspace(&session(), req).await?;
    leptos_axum::redirect(&format!("/w/{}", ws.slug));
    Ok(ws)
}

/// One workspace.
#[server]
pub async fn get_workspace(slug: String) -> Result<Workspace, AppError> {
    Ok(console()?.tenancy.workspace(&session(), &slug).await?)
}

/// Renames a workspace.
#[server]
pub async fn rename_workspace(slug: String, name: String) -> Result<Workspace, AppError> {
    let req = shared::api::UpdateWorkspaceRequest { name };
    Ok(console()?
        .tenancy
        .rename_workspace(&session(), &slug, req)
        .await?)
}

/// Deletes a workspace and goes back to the list.
#[server]
pub async fn delete_workspace(slug: String, confirm: String) -> Result<(), AppError> {
    console()?
        .tenancy
        .delete_workspace(&session(), &slug, &confirm)
        .await?;
    leptos_axum::redirect("/workspaces");
    Ok(())
}

/// The workspace's members.
#[server]
pub async fn list_members(slug: String) -> Result<Vec<Member>, AppError> {
    Ok(console()?.tenancy.members(&session(), &slug).await?)
}

/// Changes a member's role.
#[server]
pub async fn change_role(slug: String, user_id: UserId, role: Role) -> Result<Member, AppError> {
    Ok(console()?
        .tenancy
        .change_member_role(&session(), &slug, user_id, role)
        .await?)
}

/// Removes a member (or, for oneself, leaves the workspace).
#[server]
pub async fn remove_member(slug: String, user_id: UserId) -> Result<(), AppError> {
    Ok(console()?
        .tenancy
        .remove_member(&session(), &slug, user_id)
        .await?)
}

/// Invites someone; the answer carries the link to hand over.
#[server]
pub async fn invite_member(
    slug: String,
    email: String,
    role: Role,
) -> Result<InvitationCreated, AppError> {
    let req = shared::api::CreateInvitationRequest { email, role };
    Ok(console()?.tenancy.invite(&session(), &slug, req).await?)
}

/// Invitations not yet used.
#[server]
pub async fn list_invitations(slug: String) -> Result<Vec<PendingInvitation>, AppError> {
    Ok(console()?.tenancy.invitations(&session(), &slug).await?)
}

/// What an invitation link offers (no session needed).
#[server]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, AppError> {
    Ok(console()?.tenancy.invitation_preview(&token).await?)
}

/// Accepts an invitation and opens the workspace.
#[server]
pub async fn accept_invitation(token: String) -> Result<Workspace, AppError> {
    let ws = console()?
        .tenancy
        .accept_invitation(&session(), &token)
        .await?;
    leptos_axum::redirect(&format!("/w/{}", ws.slug));
    Ok(ws)
}

/// The workspace's API keys.
#[server]
pub async fn list_api_keys(slug: String) -> Result<Vec<ApiKey>, AppError> {
    Ok(console()?.tenancy.api_keys(&session(), &slug).await?)
}

/// Creates an API key; the secret is in this answer only.
#[server]
pub async fn create_api_key(
    slug: String,
    name: String,
    role: Role,
) -> Result<ApiKeyCreated, AppError> {
    let req = shared::api::CreateApiKeyRequest { name, role };
    Ok(console()?
        .tenancy
        .create_api_key(&session(), &slug, req)
        .await?)
}

/// Revokes an API key.
#[server]
pub async fn revoke_api_key(slug: String, id: ApiKeyId) -> Result<(), AppError> {
    Ok(console()?
        .tenancy
        .revoke_api_key(&session(), &slug, id)
        .await?)
}
