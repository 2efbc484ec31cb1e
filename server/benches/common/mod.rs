//! What the benchmarks share: percentiles, a workspace to run in, a fresh PostgreSQL
//! database. Each bench binary uses part of it.
#![allow(dead_code)]

use server::accounts::UserRecord;
use server::store::{Store, StoreOptions};
use server::tenancy::WorkspaceRecord;
use shared::ids::{TenantId, UserId};
use sqlx::{Connection, Executor};

/// The `p` percentile (0-1) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A workspace (and its owner) to run jobs in.
pub async fn workspace(store: &Store) -> TenantId {
    workspace_and_owner(store).await.1.id
}

/// A workspace and its owner.
pub async fn workspace_and_owner(store: &Store) -> (UserRecord, WorkspaceRecord) {
    let owner = UserRecord {
        id: UserId::new(),
        email: format!("bench-{}@example.com", uuid::Uuid::new_v4().simple()),
        name: "Bench".into(),
        password_hash: None,
        created_at: 0,
        email_verified_at: Some(0),
    };
    store.create_user(&owner, None).await.expect("user");
    let ws = WorkspaceRecord {
        id: TenantId::new(),
        slug: format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        name: "Bench".into(),
        created_at: 0,
    };
    store
        .create_workspace(&ws, owner.id)
        .await
        .expect("workspace");
    (owner, ws)
}

/// A store on a new PostgreSQL database (`TEST_DATABASE_URL`'s server), and its name.
pub async fn fresh_postgres() -> (Store, String) {
    sqlx::any::install_default_drivers();
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("sy_test_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .expect("PostgreSQL for the benchmark");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("url");
    url.set_path(&format!("/{name}"));
    (
        Store::connect(url.as_str(), StoreOptions::default())
            .await
            .expect("store"),
        name,
    )
}
