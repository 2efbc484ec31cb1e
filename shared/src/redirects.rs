//! Where a user may be sent after signing in: only a path on this site.

/// `next` if it is a local path (`/...`) that no browser could read as another site:
/// not `//host`, no backslash, no whitespace or control characters (browsers drop a tab
/// inside `/\t/evil.example`, leaving `//evil.example`). Otherwise `fallback`.
pub fn local_path<'a>(next: &'a str, fallback: &'a str) -> &'a str {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_whitespace() || c.is_control())
        && next.len() <= 2048;
    if safe {
        next
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_pass() {
        for ok in [
            "/",
            "/workspaces",
            "/w/acme/members?tab=1",
            "/invitations/abc",
        ] {
            assert_eq!(local_path(ok, "/x"), ok);
        }
        for bad in [
            "",
            "workspaces",
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/\n",
            "/ /x",
            "/\u{0}",
        ] {
            assert_eq!(local_path(bad, "/fallback"), "/fallback", "{bad:?}");
        }
    }
}
