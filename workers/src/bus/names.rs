//! What a subject, pattern or queue name may look like, and NATS-style matching. The
//! subjects themselves are built in `crate::subjects`.

use super::BusError;

/// Whether `token` may appear in a subject: non-empty, no whitespace, no `.`, no wildcard.
pub fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && !token
            .chars()
            .any(|c| c.is_whitespace() || c == '.' || c == '*' || c == '>')
}

/// Checks a subject to publish on (no wildcards).
pub fn check_subject(subject: &str) -> Result<(), BusError> {
    if subject.split('.').all(valid_token) {
        Ok(())
    } else {
        Err(BusError::InvalidName(subject.to_owned()))
    }
}

/// Checks a subscription pattern: tokens, `*` for any one token, `>` for the rest (last).
pub fn check_pattern(pattern: &str) -> Result<(), BusError> {
    let tokens: Vec<&str> = pattern.split('.').collect();
    let ok = tokens
        .iter()
        .enumerate()
        .all(|(i, t)| *t == "*" || (*t == ">" && i == tokens.len() - 1) || valid_token(t));
    if ok {
        Ok(())
    } else {
        Err(BusError::InvalidName(pattern.to_owned()))
    }
}

/// Whether `subject` matches `pattern` under NATS rules.
pub fn matches(pattern: &str, subject: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subject.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Checks a work-queue name: a valid token of lowercase letters, digits, `-` and `_`.
pub fn check_queue(queue: &str) -> Result<(), BusError> {
    if !queue.is_empty()
        && queue.len() <= 64
        && queue
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(BusError::InvalidName(queue.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_follows_nats_rules() {
        let cases = [
            ("a.b.c", "a.b.c", true),
            ("a.*.c", "a.b.c", true),
            ("a.*", "a.b.c", false),
            ("a.>", "a.b.c", true),
            ("a.>", "a", false),
            (">", "a", true),
            ("a.b", "a.b.c", false),
            ("a.b.c", "a.b", false),
            ("sy.t.*.jobs.*.log", "sy.t.t1.jobs.j1.log", true),
            ("sy.t.*.jobs.*.log", "sy.t.t1.jobs.j1.status", false),
        ];
        for (p, s, want) in cases {
            assert_eq!(matches(p, s), want, "{p} vs {s}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_subject("sy.work.default").is_ok());
        for bad in ["", "a..b", "a.*", "a.>", "a b", ".a"] {
            assert!(check_subject(bad).is_err(), "{bad:?}");
        }
        assert!(check_pattern("a.*.>").is_ok());
        assert!(check_pattern("a.>.b").is_err());
        assert!(check_queue("default").is_ok());
        assert!(check_queue("Big").is_err());
        assert!(check_queue("a.b").is_err());
    }
}
