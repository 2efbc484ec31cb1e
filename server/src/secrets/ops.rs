//! The secrets operations: list (names only, for anyone who reads the workspace), set and
//! delete (admins), the sealed value for a job to open on a worker (the platform's own use,
//! never a caller's), and re-sealing under a new key.

use super::cipher::Sealed;
use super::store::{PutSecret, SecretListing, SecretRecord};
use super::Secrets;
use crate::accounts::Principal;
use crate::clock::{now, rfc3339};
use crate::store::StoreError;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::ids::TenantId;
use shared::roles::Permission;
use shared::secrets::{
    check_secret_name, check_secret_value, SecretView, SetSecretRequest, MAX_SECRETS,
};

fn secret_view(listing: SecretListing) -> SecretView {
    SecretView {
        name: listing.record.name,
        updated_by: listing.updated_by_email,
        created_at: rfc3339(listing.record.created_at),
        updated_at: rfc3339(listing.record.updated_at),
    }
}

impl Secrets {
    /// The workspace's secrets: names, who set them and when; never values.
    pub async fn list(&self, principal: &Principal, slug: &str) -> ApiResult<Vec<SecretView>> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::ReadWorkspace)
            .await?;
        Ok(self
            .store
            .secrets(access.tenant())
            .await?
            .into_iter()
            .map(secret_view)
            .collect())
    }

    /// Sets the secret `name` (creating or replacing it). Answers it, and whether it is new.
    pub async fn set(
        &self,
        principal: &Principal,
        slug: &str,
        name: &str,
        req: SetSecretRequest,
    ) -> ApiResult<(SecretView, bool)> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::ManageSecrets)
            .await?;
        check_secret_name(name)?;
        check_secret_value(&req.value)?;
        let at = now();
        let record = SecretRecord {
            tenant_id: access.tenant(),
            name: name.to_owned(),
            sealed: self.keyring.seal(access.tenant(), name, &req.value),
            created_by: access.acting_user,
            created_at: at,
            updated_by: access.acting_user,
            updated_at: at,
        };
        let created = match self.store.put_secret(&record, MAX_SECRETS).await? {
            PutSecret::Created => true,
            PutSecret::Replaced => false,
            PutSecret::Full => {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("a workspace holds at most {MAX_SECRETS} secrets; delete one first"),
                ))
            }
        };
        tracing::info!(tenant = %record.tenant_id, secret = %name, created, "secret set");
        let listing = self
            .store
            .secrets(access.tenant())
            .await?
            .into_iter()
            .find(|s| s.record.name == name)
            .ok_or_else(|| ApiError::not_found("secret"))?;
        Ok((secret_view(listing), created))
    }

    /// Deletes the secret `name`.
    pub async fn delete(&self, principal: &Principal, slug: &str, name: &str) -> ApiResult<()> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::ManageSecrets)
            .await?;
        self.store
            .delete_secret(access.tenant(), name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ApiError::not_found("secret"),
                other => other.into(),
            })?;
        tracing::info!(tenant = %access.tenant(), secret = %name, "secret deleted");
        Ok(())
    }

    /// The sealed value of `tenant`'s secret `name`, for a job that opens it on a worker
    /// holding the same key.
    pub async fn sealed(&self, tenant: TenantId, name: &str) -> ApiResult<Option<Sealed>> {
        Ok(self.store.secret(tenant, name).await?.map(|r| r.sealed))
    }

    /// Seals every value sealed under an older key again under the current one (key
    /// rotation, at start-up). Answers how many were re-sealed; values under a key this
    /// process does not have are left as they are and logged.
    pub async fn reseal_all(&self) -> Result<usize, StoreError> {
        let mut resealed = 0;
        for record in self
            .store
            .secrets_sealed_elsewhere(self.keyring.current_id())
            .await?
        {
            match self
                .keyring
                .open(record.tenant_id, &record.name, &record.sealed)
            {
                Ok(value) => {
                    let after = self.keyring.seal(record.tenant_id, &record.name, &value);
                    if self
                        .store
                        .reseal_secret(record.tenant_id, &record.name, &record.sealed, &after)
                        .await?
                    {
                        resealed += 1;
                    }
                }
                Err(e) => {
                    tracing::warn!(tenant = %record.tenant_id, secret = %record.name, error = %e, "cannot re-seal a secret")
                }
            }
        }
        if resealed > 0 {
            tracing::info!(resealed, "secrets re-sealed under the current key");
        }
        Ok(resealed)
    }
}
