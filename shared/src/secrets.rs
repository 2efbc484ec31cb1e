//! Workspace secrets: named values (tokens, passwords) that private clones, pipeline nodes
//! and route handlers use by name. A value goes in once and never comes back out through
//! the API or the console; what is shown is its name, who set it and when.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest secret value, in bytes.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// Most secrets one workspace may hold.
pub const MAX_SECRETS: usize = 500;
/// What a secret's name may look like, for forms.
pub const SECRET_NAME_HINT: &str =
    "1-64 capital letters, digits and underscores, starting with a letter (GITHUB_TOKEN)";

/// Checks a secret's name: `GITHUB_TOKEN`, referenced as `{{ secrets.GITHUB_TOKEN }}`.
pub fn check_secret_name(name: &str) -> Result<(), FieldError> {
    let valid = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            "name",
            format!("name must be {SECRET_NAME_HINT}"),
        ))
    }
}

/// Checks a value before it is stored.
pub fn check_secret_value(value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new("value", "value must not be empty"));
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(FieldError::new(
            "value",
            format!("value must be at most {MAX_SECRET_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// A secret as listed: everything but its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretView {
    /// The name it is referenced by.
    pub name: String,
    /// Who set the current value (their e-mail address).
    pub updated_by: String,
    /// When it was first created.
    pub created_at: String,
    /// When the current value was set.
    pub updated_at: String,
}

/// `PUT /workspaces/{slug}/secrets/{name}`: the value to store (creating or replacing).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetSecretRequest {
    /// The value; write-only.
    pub value: String,
}

impl fmt::Debug for SetSecretRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetSecretRequest")
            .field("value", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_upper_snake_case() {
        for good in ["A", "GITHUB_TOKEN", "DB_PASSWORD_2", &"X".repeat(64)] {
            assert!(check_secret_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "github_token",
            "1TOKEN",
            "_TOKEN",
            "MY-TOKEN",
            "A B",
            &"X".repeat(65),
        ] {
            let e = check_secret_name(bad).unwrap_err();
            assert_eq!(e.field, "name", "{bad}");
        }
    }

    #[test]
    fn values_are_bounded_and_never_printed() {
        assert!(check_secret_value("t").is_ok());
        assert_eq!(check_secret_value("").unwrap_err().field, "value");
        assert_eq!(
            check_secret_value(&"x".repeat(MAX_SECRET_BYTES + 1))
                .unwrap_err()
                .field,
            "value"
        );
        let req = SetSecretRequest {
            value: "hunter2".into(),
        };
        assert!(!format!("{req:?}").contains("hunter2"));
    }
}
