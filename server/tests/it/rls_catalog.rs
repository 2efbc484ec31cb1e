//! The row-level security catalog on PostgreSQL: every table with a `tenant_id` column has
//! RLS enabled and forced, and at least one policy. A new tenant table without them fails
//! here. (SQLite has no row-level security; there the store's tenant-scoped queries are the
//! only guard, and the isolation suite checks them.)

use crate::common::TestDb;
use server::store::Backend;
use sqlx::{Connection, Row};

#[tokio::test]
async fn every_tenant_table_has_forced_row_level_security_and_a_policy() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let mut conn = sqlx::PgConnection::connect(&db.url)
        .await
        .expect("connect to the test database");
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                (SELECT count(*) FROM pg_policies p
                  WHERE p.schemaname = n.nspname AND p.tablename = c.relname) AS policies
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
          ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .expect("read the catalog");
    let tables: Vec<(String, bool, bool, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.get("name"),
                r.get("enabled"),
                r.get("forced"),
                r.get("policies"),
            )
        })
        .collect();
    let names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
    // The check is only as good as the tables it sees: the known tenant tables are among them.
    for known in [
        "memberships",
        "invitations",
        "api_keys",
        "jobs",
        "job_logs",
        "code_repositories",
        "route_logs",
    ] {
        assert!(names.contains(&known), "{known} not found among {names:?}");
    }
    let unguarded: Vec<_> = tables
        .iter()
        .filter(|(_, enabled, forced, policies)| !enabled || !forced || *policies == 0)
        .collect();
    assert!(
        unguarded.is_empty(),
        "tenant tables without forced RLS and a policy (name, enabled, forced, policies): {unguarded:?}"
    );
    conn.close().await.ok();
    store.close().await;
    db.drop_db().await;
}
