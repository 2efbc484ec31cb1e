//! OAuth2 login against a small local provider (authorize, token and userinfo endpoints, with
//! PKCE checked the way a real provider checks it): the whole flow, a wrong state, a wrong
//! code, a returning user, and linking to an existing account.

use crate::common::{Auth, TestApp};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use server::auth::oauth::{Provider, ProviderKind};
use server::store::Backend;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The provider's memory: codes issued (with their PKCE challenge) and tokens.
#[derive(Default)]
struct ProviderState {
    codes: HashMap<String, (String, String)>,
    tokens: HashMap<String, String>,
    /// Which person the next authorization signs in as.
    person: serde_json::Value,
}

type Shared = Arc<Mutex<ProviderState>>;

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return (
            StatusCode::BAD_REQUEST,
            "PKCE S256 and response_type=code are required",
        )
            .into_response();
    }
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let mut st = s.lock().unwrap();
    st.codes.insert(
        code.clone(),
        (q["code_challenge"].clone(), q["redirect_uri"].clone()),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
    .into_response()
}

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("client-1:secret-1")
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(basic.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let mut st = s.lock().unwrap();
    let Some((challenge, redirect_uri)) = st
        .codes
        .remove(f.get("code").map(String::as_str).unwrap_or_default())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if computed != challenge
        || f.get("redirect_uri") != Some(&redirect_uri)
        || f.get("grant_type").map(String::as_str) != Some("authorization_code")
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let access = format!("at-{}", uuid::Uuid::new_v4().simple());
    let person = st.person.to_string();
    st.tokens.insert(access.clone(), person);
    Json(json!({"access_token": access, "token_type": "bearer", "expires_in": 3600}))
        .into_response()
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let st = s.lock().unwrap();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match st.tokens.get(token) {
        Some(person) => {
            ([(header::CONTENT_TYPE, "application/json")], person.clone()).into_response()
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// Starts the provider on a free loopback port.
async fn provider() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, state)
}

async fn app_with_provider(base: &str) -> TestApp {
    let base = base.to_owned();
    TestApp::with_config(Backend::Sqlite, move |c| {
        c.oauth_providers = vec![Provider {
            id: "sso".into(),
            display_name: "Test SSO".into(),
            kind: ProviderKind::Generic,
            client_id: "client-1".into(),
            client_secret: "secret-1".into(),
            authorize_url: format!("{base}/authorize"),
            token_url: format!("{base}/token"),
            userinfo_url: format!("{base}/userinfo"),
            scopes: vec!["openid".into(), "email".into()],
        }];
    })
    .await
}

fn header_values(a: &crate::common::Answer, name: header::HeaderName) -> Vec<String> {
    a.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Starts a login and lets the provider authorize it: answers the flow cookie and the
/// callback path with its query.
async fn authorize_at_provider(app: &TestApp, next: &str) -> (String, String) {
    let start = app
        .call(
            Method::GET,
            &format!("/auth/oauth/sso/start?next={next}"),
            None,
            &Auth::None,
        )
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let flow = header_values(&start, header::SET_COOKIE)
        .into_iter()
        .find(|c| c.starts_with("sy_oauth="))
        .expect("flow cookie");
    assert!(flow.contains("HttpOnly") && flow.contains("SameSite=Lax"));
    let flow = flow.split(';').next().unwrap().to_owned();
    let location = start
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let http = oauth2::reqwest::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = http.get(&location).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 303, "the provider redirects back");
    let back = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.path(), "/auth/oauth/sso/callback");
    (flow, format!("{}?{}", back.path(), back.query().unwrap()))
}

async fn callback(app: &TestApp, path: &str, flow: &str) -> crate::common::Answer {
    let request = axum::http::Request::get(path)
        .header(header::COOKIE, flow)
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn oauth_login_completes_and_refuses_a_wrong_state_or_code() {
    let (base, provider_state) = provider().await;
    let app = app_with_provider(&base).await;
    provider_state.lock().unwrap().person = json!({"sub": "u-42", "email": "Olga@Example.com", "email_verified": true, "name": "Olga OAuth"});

    let listed = app
        .call(Method::GET, "/api/v1/auth/providers", None, &Auth::None)
        .await;
    assert_eq!(listed.body, json!([{"id": "sso", "name": "Test SSO"}]));

    // The whole flow: a new account, signed in, sent where it asked to go.
    let (flow, back) = authorize_at_provider(&app, "/w/after").await;
    let done = callback(&app, &back, &flow).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.headers.get(header::LOCATION).unwrap(), "/w/after");
    let session = header_values(&done, header::SET_COOKIE)
        .into_iter()
        .find(|c| c.starts_with("sy_session="))
        .expect("session cookie");
    let session = Auth::Cookie(session.split(';').next().unwrap().to_owned());
    let me = app.call(Method::GET, "/api/v1/me", None, &session).await;
    assert_eq!(
        (
            me.body["user"]["email"].clone(),
            me.body["user"]["name"].clone()
        ),
        (json!("olga@example.com"), json!("Olga OAuth"))
    );
    let first_id = me.body["user"]["id"].clone();

    // A returning user is the same account.
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let again = callback(&app, &back, &flow).await;
    let session = header_values(&again, header::SET_COOKIE)
        .into_iter()
        .find(|c| c.starts_with("sy_session="))
        .unwrap();
    let me = app
        .call(
            Method::GET,
            "/api/v1/me",
            None,
            &Auth::Cookie(session.split(';').next().unwrap().to_owned()),
        )
        .await;
    assert_eq!(me.body["user"]["id"], first_id);

    // A wrong state: refused, no session.
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let tampered = back.replace("state=", "state=x");
    let refused = callback(&app, &tampered, &flow).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?oauth_error="));
    assert!(!header_values(&refused, header::SET_COOKIE)
        .iter()
        .any(|c| c.starts_with("sy_session=")));
    // Without the flow cookie (a forged callback), also refused.
    let forged = callback(&app, &back, "other=1").await;
    assert!(forged
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?oauth_error="));

    // A wrong code (right state): the provider refuses the exchange; no session.
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let url = url::Url::parse(&format!("http://x{back}")).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let wrong = callback(
        &app,
        &format!("/auth/oauth/sso/callback?code=bogus&state={state}"),
        &flow,
    )
    .await;
    let location = wrong
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.contains("refused+the+authorization+code"),
        "{location}"
    );
    assert!(!header_values(&wrong, header::SET_COOKIE)
        .iter()
        .any(|c| c.starts_with("sy_session=")));

    // The provider reporting an error is shown, too.
    let denied = callback(
        &app,
        "/auth/oauth/sso/callback?error=access_denied&error_description=User+said+no",
        &flow,
    )
    .await;
    assert!(denied
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("User+said+no"));
    // An unknown provider.
    let unknown = app
        .call(Method::GET, "/auth/oauth/nope/start", None, &Auth::None)
        .await;
    assert!(unknown
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?oauth_error="));
    app.finish().await;
}

#[tokio::test]
async fn oauth_links_an_existing_account_only_with_a_verified_email() {
    let (base, provider_state) = provider().await;
    let app = app_with_provider(&base).await;
    let (_, ada_id) = app.sign_up("ada@example.com").await;

    provider_state.lock().unwrap().person =
        json!({"sub": "a-1", "email": "ada@example.com", "email_verified": false, "name": "Ada"});
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let refused = callback(&app, &back, &flow).await;
    assert!(refused
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?oauth_error="));
    assert_eq!(app.store.oauth_user("sso", "a-1").await.unwrap(), None);

    provider_state.lock().unwrap().person =
        json!({"sub": "a-1", "email": "ada@example.com", "email_verified": true, "name": "Ada"});
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let linked = callback(&app, &back, &flow).await;
    let session = header_values(&linked, header::SET_COOKIE)
        .into_iter()
        .find(|c| c.starts_with("sy_session="))
        .expect("signed in");
    let me = app
        .call(
            Method::GET,
            "/api/v1/me",
            None,
            &Auth::Cookie(session.split(';').next().unwrap().to_owned()),
        )
        .await;
    assert_eq!(me.body["user"]["id"], json!(ada_id));
    app.finish().await;
}

/// The takeover the issue describes: an attacker signs up first with the victim's address;
/// the victim later signs in through a provider that verified it. The attacker's sign-up
/// never became an account (its link went to the victim's mailbox), so the victim gets a
/// fresh account and the attacker's password opens nothing. An older account whose address
/// was never verified is not linked either.
#[tokio::test]
async fn signing_up_first_with_someone_elses_address_gives_no_access() {
    let (base, provider_state) = provider().await;
    let app = app_with_provider(&base).await;
    let attacker = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "victim@corp.example", "password": "attacker's password", "name": "Mallory"})),
            &Auth::None,
        )
        .await;
    assert_eq!(attacker.status, StatusCode::ACCEPTED);
    assert_eq!(
        app.store
            .user_by_email("victim@corp.example")
            .await
            .unwrap(),
        None
    );

    provider_state.lock().unwrap().person = json!({"sub": "v-1", "email": "victim@corp.example", "email_verified": true, "name": "Victor"});
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let signed = callback(&app, &back, &flow).await;
    assert!(header_values(&signed, header::SET_COOKIE)
        .iter()
        .any(|c| c.starts_with("sy_session=")));
    let victim = app
        .store
        .user_by_email("victim@corp.example")
        .await
        .unwrap()
        .expect("the victim's account");
    assert_eq!(victim.name, "Victor");
    assert_eq!(victim.password_hash, None, "no password anyone else chose");
    assert!(victim.email_verified_at.is_some());
    let login = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "victim@corp.example", "password": "attacker's password"})),
            &Auth::None,
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    // The attacker's link, had they got it, can no longer make an account.
    let mail = app
        .mail_to("victim@corp.example", "Confirm your e-mail address")
        .await;
    let token = crate::common::link_token(&mail.body, "/verify-email");
    let late = app
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(json!({ "token": token, "password": "attacker's password" })),
            &Auth::None,
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);

    // An account from before verification (address never verified) is not linked.
    let legacy = server::accounts::UserRecord {
        id: shared::ids::UserId::new(),
        email: "old@corp.example".into(),
        name: "Old".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA".into()),
        created_at: 1,
        email_verified_at: None,
    };
    app.store.create_user(&legacy, None).await.unwrap();
    provider_state.lock().unwrap().person =
        json!({"sub": "o-1", "email": "old@corp.example", "email_verified": true, "name": "Old"});
    let (flow, back) = authorize_at_provider(&app, "/").await;
    let refused = callback(&app, &back, &flow).await;
    assert!(refused
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?oauth_error="));
    assert_eq!(app.store.oauth_user("sso", "o-1").await.unwrap(), None);
    app.finish().await;
}
