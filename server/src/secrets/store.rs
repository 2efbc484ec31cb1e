//! The `workspace_secrets` table: one sealed value per workspace and name.

use super::cipher::Sealed;
use crate::store::{id, Scope, Store, StoreError, StoreResult};
use shared::ids::{TenantId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A secret as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRecord {
    /// Its workspace.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// The value, sealed.
    pub sealed: Sealed,
    /// Who first set it.
    pub created_by: UserId,
    /// When.
    pub created_at: i64,
    /// Who set the current value.
    pub updated_by: UserId,
    /// When.
    pub updated_at: i64,
}

/// A secret as listed: its record and the e-mail address of who set it last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretListing {
    /// The record.
    pub record: SecretRecord,
    /// `updated_by`'s e-mail address.
    pub updated_by_email: String,
}

/// What [`Store::put_secret`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutSecret {
    /// A new secret.
    Created,
    /// A new value for an existing one.
    Replaced,
    /// Nothing: the workspace holds as many secrets as it may.
    Full,
}

const COLUMNS: &str = "s.tenant_id, s.name, s.key_id, s.nonce, s.ciphertext, s.created_by, s.created_at, s.updated_by, s.updated_at";

impl SecretRecord {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            tenant_id: id(row, "tenant_id")?,
            name: row.try_get("name")?,
            sealed: Sealed {
                key_id: row.try_get("key_id")?,
                nonce: row.try_get("nonce")?,
                ciphertext: row.try_get("ciphertext")?,
            },
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
            updated_by: id(row, "updated_by")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl Store {
    /// The secrets of `tenant`, by name.
    pub async fn secrets(&self, tenant: TenantId) -> StoreResult<Vec<SecretListing>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, u.email FROM workspace_secrets s JOIN users u ON u.id = s.updated_by
             WHERE s.tenant_id = $1 ORDER BY s.name"
        ))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                Ok(SecretListing {
                    record: SecretRecord::from_row(row)?,
                    updated_by_email: row.try_get("email")?,
                })
            })
            .collect()
    }

    /// One secret of `tenant`.
    pub async fn secret(&self, tenant: TenantId, name: &str) -> StoreResult<Option<SecretRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM workspace_secrets s WHERE s.tenant_id = $1 AND s.name = $2"
        ))
        .bind(tenant.to_string())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(SecretRecord::from_row).transpose()
    }

    /// Stores `secret`, replacing the value of one with its name (keeping its creation). A
    /// new one is not stored when the workspace holds `max` already.
    pub async fn put_secret(&self, secret: &SecretRecord, max: usize) -> StoreResult<PutSecret> {
        let mut tx = self.begin(Scope::Tenant(secret.tenant_id)).await?;
        let tenant = secret.tenant_id.to_string();
        let replaced = sqlx::query(
            "UPDATE workspace_secrets SET key_id = $1, nonce = $2, ciphertext = $3, updated_by = $4, updated_at = $5
             WHERE tenant_id = $6 AND name = $7",
        )
        .bind(&secret.sealed.key_id)
        .bind(&secret.sealed.nonce)
        .bind(&secret.sealed.ciphertext)
        .bind(secret.updated_by.to_string())
        .bind(secret.updated_at)
        .bind(&tenant)
        .bind(&secret.name)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !replaced {
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM workspace_secrets WHERE tenant_id = $1")
                    .bind(&tenant)
                    .fetch_one(&mut *tx)
                    .await?;
            if count >= max as i64 {
                return Ok(PutSecret::Full);
            }
            sqlx::query(
                "INSERT INTO workspace_secrets (tenant_id, name, key_id, nonce, ciphertext, created_by, created_at, updated_by, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&tenant)
            .bind(&secret.name)
            .bind(&secret.sealed.key_id)
            .bind(&secret.sealed.nonce)
            .bind(&secret.sealed.ciphertext)
            .bind(secret.created_by.to_string())
            .bind(secret.created_at)
            .bind(secret.updated_by.to_string())
            .bind(secret.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::store::unique_to_conflict(e, "name"))?;
        }
        tx.commit().await?;
        Ok(if replaced {
            PutSecret::Replaced
        } else {
            PutSecret::Created
        })
    }

    /// Deletes a secret of `tenant`; `NotFound` when it has none of that name.
    pub async fn delete_secret(&self, tenant: TenantId, name: &str) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query("DELETE FROM workspace_secrets WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.to_string())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every secret of every workspace sealed under a key other than `key_id` (rotation;
    /// the control plane's own work, never a caller's).
    pub async fn secrets_sealed_elsewhere(&self, key_id: &str) -> StoreResult<Vec<SecretRecord>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM workspace_secrets s WHERE s.key_id <> $1"
        ))
        .bind(key_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(SecretRecord::from_row).collect()
    }

    /// Replaces the sealed value of one secret, as long as it is still `before` (a value
    /// set meanwhile is left alone). Answers whether it was replaced.
    pub async fn reseal_secret(
        &self,
        tenant: TenantId,
        name: &str,
        before: &Sealed,
        after: &Sealed,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE workspace_secrets SET key_id = $1, nonce = $2, ciphertext = $3
             WHERE tenant_id = $4 AND name = $5 AND nonce = $6",
        )
        .bind(&after.key_id)
        .bind(&after.nonce)
        .bind(&after.ciphertext)
        .bind(tenant.to_string())
        .bind(name)
        .bind(&before.nonce)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
