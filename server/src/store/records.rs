//! Rows as the store reads and writes them. Timestamps are Unix seconds.

use super::{parse_role, StoreError, StoreResult};
use shared::ids::{ApiKeyId, InvitationId, SessionId, TenantId, UserId};
use shared::roles::Role;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::str::FromStr;

fn id<T: FromStr>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let raw: String = row.try_get(column)?;
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} {raw:?} is not a UUID")))
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// User id.
    pub id: UserId,
    /// Normalised e-mail, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string; `None` for accounts that only sign in through OAuth.
    pub password_hash: Option<String>,
    /// Creation time.
    pub created_at: i64,
}

impl UserRecord {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// A login session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session id (the JWT's `sid`).
    pub id: SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// Sign-in time.
    pub created_at: i64,
    /// Last authenticated request.
    pub last_seen_at: i64,
    /// Absolute end of the session.
    pub expires_at: i64,
    /// When it was ended by logout, password change or revocation.
    pub revoked_at: Option<i64>,
    /// The browser's user agent at sign-in.
    pub user_agent: String,
}

impl SessionRecord {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            user_id: id(row, "user_id")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            user_agent: row.try_get("user_agent")?,
        })
    }
}

/// A workspace (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceRecord {
    /// Tenant id.
    pub id: TenantId,
    /// Unique URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

impl WorkspaceRecord {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// A user's place in a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The workspace.
    pub workspace: WorkspaceRecord,
    /// The user's role in it.
    pub role: Role,
    /// How many members it has.
    pub member_count: i64,
}

/// A member as listed in a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    /// The member.
    pub user_id: UserId,
    /// Their e-mail.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: i64,
}

impl MemberRecord {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            user_id: id(row, "user_id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            role: parse_role(row)?,
            joined_at: row.try_get("joined_at")?,
        })
    }
}

/// An invitation to a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Invitation id.
    pub id: InvitationId,
    /// The workspace it is for.
    pub tenant_id: TenantId,
    /// Invitee e-mail.
    pub email: String,
    /// Role granted on acceptance.
    pub role: Role,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Who invited.
    pub invited_by: UserId,
    /// Creation time.
    pub created_at: i64,
    /// Unusable after this.
    pub expires_at: i64,
    /// When it was used.
    pub accepted_at: Option<i64>,
    /// When it was withdrawn.
    pub revoked_at: Option<i64>,
}

impl InvitationRecord {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            tenant_id: id(row, "tenant_id")?,
            email: row.try_get("email")?,
            role: parse_role(row)?,
            token_hash: row.try_get("token_hash")?,
            invited_by: id(row, "invited_by")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            accepted_at: row.try_get("accepted_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

/// An API key of a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Key id.
    pub id: ApiKeyId,
    /// The workspace it authenticates for.
    pub tenant_id: TenantId,
    /// What it is for.
    pub name: String,
    /// First characters of the key, shown in lists.
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    pub key_hash: String,
    /// What it may do.
    pub role: Role,
    /// Who made it.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: i64,
    /// Last authenticated request.
    pub last_used_at: Option<i64>,
}

impl ApiKeyRecord {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            id: id(row, "id")?,
            tenant_id: id(row, "tenant_id")?,
            name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            key_hash: row.try_get("key_hash")?,
            role: parse_role(row)?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }
}
