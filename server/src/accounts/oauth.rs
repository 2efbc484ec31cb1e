//! The two browser legs of OAuth2 login: `/auth/oauth/{provider}/start` sends the browser to
//! the provider; `/auth/oauth/{provider}/callback` checks the state, exchanges the code and
//! signs the person in. Failures land on the login page with a readable message.

use crate::auth::oauth::{self, OAuthError, FLOW_COOKIE, FLOW_TTL_SECS};
use crate::clock::now;
use crate::control::Control;
use crate::http::extract::Client;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;

/// The OAuth routes.
pub fn router() -> Router<Arc<Control>> {
    Router::new()
        .route("/auth/oauth/{provider}/start", get(start))
        .route("/auth/oauth/{provider}/callback", get(callback))
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn flow_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{FLOW_COOKIE}={value}; Path=/auth/oauth; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

fn to_login(message: &str, secure: bool) -> Response {
    let encoded: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    redirect(
        &format!("/login?oauth_error={encoded}"),
        &[flow_cookie("", 0, secure)],
    )
}

fn local_path(next: &str) -> String {
    shared::redirects::local_path(next, "/workspaces").to_owned()
}

fn callback_uri(control: &Arc<Control>, provider: &str) -> String {
    let mut url = control.config().public_url.clone();
    url.set_path(&format!("/auth/oauth/{provider}/callback"));
    url.set_query(None);
    url.to_string()
}

async fn start(
    State(control): State<Arc<Control>>,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Response {
    let config = control.config();
    let secure = config.secure_cookies();
    let Some(p) = config.oauth_providers.iter().find(|p| p.id == provider) else {
        return to_login("that login provider is not configured", secure);
    };
    match oauth::start(
        p,
        &callback_uri(&control, &p.id),
        &local_path(&q.next),
        &config.session_secret,
        now(),
    ) {
        Ok(started) => redirect(
            &started.authorize_url,
            &[flow_cookie(&started.flow_token, FLOW_TTL_SECS, secure)],
        ),
        Err(e) => to_login(&e.to_string(), secure),
    }
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

async fn callback(
    State(control): State<Arc<Control>>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    let config = control.config();
    let secure = config.secure_cookies();
    let Some(p) = config.oauth_providers.iter().find(|p| p.id == provider) else {
        return to_login("that login provider is not configured", secure);
    };
    if let Err(retry) = control
        .accounts
        .limiter
        .attempt_from(client.ip.as_deref().unwrap_or("unknown"))
    {
        return to_login(
            &format!(
                "too many attempts; try again in {} seconds",
                retry.seconds()
            ),
            secure,
        );
    }
    let outcome: Result<(crate::auth::oauth::Identity, String), OAuthError> = async {
        if let Some(error) = q.error {
            return Err(OAuthError::Denied(q.error_description.unwrap_or(error)));
        }
        let flow = cookie_value(&headers, FLOW_COOKIE).ok_or(OAuthError::State)?;
        let (verifier, next) = oauth::check_state(
            p,
            &flow,
            q.state.as_deref().unwrap_or_default(),
            &config.session_secret,
        )?;
        let code = q
            .code
            .filter(|c| !c.is_empty())
            .ok_or(OAuthError::Exchange)?;
        let identity = oauth::finish(p, &callback_uri(&control, &p.id), &code, verifier).await?;
        Ok((identity, next))
    }
    .await;
    let (identity, next) = match outcome {
        Ok(ok) => ok,
        Err(e) => {
            tracing::info!(provider = %p.id, error = %e, "OAuth login failed");
            return to_login(&e.to_string(), secure);
        }
    };
    match control
        .accounts
        .oauth_sign_in(&p.id, identity, &client)
        .await
    {
        Ok(signed) => redirect(
            &local_path(&next),
            &[signed.set_cookie, flow_cookie("", 0, secure)],
        ),
        Err(f) => to_login(&f.message, secure),
    }
}
