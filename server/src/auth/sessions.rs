//! Session tokens: HS256 JWTs naming a session row.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use shared::ids::{SessionId, UserId};

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "sy_session";

/// What a session token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: UserId,
    /// The session row that must still be live.
    pub sid: SessionId,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Absolute expiry (Unix seconds); enforced.
    pub exp: i64,
}

/// Signs and verifies session tokens with one secret.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl SessionKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted: a token naming another algorithm (or `none`) fails.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.validate_exp = true;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verifies a token's signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// The `Set-Cookie` value that stores `token` for `max_age` seconds.
pub fn set_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: UserId::new(),
            sid: SessionId::new(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn tokens_verify_only_with_their_key_and_before_expiry() {
        let keys = SessionKeys::new(&[7u8; 32]);
        let future = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        let c = claims(future);
        let token = keys.sign(&c).unwrap();
        assert_eq!(keys.verify(&token), Some(c.clone()));
        assert_eq!(SessionKeys::new(&[8u8; 32]).verify(&token), None);
        let expired = keys.sign(&claims(1_000)).unwrap();
        assert_eq!(keys.verify(&expired), None);
        assert_eq!(keys.verify("garbage"), None);
    }

    #[test]
    fn tokens_with_another_algorithm_are_refused() {
        let secret = [7u8; 32];
        let keys = SessionKeys::new(&secret);
        let future = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims(future),
            &EncodingKey::from_secret(&secret),
        )
        .unwrap();
        assert_eq!(keys.verify(&hs512), None);
    }

    #[test]
    fn cookie_header_parsing_finds_the_session() {
        assert_eq!(
            token_from_cookie_header("a=1; sy_session=abc; b=2"),
            Some("abc")
        );
        assert_eq!(token_from_cookie_header("sy_session="), None);
        assert_eq!(token_from_cookie_header("other=1"), None);
        assert!(set_cookie("t", 60, true).contains("HttpOnly; SameSite=Lax; Max-Age=60; Secure"));
    }
}
