//! The tenancy operations: workspaces, members, invitations and API keys. Every operation
//! resolves the workspace through [`Tenancy::authorize`], which answers 404 for a workspace
//! the caller cannot see and 403 for a role below the permission's minimum.

use super::store::{InvitationRecord, MemberRecord, Membership, WorkspaceRecord};
use super::{Access, Tenancy};
use crate::accounts::{user_view, ApiKeyRecord, Principal};
use crate::auth::secrets;
use crate::clock::{now, rfc3339};
use crate::store::StoreError;
use shared::accounts::Email;
use shared::api::*;
use shared::error::{ApiError, ApiResult, FieldError};
use shared::ids::{ApiKeyId, InvitationId, TenantId, UserId};
use shared::roles::{Permission, Role};
use shared::tenancy::{Slug, WorkspaceName};

impl Access {
    fn view(&self) -> Workspace {
        workspace_view(&self.workspace, self.role, self.member_count)
    }
}

fn workspace_view(w: &WorkspaceRecord, role: Role, member_count: i64) -> Workspace {
    Workspace {
        id: w.id,
        slug: w.slug.clone(),
        name: w.name.clone(),
        role,
        member_count,
        created_at: rfc3339(w.created_at),
    }
}

fn member_view(m: MemberRecord) -> Member {
    Member {
        user_id: m.user_id,
        email: m.email,
        name: m.name,
        role: m.role,
        joined_at: rfc3339(m.joined_at),
    }
}

fn api_key_view(k: ApiKeyRecord) -> ApiKey {
    ApiKey {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        role: k.role,
        created_at: rfc3339(k.created_at),
        last_used_at: k.last_used_at.map(rfc3339),
    }
}

fn not_found_as(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

/// Credentials and people are made by people: a leaked key must not mint another key or
/// invite its holder in.
fn people_only(principal: &Principal, what: &str) -> ApiResult<()> {
    match principal {
        Principal::User { .. } => Ok(()),
        Principal::ApiKey(_) => Err(ApiError::forbidden(format!(
            "an API key cannot create {what}; a signed-in member can"
        ))),
    }
}

fn too_low(permission: Permission) -> ApiError {
    ApiError::forbidden(format!(
        "your role does not allow this; it needs {} or above",
        Role::minimum_for(permission)
    ))
}

impl Tenancy {
    /// The signed-in caller and their workspaces.
    pub async fn me(&self, principal: &Principal) -> ApiResult<MeResponse> {
        let user = principal.user()?;
        let workspaces = self.workspaces(principal).await?;
        Ok(MeResponse {
            user: user_view(user),
            workspaces,
        })
    }

    /// Resolves `slug` for `principal` and checks it holds `permission` there.
    pub async fn authorize(
        &self,
        principal: &Principal,
        slug: &str,
        permission: Permission,
    ) -> ApiResult<Access> {
        let access = match principal {
            Principal::User { user, .. } => {
                let m = self
                    .store
                    .membership_by_slug(user.id, slug)
                    .await?
                    .ok_or_else(|| ApiError::not_found("workspace"))?;
                Access {
                    workspace: m.workspace,
                    role: m.role,
                    member_count: m.member_count,
                    acting_user: user.id,
                }
            }
            Principal::ApiKey(key) => {
                let (workspace, role) = self
                    .key_access(key)
                    .await?
                    .filter(|(w, _)| w.slug == slug)
                    .ok_or_else(|| ApiError::not_found("workspace"))?;
                let member_count = self.store.member_count(workspace.id).await?;
                Access {
                    workspace,
                    role,
                    member_count,
                    acting_user: key.created_by,
                }
            }
        };
        if !access.role.allows(permission) {
            return Err(too_low(permission));
        }
        Ok(access)
    }

    /// An API key's workspace and the role it acts with: its own role, but never more than
    /// its creator holds now. A key whose creator left the workspace acts as nobody (401).
    async fn key_access(&self, key: &ApiKeyRecord) -> ApiResult<Option<(WorkspaceRecord, Role)>> {
        let Some(workspace) = self.store.workspace(key.tenant_id).await? else {
            return Ok(None);
        };
        let creator = self
            .store
            .member(workspace.id, key.created_by)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Some((workspace, key.role.lower(creator.role))))
    }

    /// The workspaces the caller can see: a user's memberships, or an API key's workspace.
    pub async fn workspaces(&self, principal: &Principal) -> ApiResult<Vec<Workspace>> {
        match principal {
            Principal::User { user, .. } => Ok(self
                .store
                .workspaces_of(user.id)
                .await?
                .iter()
                .map(|m| workspace_view(&m.workspace, m.role, m.member_count))
                .collect()),
            Principal::ApiKey(key) => {
                let Some((w, role)) = self.key_access(key).await? else {
                    return Ok(Vec::new());
                };
                let n = self.store.member_count(w.id).await?;
                Ok(vec![workspace_view(&w, role, n)])
            }
        }
    }

    /// Creates a workspace owned by the signed-in caller.
    pub async fn create_workspace(
        &self,
        principal: &Principal,
        req: CreateWorkspaceRequest,
    ) -> ApiResult<Workspace> {
        let user = principal.user()?;
        let slug = Slug::parse(&req.slug)?;
        let name = WorkspaceName::parse(&req.name)?;
        let ws = WorkspaceRecord {
            id: TenantId::new(),
            slug: slug.as_str().to_owned(),
            name: name.as_str().to_owned(),
            created_at: now(),
        };
        self.store.create_workspace(&ws, user.id).await?;
        tracing::info!(tenant = %ws.id, user = %user.id, "workspace created");
        Ok(workspace_view(&ws, Role::Owner, 1))
    }

    /// One workspace.
    pub async fn workspace(&self, principal: &Principal, slug: &str) -> ApiResult<Workspace> {
        Ok(self
            .authorize(principal, slug, Permission::ReadWorkspace)
            .await?
            .view())
    }

    /// Renames a workspace.
    pub async fn rename_workspace(
        &self,
        principal: &Principal,
        slug: &str,
        req: UpdateWorkspaceRequest,
    ) -> ApiResult<Workspace> {
        let mut access = self
            .authorize(principal, slug, Permission::RenameWorkspace)
            .await?;
        let name = WorkspaceName::parse(&req.name)?;
        self.store
            .rename_workspace(access.tenant(), name.as_str())
            .await
            .map_err(not_found_as("workspace"))?;
        access.workspace.name = name.as_str().to_owned();
        Ok(access.view())
    }

    /// Deletes a workspace; `confirm` must repeat its slug.
    pub async fn delete_workspace(
        &self,
        principal: &Principal,
        slug: &str,
        confirm: &str,
    ) -> ApiResult<()> {
        let access = self
            .authorize(principal, slug, Permission::DeleteWorkspace)
            .await?;
        if confirm.trim() != access.workspace.slug {
            return Err(FieldError::new(
                "confirm",
                "type the workspace's slug to confirm deletion",
            )
            .into());
        }
        let tenant = access.tenant();
        let mut owned = Vec::new();
        for observer in self.observers() {
            owned.extend(observer.deleting(tenant).await);
        }
        self.store
            .delete_workspace(tenant)
            .await
            .map_err(not_found_as("workspace"))?;
        for observer in self.observers() {
            observer.deleted(tenant).await;
        }
        for path in &owned {
            match tokio::fs::remove_dir_all(path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove a deleted workspace's files")
                }
            }
        }
        tracing::info!(tenant = %tenant, removed = owned.len(), "workspace deleted");
        Ok(())
    }

    /// The workspace's members.
    pub async fn members(&self, principal: &Principal, slug: &str) -> ApiResult<Vec<Member>> {
        let access = self
            .authorize(principal, slug, Permission::ReadWorkspace)
            .await?;
        Ok(self
            .store
            .members(access.tenant())
            .await?
            .into_iter()
            .map(member_view)
            .collect())
    }

    /// Changes a member's role. The caller must be allowed to grant the new role and must
    /// rank at least as high as the member; the last owner cannot be demoted.
    pub async fn change_member_role(
        &self,
        principal: &Principal,
        slug: &str,
        user: UserId,
        role: Role,
    ) -> ApiResult<Member> {
        let access = self
            .authorize(principal, slug, Permission::ManageMembers)
            .await?;
        let target = self
            .store
            .member(access.tenant(), user)
            .await?
            .ok_or_else(|| ApiError::not_found("member"))?;
        if !access.role.may_grant(role) || !access.role.at_least(target.role) {
            return Err(ApiError::forbidden(format!(
                "a {} cannot change a {} into a {}",
                access.role, target.role, role
            )));
        }
        let updated = self
            .store
            .set_member_role(access.tenant(), user, role)
            .await
            .map_err(not_found_as("member"))?;
        Ok(member_view(updated))
    }

    /// Removes a member. Anyone may leave; removing someone else needs member management
    /// and a rank at least theirs; the last owner can do neither.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        slug: &str,
        user: UserId,
    ) -> ApiResult<()> {
        let leaving = matches!(principal, Principal::User { user: me, .. } if me.id == user);
        let needed = if leaving {
            Permission::ReadWorkspace
        } else {
            Permission::ManageMembers
        };
        let access = self.authorize(principal, slug, needed).await?;
        let target = self
            .store
            .member(access.tenant(), user)
            .await?
            .ok_or_else(|| ApiError::not_found("member"))?;
        if !leaving && !access.role.at_least(target.role) {
            return Err(ApiError::forbidden(format!(
                "a {} cannot remove a {}",
                access.role, target.role
            )));
        }
        let revoked = self
            .store
            .remove_member(access.tenant(), user, now())
            .await
            .map_err(not_found_as("member"))?;
        tracing::info!(tenant = %access.tenant(), user = %user, revoked_keys = revoked, "member removed");
        Ok(())
    }

    /// Invites someone by e-mail. The token is returned once and stored hashed.
    pub async fn invite(
        &self,
        principal: &Principal,
        slug: &str,
        req: CreateInvitationRequest,
    ) -> ApiResult<InvitationCreated> {
        let access = self
            .authorize(principal, slug, Permission::ManageMembers)
            .await?;
        people_only(principal, "invitations")?;
        let email = Email::parse(&req.email)?;
        if !access.role.may_grant(req.role) {
            return Err(ApiError::forbidden(format!(
                "a {} cannot invite a {}",
                access.role, req.role
            )));
        }
        let token = secrets::random_token(32);
        let t = now();
        let record = InvitationRecord {
            id: InvitationId::new(),
            tenant_id: access.tenant(),
            email: email.as_str().to_owned(),
            role: req.role,
            token_hash: secrets::hash(&token),
            invited_by: access.acting_user,
            created_at: t,
            expires_at: t + self.config.invitation_ttl.as_secs() as i64,
            accepted_at: None,
            revoked_at: None,
        };
        self.store.create_invitation(&record).await?;
        let mut url = self.config.public_url.clone();
        url.set_path(&format!("/invitations/{token}"));
        let inviter = principal.user()?.name.clone();
        let workspace = access.workspace.name.clone();
        self.accounts.post_limited(
            "invitation",
            crate::mail::Mail {
                to: record.email.clone(),
                subject: format!("{inviter} invited you to {workspace} on Switchyard"),
                body: format!(
                    "{inviter} invited you to join the workspace {workspace} on Switchyard as {}.\n\nAccept the invitation: {url}\n\nThe link works until {} and only for this address.\n",
                    record.role,
                    rfc3339(record.expires_at)
                ),
            },
        );
        Ok(InvitationCreated {
            id: record.id,
            url: url.to_string(),
            token,
            email: record.email,
            role: record.role,
            expires_at: rfc3339(record.expires_at),
        })
    }

    /// Invitations not yet used.
    pub async fn invitations(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> ApiResult<Vec<PendingInvitation>> {
        let access = self
            .authorize(principal, slug, Permission::ManageMembers)
            .await?;
        Ok(self
            .store
            .pending_invitations(access.tenant(), now())
            .await?
            .into_iter()
            .map(|i| PendingInvitation {
                id: i.id,
                email: i.email,
                role: i.role,
                created_at: rfc3339(i.created_at),
                expires_at: rfc3339(i.expires_at),
            })
            .collect())
    }

    /// Withdraws an invitation.
    pub async fn revoke_invitation(
        &self,
        principal: &Principal,
        slug: &str,
        id: InvitationId,
    ) -> ApiResult<()> {
        let access = self
            .authorize(principal, slug, Permission::ManageMembers)
            .await?;
        self.store
            .revoke_invitation(access.tenant(), id, now())
            .await
            .map_err(not_found_as("invitation"))
    }

    /// What an invitation token offers, if it is still usable.
    pub async fn invitation_preview(&self, token: &str) -> ApiResult<InvitationPreview> {
        let gone = || ApiError::not_found("invitation");
        let (inv, ws) = self
            .store
            .invitation_by_token(&secrets::hash(token))
            .await?
            .ok_or_else(gone)?;
        if inv.accepted_at.is_some() || inv.revoked_at.is_some() || inv.expires_at <= now() {
            return Err(ApiError::new(
                shared::error::ErrorCode::NotFound,
                "this invitation has been used, withdrawn or has expired",
            ));
        }
        Ok(InvitationPreview {
            workspace_name: ws.name,
            workspace_slug: ws.slug,
            role: inv.role,
            email: inv.email,
            expires_at: rfc3339(inv.expires_at),
        })
    }

    /// Accepts an invitation as the signed-in caller.
    pub async fn accept_invitation(
        &self,
        principal: &Principal,
        token: &str,
    ) -> ApiResult<Workspace> {
        let user = principal.user()?;
        // An address nobody has shown to be theirs proves nothing about who is invited.
        if user.email_verified_at.is_none() {
            return Err(ApiError::forbidden(
                "verify your e-mail address before accepting an invitation",
            ));
        }
        let token_hash = secrets::hash(token);
        // An invitation is for the address it was sent to: a forwarded link is no key.
        if let Some((inv, _)) = self.store.invitation_by_token(&token_hash).await? {
            let usable =
                inv.accepted_at.is_none() && inv.revoked_at.is_none() && inv.expires_at > now();
            if usable && inv.email != user.email {
                return Err(ApiError::forbidden(format!(
                    "this invitation was sent to {}; sign in with that address to accept it",
                    inv.email
                )));
            }
        }
        let m: Membership = self
            .store
            .accept_invitation(&token_hash, user.id, now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ApiError::new(
                    shared::error::ErrorCode::NotFound,
                    "this invitation has been used, withdrawn or has expired",
                ),
                other => other.into(),
            })?;
        tracing::info!(tenant = %m.workspace.id, user = %user.id, "invitation accepted");
        Ok(workspace_view(&m.workspace, m.role, m.member_count))
    }

    /// The workspace's API keys.
    pub async fn api_keys(&self, principal: &Principal, slug: &str) -> ApiResult<Vec<ApiKey>> {
        let access = self
            .authorize(principal, slug, Permission::ManageApiKeys)
            .await?;
        Ok(self
            .store
            .api_keys(access.tenant())
            .await?
            .into_iter()
            .map(api_key_view)
            .collect())
    }

    /// Creates an API key with a role at most the caller's.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        slug: &str,
        req: CreateApiKeyRequest,
    ) -> ApiResult<ApiKeyCreated> {
        let access = self
            .authorize(principal, slug, Permission::ManageApiKeys)
            .await?;
        people_only(principal, "API keys")?;
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must be 1-80 characters without control characters",
            )
            .into());
        }
        if !access.role.at_least(req.role) {
            return Err(ApiError::forbidden(format!(
                "a {} cannot create a {} key",
                access.role, req.role
            )));
        }
        let (key, prefix) = secrets::new_api_key();
        let record = ApiKeyRecord {
            id: ApiKeyId::new(),
            tenant_id: access.tenant(),
            name: name.to_owned(),
            prefix,
            key_hash: secrets::hash(&key),
            role: req.role,
            created_by: access.acting_user,
            created_at: now(),
            last_used_at: None,
        };
        self.store.create_api_key(&record).await?;
        tracing::info!(tenant = %record.tenant_id, key = %record.id, "API key created");
        Ok(ApiKeyCreated {
            id: record.id,
            key,
            name: record.name,
            prefix: record.prefix,
            role: record.role,
        })
    }

    /// Revokes an API key.
    pub async fn revoke_api_key(
        &self,
        principal: &Principal,
        slug: &str,
        id: ApiKeyId,
    ) -> ApiResult<()> {
        let access = self
            .authorize(principal, slug, Permission::ManageApiKeys)
            .await?;
        self.store
            .revoke_api_key(access.tenant(), id, now())
            .await
            .map_err(not_found_as("API key"))
    }
}
