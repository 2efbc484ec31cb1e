//! OAuth2 login: the authorization-code flow with PKCE and state (the `oauth2` crate), for a
//! GitHub preset and a generic provider given by its authorize, token and userinfo URLs.
//!
//! The flow's secrets (state, PKCE verifier, where to go after) travel in a short-lived
//! HS256-signed cookie, so no server-side state is needed between the two legs.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

/// Name of the cookie holding the flow's state between the two legs.
pub const FLOW_COOKIE: &str = "sy_oauth";
/// How long a started login may take, in seconds.
pub const FLOW_TTL_SECS: i64 = 600;

/// Which userinfo dialect a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// GitHub: `/user` for the profile, `/user/emails` for a verified address.
    Github,
    /// OpenID Connect style userinfo: `sub`, `email`, `email_verified`, `name`.
    Generic,
}

/// A configured OAuth2 provider.
#[derive(Clone, Debug)]
pub struct Provider {
    /// URL id (`/auth/oauth/{id}/start`).
    pub id: String,
    /// Button label.
    pub display_name: String,
    /// Userinfo dialect.
    pub kind: ProviderKind,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Authorization endpoint.
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Userinfo endpoint.
    pub userinfo_url: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
}

impl Provider {
    /// The GitHub preset.
    pub fn github(client_id: String, client_secret: String) -> Provider {
        Provider {
            id: "github".to_owned(),
            display_name: "GitHub".to_owned(),
            kind: ProviderKind::Github,
            client_id,
            client_secret,
            authorize_url: "https://github.com/login/oauth/authorize".to_owned(),
            token_url: "https://github.com/login/oauth/access_token".to_owned(),
            userinfo_url: "https://api.github.com/user".to_owned(),
            scopes: vec!["read:user".to_owned(), "user:email".to_owned()],
        }
    }
}

/// Why an OAuth login failed; every variant is safe to show to the user.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// A configured URL does not parse.
    #[error("the provider is misconfigured: {0}")]
    Config(String),
    /// The state did not match, or the flow cookie is missing, forged or expired.
    #[error("the login attempt is not valid or has expired; start again")]
    State,
    /// The provider refused the code (wrong, reused or expired).
    #[error("the provider refused the authorization code")]
    Exchange,
    /// The provider reported an error on the authorization leg.
    #[error("the provider did not authorize the login: {0}")]
    Denied(String),
    /// The profile could not be read, or has no usable e-mail.
    #[error("could not read your profile from the provider: {0}")]
    Profile(String),
}

/// What travels in the flow cookie.
#[derive(Debug, Serialize, Deserialize)]
struct FlowClaims {
    provider: String,
    state: String,
    verifier: String,
    next: String,
    exp: i64,
}

/// A started login: where to send the browser, and the flow cookie to set.
pub struct Started {
    /// The provider's authorization URL.
    pub authorize_url: String,
    /// The flow cookie's value (a signed token).
    pub flow_token: String,
}

/// What the provider says about the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The provider's stable id for the person.
    pub subject: String,
    /// Their e-mail address.
    pub email: String,
    /// Whether the provider verified that address.
    pub email_verified: bool,
    /// Their display name (may be empty).
    pub name: String,
}

/// The client type once its authorize and token endpoints are set.
type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(p: &Provider, redirect_uri: &str) -> Result<ConfiguredClient, OAuthError> {
    let err = |e: oauth2::url::ParseError| OAuthError::Config(e.to_string());
    Ok(BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_client_secret(ClientSecret::new(p.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(p.authorize_url.clone()).map_err(err)?)
        .set_token_uri(TokenUrl::new(p.token_url.clone()).map_err(err)?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(err)?))
}

/// Starts a login with `p`: a fresh state and PKCE pair, signed into the flow token.
pub fn start(
    p: &Provider,
    redirect_uri: &str,
    next: &str,
    secret: &[u8],
    now: i64,
) -> Result<Started, OAuthError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(p, redirect_uri)?;
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .add_scopes(p.scopes.iter().cloned().map(Scope::new))
        .url();
    let claims = FlowClaims {
        provider: p.id.clone(),
        state: state.secret().clone(),
        verifier: verifier.secret().clone(),
        next: next.to_owned(),
        exp: now + FLOW_TTL_SECS,
    };
    let flow_token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| OAuthError::Config(e.to_string()))?;
    Ok(Started {
        authorize_url: url.to_string(),
        flow_token,
    })
}

/// Checks the callback's `state` against the flow token and answers the PKCE verifier and
/// the path to go to afterwards.
pub fn check_state(
    p: &Provider,
    flow_token: &str,
    state: &str,
    secret: &[u8],
) -> Result<(String, String), OAuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let claims = decode::<FlowClaims>(flow_token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|_| OAuthError::State)?
        .claims;
    // Constant-time comparison is not needed: the state is not a long-lived secret and a
    // mismatch ends the flow.
    if claims.provider != p.id || claims.state.is_empty() || claims.state != state {
        return Err(OAuthError::State);
    }
    Ok((claims.verifier, claims.next))
}

/// Exchanges the code (with the PKCE verifier) and reads the person's identity.
pub async fn finish(
    p: &Provider,
    redirect_uri: &str,
    code: &str,
    verifier: String,
) -> Result<Identity, OAuthError> {
    let http = oauth2::reqwest::ClientBuilder::new()
        // Following redirects would open the token exchange to SSRF.
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .user_agent("switchyard")
        .build()
        .map_err(|e| OAuthError::Config(e.to_string()))?;
    let token = client(p, redirect_uri)?
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .map_err(|e| {
            tracing::info!(provider = %p.id, error = %e, "OAuth code exchange refused");
            OAuthError::Exchange
        })?;
    let access = token.access_token().secret().clone();
    let profile = get_json(&http, &p.userinfo_url, &access).await?;
    match p.kind {
        ProviderKind::Generic => generic_identity(&profile),
        ProviderKind::Github => {
            let emails = get_json(
                &http,
                &format!("{}/emails", p.userinfo_url.trim_end_matches('/')),
                &access,
            )
            .await?;
            github_identity(&profile, &emails)
        }
    }
}

async fn get_json(
    http: &oauth2::reqwest::Client,
    url: &str,
    token: &str,
) -> Result<serde_json::Value, OAuthError> {
    let response = http
        .get(url)
        .bearer_auth(token)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| OAuthError::Profile(e.to_string()))?;
    if !response.status().is_success() {
        return Err(OAuthError::Profile(format!(
            "userinfo answered {}",
            response.status()
        )));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| OAuthError::Profile(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| OAuthError::Profile(e.to_string()))
}

fn text(v: &serde_json::Value, key: &str) -> String {
    match &v[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Reads an OpenID-Connect-style userinfo document.
pub fn generic_identity(profile: &serde_json::Value) -> Result<Identity, OAuthError> {
    let subject = text(profile, "sub");
    let email = text(profile, "email");
    if subject.is_empty() || email.is_empty() {
        return Err(OAuthError::Profile(
            "the profile has no `sub` or no `email`".to_owned(),
        ));
    }
    Ok(Identity {
        subject,
        email,
        email_verified: profile["email_verified"].as_bool().unwrap_or(false),
        name: text(profile, "name"),
    })
}

/// Reads GitHub's `/user` and `/user/emails`: the primary verified address.
pub fn github_identity(
    profile: &serde_json::Value,
    emails: &serde_json::Value,
) -> Result<Identity, OAuthError> {
    let subject = text(profile, "id");
    let primary =
        emails.as_array().into_iter().flatten().find(|e| {
            e["primary"].as_bool() == Some(true) && e["verified"].as_bool() == Some(true)
        });
    let Some(primary) = primary else {
        return Err(OAuthError::Profile(
            "no verified primary e-mail on the GitHub account".to_owned(),
        ));
    };
    if subject.is_empty() {
        return Err(OAuthError::Profile(
            "the GitHub profile has no id".to_owned(),
        ));
    }
    let name = Some(text(profile, "name"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| text(profile, "login"));
    Ok(Identity {
        subject,
        email: text(primary, "email"),
        email_verified: true,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider() -> Provider {
        Provider {
            id: "sso".into(),
            display_name: "SSO".into(),
            kind: ProviderKind::Generic,
            client_id: "cid".into(),
            client_secret: "secret".into(),
            authorize_url: "http://127.0.0.1:9/authorize".into(),
            token_url: "http://127.0.0.1:9/token".into(),
            userinfo_url: "http://127.0.0.1:9/userinfo".into(),
            scopes: vec!["openid".into(), "email".into()],
        }
    }

    #[test]
    fn start_sends_pkce_and_state_and_the_flow_token_checks_them() {
        let p = provider();
        let s = start(
            &p,
            "http://app/cb",
            "/w/acme",
            b"k".repeat(32).as_slice(),
            1_000_000_000_000,
        )
        .unwrap();
        let url = url::Url::parse(&s.authorize_url).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["redirect_uri"], "http://app/cb");
        assert_eq!(q["scope"], "openid email");
        let secret = b"k".repeat(32);
        let (verifier, next) = check_state(&p, &s.flow_token, &q["state"], &secret).unwrap();
        assert_eq!(next, "/w/acme");
        assert!(verifier.len() >= 43);
        assert!(matches!(
            check_state(&p, &s.flow_token, "other", &secret),
            Err(OAuthError::State)
        ));
        assert!(matches!(
            check_state(&p, &s.flow_token, &q["state"], b"x".repeat(32).as_slice()),
            Err(OAuthError::State)
        ));
        let mut other = provider();
        other.id = "github".into();
        assert!(matches!(
            check_state(&other, &s.flow_token, &q["state"], &secret),
            Err(OAuthError::State)
        ));
    }

    #[test]
    fn expired_flows_are_refused() {
        let p = provider();
        let secret = b"k".repeat(32);
        let s = start(&p, "http://app/cb", "/", &secret, 1_000).unwrap();
        let url = url::Url::parse(&s.authorize_url).unwrap();
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        assert!(matches!(
            check_state(&p, &s.flow_token, &state, &secret),
            Err(OAuthError::State)
        ));
    }

    #[test]
    fn profiles_are_read_per_dialect() {
        let id = generic_identity(
            &json!({"sub": "42", "email": "a@example.com", "email_verified": true, "name": "A"}),
        )
        .unwrap();
        assert_eq!((id.subject.as_str(), id.email_verified), ("42", true));
        assert!(generic_identity(&json!({"sub": "42"})).is_err());
        let gh = github_identity(
            &json!({"id": 7, "login": "octo", "name": null}),
            &json!([{"email": "x@example.com", "primary": false, "verified": true}, {"email": "o@example.com", "primary": true, "verified": true}]),
        )
        .unwrap();
        assert_eq!(
            (gh.subject.as_str(), gh.email.as_str(), gh.name.as_str()),
            ("7", "o@example.com", "octo")
        );
        assert!(github_identity(
            &json!({"id": 7}),
            &json!([{"email": "o@example.com", "primary": true, "verified": false}])
        )
        .is_err());
    }
}
