//! Authentication: password hashing, session tokens, API keys and the login rate limits.
//!
//! Invariants: secrets (passwords, API keys, invitation tokens) are stored only as hashes;
//! session JWTs are HS256 only and must carry an unexpired `exp`; a JWT is only as good as
//! the session row it names (logout and password change revoke that row).

pub mod oauth;
pub mod passwords;
pub mod ratelimit;
pub mod secrets;
pub mod sessions;
