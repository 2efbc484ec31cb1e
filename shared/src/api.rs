//! Request and response bodies of the REST API (`/api/v1`) and the console.
//!
//! Request bodies reject unknown fields, so a typo is an error rather than a silent no-op.
//! Timestamps are RFC 3339 strings in UTC.

use crate::ids::{ApiKeyId, InvitationId, SessionId, TenantId, UserId};
use crate::roles::Role;
use serde::{Deserialize, Serialize};

/// `POST /auth/signup`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Login e-mail; normalised to lowercase.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    /// How the person is shown to teammates.
    pub name: String,
    /// A local path to open once the address is verified (for example an invitation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The answer to sign-up, to a request for a new verification link and to a password reset
/// request: the same whether or not the address has an account, so the answer cannot tell
/// anyone which addresses are registered. What to do next is in the mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckEmail {
    /// The address the mail went to (normalised).
    pub email: String,
    /// What the person should do now, as a sentence.
    pub message: String,
}

/// `POST /auth/verify-email`: the token from the verification link.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The `token` of the link in the mail.
    pub token: String,
    /// For a sign-up's link: the password chosen when signing up. A link alone does not
    /// finish a sign-up, so whoever clicks a link someone else started (with their own
    /// password) gets no account that stranger can log in to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `POST /auth/verify-email/resend` and `POST /auth/password-reset`: the address to mail.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// The account's e-mail address.
    pub email: String,
}

/// `POST /auth/password-reset/confirm`: the token from the reset link and the new password.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The `token` of the link in the mail.
    pub token: String,
    /// At least 10 characters.
    pub new_password: String,
}

/// A person with an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// User id.
    pub id: UserId,
    /// Normalised e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
}

/// The answer to login, e-mail verification and password reset; the session cookie is set
/// alongside.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    /// The signed-in user.
    pub user: UserView,
}

/// `GET /me`: the caller and the workspaces they belong to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeResponse {
    /// The signed-in user.
    pub user: UserView,
    /// Workspaces the user is a member of, by name.
    pub workspaces: Vec<Workspace>,
}

/// A workspace as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workspace {
    /// Workspace (tenant) id.
    pub id: TenantId,
    /// URL name, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The caller's role in it.
    pub role: Role,
    /// Number of members.
    pub member_count: i64,
    /// When it was created.
    pub created_at: String,
}

/// `POST /workspaces`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceRequest {
    /// 3-40 lowercase letters, digits and hyphens.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// `PATCH /workspaces/{slug}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceRequest {
    /// New display name.
    pub name: String,
}

/// A member of a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    /// The member's user id.
    pub user_id: UserId,
    /// The member's e-mail.
    pub email: String,
    /// The member's display name.
    pub name: String,
    /// The member's role.
    pub role: Role,
    /// When they joined.
    pub joined_at: String,
}

/// `PATCH /workspaces/{slug}/members/{user_id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// The new role.
    pub role: Role,
}

/// `POST /workspaces/{slug}/invitations`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    /// Who is invited.
    pub email: String,
    /// The role they get on accepting; at most the inviter's.
    pub role: Role,
}

/// A created invitation. `token` and `url` are shown once; only a hash is stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationCreated {
    /// Invitation id.
    pub id: InvitationId,
    /// The secret the invitee presents to accept.
    pub token: String,
    /// The console link that accepts it.
    pub url: String,
    /// Invitee e-mail.
    pub email: String,
    /// Role granted on acceptance.
    pub role: Role,
    /// After this the link no longer works.
    pub expires_at: String,
}

/// An invitation not yet accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingInvitation {
    /// Invitation id.
    pub id: InvitationId,
    /// Invitee e-mail.
    pub email: String,
    /// Role granted on acceptance.
    pub role: Role,
    /// When it was made.
    pub created_at: String,
    /// After this the link no longer works.
    pub expires_at: String,
}

/// What an invitation link offers, shown before accepting.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationPreview {
    /// The workspace's display name.
    pub workspace_name: String,
    /// The workspace's slug.
    pub workspace_slug: String,
    /// Role granted on acceptance.
    pub role: Role,
    /// The e-mail the invitation was sent to.
    pub email: String,
    /// After this the link no longer works.
    pub expires_at: String,
}

/// An API key as listed: never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    /// Key id.
    pub id: ApiKeyId,
    /// What the key is for.
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// What the key may do.
    pub role: Role,
    /// When it was made.
    pub created_at: String,
    /// When it last authenticated a request.
    pub last_used_at: Option<String>,
}

/// `POST /workspaces/{slug}/api-keys`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// What the key is for.
    pub name: String,
    /// Role of the key; at most the creator's.
    pub role: Role,
}

/// A created API key. `key` is shown this once; only a hash is stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyCreated {
    /// Key id.
    pub id: ApiKeyId,
    /// The secret, for `Authorization: Bearer <key>`.
    pub key: String,
    /// What the key is for.
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// What the key may do.
    pub role: Role,
}

/// `POST /auth/password`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new password, at least 10 characters.
    pub new_password: String,
}

/// A login session of the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// Session id.
    pub id: SessionId,
    /// When it signed in.
    pub created_at: String,
    /// When it was last used.
    pub last_seen_at: String,
    /// The browser's user agent when it signed in.
    pub user_agent: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// An OAuth2 login provider offered on the login page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthProvider {
    /// Id in `/auth/oauth/{id}/start`.
    pub id: String,
    /// Button label.
    pub name: String,
}

/// Slug validation limits for a client-side hint, mirrored from [`crate::tenancy::Slug`].
pub const SLUG_HINT: &str = "3-40 lowercase letters, digits and hyphens";
