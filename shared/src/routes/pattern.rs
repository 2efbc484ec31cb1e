//! Path patterns: `/users/{id}/files/{*rest}`, parsed once at the edge into a
//! [`PathPattern`] that matches request paths and says whether two patterns can match the
//! same path (the gateway refuses two routes that can answer one request).
//!
//! A pattern is `/` or a sequence of `/segment`s, each either literal text, a parameter
//! `{name}` (one non-empty path segment) or, last only, a catch-all `{*name}` (one or more
//! segments). Matching is on the request's raw path (without its query): segments are split
//! on `/` first, then each parameter is percent-decoded, so `%2F` stays inside a segment.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 512;

/// The most parameters (catch-all included) a pattern may have.
pub const MAX_PARAMS: usize = 16;

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Text that must equal the request's segment.
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Param(String),
    /// `{*name}`: one or more remaining segments (last only).
    Rest(String),
}

/// A parsed, valid path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    raw: String,
    segments: Vec<Segment>,
}

/// Why a pattern is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Nothing, or no leading `/`.
    #[error("must start with `/`")]
    NoLeadingSlash,
    /// Longer than [`MAX_PATTERN_LEN`].
    #[error("is longer than {MAX_PATTERN_LEN} characters")]
    TooLong,
    /// `//` or a trailing `/`.
    #[error("has an empty segment (`//` or a trailing `/`)")]
    EmptySegment,
    /// A character paths cannot carry unencoded.
    #[error("segment `{0}` has a character a path cannot carry (use letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ %)")]
    BadCharacter(String),
    /// `{` or `}` that is not a whole-segment parameter.
    #[error("segment `{0}`: a parameter must be a whole segment, like `{{id}}`")]
    PartialParam(String),
    /// A parameter name that is not an identifier.
    #[error("parameter name `{0}` must be a letter or `_` followed by letters, digits or `_` (at most 64)")]
    BadName(String),
    /// The same name twice.
    #[error("parameter `{0}` appears twice")]
    DuplicateName(String),
    /// A catch-all before the last segment.
    #[error("catch-all `{{*{0}}}` must be the last segment")]
    RestNotLast(String),
    /// More than [`MAX_PARAMS`] parameters.
    #[error("has more than {MAX_PARAMS} parameters")]
    TooManyParams,
}

/// The parameters a match captured, in the pattern's order (values percent-decoded).
pub type Params = Vec<(String, String)>;

impl PathPattern {
    /// Parses and validates `raw`.
    pub fn parse(raw: &str) -> Result<PathPattern, PatternError> {
        if raw.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong);
        }
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(PatternError::NoLeadingSlash);
        };
        let mut segments = Vec::new();
        if !rest.is_empty() {
            let parts: Vec<&str> = rest.split('/').collect();
            let last = parts.len() - 1;
            for (i, part) in parts.into_iter().enumerate() {
                let segment = parse_segment(part)?;
                if let Segment::Rest(name) = &segment {
                    if i != last {
                        return Err(PatternError::RestNotLast(name.clone()));
                    }
                }
                segments.push(segment);
            }
        }
        let mut names: Vec<&str> = Vec::new();
        for s in &segments {
            if let Segment::Param(n) | Segment::Rest(n) = s {
                if names.contains(&n.as_str()) {
                    return Err(PatternError::DuplicateName(n.clone()));
                }
                names.push(n);
            }
        }
        if names.len() > MAX_PARAMS {
            return Err(PatternError::TooManyParams);
        }
        Ok(PathPattern {
            raw: raw.to_owned(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Its segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The parameters `path` (a request's raw path, without its query) gives this pattern,
    /// or `None` when it does not match.
    pub fn matches(&self, path: &str) -> Option<Params> {
        let parts = split_path(path)?;
        let mut params = Params::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(text) => {
                    if parts.get(i) != Some(&text.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let part = parts.get(i).filter(|p| !p.is_empty())?;
                    params.push((name.clone(), percent_decode(part)));
                }
                Segment::Rest(name) => {
                    let tail = parts.get(i..).filter(|t| !t.is_empty())?;
                    if tail.iter().any(|p| p.is_empty()) {
                        return None;
                    }
                    let decoded: Vec<String> = tail.iter().map(|p| percent_decode(p)).collect();
                    params.push((name.clone(), decoded.join("/")));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// A path both patterns match, or `None` when no request can match both. Two routes
    /// with the same method conflict exactly when this is `Some`.
    pub fn overlap(&self, other: &PathPattern) -> Option<String> {
        let (a, b) = (&self.segments, &other.segments);
        let mut path = String::new();
        let mut i = 0;
        loop {
            match (a.get(i), b.get(i)) {
                (None, None) => {
                    return Some(if path.is_empty() {
                        "/".to_owned()
                    } else {
                        path
                    });
                }
                (Some(Segment::Rest(_)), None) | (None, Some(Segment::Rest(_))) => return None,
                (None, Some(_)) | (Some(_), None) => return None,
                // A catch-all takes the other's remaining segments (at least one).
                (Some(Segment::Rest(_)), Some(_)) => return Some(extend(path, &b[i..])),
                (Some(_), Some(Segment::Rest(_))) => return Some(extend(path, &a[i..])),
                (Some(Segment::Literal(x)), Some(Segment::Literal(y))) => {
                    if x != y {
                        return None;
                    }
                    path.push('/');
                    path.push_str(x);
                }
                (Some(Segment::Literal(x)), Some(Segment::Param(_)))
                | (Some(Segment::Param(_)), Some(Segment::Literal(x))) => {
                    path.push('/');
                    path.push_str(x);
                }
                (Some(p @ Segment::Param(_)), Some(Segment::Param(_))) => {
                    path.push('/');
                    path.push_str(&example(p));
                }
            }
            i += 1;
        }
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for PathPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for PathPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        PathPattern::parse(&raw).map_err(|e| serde::de::Error::custom(format!("path {e}")))
    }
}

/// `path` followed by an example of each of `segments`.
fn extend(mut path: String, segments: &[Segment]) -> String {
    for segment in segments {
        path.push('/');
        path.push_str(&example(segment));
    }
    path
}

/// A value a segment matches, for an example path.
fn example(segment: &Segment) -> String {
    match segment {
        Segment::Literal(text) => text.clone(),
        Segment::Param(name) | Segment::Rest(name) => format!("{name}-value"),
    }
}

fn parse_segment(part: &str) -> Result<Segment, PatternError> {
    if part.is_empty() {
        return Err(PatternError::EmptySegment);
    }
    if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        let (name, rest) = match inner.strip_prefix('*') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if !is_identifier(name) {
            return Err(PatternError::BadName(name.to_owned()));
        }
        return Ok(if rest {
            Segment::Rest(name.to_owned())
        } else {
            Segment::Param(name.to_owned())
        });
    }
    if part.contains(['{', '}']) {
        return Err(PatternError::PartialParam(part.to_owned()));
    }
    if !part.chars().all(is_path_char) {
        return Err(PatternError::BadCharacter(part.to_owned()));
    }
    Ok(Segment::Literal(part.to_owned()))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// RFC 3986 `pchar` (unreserved, sub-delims, `:`, `@`) and `%` of an encoded byte.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%".contains(c)
}

/// A request path's segments (`/` has none); `None` for a path without a leading `/`.
fn split_path(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix('/')?;
    Some(if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/').collect()
    })
}

/// Decodes `%XX` escapes; a malformed escape or non-UTF-8 result leaves the text as it was.
pub fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => return text.to_owned(),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &str) -> PathPattern {
        PathPattern::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    #[test]
    fn parses_literals_params_and_a_trailing_catch_all() {
        assert_eq!(p("/").segments(), &[]);
        assert_eq!(
            p("/users/{id}/files/{*rest}").segments(),
            &[
                Segment::Literal("users".into()),
                Segment::Param("id".into()),
                Segment::Literal("files".into()),
                Segment::Rest("rest".into()),
            ]
        );
    }

    #[test]
    fn refuses_bad_patterns_saying_why() {
        let cases = [
            ("", PatternError::NoLeadingSlash),
            ("users", PatternError::NoLeadingSlash),
            ("/users/", PatternError::EmptySegment),
            ("/a//b", PatternError::EmptySegment),
            ("/a b", PatternError::BadCharacter("a b".into())),
            ("/a?x=1", PatternError::BadCharacter("a?x=1".into())),
            ("/u{id}", PatternError::PartialParam("u{id}".into())),
            ("/{id", PatternError::PartialParam("{id".into())),
            ("/{}", PatternError::BadName(String::new())),
            ("/{1x}", PatternError::BadName("1x".into())),
            ("/{*}", PatternError::BadName(String::new())),
            ("/{a-b}", PatternError::BadName("a-b".into())),
            ("/{id}/{id}", PatternError::DuplicateName("id".into())),
            ("/{*rest}/x", PatternError::RestNotLast("rest".into())),
        ];
        for (raw, want) in cases {
            assert_eq!(PathPattern::parse(raw), Err(want), "{raw:?}");
        }
        assert_eq!(
            PathPattern::parse(&format!("/{}", "a".repeat(MAX_PATTERN_LEN))),
            Err(PatternError::TooLong)
        );
        let many: String = (0..=MAX_PARAMS).map(|i| format!("/{{p{i}}}")).collect();
        assert_eq!(PathPattern::parse(&many), Err(PatternError::TooManyParams));
        assert_eq!(
            PatternError::RestNotLast("rest".into()).to_string(),
            "catch-all `{*rest}` must be the last segment"
        );
    }

    #[test]
    fn matches_and_captures_decoded_parameters() {
        let route = p("/users/{id}/files/{*rest}");
        assert_eq!(
            route.matches("/users/42/files/a/b%20c.txt"),
            Some(vec![
                ("id".into(), "42".into()),
                ("rest".into(), "a/b c.txt".into())
            ])
        );
        assert_eq!(
            route.matches("/users/a%2Fb/files/x"),
            Some(vec![
                ("id".into(), "a/b".into()),
                ("rest".into(), "x".into())
            ])
        );
        for miss in [
            "/users/42/files",
            "/users/42/files/",
            "/users//files/x",
            "/users/42/file/x",
            "users/42/files/x",
            "",
            "/",
        ] {
            assert_eq!(route.matches(miss), None, "{miss:?}");
        }
        assert_eq!(p("/").matches("/"), Some(vec![]));
        assert_eq!(p("/").matches("/x"), None);
        assert_eq!(p("/health").matches("/health/"), None);
        assert_eq!(
            p("/a/{b}").matches("/a/%zz"),
            Some(vec![("b".into(), "%zz".into())])
        );
    }

    #[test]
    fn overlap_finds_a_path_both_match_or_none() {
        let cases = [
            ("/users/{id}", "/users/me", Some("/users/me")),
            ("/users/{id}", "/users/{name}", Some("/users/id-value")),
            ("/users/{id}", "/teams/{id}", None),
            ("/users/{id}", "/users/{id}/x", None),
            ("/files/{*rest}", "/files/a/{b}", Some("/files/a/b-value")),
            ("/files/{*rest}", "/files", None),
            ("/{*all}", "/", None),
            ("/{*all}", "/anything", Some("/anything")),
            ("/", "/", Some("/")),
            ("/a/{*x}", "/{y}/{*z}", Some("/a/z-value")),
        ];
        for (a, b, want) in cases {
            let (a, b) = (p(a), p(b));
            assert_eq!(a.overlap(&b).as_deref(), want, "{a} vs {b}");
            assert_eq!(b.overlap(&a).is_some(), want.is_some(), "{b} vs {a}");
            if let Some(path) = a.overlap(&b) {
                assert!(
                    a.matches(&path).is_some() && b.matches(&path).is_some(),
                    "{path}"
                );
            }
        }
    }

    /// Random patterns and paths from a fixed-seed generator: parsing and matching never
    /// panic; two patterns that both match some path always overlap, and every overlap's
    /// example path is matched by both.
    #[test]
    fn overlap_agrees_with_matching_on_random_patterns() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let pieces = [
            "a", "b", "{x}", "{y}", "{*r}", "", "%2F", "{", "ü", "a b", "{*}",
        ];
        let path_pieces = ["a", "b", "c", "", "%2F", "%zz", "ü"];
        let mut patterns = Vec::new();
        for _ in 0..4_000 {
            let raw: String = (0..next(5))
                .map(|_| format!("/{}", pieces[next(pieces.len())]))
                .collect();
            let raw = if raw.is_empty() && next(2) == 0 {
                "/".to_owned()
            } else {
                raw
            };
            if let Ok(pattern) = PathPattern::parse(&raw) {
                patterns.push(pattern);
            }
        }
        assert!(
            patterns.len() > 200,
            "the generator makes valid patterns too"
        );
        let paths: Vec<String> = (0..400)
            .map(|_| {
                (0..next(5))
                    .map(|_| format!("/{}", path_pieces[next(path_pieces.len())]))
                    .collect::<String>()
            })
            .collect();
        for _ in 0..20_000 {
            let a = &patterns[next(patterns.len())];
            let b = &patterns[next(patterns.len())];
            let overlap = a.overlap(b);
            if let Some(example) = &overlap {
                assert!(a.matches(example).is_some(), "{a} on {example}");
                assert!(b.matches(example).is_some(), "{b} on {example}");
            }
            let path = &paths[next(paths.len())];
            if a.matches(path).is_some() && b.matches(path).is_some() {
                assert!(overlap.is_some(), "{a} and {b} both match {path}");
            }
        }
    }
}
