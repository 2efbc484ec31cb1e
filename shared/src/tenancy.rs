//! Workspace slugs and names, validated once so the rest of the code can trust them.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Slugs that would collide with the product's own host names or paths.
pub const RESERVED_SLUGS: &[&str] = &[
    "api",
    "www",
    "admin",
    "app",
    "console",
    "login",
    "logout",
    "signup",
    "health",
    "metrics",
    "static",
    "pkg",
    "assets",
    "mcp",
    "auth",
    "oauth",
    "settings",
    "account",
    "new",
    "workspaces",
    "invitations",
    "docs",
    "status",
    "mail",
    "root",
    "system",
];

/// A workspace's URL name: 3-40 lowercase letters, digits and hyphens, starting with a letter
/// or digit, not ending with a hyphen, and not reserved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Validates `raw` as a slug.
    pub fn parse(raw: &str) -> Result<Slug, FieldError> {
        let s = raw.trim();
        let err = |m: &str| Err(FieldError::new("slug", m));
        if s.len() < 3 || s.len() > 40 {
            return err("must be 3-40 characters long");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err("may contain only lowercase letters, digits and hyphens");
        }
        if s.starts_with('-') || s.ends_with('-') {
            return err("must start and end with a letter or digit");
        }
        if s.contains("--") {
            return err("must not contain two hyphens in a row");
        }
        if RESERVED_SLUGS.contains(&s) {
            return err("is reserved; choose another");
        }
        Ok(Slug(s.to_owned()))
    }

    /// The slug's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A workspace's display name: 1-80 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    /// Validates `raw` as a workspace name.
    pub fn parse(raw: &str) -> Result<WorkspaceName, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new("name", "must not be empty"));
        }
        if s.chars().count() > 80 {
            return Err(FieldError::new("name", "must be at most 80 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(WorkspaceName(s.to_owned()))
    }

    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_documented_rules() {
        for ok in [
            "acme",
            "a1b",
            "team-42",
            "x".repeat(40).as_str(),
            "  acme  ",
        ] {
            assert!(Slug::parse(ok).is_ok(), "{ok:?} should be valid");
        }
        let cases = [
            ("ab", "must be 3-40 characters long"),
            (&"x".repeat(41), "must be 3-40 characters long"),
            (
                "Acme",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (
                "ac_me",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (
                "acmé",
                "may contain only lowercase letters, digits and hyphens",
            ),
            ("-acme", "must start and end with a letter or digit"),
            ("acme-", "must start and end with a letter or digit"),
            ("ac--me", "must not contain two hyphens in a row"),
            ("api", "is reserved; choose another"),
            ("www", "is reserved; choose another"),
            ("admin", "is reserved; choose another"),
            ("app", "is reserved; choose another"),
        ];
        for (input, message) in cases {
            let err = Slug::parse(input).unwrap_err();
            assert_eq!(err.field, "slug");
            assert_eq!(err.message, message, "{input:?}");
        }
    }

    #[test]
    fn slug_deserialisation_validates() {
        assert!(serde_json::from_str::<Slug>("\"acme\"").is_ok());
        assert!(serde_json::from_str::<Slug>("\"API\"").is_err());
    }

    #[test]
    fn workspace_names_are_trimmed_and_bounded() {
        assert_eq!(
            WorkspaceName::parse("  Acme Inc ").unwrap().as_str(),
            "Acme Inc"
        );
        assert_eq!(WorkspaceName::parse(" ").unwrap_err().field, "name");
        assert!(WorkspaceName::parse(&"n".repeat(81)).is_err());
        assert!(WorkspaceName::parse(&"n".repeat(80)).is_ok());
        assert!(WorkspaceName::parse("a\u{0}b").is_err());
    }
}
