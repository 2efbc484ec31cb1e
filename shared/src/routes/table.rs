//! The gateway's lookup: a request's method and path to the route that answers it, through
//! a tree of path segments (literal children first, then a parameter, then a catch-all),
//! so a lookup costs the path's depth, not the number of routes.

use super::pattern::{Params, PathPattern, Segment};
use super::Method;
use std::collections::HashMap;

/// A manifest's routes, ready for lookups.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    root: Node,
    /// Each route's method and pattern (`None` for one that did not parse).
    patterns: Vec<(Method, Option<PathPattern>)>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    literals: HashMap<String, Node>,
    param: Option<Box<Node>>,
    /// Routes whose pattern ends here.
    end: Vec<usize>,
    /// Routes whose catch-all starts here.
    rest: Vec<usize>,
}

/// What a lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The route at this index of the table's input, with the parameters it captured.
    Found {
        /// The route's index.
        route: usize,
        /// Its parameters.
        params: Params,
    },
    /// Routes match the path, but none the method (405 with `Allow`).
    MethodNotAllowed {
        /// The methods they answer.
        allowed: Vec<Method>,
    },
    /// No route matches the path.
    NotFound,
}

impl RouteTable {
    /// A table of `routes` (method and pattern, by index); a pattern that does not parse
    /// is left out (a validated manifest has none).
    pub fn new<'a>(routes: impl IntoIterator<Item = (Method, &'a str)>) -> RouteTable {
        let mut table = RouteTable::default();
        for (index, (method, raw)) in routes.into_iter().enumerate() {
            let Ok(pattern) = PathPattern::parse(raw) else {
                table.patterns.push((method, None));
                continue;
            };
            let mut node = &mut table.root;
            let mut rest = false;
            for segment in pattern.segments() {
                node = match segment {
                    Segment::Literal(text) => node.literals.entry(text.clone()).or_default(),
                    Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                    Segment::Rest(_) => {
                        rest = true;
                        break;
                    }
                };
            }
            if rest {
                node.rest.push(index);
            } else {
                node.end.push(index);
            }
            table.patterns.push((method, Some(pattern)));
        }
        table
    }

    /// The route answering `method` (as the request has it) at `path` (raw, no query).
    /// An exact method wins over `ANY`; `HEAD` falls back to `GET`.
    pub fn find(&self, method: &str, path: &str) -> Lookup {
        let Some(rest) = path.strip_prefix('/') else {
            return Lookup::NotFound;
        };
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut candidates = Vec::new();
        collect(&self.root, &parts, &mut candidates);
        if candidates.is_empty() {
            return Lookup::NotFound;
        }
        let wanted = Method::parse(method);
        let pick = |m: Method| {
            candidates
                .iter()
                .copied()
                .find(|&i| self.patterns.get(i).is_some_and(|(rm, _)| *rm == m))
        };
        let found = wanted
            .filter(|m| *m != Method::Any)
            .and_then(pick)
            .or_else(|| pick(Method::Any))
            .or_else(|| {
                (wanted == Some(Method::Head))
                    .then(|| pick(Method::Get))
                    .flatten()
            });
        let captured = |i: usize| Some((i, self.patterns.get(i)?.1.as_ref()?.matches(path)?));
        match found.and_then(captured) {
            Some((route, params)) => Lookup::Found { route, params },
            None => {
                let mut allowed: Vec<Method> = candidates
                    .iter()
                    .filter_map(|&i| self.patterns.get(i).map(|(m, _)| *m))
                    .collect();
                allowed.sort();
                allowed.dedup();
                Lookup::MethodNotAllowed { allowed }
            }
        }
    }

    /// How many routes it holds.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Every route whose pattern matches `parts` below `node`, literal matches first.
fn collect(node: &Node, parts: &[&str], out: &mut Vec<usize>) {
    let Some((first, later)) = parts.split_first() else {
        out.extend(&node.end);
        return;
    };
    if let Some(child) = node.literals.get(*first) {
        collect(child, later, out);
    }
    if let Some(child) = &node.param {
        if !first.is_empty() {
            collect(child, later, out);
        }
    }
    if !node.rest.is_empty() && parts.iter().all(|p| !p.is_empty()) {
        out.extend(&node.rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new([
            (Method::Get, "/"),
            (Method::Get, "/users/{id}"),
            (Method::Post, "/users/me"),
            (Method::Any, "/files/{*path}"),
            (Method::Delete, "/users/{id}"),
            (Method::Get, "/bad path"),
        ])
    }

    fn found(route: usize, params: &[(&str, &str)]) -> Lookup {
        Lookup::Found {
            route,
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn finds_by_method_and_path() {
        let t = table();
        assert_eq!(t.find("GET", "/"), found(0, &[]));
        assert_eq!(t.find("GET", "/users/42"), found(1, &[("id", "42")]));
        assert_eq!(t.find("HEAD", "/users/42"), found(1, &[("id", "42")]));
        assert_eq!(t.find("DELETE", "/users/7"), found(4, &[("id", "7")]));
        assert_eq!(t.find("POST", "/users/me"), found(2, &[]));
        assert_eq!(t.find("GET", "/users/me"), found(1, &[("id", "me")]));
        assert_eq!(
            t.find("PROPFIND", "/files/a/b"),
            found(3, &[("path", "a/b")])
        );
        assert_eq!(t.find("GET", "/files/a%20b"), found(3, &[("path", "a b")]));
    }

    #[test]
    fn says_which_methods_a_path_allows() {
        let t = table();
        assert_eq!(
            t.find("PUT", "/users/42"),
            Lookup::MethodNotAllowed {
                allowed: vec![Method::Get, Method::Delete]
            }
        );
        assert_eq!(
            t.find("PUT", "/users/me"),
            Lookup::MethodNotAllowed {
                allowed: vec![Method::Get, Method::Post, Method::Delete]
            }
        );
    }

    #[test]
    fn misses_what_no_route_matches() {
        let t = table();
        for path in [
            "",
            "x",
            "/users",
            "/users/",
            "/users//",
            "/files",
            "/files/",
            "/files//a",
            "/bad path",
            "/nope",
        ] {
            assert_eq!(t.find("GET", path), Lookup::NotFound, "{path:?}");
        }
        assert_eq!(t.len(), 6);
        assert!(RouteTable::new([]).is_empty());
    }

    /// The table agrees with matching every pattern in turn, on random routes and paths.
    #[test]
    fn agrees_with_the_patterns_one_by_one() {
        let mut state: u64 = 0x1234_5678_9ABC_DEF1;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let pieces = ["a", "b", "{x}", "{*r}"];
        let path_pieces = ["a", "b", "c", ""];
        let methods = [Method::Get, Method::Post, Method::Any];
        for _ in 0..300 {
            let routes: Vec<(Method, String)> = (0..next(8))
                .map(|_| {
                    let raw: String = (0..next(4))
                        .map(|_| format!("/{}", pieces[next(pieces.len())]))
                        .collect();
                    (
                        methods[next(3)],
                        if raw.is_empty() { "/".into() } else { raw },
                    )
                })
                .collect();
            let t = RouteTable::new(routes.iter().map(|(m, p)| (*m, p.as_str())));
            for _ in 0..30 {
                let path: String = (0..next(4))
                    .map(|_| format!("/{}", path_pieces[next(path_pieces.len())]))
                    .collect();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                let matching: Vec<usize> = routes
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, p))| {
                        PathPattern::parse(p).is_ok_and(|p| p.matches(&path).is_some())
                    })
                    .map(|(i, _)| i)
                    .collect();
                match t.find("GET", &path) {
                    Lookup::Found { route, .. } => {
                        assert!(matching.contains(&route), "{routes:?} {path}");
                        assert!(matches!(routes[route].0, Method::Get | Method::Any));
                    }
                    Lookup::MethodNotAllowed { .. } => {
                        assert!(!matching.is_empty());
                        assert!(matching.iter().all(|&i| routes[i].0 == Method::Post));
                    }
                    Lookup::NotFound => assert!(matching.is_empty(), "{routes:?} {path}"),
                }
            }
        }
    }
}
