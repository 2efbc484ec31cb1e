//! Worker pool names.

use std::fmt;

/// The pool every installation has: in-process in the embedded default.
pub const DEFAULT_POOL: &str = "default";
/// The pool code index runs go to (embedded, or `switchyard worker --pool indexer`).
pub const INDEXER_POOL: &str = "indexer";
/// The pool pipeline runs go to (embedded, or `switchyard worker --pool pipelines`).
pub const PIPELINES_POOL: &str = "pipelines";
/// The pool route handlers and topics' deliveries go to (embedded, or `switchyard worker
/// --pool routes`).
pub const ROUTES_POOL: &str = "routes";
/// Pools that run only what the platform submits itself; the API refuses jobs for them.
pub const INTERNAL_POOLS: [&str; 3] = [INDEXER_POOL, PIPELINES_POOL, ROUTES_POOL];

/// Why a pool name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pool: {0}")]
pub struct PoolNameError(&'static str);

/// A worker pool's name: 1-32 lowercase letters, digits and hyphens. Pool names appear in bus
/// subjects, so they must not contain `.`, `*` or `>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolName(String);

impl PoolName {
    /// Validates `raw` as a pool name.
    pub fn parse(raw: &str) -> Result<PoolName, PoolNameError> {
        if raw.is_empty() || raw.len() > 32 {
            return Err(PoolNameError("must be 1-32 characters long"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(PoolNameError(
                "may contain only lowercase letters, digits and hyphens",
            ));
        }
        Ok(PoolName(raw.to_owned()))
    }

    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PoolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_cannot_break_bus_subjects() {
        assert!(PoolName::parse(DEFAULT_POOL).is_ok());
        assert!(PoolName::parse("gpu-2").is_ok());
        for bad in ["", "a.b", "a*", "a>", "Big", &"p".repeat(33)] {
            assert!(PoolName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
