//! E-mail verification and password reset through the REST API, with the mail read from
//! the outbox: resets end every session and the user's keys; answers never reveal whether
//! an address is registered; an account from before verification must verify at login;
//! invitations are mailed and need a verified address.

use crate::common::{link_token, Auth, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::json;
use server::store::Backend;

async fn post(app: &TestApp, path: &str, body: serde_json::Value) -> crate::common::Answer {
    app.call(Method::POST, path, Some(body), &Auth::None).await
}

async fn password_reset_ends_sessions_and_keys(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let (key, _) = app.api_key(&ada, "acme", "developer").await;

    // The same answer for a registered address and an unknown one; only one gets mail.
    let known = post(
        &app,
        "/api/v1/auth/password-reset",
        json!({"email": "ada@example.com"}),
    )
    .await;
    let unknown = post(
        &app,
        "/api/v1/auth/password-reset",
        json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(known.body["message"], unknown.body["message"]);
    let mail = app
        .mail_to("ada@example.com", "Choose a new Switchyard password")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mails("nobody@example.com").is_empty());
    let token = link_token(&mail.body, "/reset-password");

    let short = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        json!({"token": token, "new_password": "short"}),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.body["error"]["field"], "new_password");
    let bogus = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        json!({"token": "not-a-token", "new_password": "a brand new password"}),
    )
    .await;
    assert_eq!(bogus.body["error"]["field"], "token", "{}", bogus.body);

    let done = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        json!({"token": token, "new_password": "a brand new password"}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let fresh = Auth::Cookie(done.cookie());
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &fresh)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &ada).await.status,
        StatusCode::UNAUTHORIZED,
        "the sessions from before the reset ended"
    );
    assert_eq!(
        app.call(
            Method::GET,
            "/api/v1/workspaces/acme",
            None,
            &Auth::Bearer(key)
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED,
        "the keys she created were revoked"
    );
    let old = post(
        &app,
        "/api/v1/auth/login",
        json!({"email": "ada@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = post(
        &app,
        "/api/v1/auth/login",
        json!({"email": "ada@example.com", "password": "a brand new password"}),
    )
    .await;
    assert_eq!(new.status, StatusCode::OK);
    let reuse = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        json!({"token": token, "new_password": "yet another password"}),
    )
    .await;
    assert_eq!(
        reuse.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link works once"
    );
    app.finish().await;
}
on_both_backends!(
    password_reset_ends_sessions_and_keys,
    password_reset_ends_sessions_and_keys
);

async fn sign_up_links_expire_and_need_their_own_password(backend: Backend) {
    let app = TestApp::with_config(backend, |c| {
        c.verification_ttl = std::time::Duration::from_secs(0);
    })
    .await;
    post(
        &app,
        "/api/v1/auth/signup",
        json!({"email": "bea@example.com", "password": "correct horse battery", "name": "Bea"}),
    )
    .await;
    let mail = app
        .mail_to("bea@example.com", "Confirm your e-mail address")
        .await;
    let expired = post(
        &app,
        "/api/v1/auth/verify-email",
        json!({"token": link_token(&mail.body, "/verify-email"), "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(
        expired.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        expired.body
    );
    assert_eq!(
        app.store.user_by_email("bea@example.com").await.unwrap(),
        None
    );
    app.finish().await;

    // Someone signs up with Cy's address and a password of their own; then Cy does. Both
    // links reach Cy. The stranger's link cannot be finished with Cy's password, so Cy
    // cannot be led into an account the stranger can log in to; Cy's own link works.
    let app = TestApp::new(backend).await;
    post(
        &app,
        "/api/v1/auth/signup",
        json!({"email": "cy@example.com", "password": "stranger's password", "name": "Mallory"}),
    )
    .await;
    let stranger = link_token(
        &app.mail_to("cy@example.com", "Confirm").await.body,
        "/verify-email",
    );
    post(
        &app,
        "/api/v1/auth/signup",
        json!({"email": "cy@example.com", "password": "cy's own password", "name": "Cy"}),
    )
    .await;
    let mut own = stranger.clone();
    for _ in 0..100 {
        let mails = app.mails("cy@example.com");
        if mails.len() == 2 {
            own = link_token(&mails[1].body, "/verify-email");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(stranger, own, "a second link was mailed");
    let led = post(
        &app,
        "/api/v1/auth/verify-email",
        json!({"token": stranger, "password": "cy's own password"}),
    )
    .await;
    assert_eq!(led.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", led.body);
    assert_eq!(led.body["error"]["field"], "password");
    assert_eq!(
        app.store.user_by_email("cy@example.com").await.unwrap(),
        None
    );
    let ok = post(
        &app,
        "/api/v1/auth/verify-email",
        json!({"token": own, "password": "cy's own password"}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["user"]["name"], "Cy");
    // The stranger's link is dead now that the address has its account.
    let late = post(
        &app,
        "/api/v1/auth/verify-email",
        json!({"token": stranger, "password": "stranger's password"}),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    let login = post(
        &app,
        "/api/v1/auth/login",
        json!({"email": "cy@example.com", "password": "stranger's password"}),
    )
    .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    app.finish().await;
}
on_both_backends!(
    sign_up_links_expire_and_need_their_own_password,
    sign_up_links_expire_and_need_their_own_password
);

/// An account from before e-mail verification, with `password`.
async fn legacy_account(
    app: &TestApp,
    email: &str,
    password: &str,
) -> server::accounts::UserRecord {
    let user = server::accounts::UserRecord {
        id: shared::ids::UserId::new(),
        email: email.into(),
        name: "Old Timer".into(),
        password_hash: Some(server::auth::passwords::hash(password).expect("a hash")),
        created_at: 1,
        email_verified_at: None,
    };
    app.store.create_user(&user, None).await.expect("the user");
    user
}

async fn an_unverified_account_verifies_at_login(backend: Backend) {
    let app = TestApp::new(backend).await;
    legacy_account(&app, "old@example.com", "correct horse battery").await;
    let refused = post(
        &app,
        "/api/v1/auth/login",
        json!({"email": "old@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("verify"));
    let mail = app
        .mail_to("old@example.com", "Verify your e-mail address")
        .await;
    let token = link_token(&mail.body, "/verify-email");
    // The link alone is not enough: whoever chose the password must confirm with it (an
    // account a stranger registered with this address is reset, not verified, by its owner).
    let bare = post(&app, "/api/v1/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(bare.body["error"]["field"], "password", "{}", bare.body);
    let wrong = post(
        &app,
        "/api/v1/auth/verify-email",
        json!({ "token": token, "password": "a stranger's guess" }),
    )
    .await;
    assert_eq!(wrong.body["error"]["field"], "password", "{}", wrong.body);
    let ok = post(
        &app,
        "/api/v1/auth/verify-email",
        json!({ "token": token, "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let login = post(
        &app,
        "/api/v1/auth/login",
        json!({"email": "old@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(app
        .store
        .user_by_email("old@example.com")
        .await
        .unwrap()
        .unwrap()
        .email_verified_at
        .is_some());
    app.finish().await;
}
on_both_backends!(
    an_unverified_account_verifies_at_login,
    an_unverified_account_verifies_at_login
);

async fn invitations_are_mailed_and_need_a_verified_address(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    let inv = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/invitations",
            Some(json!({"email": "old@example.com", "role": "viewer"})),
            &owner,
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED);
    let token = inv.body["token"].as_str().unwrap().to_owned();
    let mail = app
        .mail_to("old@example.com", "owner invited you to acme team")
        .await;
    assert!(
        mail.body.contains(&format!("/invitations/{token}")),
        "{}",
        mail.body
    );

    // A session of an account whose address was never verified (made directly: login
    // would first ask it to verify) cannot accept, even with the right address.
    let old = legacy_account(&app, "old@example.com", "correct horse battery").await;
    let session = server::accounts::SessionRecord {
        id: shared::ids::SessionId::new(),
        user_id: old.id,
        created_at: server::clock::now(),
        last_seen_at: server::clock::now(),
        expires_at: server::clock::now() + 3600,
        revoked_at: None,
        user_agent: String::new(),
    };
    app.store.create_session(&session).await.unwrap();
    let keys = server::auth::sessions::SessionKeys::new(&app.control.config().session_secret);
    let jwt = keys
        .sign(&server::auth::sessions::Claims {
            sub: old.id,
            sid: session.id,
            iat: session.created_at,
            exp: session.expires_at,
        })
        .unwrap();
    let unverified = Auth::Cookie(format!("sy_session={jwt}"));
    let refused = app
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            &unverified,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("verify"));
    app.finish().await;
}
on_both_backends!(
    invitations_are_mailed_and_need_a_verified_address,
    invitations_are_mailed_and_need_a_verified_address
);
