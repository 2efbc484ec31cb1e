//! The difference between two versions of a graph, as the console shows it: nodes added,
//! removed, changed (with the settings that changed) or only moved, and edges added or
//! removed.

use super::{Edge, Graph};
use std::collections::BTreeSet;

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A node only the newer graph has.
    NodeAdded(String),
    /// A node only the older graph has.
    NodeRemoved(String),
    /// A node whose kind or settings changed; the keys of the settings that differ.
    NodeChanged(String, Vec<String>),
    /// A node that only moved on the canvas.
    NodeMoved(String),
    /// An edge only the newer graph has.
    EdgeAdded(Edge),
    /// An edge only the older graph has.
    EdgeRemoved(Edge),
}

impl Change {
    /// One line describing it.
    pub fn describe(&self) -> String {
        let edge = |e: &Edge| {
            format!(
                "{}.{} → {}.{}",
                e.from.node, e.from.port, e.to.node, e.to.port
            )
        };
        match self {
            Change::NodeAdded(id) => format!("+ node {id}"),
            Change::NodeRemoved(id) => format!("− node {id}"),
            Change::NodeChanged(id, keys) if keys.is_empty() => format!("~ node {id}: kind"),
            Change::NodeChanged(id, keys) => format!("~ node {id}: {}", keys.join(", ")),
            Change::NodeMoved(id) => format!("  node {id} moved"),
            Change::EdgeAdded(e) => format!("+ edge {}", edge(e)),
            Change::EdgeRemoved(e) => format!("− edge {}", edge(e)),
        }
    }
}

/// What changed from `old` to `new`, nodes first (in `new`'s order, then removed ones).
pub fn diff(old: &Graph, new: &Graph) -> Vec<Change> {
    let mut out = Vec::new();
    for n in &new.nodes {
        match old.nodes.iter().find(|o| o.id == n.id) {
            None => out.push(Change::NodeAdded(n.id.clone())),
            Some(o) if o.kind != n.kind => out.push(Change::NodeChanged(n.id.clone(), vec![])),
            Some(o) if o.config != n.config => {
                let keys = |v: &serde_json::Value| -> BTreeSet<String> {
                    v.as_object()
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default()
                };
                let changed = keys(&o.config)
                    .union(&keys(&n.config))
                    .filter(|k| o.config.get(k.as_str()) != n.config.get(k.as_str()))
                    .cloned()
                    .collect();
                out.push(Change::NodeChanged(n.id.clone(), changed));
            }
            Some(o) if o.position != n.position => out.push(Change::NodeMoved(n.id.clone())),
            Some(_) => {}
        }
    }
    for o in &old.nodes {
        if !new.nodes.iter().any(|n| n.id == o.id) {
            out.push(Change::NodeRemoved(o.id.clone()));
        }
    }
    for e in &new.edges {
        if !old.edges.contains(e) {
            out.push(Change::EdgeAdded(e.clone()));
        }
    }
    for e in &old.edges {
        if !new.edges.contains(e) {
            out.push(Change::EdgeRemoved(e.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_change_is_named() {
        let old: Graph = serde_json::from_value(json!({
            "nodes": [{"id": "a", "kind": "manual"}, {"id": "b", "kind": "script", "config": {"source": "1", "retries": 1}},
                      {"id": "c", "kind": "output"}, {"id": "d", "kind": "set", "config": {"fields": {}}}],
            "edges": [{"from": {"node": "a", "port": "out"}, "to": {"node": "b", "port": "in"}}]
        })).expect("graph");
        let new: Graph = serde_json::from_value(json!({
            "nodes": [{"id": "a", "kind": "manual", "position": {"x": 5, "y": 0}}, {"id": "b", "kind": "script", "config": {"source": "2", "retries": 1}},
                      {"id": "e", "kind": "output"}, {"id": "d", "kind": "merge"}],
            "edges": [{"from": {"node": "b", "port": "out"}, "to": {"node": "e", "port": "in"}}]
        })).expect("graph");
        let d: Vec<String> = diff(&old, &new).iter().map(Change::describe).collect();
        assert_eq!(
            d,
            vec![
                "  node a moved",
                "~ node b: source",
                "+ node e",
                "~ node d: kind",
                "− node c",
                "+ edge b.out → e.in",
                "− edge a.out → b.in",
            ]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
