//! Workspaces in the store: the workspaces themselves, memberships, invitations and the
//! workspace's API keys. Timestamps are Unix seconds.

use crate::accounts::store::{ApiKeyRecord, API_KEY_COLUMNS};
use crate::store::{
    id, parse_role, unique_to_conflict, Backend, Scope, Store, StoreError, StoreResult,
};
use shared::ids::{ApiKeyId, InvitationId, TenantId, UserId};
use shared::roles::Role;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};
use std::ops::DerefMut;

impl Store {
    // ---- workspaces --------------------------------------------------------------------

    /// Creates a workspace with `owner` as its first owner, atomically; the slug must be unused.
    pub async fn create_workspace(&self, ws: &WorkspaceRecord, owner: UserId) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(ws.id)).await?;
        sqlx::query("INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(ws.id.to_string())
            .bind(&ws.slug)
            .bind(&ws.name)
            .bind(ws.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_to_conflict(e, "slug"))?;
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ws.id.to_string())
        .bind(owner.to_string())
        .bind(Role::Owner.as_str())
        .bind(ws.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The workspace with this id.
    pub async fn workspace(&self, tenant: TenantId) -> StoreResult<Option<WorkspaceRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|r| WorkspaceRecord::from_row(&r)).transpose()
    }

    /// The workspace with this slug, for callers outside it (the gateway resolving a
    /// request's workspace).
    pub async fn workspace_by_slug(&self, slug: &str) -> StoreResult<Option<WorkspaceRecord>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let row = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|r| WorkspaceRecord::from_row(&r)).transpose()
    }

    /// The workspaces `user` belongs to, with their role and member count, by name.
    pub async fn workspaces_of(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let mut tx = self.begin_read(Scope::User(user)).await?;
        let rows = sqlx::query(
            "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w
             JOIN memberships m ON m.tenant_id = w.id
             WHERE m.user_id = $1 ORDER BY w.name, w.slug",
        )
        .bind(user.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let workspace = WorkspaceRecord::from_row(r)?;
            let role = parse_role(r)?;
            self.widen_to_tenant(&mut tx, workspace.id).await?;
            let member_count = count_members(&mut tx, workspace.id).await?;
            out.push(Membership {
                workspace,
                role,
                member_count,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `user`'s membership in the workspace called `slug`; `None` when there is no such
    /// workspace or the user is not in it (the two are indistinguishable on purpose).
    pub async fn membership_by_slug(
        &self,
        user: UserId,
        slug: &str,
    ) -> StoreResult<Option<Membership>> {
        let mut tx = self.begin_read(Scope::User(user)).await?;
        let row = sqlx::query(
            "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w
             JOIN memberships m ON m.tenant_id = w.id
             WHERE m.user_id = $1 AND w.slug = $2",
        )
        .bind(user.to_string())
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await?;
        let out = match row {
            None => None,
            Some(r) => {
                let workspace = WorkspaceRecord::from_row(&r)?;
                let role = parse_role(&r)?;
                self.widen_to_tenant(&mut tx, workspace.id).await?;
                let member_count = count_members(&mut tx, workspace.id).await?;
                Some(Membership {
                    workspace,
                    role,
                    member_count,
                })
            }
        };
        tx.commit().await?;
        Ok(out)
    }

    /// Counts the members of `tenant`.
    pub async fn member_count(&self, tenant: TenantId) -> StoreResult<i64> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let n = count_members(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Renames `tenant`.
    pub async fn rename_workspace(&self, tenant: TenantId, name: &str) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes `tenant` and every row it owns.
    pub async fn delete_workspace(&self, tenant: TenantId) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let id = tenant.to_string();
        for table in ["api_keys", "invitations", "memberships"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM workspaces WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    // ---- members -----------------------------------------------------------------------

    /// The members of `tenant`, by name.
    pub async fn members(&self, tenant: TenantId) -> StoreResult<Vec<MemberRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM memberships m
             JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 ORDER BY u.name, u.email",
        )
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(MemberRecord::from_row).collect()
    }

    /// One member of `tenant`.
    pub async fn member(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<Option<MemberRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = fetch_member(&mut tx, tenant, user).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Changes a member's role; refuses to demote the last owner.
    pub async fn set_member_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: Role,
    ) -> StoreResult<MemberRecord> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        lock_workspace(self.backend, &mut tx, tenant).await?;
        let current = fetch_member(&mut tx, tenant, user)
            .await?
            .ok_or(StoreError::NotFound)?;
        if current.role == Role::Owner
            && role != Role::Owner
            && count_owners(&mut tx, tenant).await? <= 1
        {
            return Err(StoreError::LastOwner);
        }
        sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(tenant.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(MemberRecord { role, ..current })
    }

    /// Removes a member, and revokes the API keys they made there (answers how many);
    /// refuses to remove the last owner.
    pub async fn remove_member(
        &self,
        tenant: TenantId,
        user: UserId,
        now: i64,
    ) -> StoreResult<u64> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        lock_workspace(self.backend, &mut tx, tenant).await?;
        let current = fetch_member(&mut tx, tenant, user)
            .await?
            .ok_or(StoreError::NotFound)?;
        if current.role == Role::Owner && count_owners(&mut tx, tenant).await? <= 1 {
            return Err(StoreError::LastOwner);
        }
        sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        let revoked =
            crate::accounts::store::revoke_keys_created_by(&mut tx, tenant, user, now).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    // ---- invitations -------------------------------------------------------------------

    /// Records an invitation (its token only as a hash).
    pub async fn create_invitation(&self, inv: &InvitationRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(inv.tenant_id)).await?;
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(inv.id.to_string())
        .bind(inv.tenant_id.to_string())
        .bind(&inv.email)
        .bind(inv.role.as_str())
        .bind(&inv.token_hash)
        .bind(inv.invited_by.to_string())
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Invitations of `tenant` neither accepted, revoked nor expired at `now`, newest first.
    pub async fn pending_invitations(
        &self,
        tenant: TenantId,
        now: i64,
    ) -> StoreResult<Vec<InvitationRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id"
        ))
        .bind(tenant.to_string())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(InvitationRecord::from_row).collect()
    }

    /// Revokes a pending invitation of `tenant`.
    pub async fn revoke_invitation(
        &self,
        tenant: TenantId,
        id: InvitationId,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// The invitation with this token hash and its workspace, whatever its state.
    pub async fn invitation_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(InvitationRecord, WorkspaceRecord)>> {
        let mut tx = self.begin_read(Scope::Invitation(token_hash)).await?;
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let inv = InvitationRecord::from_row(&row)?;
        self.widen_to_tenant(&mut tx, inv.tenant_id).await?;
        let ws = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(inv.tenant_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        match ws {
            Some(ws) => Ok(Some((inv, WorkspaceRecord::from_row(&ws)?))),
            None => Ok(None),
        }
    }

    /// Accepts the usable invitation with this token hash for `user`: marks it used and adds
    /// the membership (an existing member keeps their role), atomically. `NotFound` when the
    /// token is unknown, used, revoked or expired.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        user: UserId,
        now: i64,
    ) -> StoreResult<Membership> {
        let mut tx = self.begin(Scope::Invitation(token_hash)).await?;
        let row = sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let inv = InvitationRecord::from_row(&row.ok_or(StoreError::NotFound)?)?;
        // Writes happen in the tenant's scope (the RLS write check).
        self.widen_to_tenant(&mut tx, inv.tenant_id).await?;
        let used = sqlx::query(
            "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3 AND accepted_at IS NULL",
        )
        .bind(now)
        .bind(user.to_string())
        .bind(inv.id.to_string())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        let existing = fetch_member(&mut tx, inv.tenant_id, user).await?;
        let role = match existing {
            Some(m) => m.role,
            None => {
                sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
                    .bind(inv.tenant_id.to_string())
                    .bind(user.to_string())
                    .bind(inv.role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                inv.role
            }
        };
        let ws = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
            .bind(inv.tenant_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let workspace = WorkspaceRecord::from_row(&ws)?;
        let member_count = count_members(&mut tx, inv.tenant_id).await?;
        tx.commit().await?;
        Ok(Membership {
            workspace,
            role,
            member_count,
        })
    }

    // ---- API keys ----------------------------------------------------------------------

    /// Records an API key (its secret only as a hash).
    pub async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(key.tenant_id)).await?;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, created_by, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(key.id.to_string())
        .bind(key.tenant_id.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.key_hash)
        .bind(key.role.as_str())
        .bind(key.created_by.to_string())
        .bind(key.created_at)
        .bind(key.last_used_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unrevoked API keys of `tenant`, newest first.
    pub async fn api_keys(&self, tenant: TenantId) -> StoreResult<Vec<ApiKeyRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id"
        ))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(ApiKeyRecord::from_row).collect()
    }

    /// Revokes an API key of `tenant`; `NotFound` if it is not theirs or already revoked.
    pub async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}

const INVITATION_COLUMNS: &str =
    "id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at, revoked_at";

/// On PostgreSQL, locks the workspace row so that concurrent changes to its owners
/// serialise (SQLite has a single writer already).
async fn lock_workspace(
    backend: Backend,
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
) -> StoreResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
            .bind(tenant.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn count_members(
    tx: &mut impl DerefMut<Target = AnyConnection>,
    tenant: TenantId,
) -> StoreResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = $1")
        .bind(tenant.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

async fn count_owners(
    tx: &mut impl DerefMut<Target = AnyConnection>,
    tenant: TenantId,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = $1 AND role = 'owner'",
    )
    .bind(tenant.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

async fn fetch_member(
    tx: &mut impl DerefMut<Target = AnyConnection>,
    tenant: TenantId,
    user: UserId,
) -> StoreResult<Option<MemberRecord>> {
    let row = sqlx::query(
        "SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM memberships m
         JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant.to_string())
    .bind(user.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| MemberRecord::from_row(&r)).transpose()
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
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
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
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
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
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Self> {
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
