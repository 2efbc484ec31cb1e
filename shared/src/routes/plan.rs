//! A deploy's plan: what applying the drafts would add, change (field by field) and remove
//! against the live manifest. Routes are known by `METHOD /path`, topics by name and
//! subscribers by `topic/name`: a route whose path changes is one removed and one added.

use super::{Kind, Manifest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What happens to a definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// It is new.
    Add,
    /// It exists and some of its fields differ.
    Change,
    /// It goes.
    Remove,
}

/// One field that differs (`settings.timeout_ms`, `handler.source`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// The field, as a dotted path.
    pub field: String,
    /// Its live value (absent when it had none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<Value>,
    /// Its value after the deploy (absent when it will have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<Value>,
}

/// One definition the deploy touches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// What it is.
    pub kind: Kind,
    /// Which one.
    pub name: String,
    /// What happens to it.
    pub change: ChangeKind,
    /// For a change, the fields that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<FieldChange>,
}

/// What applying `draft` over `live` changes: routes, then topics, then subscribers; in
/// each, additions and changes in `draft`'s order, then removals in `live`'s.
pub fn plan(live: &Manifest, draft: &Manifest) -> Vec<Change> {
    let mut out = Vec::new();
    let routes = |m: &Manifest| -> Vec<(String, Value)> {
        m.routes
            .iter()
            .map(|r| (r.name(), serde_json::to_value(r).unwrap_or(Value::Null)))
            .collect()
    };
    compare(Kind::Route, &routes(live), &routes(draft), &mut out);
    let topics = |m: &Manifest| -> Vec<(String, Value)> {
        m.topics
            .iter()
            .map(|t| {
                let mut value = serde_json::to_value(t).unwrap_or(Value::Null);
                if let Some(fields) = value.as_object_mut() {
                    fields.remove("subscribers");
                }
                (t.name.clone(), value)
            })
            .collect()
    };
    compare(Kind::Topic, &topics(live), &topics(draft), &mut out);
    let subscribers = |m: &Manifest| -> Vec<(String, Value)> {
        m.topics
            .iter()
            .flat_map(|t| {
                t.subscribers.iter().map(move |s| {
                    (
                        format!("{}/{}", t.name, s.name),
                        serde_json::to_value(s).unwrap_or(Value::Null),
                    )
                })
            })
            .collect()
    };
    compare(
        Kind::Subscriber,
        &subscribers(live),
        &subscribers(draft),
        &mut out,
    );
    out
}

fn compare(kind: Kind, live: &[(String, Value)], draft: &[(String, Value)], out: &mut Vec<Change>) {
    for (name, after) in draft {
        match live.iter().find(|(n, _)| n == name) {
            None => out.push(Change {
                kind,
                name: name.clone(),
                change: ChangeKind::Add,
                diff: vec![],
            }),
            Some((_, before)) if before != after => out.push(Change {
                kind,
                name: name.clone(),
                change: ChangeKind::Change,
                diff: field_diff(before, after),
            }),
            Some(_) => {}
        }
    }
    for (name, _) in live {
        if !draft.iter().any(|(n, _)| n == name) {
            out.push(Change {
                kind,
                name: name.clone(),
                change: ChangeKind::Remove,
                diff: vec![],
            });
        }
    }
}

/// The fields that differ between two JSON values, by dotted path: objects are compared
/// key by key; anything else (a value whose type changed, an array) is one field.
fn field_diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    compare_values("", Some(before), Some(after), &mut out);
    out
}

fn compare_values(
    path: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                compare_values(&field, b.get(key), a.get(key), out);
            }
        }
        (b, a) if b != a => out.push(FieldChange {
            field: path.to_owned(),
            before: b.cloned(),
            after: a.cloned(),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(value: Value) -> Manifest {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("a manifest: {e}"))
    }

    #[test]
    fn nothing_changes_against_itself() {
        let m = manifest(
            json!({"routes": [{"method": "GET", "path": "/", "handler": {"kind": "static", "status": 200}}],
                                "topics": [{"name": "t", "subscribers": [{"name": "s", "handler": {"kind": "script", "source": "x"}}]}]}),
        );
        assert_eq!(plan(&m, &m), vec![]);
    }

    #[test]
    fn adds_changes_field_by_field_and_removes() {
        let live = manifest(json!({
            "routes": [
                {"method": "GET", "path": "/a", "handler": {"kind": "static", "status": 200, "body": "old"}},
                {"method": "GET", "path": "/gone", "handler": {"kind": "static", "status": 200}}
            ],
            "topics": [{"name": "t", "subscribers": [
                {"name": "keep", "handler": {"kind": "script", "source": "x"}},
                {"name": "drop", "handler": {"kind": "script", "source": "x"}}
            ]}]
        }));
        let draft = manifest(json!({
            "routes": [
                {"method": "GET", "path": "/a", "handler": {"kind": "static", "status": 201, "body": "old"},
                 "settings": {"timeout_ms": 500}},
                {"method": "POST", "path": "/new", "handler": {"kind": "publish", "topic": "t"}}
            ],
            "topics": [{"name": "t", "retention_hours": 24, "subscribers": [
                {"name": "keep", "handler": {"kind": "script", "source": "y"}}
            ]}]
        }));
        let changes = plan(&live, &draft);
        let summary: Vec<(Kind, &str, ChangeKind)> = changes
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.change))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Kind::Route, "GET /a", ChangeKind::Change),
                (Kind::Route, "POST /new", ChangeKind::Add),
                (Kind::Route, "GET /gone", ChangeKind::Remove),
                (Kind::Topic, "t", ChangeKind::Change),
                (Kind::Subscriber, "t/keep", ChangeKind::Change),
                (Kind::Subscriber, "t/drop", ChangeKind::Remove),
            ]
        );
        assert_eq!(
            changes[0].diff,
            vec![
                FieldChange {
                    field: "handler.status".into(),
                    before: Some(json!(200)),
                    after: Some(json!(201))
                },
                FieldChange {
                    field: "settings.timeout_ms".into(),
                    before: Some(json!(10_000)),
                    after: Some(json!(500))
                },
            ]
        );
        assert_eq!(
            changes[3].diff,
            vec![FieldChange {
                field: "retention_hours".into(),
                before: Some(json!(72)),
                after: Some(json!(24))
            }]
        );
        assert_eq!(changes[4].diff[0].field, "handler.source");
    }
}
