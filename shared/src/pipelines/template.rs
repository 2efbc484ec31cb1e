//! Templates in node settings: `{{ input.id }}`, `{{ nodes.fetch.body.items.0 }}`,
//! `{{ secrets.GITHUB_TOKEN }}`. A setting that is exactly one template takes the referenced
//! value as it is (an object stays an object); anywhere else a template is replaced by its
//! value as text (a string as itself, anything else as compact JSON). A reference to
//! something that is not there is an error naming it, never an empty string.

use serde_json::Value;
use std::collections::BTreeMap;

/// What templates can refer to while a run executes.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The run's input.
    pub input: &'a Value,
    /// The outputs of the nodes that have finished, by node id.
    pub nodes: &'a BTreeMap<String, Value>,
    /// The secrets the run may use, by name.
    pub secrets: &'a BTreeMap<String, String>,
}

/// Renders every string in `value` (a node's settings).
pub fn render(value: &Value, scope: Scope<'_>) -> Result<Value, String> {
    match value {
        Value::String(text) => render_text(text, scope),
        Value::Array(items) => items
            .iter()
            .map(|item| render(item, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .iter()
            .map(|(key, item)| Ok((key.clone(), render(item, scope)?)))
            .collect::<Result<serde_json::Map<_, _>, String>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

/// Renders one string: the value itself when the string is one template, else text.
pub fn render_text(text: &str, scope: Scope<'_>) -> Result<Value, String> {
    let trimmed = text.trim();
    if let Some(inner) = trimmed
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
    {
        if !inner.contains("{{") && !inner.contains("}}") {
            return resolve(inner.trim(), scope);
        }
    }
    substitute(text, scope, |value| match value {
        Value::String(s) => s,
        other => other.to_string(),
    })
    .map(Value::String)
}

/// Renders a JavaScript expression (a branch's condition): each template becomes its value
/// as a JSON literal, which is valid JavaScript, so `{{ nodes.fetch.status }} == 200`
/// becomes `200 == 200` and a string stays a quoted string.
pub fn render_expression(text: &str, scope: Scope<'_>) -> Result<String, String> {
    substitute(text, scope, |value| value.to_string())
}

fn substitute(
    text: &str,
    scope: Scope<'_>,
    show: impl Fn(Value) -> String,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a template opened with {{ is not closed with }}".to_owned());
        };
        out.push_str(&show(resolve(after[..end].trim(), scope)?));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value a reference (`nodes.fetch.body.id`) names.
fn resolve(expr: &str, scope: Scope<'_>) -> Result<Value, String> {
    let mut parts = expr.split('.');
    let (root, mut walked) = match parts.next() {
        Some("input") => (scope.input.clone(), "input".to_owned()),
        Some("nodes") => {
            let id = parts.next().unwrap_or_default();
            match scope.nodes.get(id) {
                Some(output) => (output.clone(), format!("nodes.{id}")),
                None => {
                    return Err(format!(
                        "{{{{ {expr} }}}}: node {id:?} has no output in this run (it has not run, or was skipped)"
                    ))
                }
            }
        }
        Some("secrets") => {
            let name = parts.next().unwrap_or_default();
            return match (scope.secrets.get(name), parts.next()) {
                (Some(value), None) => Ok(Value::String(value.clone())),
                (Some(_), Some(_)) => Err(format!("{{{{ {expr} }}}}: a secret is a text")),
                (None, _) => Err(format!(
                    "{{{{ {expr} }}}}: the workspace has no secret {name:?}"
                )),
            };
        }
        _ => {
            return Err(format!(
                "{{{{ {expr} }}}} must start with input, nodes.<id> or secrets.<NAME>"
            ))
        }
    };
    let mut value = root;
    for key in parts {
        let next = match &value {
            Value::Object(map) => map.get(key).cloned(),
            Value::Array(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i).cloned()),
            _ => None,
        };
        match next {
            Some(v) => value = v,
            None => return Err(format!("{{{{ {expr} }}}}: {walked} has no {key:?}")),
        }
        walked.push('.');
        walked.push_str(key);
    }
    Ok(value)
}

/// The names of the secrets a node's settings refer to.
pub fn secrets_named(value: &Value, out: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                let mut parts = after[..end].trim().split('.');
                if let (Some("secrets"), Some(name)) = (parts.next(), parts.next()) {
                    out.insert(name.to_owned());
                }
                rest = &after[end + 2..];
            }
        }
        Value::Array(items) => items.iter().for_each(|item| secrets_named(item, out)),
        Value::Object(map) => map.values().for_each(|item| secrets_named(item, out)),
        _ => {}
    }
}

/// Replaces every occurrence of a secret's value in `text` with `[secret NAME]`, so values
/// never reach logs, stored outputs or the run view. Longer values first, so a value that
/// contains another is replaced whole.
pub fn redact(text: &str, secrets: &BTreeMap<String, String>) -> String {
    let mut values: Vec<(&String, &String)> =
        secrets.iter().filter(|(_, v)| !v.is_empty()).collect();
    values.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    let mut out = text.to_owned();
    for (name, value) in values {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), &format!("[secret {name}]"));
        }
    }
    out
}

/// [`redact`] applied to every string (and object key) in a JSON value.
pub fn redact_value(value: &Value, secrets: &BTreeMap<String, String>) -> Value {
    if secrets.is_empty() {
        return value.clone();
    }
    match value {
        Value::String(s) => Value::String(redact(s, secrets)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_value(v, secrets)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (redact(k, secrets), redact_value(v, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with<T>(f: impl FnOnce(Scope<'_>) -> T) -> T {
        let input = json!({"id": 7, "name": "ada"});
        let nodes = BTreeMap::from([(
            "fetch".to_owned(),
            json!({"status": 200, "body": {"items": [{"id": "x1"}], "ok": true}}),
        )]);
        let secrets = BTreeMap::from([("TOKEN".to_owned(), "s3cr3t".to_owned())]);
        f(Scope {
            input: &input,
            nodes: &nodes,
            secrets: &secrets,
        })
    }

    #[test]
    fn a_whole_template_keeps_the_value_and_text_interpolates() {
        with(|scope| {
            assert_eq!(
                render(&json!("{{ nodes.fetch.body }}"), scope),
                Ok(json!({"items": [{"id": "x1"}], "ok": true}))
            );
            assert_eq!(
                render(
                    &json!({"url": "https://api/{{ input.id }}/{{ nodes.fetch.body.items.0.id }}",
                            "auth": "Bearer {{ secrets.TOKEN }}", "n": 3, "all": "{{input}}"}),
                    scope
                ),
                Ok(
                    json!({"url": "https://api/7/x1", "auth": "Bearer s3cr3t", "n": 3,
                          "all": {"id": 7, "name": "ada"}})
                )
            );
            assert_eq!(
                render_text("ok={{ nodes.fetch.body.ok }} {{ input.name }}", scope),
                Ok(json!("ok=true ada"))
            );
        });
    }

    #[test]
    fn a_missing_reference_is_an_error_naming_it() {
        with(|scope| {
            assert_eq!(
                render_text("{{ nodes.fetch.body.nope }}", scope),
                Err("{{ nodes.fetch.body.nope }}: nodes.fetch.body has no \"nope\"".to_owned())
            );
            assert!(render_text("{{ nodes.later.x }}", scope)
                .unwrap_err()
                .contains("has no output"));
            assert!(render_text("{{ secrets.OTHER }}", scope)
                .unwrap_err()
                .contains("no secret \"OTHER\""));
            assert!(render_text("x {{ input.id", scope)
                .unwrap_err()
                .contains("not closed"));
        });
    }

    #[test]
    fn expressions_get_json_literals() {
        with(|scope| {
            assert_eq!(
                render_expression(
                    "{{ nodes.fetch.status }} == 200 && {{ input.name }} != \"\"",
                    scope
                ),
                Ok("200 == 200 && \"ada\" != \"\"".to_owned())
            );
        });
    }

    #[test]
    fn secrets_are_found_and_redacted() {
        let mut names = std::collections::BTreeSet::new();
        secrets_named(
            &json!({"h": {"a": "Bearer {{ secrets.TOKEN }}"}, "b": ["{{secrets.KEY}}", "{{ input }}"]}),
            &mut names,
        );
        assert_eq!(names.into_iter().collect::<Vec<_>>(), vec!["KEY", "TOKEN"]);
        let secrets = BTreeMap::from([
            ("A".to_owned(), "abc".to_owned()),
            ("B".to_owned(), "abcdef".to_owned()),
            ("E".to_owned(), String::new()),
        ]);
        assert_eq!(
            redact("x abcdef y abc", &secrets),
            "x [secret B] y [secret A]"
        );
        assert_eq!(
            redact_value(&json!({"abc": ["abcdef", 1]}), &secrets),
            json!({"[secret A]": ["[secret B]", 1]})
        );
    }
}
