//! Workspace secrets through the REST API: set (201), replace (200), list without values,
//! delete; bad names and values refused by field with nothing written; the value stored
//! only sealed. Roles and other workspaces are in the isolation suite. Both backends.

use crate::common::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;
use server::store::Backend;
use shared::ids::TenantId;

async fn secrets_are_write_only(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    let (admin, _) = app.sign_up("admin@example.com").await;
    let acme = app.create_workspace(&owner, "acme").await;
    app.add_member(&owner, "acme", &admin, "admin@example.com", "admin")
        .await;
    let tenant: TenantId = acme["id"].as_str().expect("id").parse().expect("uuid");
    let path = "/api/v1/workspaces/acme/secrets";

    let set = app
        .set_secret(&owner, "acme", "GITHUB_TOKEN", "ghp_first")
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    assert_eq!(set.body["name"], "GITHUB_TOKEN");
    assert_eq!(set.body["updated_by"], "owner@example.com");
    assert!(set.body.get("value").is_none(), "{}", set.body);

    // Replacing keeps the creation time and records who changed it.
    let replaced = app
        .set_secret(&admin, "acme", "GITHUB_TOKEN", "ghp_second")
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["updated_by"], "admin@example.com");
    assert_eq!(replaced.body["created_at"], set.body["created_at"]);

    let listed = app.call(Method::GET, path, None, &owner).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );
    assert_eq!(listed.body[0]["name"], "GITHUB_TOKEN");
    let text = listed.body.to_string();
    assert!(!text.contains("ghp_"), "a value leaked: {text}");

    // At rest: sealed under the workspace and name, never the plain value.
    let stored = app
        .store
        .secret(tenant, "GITHUB_TOKEN")
        .await
        .expect("store")
        .expect("stored");
    assert!(!format!("{stored:?}").contains("ghp_second"));
    assert_eq!(
        app.control
            .config()
            .secrets
            .open(tenant, "GITHUB_TOKEN", &stored.sealed),
        Ok("ghp_second".to_owned())
    );

    // Bad input names its field and writes nothing.
    for (name, body, field) in [
        ("github_token", json!({"value": "v"}), "name"),
        ("1TOKEN", json!({"value": "v"}), "name"),
        ("TOKEN", json!({"value": ""}), "value"),
        ("TOKEN", json!({"value": "x".repeat(8 * 1024 + 1)}), "value"),
        ("TOKEN", json!({"value": "v", "note": "x"}), "note"),
        ("TOKEN", json!({}), "value"),
    ] {
        let a = app
            .call(Method::PUT, &format!("{path}/{name}"), Some(body), &owner)
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            a.body
        );
        assert_eq!(a.body["error"]["field"], field, "{name}: {}", a.body);
    }
    let listed = app.call(Method::GET, path, None, &owner).await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );

    let deleted = app
        .call(
            Method::DELETE,
            &format!("{path}/GITHUB_TOKEN"),
            None,
            &owner,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let again = app
        .call(
            Method::DELETE,
            &format!("{path}/GITHUB_TOKEN"),
            None,
            &owner,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    let listed = app.call(Method::GET, path, None, &owner).await;
    assert_eq!(listed.body, json!([]));
    app.finish().await;
}

on_both_backends!(secrets_are_write_only, secrets_are_write_only);

async fn rotation_reseals_under_the_new_key(backend: Backend) {
    use server::secrets::cipher::Keyring;
    use std::sync::Arc;
    let app = TestApp::new(backend).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    let acme = app.create_workspace(&owner, "acme").await;
    let tenant: TenantId = acme["id"].as_str().expect("id").parse().expect("uuid");
    let set = app
        .set_secret(&owner, "acme", "DB_PASSWORD", "correct horse")
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    let old_id = app.control.config().secrets.current_id().to_owned();

    // The same store, opened by a control plane with a new key and the old one as previous.
    use base64::Engine;
    let b64 = |k: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
    let rotated = Arc::new(
        Keyring::load(
            Some(&b64([43; 32])),
            &[b64([42; 32])],
            std::path::Path::new("/nonexistent"),
        )
        .expect("keys"),
    );
    let mut config = crate::common::test_config("unused");
    config.secrets = rotated.clone();
    let bus: Arc<dyn workers::bus::Bus> = Arc::new(workers::bus::memory::InProcessBus::new());
    let control = server::control_plane(app.store.clone(), config, bus);
    assert_eq!(control.secrets.reseal_all().await.expect("reseal"), 1);
    assert_eq!(
        control.secrets.reseal_all().await.expect("reseal"),
        0,
        "once is enough"
    );
    let stored = app
        .store
        .secret(tenant, "DB_PASSWORD")
        .await
        .expect("store")
        .expect("stored");
    assert_ne!(stored.sealed.key_id, old_id);
    assert_eq!(stored.sealed.key_id, rotated.current_id());
    let new_only = Keyring::load(
        Some(&b64([43; 32])),
        &[],
        std::path::Path::new("/nonexistent"),
    )
    .expect("key");
    assert_eq!(
        new_only.open(tenant, "DB_PASSWORD", &stored.sealed),
        Ok("correct horse".to_owned())
    );
    app.finish().await;
}

on_both_backends!(
    rotation_reseals_under_the_new_key,
    rotation_reseals_under_the_new_key
);
