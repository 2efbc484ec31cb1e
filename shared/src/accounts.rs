//! Account inputs: e-mail addresses, passwords and display names.

use crate::error::FieldError;
use std::fmt;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_LEN: usize = 256;

/// A normalised e-mail address: trimmed and lowercased, one `@`, a dot in the domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates and normalises `raw` as the value of field `field`.
    pub fn parse_field(raw: &str, field: &'static str) -> Result<Email, FieldError> {
        let s = raw.trim().to_lowercase();
        let err = |m: &str| Err(FieldError::new(field, m));
        if s.is_empty() {
            return err("is required");
        }
        if s.len() > 254 {
            return err("must be at most 254 characters");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return err("must be an e-mail address like name@example.com");
        };
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty()
            || domain.contains('@')
            || !valid_domain
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return err("must be an e-mail address like name@example.com");
        }
        Ok(Email(s))
    }

    /// Validates and normalises `raw` as the `email` field.
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        Self::parse_field(raw, "email")
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password (field `field`) against the length policy.
pub fn check_new_password(raw: &str, field: &'static str) -> Result<(), FieldError> {
    let len = raw.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// Validates a person's display name: 1-100 characters after trimming, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new("name", "is required"));
    }
    if s.chars().count() > 100 {
        return Err(FieldError::new("name", "must be at most 100 characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_name_the_field() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
            "ada@example..com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad:?}");
        }
        assert_eq!(
            Email::parse_field("x", "invitee").unwrap_err().field,
            "invitee"
        );
    }

    #[test]
    fn passwords_have_a_length_window() {
        assert!(check_new_password("short", "password").is_err());
        assert!(check_new_password(&"p".repeat(MIN_PASSWORD_LEN), "password").is_ok());
        assert!(check_new_password(&"p".repeat(MAX_PASSWORD_LEN + 1), "password").is_err());
        assert_eq!(
            check_new_password("", "new_password").unwrap_err().field,
            "new_password"
        );
    }

    #[test]
    fn display_names_are_trimmed() {
        assert_eq!(
            parse_display_name(" Ada Lovelace ").unwrap(),
            "Ada Lovelace"
        );
        assert!(parse_display_name("   ").is_err());
    }
}
