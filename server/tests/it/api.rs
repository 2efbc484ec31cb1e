//! The REST API end to end, in-process, on a real store: accounts, sessions, workspaces,
//! members, invitations, API keys, input errors, CSRF, rate limits, probes and OpenAPI.

use crate::common::{Auth, TestApp};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use server::store::Backend;

async fn signup_login_logout_and_sessions(backend: Backend) {
    let app = TestApp::new(backend).await;
    let a = app
        .call(Method::POST, "/api/v1/auth/signup", Some(json!({"email": "  Ada@Example.com ", "password": "correct horse battery", "name": "Ada"})), &Auth::None)
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.body["email"], "ada@example.com");
    assert!(
        a.headers.get(header::SET_COOKIE).is_none(),
        "nobody is signed in before the address is verified"
    );
    // Until the link is followed there is no account to log in to.
    let early = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "ada@example.com", "password": "correct horse battery"})),
            &Auth::None,
        )
        .await;
    assert_eq!(early.status, StatusCode::UNAUTHORIZED, "{}", early.body);
    let mail = app
        .mail_to("ada@example.com", "Confirm your e-mail address")
        .await;
    let token = crate::common::link_token(&mail.body, "/verify-email");
    // The link alone does not finish a sign-up: the password chosen then must come along.
    for (body, status) in [
        (json!({ "token": token }), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({ "token": token, "password": "not the one" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let refused = app
            .call(
                Method::POST,
                "/api/v1/auth/verify-email",
                Some(body),
                &Auth::None,
            )
            .await;
        assert_eq!(refused.status, status, "{}", refused.body);
        assert_eq!(refused.body["error"]["field"], "password");
    }
    let verified = app
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(json!({ "token": token, "password": "correct horse battery" })),
            &Auth::None,
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    assert_eq!(verified.body["user"]["email"], "ada@example.com");
    let set_cookie = verified
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && !set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    let first = Auth::Cookie(verified.cookie());
    let again = app
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(json!({ "token": token, "password": "correct horse battery" })),
            &Auth::None,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link works once: {}",
        again.body
    );
    assert_eq!(again.body["error"]["field"], "token");

    let me = app.call(Method::GET, "/api/v1/me", None, &first).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["name"], "Ada");
    assert_eq!(me.body["workspaces"], json!([]));

    // Signing up again answers exactly as for a new address; the mail tells the owner.
    let dup = app
        .call(Method::POST, "/api/v1/auth/signup", Some(json!({"email": "ada@example.com", "password": "another password", "name": "Ada 2"})), &Auth::None)
        .await;
    assert_eq!(dup.status, a.status);
    assert_eq!(dup.body, a.body, "a registered address is not revealed");
    let note = app
        .mail_to("ada@example.com", "You already have a Switchyard account")
        .await;
    assert!(note.body.contains("/forgot-password"), "{}", note.body);
    assert!(
        !note.body.contains("token="),
        "the note carries no link that does anything"
    );

    let wrong = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "ada@example.com", "password": "wrong password"})),
            &Auth::None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body["error"]["code"], "unauthorized");
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "nobody@example.com", "password": "wrong password"})),
            &Auth::None,
        )
        .await;
    assert_eq!(
        unknown.body, wrong.body,
        "unknown accounts and wrong passwords look alike"
    );

    let login = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "ADA@example.com", "password": "correct horse battery"})),
            &Auth::None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let second = Auth::Cookie(login.cookie());
    let sessions = app
        .call(Method::GET, "/api/v1/auth/sessions", None, &second)
        .await;
    assert_eq!(sessions.body.as_array().unwrap().len(), 2);
    assert_eq!(
        sessions
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );

    let out = app
        .call(Method::POST, "/api/v1/auth/logout", None, &first)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &first)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "logged-out session is dead"
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &second)
            .await
            .status,
        StatusCode::OK,
        "other session lives"
    );
    assert_eq!(
        app.call(
            Method::GET,
            "/api/v1/me",
            None,
            &Auth::Cookie("sy_session=forged.token.value".into())
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}
on_both_backends!(
    signup_login_logout_and_sessions,
    signup_login_logout_and_sessions
);

async fn password_change_ends_every_session(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (first, _) = app.sign_up("ada@example.com").await;
    // A key she made, in each of two workspaces; someone who knew the old password may
    // have made it.
    app.create_workspace(&first, "acme").await;
    app.create_workspace(&first, "globex").await;
    let (acme_key, _) = app.api_key(&first, "acme", "developer").await;
    let (globex_key, _) = app.api_key(&first, "globex", "viewer").await;
    let other = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "ada@example.com", "password": "correct horse battery"})),
            &Auth::None,
        )
        .await;
    let other = Auth::Cookie(other.cookie());

    let bad = app
        .call(
            Method::POST,
            "/api/v1/auth/password",
            Some(
                json!({"current_password": "not it at all", "new_password": "brand new password"}),
            ),
            &first,
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("current_password"))
    );
    let short = app
        .call(
            Method::POST,
            "/api/v1/auth/password",
            Some(json!({"current_password": "correct horse battery", "new_password": "short"})),
            &first,
        )
        .await;
    assert_eq!(short.body["error"]["field"], "new_password");

    for key in [&acme_key, &globex_key] {
        let before = app
            .call(
                Method::GET,
                "/api/v1/workspaces/acme/jobs",
                None,
                &Auth::Bearer(key.clone()),
            )
            .await;
        assert_ne!(before.status, StatusCode::UNAUTHORIZED, "{}", before.body);
    }
    let ok = app
        .call(Method::POST, "/api/v1/auth/password", Some(json!({"current_password": "correct horse battery", "new_password": "brand new password"})), &first)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    for key in [&acme_key, &globex_key] {
        let after = app
            .call(
                Method::GET,
                "/api/v1/workspaces/acme/jobs",
                None,
                &Auth::Bearer(key.clone()),
            )
            .await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "the user's keys end with the password: {}",
            after.body
        );
    }
    let fresh = Auth::Cookie(ok.cookie());
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &first)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &other)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &fresh)
            .await
            .status,
        StatusCode::OK
    );
    let old = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "ada@example.com", "password": "correct horse battery"})),
            &Auth::None,
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    app.finish().await;
}
on_both_backends!(
    password_change_ends_every_session,
    password_change_ends_every_session
);

async fn workspace_lifecycle_members_and_invitations(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (ada, ada_id) = app.sign_up("ada@example.com").await;
    let (bob, bob_id) = app.sign_up("bob@example.com").await;
    let (cy, _) = app.sign_up("cy@example.com").await;

    let ws = app.create_workspace(&ada, "acme").await;
    assert_eq!(
        (ws["slug"].clone(), ws["name"].clone(), ws["role"].clone()),
        (json!("acme"), json!("acme team"), json!("owner"))
    );
    assert!(ws["id"].is_string());

    let taken = app
        .call(
            Method::POST,
            "/api/v1/workspaces",
            Some(json!({"slug": "acme", "name": "Other"})),
            &bob,
        )
        .await;
    assert_eq!(
        (taken.status, taken.body["error"]["field"].clone()),
        (StatusCode::CONFLICT, json!("slug"))
    );
    let reserved = app
        .call(
            Method::POST,
            "/api/v1/workspaces",
            Some(json!({"slug": "admin", "name": "Other"})),
            &bob,
        )
        .await;
    assert_eq!(
        (reserved.status, reserved.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("slug"))
    );

    // Invite bob as developer; the link is single-use.
    let inv = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/invitations",
            Some(json!({"email": "Bob@Example.com", "role": "developer"})),
            &ada,
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.body);
    let token = inv.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        inv.body["url"],
        format!("http://127.0.0.1:3000/invitations/{token}")
    );
    assert_eq!(inv.body["email"], "bob@example.com");
    let pending = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/invitations",
            None,
            &ada,
        )
        .await;
    assert_eq!(pending.body.as_array().unwrap().len(), 1);
    let preview = app
        .call(
            Method::GET,
            &format!("/api/v1/invitations/{token}"),
            None,
            &Auth::None,
        )
        .await;
    assert_eq!(
        (
            preview.body["workspace_slug"].clone(),
            preview.body["role"].clone()
        ),
        (json!("acme"), json!("developer"))
    );
    assert_eq!(
        app.call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            &Auth::None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    // A forwarded link is no key: only the invited address may accept.
    let stranger = app
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            &cy,
        )
        .await;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN, "{}", stranger.body);
    let accepted = app
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            &bob,
        )
        .await;
    assert_eq!(
        (accepted.status, accepted.body["role"].clone()),
        (StatusCode::OK, json!("developer"))
    );
    let again = app
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            &cy,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(Method::GET, "/api/v1/workspaces/acme", None, &cy)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let members = app
        .call(Method::GET, "/api/v1/workspaces/acme/members", None, &bob)
        .await;
    let rows: Vec<(String, String)> = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("ada@example.com".into(), "owner".into()),
            ("bob@example.com".into(), "developer".into())
        ]
    );

    // A developer cannot manage members; the owner can; the last owner stays.
    let denied = app
        .call(
            Method::PATCH,
            &format!("/api/v1/workspaces/acme/members/{ada_id}"),
            Some(json!({"role": "viewer"})),
            &bob,
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let last = app
        .call(
            Method::PATCH,
            &format!("/api/v1/workspaces/acme/members/{ada_id}"),
            Some(json!({"role": "admin"})),
            &ada,
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    let promoted = app
        .call(
            Method::PATCH,
            &format!("/api/v1/workspaces/acme/members/{bob_id}"),
            Some(json!({"role": "admin"})),
            &ada,
        )
        .await;
    assert_eq!(
        (promoted.status, promoted.body["role"].clone()),
        (StatusCode::OK, json!("admin"))
    );
    // An admin cannot make owners nor touch the owner.
    let no_owner = app
        .call(
            Method::PATCH,
            &format!("/api/v1/workspaces/acme/members/{bob_id}"),
            Some(json!({"role": "owner"})),
            &bob,
        )
        .await;
    assert_eq!(no_owner.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/members/{ada_id}"),
            None,
            &bob
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/members/{ada_id}"),
            None,
            &ada
        )
        .await
        .status,
        StatusCode::CONFLICT,
        "last owner cannot leave"
    );

    // Rename (admin) and delete (owner, confirmed by slug).
    let renamed = app
        .call(
            Method::PATCH,
            "/api/v1/workspaces/acme",
            Some(json!({"name": "Acme Corp"})),
            &bob,
        )
        .await;
    assert_eq!(
        (renamed.status, renamed.body["name"].clone()),
        (StatusCode::OK, json!("Acme Corp"))
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            "/api/v1/workspaces/acme?confirm=acme",
            None,
            &bob
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let unconfirmed = app
        .call(
            Method::DELETE,
            "/api/v1/workspaces/acme?confirm=acm",
            None,
            &ada,
        )
        .await;
    assert_eq!(
        (
            unconfirmed.status,
            unconfirmed.body["error"]["field"].clone()
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("confirm"))
    );
    // Bob leaves by himself.
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/members/{bob_id}"),
            None,
            &bob
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/workspaces/acme", None, &bob)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            "/api/v1/workspaces/acme?confirm=acme",
            None,
            &ada
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/workspaces", None, &ada)
            .await
            .body,
        json!([])
    );
    app.finish().await;
}
on_both_backends!(
    workspace_lifecycle_members_and_invitations,
    workspace_lifecycle_members_and_invitations
);

async fn api_keys_authenticate_for_their_workspace_only(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    app.create_workspace(&ada, "globex").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/api-keys",
            Some(json!({"name": "CI", "role": "developer"})),
            &ada,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let key = created.body["key"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sy_"));

    let listed = app
        .call(Method::GET, "/api/v1/workspaces/acme/api-keys", None, &ada)
        .await;
    let entry = &listed.body[0];
    assert_eq!(
        (
            entry["name"].clone(),
            entry["role"].clone(),
            entry["last_used_at"].clone()
        ),
        (json!("CI"), json!("developer"), json!(null))
    );
    assert!(key.starts_with(entry["prefix"].as_str().unwrap()));
    assert!(
        !listed.body.to_string().contains(&key),
        "the secret is never listed"
    );

    let bearer = Auth::Bearer(key.clone());
    let ws = app
        .call(Method::GET, "/api/v1/workspaces/acme", None, &bearer)
        .await;
    assert_eq!(
        (ws.status, ws.body["role"].clone()),
        (StatusCode::OK, json!("developer"))
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/workspaces/globex", None, &bearer)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(
            Method::GET,
            "/api/v1/workspaces/acme/api-keys",
            None,
            &bearer
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let used = app
        .call(Method::GET, "/api/v1/workspaces/acme/api-keys", None, &ada)
        .await;
    assert!(used.body[0]["last_used_at"].is_string());

    // A key's role is capped by its creator's.
    let (bob, _) = app.sign_up("bob@example.com").await;
    app.add_member(&ada, "acme", &bob, "bob@example.com", "admin")
        .await;
    let too_high = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/api-keys",
            Some(json!({"name": "x", "role": "owner"})),
            &bob,
        )
        .await;
    assert_eq!(too_high.status, StatusCode::FORBIDDEN);

    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/workspaces/globex/api-keys/{id}"),
            None,
            &ada
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/api-keys/{id}"),
            None,
            &ada
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/workspaces/acme", None, &bearer)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(
            Method::GET,
            "/api/v1/workspaces/acme",
            None,
            &Auth::Bearer("sy_made_up".into())
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}
on_both_backends!(
    api_keys_authenticate_for_their_workspace_only,
    api_keys_authenticate_for_their_workspace_only
);

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "long enough pw", "name": "A"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "name": "A"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough pw", "name": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": "long enough pw", "name": "A", "admin": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin",
        ),
        (
            json!({"email": "a@example.com", "password": 12, "name": "A"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"email": "a@example.com", "name": "A"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
    ];
    for (body, status, field) in cases {
        let a = app
            .call(
                Method::POST,
                "/api/v1/auth/signup",
                Some(body.clone()),
                &Auth::None,
            )
            .await;
        assert_eq!(
            (a.status, a.body["error"]["field"].as_str()),
            (status, Some(field)),
            "{body}: {}",
            a.body
        );
    }
    assert_eq!(
        app.store.user_by_email("a@example.com").await.unwrap(),
        None,
        "nothing was written"
    );

    let role = app
        .call(
            Method::POST,
            "/api/v1/workspaces",
            Some(json!({"slug": "Bad Slug", "name": "x"})),
            &ada,
        )
        .await;
    assert_eq!(role.body["error"]["field"], "slug");

    let not_json = app
        .send(
            Request::post("/api/v1/workspaces")
                .header(
                    header::COOKIE,
                    match &ada {
                        Auth::Cookie(c) => c.clone(),
                        _ => unreachable!(),
                    },
                )
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .body(Body::from("{oops"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (not_json.status, not_json.body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("bad_request"))
    );

    let huge = "x".repeat(64 * 1024);
    let big = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": huge, "password": "p"})),
            &Auth::None,
        )
        .await;
    assert_eq!(
        (big.status, big.body["error"]["code"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("payload_too_large"))
    );

    let unknown_route = app.call(Method::GET, "/api/v1/nope", None, &ada).await;
    assert_eq!(
        (
            unknown_route.status,
            unknown_route.body["error"]["code"].clone()
        ),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let bad_id = app
        .call(
            Method::DELETE,
            "/api/v1/workspaces/x/api-keys/not-a-uuid",
            None,
            &ada,
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let Auth::Cookie(cookie) = &ada else {
        unreachable!()
    };
    let body = json!({"slug": "acme", "name": "Acme"}).to_string();
    let post = |origin: Option<&str>, content_type: &str| {
        let mut b = Request::post("/api/v1/workspaces")
            .header(header::COOKIE, cookie.as_str())
            .header(header::CONTENT_TYPE, content_type);
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(body.clone())).unwrap()
    };
    let evil = app
        .send(post(Some("https://evil.example"), "application/json"))
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    let form = app.send(post(None, "text/plain")).await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    let referer = app
        .send(
            Request::post("/api/v1/workspaces")
                .header(header::COOKIE, cookie.as_str())
                .header(header::REFERER, "https://evil.example/page")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(referer.status, StatusCode::FORBIDDEN);
    assert!(app
        .store
        .workspaces_of(
            app.store
                .user_by_email("ada@example.com")
                .await
                .unwrap()
                .unwrap()
                .id
        )
        .await
        .unwrap()
        .is_empty());
    // The console itself may.
    let own = app
        .send(post(Some("http://127.0.0.1:3000"), "application/json"))
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    // Server functions of the console are guarded too.
    let sf = app
        .send(
            Request::post(<app::accounts::api::LogOut as leptos::server_fn::ServerFn>::PATH)
                .header(header::COOKIE, cookie.as_str())
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(sf.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &ada).await.status,
        StatusCode::OK
    );
    // The same server function from the console's own page goes through and logs out.
    let same_site = app
        .send(
            Request::post(<app::accounts::api::LogOut as leptos::server_fn::ServerFn>::PATH)
                .header(header::COOKIE, cookie.as_str())
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(same_site.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &ada).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}

#[tokio::test]
async fn login_is_rate_limited_per_ip_and_per_account_and_address() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.auth_limits.attempts_per_ip_per_minute = 4;
        c.auth_limits.failed_logins_per_account = 2;
    })
    .await;
    let login = |ip: &'static str, password: &'static str| {
        Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", ip)
            .body(Body::from(
                json!({"email": "ada@example.com", "password": password}).to_string(),
            ))
            .unwrap()
    };
    app.sign_up("ada@example.com").await;

    // Per account and address: after two failures from one address, even the right password
    // waits there…
    for _ in 0..2 {
        assert_eq!(
            app.send(login("127.0.0.11", "wrong password!"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = app.send(login("127.0.0.11", "correct horse battery")).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = locked
        .headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(locked.body["error"]["code"], "rate_limited");
    // …while the owner, from elsewhere, is not locked out by a stranger's guesses.
    let owner = app.send(login("127.0.0.14", "correct horse battery")).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);

    // Per IP: the fifth attempt from one address in a minute is refused.
    for _ in 0..3 {
        app.send(login("127.0.0.15", "wrong password!")).await;
    }
    let fifth = app.send(login("127.0.0.15", "wrong password!")).await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(fifth.headers.contains_key(header::RETRY_AFTER));
    app.finish().await;
}

#[tokio::test]
async fn probes_metrics_and_openapi() {
    let app = TestApp::new(Backend::Sqlite).await;
    let live = app
        .call(Method::GET, "/health/live", None, &Auth::None)
        .await;
    assert_eq!(
        (live.status, live.body["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let ready = app
        .call(Method::GET, "/health/ready", None, &Auth::None)
        .await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["checks"]["database"]["status"], "ok");
    // The test has no built console assets: non-critical, so degraded but ready.
    assert_eq!(ready.body["status"], "degraded");
    assert!(ready.headers.contains_key("x-request-id"));

    app.sign_up("ada@example.com").await;
    // Closed without the token (it names routes, pools and their load).
    let (status, _) = app.text("/metrics").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong = app
        .call(
            Method::GET,
            "/metrics",
            None,
            &Auth::Bearer("test-metrics-tokem".into()),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let request = Request::get("/metrics")
        .header(header::AUTHORIZATION, "Bearer test-metrics-token")
        .body(Body::empty())
        .expect("request");
    let (status, _, body) = app.send_raw(request).await;
    let text = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains(r#"switchyard_http_requests_total{method="POST",route="/api/v1/auth/signup",status="202"} 1"#), "{text}");
    assert!(
        text.contains("switchyard_http_request_duration_seconds_bucket"),
        "{text}"
    );

    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, &Auth::None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(documented_operations(&doc.body), every_api_operation());
    app.finish().await;
}

/// Every operation the REST API serves, as `METHOD /path`. A route added without its
/// OpenAPI entry, or an entry without its route, fails `the_openapi_document_is_the_api`.
fn every_api_operation() -> Vec<String> {
    let ws = "/api/v1/workspaces/{slug}";
    let mut all: Vec<String> = [
        "POST /api/v1/auth/signup",
        "POST /api/v1/auth/verify-email",
        "POST /api/v1/auth/verify-email/resend",
        "POST /api/v1/auth/password-reset",
        "POST /api/v1/auth/password-reset/confirm",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/logout",
        "POST /api/v1/auth/password",
        "GET /api/v1/auth/sessions",
        "DELETE /api/v1/auth/sessions/{id}",
        "GET /api/v1/auth/providers",
        "GET /api/v1/me",
        "GET /api/v1/workspaces",
        "POST /api/v1/workspaces",
        "GET /api/v1/invitations/{token}",
        "POST /api/v1/invitations/{token}/accept",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        [
            "GET ",
            "PATCH ",
            "DELETE ",
            "GET /members",
            "PATCH /members/{user_id}",
            "DELETE /members/{user_id}",
            "GET /invitations",
            "POST /invitations",
            "DELETE /invitations/{id}",
            "GET /api-keys",
            "POST /api-keys",
            "DELETE /api-keys/{id}",
            "GET /secrets",
            "PUT /secrets/{name}",
            "DELETE /secrets/{name}",
            "GET /jobs",
            "POST /jobs",
            "GET /jobs/{id}",
            "GET /jobs/{id}/logs",
            "POST /jobs/{id}/cancel",
            "POST /jobs/{id}/retry",
            "GET /jobs/{id}/stream",
            "GET /workers",
            "GET /pools",
            "GET /code/repositories",
            "POST /code/repositories",
            "POST /code/repositories/upload",
            "GET /code/repositories/{id}",
            "DELETE /code/repositories/{id}",
            "POST /code/repositories/{id}/reindex",
            "GET /code/repositories/{id}/runs",
            "GET /code/repositories/{id}/outline",
            "GET /code/search",
            "GET /code/definitions",
            "GET /code/symbols/{id}",
            "GET /code/symbols/{id}/callers",
            "GET /code/symbols/{id}/callees",
            "GET /pipelines",
            "POST /pipelines",
            "POST /pipelines/check",
            "GET /pipelines/{id}",
            "PUT /pipelines/{id}",
            "DELETE /pipelines/{id}",
            "GET /pipelines/{id}/versions",
            "GET /pipelines/{id}/versions/{version}",
            "POST /pipelines/{id}/live",
            "GET /pipelines/{id}/runs",
            "POST /pipelines/{id}/runs",
            "POST /pipelines/{id}/hooks/{node}/signing-key",
            "DELETE /pipelines/{id}/hooks/{node}/signing-key",
            "GET /runs/{id}",
            "POST /runs/{id}/cancel",
            "POST /runs/{id}/rerun",
            "GET /runs/{id}/stream",
            "GET /routes",
            "POST /routes",
            "GET /routes/{id}",
            "PUT /routes/{id}",
            "DELETE /routes/{id}",
            "GET /topics",
            "POST /topics",
            "DELETE /topics/{name}",
            "POST /topics/{name}/subscribers",
            "DELETE /topics/{name}/subscribers/{id}",
            "POST /topics/{name}/messages",
            "GET /topics/{name}/messages",
            "GET /topics/{name}/dead-letters",
            "POST /topics/{name}/dead-letters/{job}/replay",
            "GET /deploys/plan",
            "POST /deploys/plan",
            "GET /drafts",
            "PUT /drafts",
            "GET /deploys",
            "POST /deploys",
            "GET /deploys/{id}/manifest",
            "POST /deploys/{id}/rollback",
            "GET /logs",
        ]
        .into_iter()
        .map(|op| {
            let (method, rest) = op.split_once(' ').unwrap();
            format!("{method} {ws}{rest}")
        }),
    )
    .collect();
    all.sort();
    all
}

/// The operations an OpenAPI document describes, as `METHOD /path`, sorted.
fn documented_operations(doc: &serde_json::Value) -> Vec<String> {
    let mut ops: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    ops.sort();
    ops
}

/// Every documented operation is mounted (it answers something other than the API's "no
/// such route" 404 or 405), every other method on its path is not (405), and the document
/// lists exactly the API's operations.
async fn the_openapi_document_is_the_api(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, &Auth::None)
        .await;
    let documented = documented_operations(&doc.body);
    assert_eq!(documented, every_api_operation());
    // Path parameters are exactly the template's; everything else is in the query (a
    // query parameter declared as a path parameter breaks generated clients).
    for (template, item) in doc.body["paths"].as_object().unwrap() {
        let mut in_template: Vec<String> = template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        in_template.sort();
        for (method, operation) in item.as_object().unwrap() {
            let mut in_path: Vec<String> = operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            in_path.sort();
            assert_eq!(in_path, in_template, "{method} {template}: path parameters");
        }
    }
    let id = "00000000-0000-4000-8000-000000000000";
    for op in &documented {
        let (_, template) = op.split_once(' ').unwrap();
        let path = template
            .replace("{slug}", "acme")
            .replace("{user_id}", id)
            .replace("{token}", "not-a-token")
            .replace("{name}", "SOME_SECRET")
            .replace("{id}", id);
        for candidate in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let mounted = documented.contains(&format!("{candidate} {template}"));
            let answer = app
                .call(candidate.parse().unwrap(), &path, Some(json!({})), &ada)
                .await;
            if mounted {
                assert_ne!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{candidate} {path}"
                );
                assert_ne!(
                    answer.body["error"]["message"], "API route not found",
                    "{candidate} {path}"
                );
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{candidate} {path} answers without an OpenAPI entry"
                );
            }
        }
    }
    let unknown = app
        .call(Method::GET, "/api/v1/nothing/here", None, &ada)
        .await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["message"].clone()),
        (StatusCode::NOT_FOUND, json!("API route not found"))
    );
    app.finish().await;
}

on_both_backends!(
    the_openapi_document_is_the_api,
    the_openapi_document_is_the_api
);

async fn api_keys_never_outrank_their_creator(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let (bob, bob_id) = app.sign_up("bob@example.com").await;
    app.create_workspace(&ada, "acme").await;
    app.add_member(&ada, "acme", &bob, "bob@example.com", "admin")
        .await;
    let (key, _) = app.api_key(&bob, "acme", "admin").await;
    let bearer = Auth::Bearer(key);
    let keys = "/api/v1/workspaces/acme/api-keys";
    assert_eq!(
        app.call(Method::GET, keys, None, &bearer).await.status,
        StatusCode::OK
    );

    // Bob is demoted: his admin key now acts as a viewer.
    let demoted = app
        .call(
            Method::PATCH,
            &format!("/api/v1/workspaces/acme/members/{bob_id}"),
            Some(json!({"role": "viewer"})),
            &ada,
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK);
    assert_eq!(
        app.call(Method::GET, keys, None, &bearer).await.status,
        StatusCode::FORBIDDEN
    );
    let ws = app
        .call(Method::GET, "/api/v1/workspaces/acme", None, &bearer)
        .await;
    assert_eq!(
        (ws.status, ws.body["role"].clone()),
        (StatusCode::OK, json!("viewer"))
    );

    // Bob leaves: his key stops working.
    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/members/{bob_id}"),
            None,
            &ada,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::GET, "/api/v1/workspaces/acme", None, &bearer)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}
on_both_backends!(
    api_keys_never_outrank_their_creator,
    api_keys_never_outrank_their_creator
);

#[tokio::test]
async fn console_server_functions_answer_with_the_errors_status() {
    let app = TestApp::new(Backend::Sqlite).await;
    app.sign_up("ada@example.com").await;
    let form = |password: &str| {
        Request::post(<app::accounts::api::LogIn as leptos::server_fn::ServerFn>::PATH)
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(format!(
                "email=ada%40example.com&password={password}&next=%2F%09%2Fevil.example"
            )))
            .unwrap()
    };
    let wrong = app.send(form("wrong+password")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // A right password with a hostile `next` signs in and stays on this site.
    let right = app.send(form("correct+horse+battery")).await;
    let location = right
        .headers
        .get(header::LOCATION)
        .or_else(|| right.headers.get("serverfnredirect"))
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        right.status.is_success() || right.status.is_redirection(),
        "{}",
        right.status
    );
    assert!(
        location.as_deref().is_none_or(|l| l == "/workspaces"),
        "{location:?}"
    );
    app.finish().await;
}

/// The console's bundle goes out pre-compressed to browsers that accept it, and caches
/// revalidate it rather than keep a stale copy.
#[tokio::test]
async fn the_bundle_is_served_precompressed_and_revalidated() {
    let site = crate::common::tempdir::TempDir::new();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("switchyard.js"), "plain").unwrap();
    std::fs::write(pkg.join("switchyard.js.gz"), "gzip bytes").unwrap();
    std::fs::write(pkg.join("switchyard.js.br"), "brotli bytes").unwrap();
    let root = site.path().to_path_buf();
    let app = TestApp::with_config(Backend::Sqlite, move |c| c.site_root = root).await;
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "plain"),
    ] {
        let mut request = Request::builder().uri("/pkg/switchyard.js");
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = app.send_raw(request.body(Body::empty()).unwrap()).await;
        assert_eq!(response.0, StatusCode::OK);
        assert_eq!(
            response
                .1
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            response
                .1
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-cache")
        );
        assert_eq!(response.2, body.as_bytes());
    }
    app.finish().await;
}
