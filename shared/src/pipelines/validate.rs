//! Every problem of a graph, each with the node, edge and field it concerns. Nothing here
//! panics on any input: a graph read from JSON may hold anything its types allow.

use super::catalogue::{Setting, HTTP_METHODS, MAX_DELAY_SECONDS};
use super::{Graph, NodeKind, PortRef};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// One thing wrong with a graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// The node it concerns, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The edge it concerns, by its index in `edges`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<usize>,
    /// The node's setting it concerns (`config.url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The line of the setting's text it concerns (a script's syntax error), 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl Problem {
    /// A problem of the graph as a whole.
    pub fn graph(message: impl Into<String>) -> Problem {
        Problem {
            node: None,
            edge: None,
            field: None,
            line: None,
            message: message.into(),
        }
    }

    /// A problem of the node `id`.
    pub fn node(id: &str, message: impl Into<String>) -> Problem {
        Problem {
            node: Some(id.to_owned()),
            ..Problem::graph(message)
        }
    }

    /// A problem of the node `id`'s setting `field` (`config.field`).
    pub fn setting(id: &str, field: &str, message: impl Into<String>) -> Problem {
        Problem {
            field: Some(format!("config.{field}")),
            ..Problem::node(id, message)
        }
    }

    fn edge(index: usize, message: impl Into<String>) -> Problem {
        Problem {
            edge: Some(index),
            ..Problem::graph(message)
        }
    }
}

/// The most nodes a pipeline may have.
pub const MAX_NODES: usize = 500;

/// Every problem of `graph`; empty when it can be saved and run. `secrets` are the names of
/// the workspace's secrets, which templates may name.
pub fn validate(graph: &Graph, secrets: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if graph.nodes.len() > MAX_NODES {
        problems.push(Problem::graph(format!(
            "a pipeline may have at most {MAX_NODES} nodes"
        )));
        return problems;
    }
    // Nodes: ids and kinds.
    let mut kinds: HashMap<&str, NodeKind> = HashMap::new();
    let mut seen = HashSet::new();
    for node in &graph.nodes {
        if let Err(message) = check_id(&node.id) {
            problems.push(Problem::node(&node.id, message));
            continue;
        }
        if !seen.insert(node.id.as_str()) {
            problems.push(Problem::node(
                &node.id,
                format!("another node is also called {:?}", node.id),
            ));
            continue;
        }
        match NodeKind::parse(&node.kind) {
            Some(kind) => {
                kinds.insert(node.id.as_str(), kind);
            }
            None => problems.push(Problem::node(
                &node.id,
                format!("{:?} is not a node kind", node.kind),
            )),
        }
    }
    let triggers: Vec<&str> = graph
        .nodes
        .iter()
        .filter(|n| kinds.get(n.id.as_str()).is_some_and(|k| k.is_trigger()))
        .map(|n| n.id.as_str())
        .collect();
    match triggers.as_slice() {
        [] => problems.push(Problem::graph(
            "a pipeline needs a trigger: manual, webhook, schedule or topic",
        )),
        [_] => {}
        [_, rest @ ..] => {
            for id in rest {
                problems.push(Problem::node(
                    id,
                    "a pipeline has one trigger; this is a second",
                ));
            }
        }
    }

    // Edges: ends, ports, duplicates.
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut arriving: HashMap<&str, usize> = HashMap::new();
    let mut edges_seen = HashSet::new();
    for (i, edge) in graph.edges.iter().enumerate() {
        let (Some(from), Some(to)) = (
            kinds.get(edge.from.node.as_str()),
            kinds.get(edge.to.node.as_str()),
        ) else {
            problems.push(Problem::edge(
                i,
                "the edge connects a node that does not exist",
            ));
            continue;
        };
        if !from.outputs().contains(&edge.from.port.as_str()) {
            problems.push(Problem::edge(
                i,
                format!(
                    "{} has no output {:?} (it has: {})",
                    edge.from.node,
                    edge.from.port,
                    ports(from.outputs())
                ),
            ));
            continue;
        }
        if !to.inputs().contains(&edge.to.port.as_str()) {
            problems.push(Problem::edge(
                i,
                format!(
                    "{} has no input {:?} (it has: {})",
                    edge.to.node,
                    edge.to.port,
                    ports(to.inputs())
                ),
            ));
            continue;
        }
        if edge.from.node == edge.to.node {
            problems.push(Problem::edge(i, "an edge may not connect a node to itself"));
            continue;
        }
        if !edges_seen.insert(edge) {
            problems.push(Problem::edge(i, "the same connection is drawn twice"));
            continue;
        }
        let count = arriving.entry(edge.to.node.as_str()).or_default();
        *count += 1;
        if *count > 1 && !to.joins() {
            problems.push(Problem::edge(
                i,
                format!(
                    "{} already has an input; join paths with a merge node",
                    edge.to.node
                ),
            ));
        }
        next.entry(edge.from.node.as_str())
            .or_default()
            .insert(edge.to.node.as_str());
    }

    // Cycles (what Kahn's order cannot reach is on one), then reachability from the trigger.
    let on_cycle = cyclic(kinds.keys().copied(), &next);
    for id in &on_cycle {
        problems.push(Problem::node(
            id,
            "this node is on a cycle; a pipeline runs each node once",
        ));
    }
    if let Some(trigger) = triggers.first() {
        let reached = reachable(trigger, &next);
        for node in &graph.nodes {
            if kinds.contains_key(node.id.as_str()) && !reached.contains(node.id.as_str()) {
                problems.push(Problem::node(
                    &node.id,
                    "nothing leads to this node from the trigger, so it never runs",
                ));
            }
        }
    }

    // A pipeline started by a topic that publishes to that topic would start itself
    // forever.
    let kinds_ref = &kinds;
    let topic_of = |kind: NodeKind| {
        graph
            .nodes
            .iter()
            .filter(move |n| kinds_ref.get(n.id.as_str()) == Some(&kind))
            .filter_map(|n| Some((n, n.config.get("topic")?.as_str()?)))
    };
    if let Some((_, trigger_topic)) = topic_of(NodeKind::Topic).next() {
        for (node, topic) in topic_of(NodeKind::Publish) {
            if topic == trigger_topic {
                problems.push(Problem::setting(
                    &node.id,
                    "topic",
                    format!("this pipeline starts on each message to {topic:?}; publishing there would start it again, forever"),
                ));
            }
        }
    }

    // Settings and templates.
    let ids: HashSet<&str> = kinds.keys().copied().collect();
    for node in &graph.nodes {
        let Some(kind) = kinds.get(node.id.as_str()) else {
            continue;
        };
        if !(node.config.is_object() || node.config.is_null()) {
            problems.push(Problem {
                field: Some("config".to_owned()),
                ..Problem::node(&node.id, "config must be an object")
            });
            continue;
        }
        for (field, setting) in kind.required() {
            if let Err(message) = check_setting(*setting, node.config.get(field)) {
                problems.push(Problem::setting(&node.id, field, message));
            }
        }
        if *kind == NodeKind::Publish {
            let mut named = BTreeSet::new();
            super::template::secrets_named(&node.config, &mut named);
            if !named.is_empty() {
                problems.push(Problem::setting(
                    &node.id,
                    "message",
                    "a published message is stored and shown to the workspace, so it may not hold secrets",
                ));
            }
        }
        let mut texts = Vec::new();
        strings(&node.config, "", &mut texts);
        for (path, text) in texts {
            if *kind == NodeKind::Script && path == "source" {
                continue; // code, not a template
            }
            for message in check_templates(text, &node.id, &ids, secrets) {
                problems.push(Problem::setting(&node.id, &path, message));
            }
        }
    }
    problems
}

/// Whether a new edge from `from` to `to` may be drawn in `graph`: the ports exist, the
/// nodes differ, the edge is new, a non-merge input is still free, and it closes no cycle.
/// The editor asks while a connection is dragged; `validate` says the same of a saved graph.
pub fn check_connection(graph: &Graph, from: &PortRef, to: &PortRef) -> Result<(), String> {
    let kind = |id: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.id == id)
            .and_then(|n| NodeKind::parse(&n.kind))
    };
    let (Some(a), Some(b)) = (kind(&from.node), kind(&to.node)) else {
        return Err("connect two nodes of this pipeline".to_owned());
    };
    if !a.outputs().contains(&from.port.as_str()) {
        return Err(format!("{} has no output {:?}", from.node, from.port));
    }
    if !b.inputs().contains(&to.port.as_str()) {
        return Err(format!("{} takes no input", to.node));
    }
    if from.node == to.node {
        return Err("a node cannot feed itself".to_owned());
    }
    if graph.edges.iter().any(|e| e.from == *from && e.to == *to) {
        return Err("these ports are connected already".to_owned());
    }
    if !b.joins() && graph.edges.iter().any(|e| e.to.node == to.node) {
        return Err(format!(
            "{} already has an input; join paths with a merge node",
            to.node
        ));
    }
    // A cycle: `from` is reachable from `to` already.
    let mut seen = HashSet::from([to.node.as_str()]);
    let mut queue = VecDeque::from([to.node.as_str()]);
    while let Some(id) = queue.pop_front() {
        if id == from.node {
            return Err("this connection would make a cycle".to_owned());
        }
        for e in graph.edges.iter().filter(|e| e.from.node == id) {
            if seen.insert(e.to.node.as_str()) {
                queue.push_back(e.to.node.as_str());
            }
        }
    }
    Ok(())
}

fn ports(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "node id {id:?} must be 1 to 64 lowercase letters, digits, '_' or '-'"
        ))
    }
}

/// The nodes on a cycle: those a topological order never frees.
fn cyclic<'a>(
    nodes: impl Iterator<Item = &'a str>,
    next: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> BTreeSet<&'a str> {
    let mut waiting: BTreeMap<&str, usize> = nodes.map(|n| (n, 0)).collect();
    for targets in next.values() {
        for t in targets {
            if let Some(n) = waiting.get_mut(t) {
                *n += 1;
            }
        }
    }
    let mut ready: VecDeque<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    while let Some(id) = ready.pop_front() {
        waiting.remove(id);
        for t in next.get(id).into_iter().flatten() {
            if let Some(n) = waiting.get_mut(t) {
                *n -= 1;
                if *n == 0 {
                    ready.push_back(t);
                }
            }
        }
    }
    waiting.keys().copied().collect()
}

fn reachable<'a>(start: &'a str, next: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> HashSet<&'a str> {
    let mut seen = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(id) = queue.pop_front() {
        for t in next.get(id).into_iter().flatten() {
            if seen.insert(t) {
                queue.push_back(t);
            }
        }
    }
    seen
}

#[cfg(test)]
pub(super) fn check_setting_for_tests(setting: Setting, value: Option<&serde_json::Value>) -> bool {
    check_setting(setting, value).is_ok()
}

fn check_setting(setting: Setting, value: Option<&serde_json::Value>) -> Result<(), String> {
    let value = value.filter(|v| !v.is_null());
    match (setting, value) {
        (_, None) => Err("is required".to_owned()),
        (Setting::Text, Some(v)) => match v.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(()),
            _ => Err("must be a text".to_owned()),
        },
        (Setting::Object, Some(v)) if v.is_object() => Ok(()),
        (Setting::Object, Some(_)) => Err("must be an object".to_owned()),
        (Setting::HttpMethod, Some(v)) => match v.as_str() {
            Some(m) if HTTP_METHODS.contains(&m) => Ok(()),
            _ => Err(format!("must be one of {}", HTTP_METHODS.join(", "))),
        },
        (Setting::Seconds, Some(v)) => match v.as_f64() {
            Some(s) if s.is_finite() && (0.0..=MAX_DELAY_SECONDS).contains(&s) => Ok(()),
            _ => Err("must be a number of seconds from 0 to 30 days".to_owned()),
        },
        (Setting::Cron, Some(v)) => match v.as_str() {
            Some(expr) => check_cron(expr),
            None => Err("must be a cron expression".to_owned()),
        },
        (Setting::Topic, Some(v)) => match v.as_str() {
            Some(name) if crate::routes::validate::is_topic_name(name) => Ok(()),
            _ => Err("must be a topic name: lowercase letters, digits, '.', '_' or '-', up to 64, like orders.created".to_owned()),
        },
    }
}

/// A 5-field cron expression (minute hour day-of-month month day-of-week) of numbers,
/// `*`, ranges, lists and steps, each within its field's bounds.
pub fn check_cron(expr: &str) -> Result<(), String> {
    const FIELDS: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "must have 5 fields (minute hour day month weekday), not {}",
            parts.len()
        ));
    }
    for (part, (name, low, high)) in parts.iter().zip(FIELDS) {
        for item in part.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            if let Some(step) = step {
                if !step.parse::<u32>().is_ok_and(|s| s >= 1 && s <= high) {
                    return Err(format!("the {name} step {step:?} is not valid"));
                }
            }
            if range == "*" {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            let bound = |s: &str| s.parse::<u32>().ok().filter(|n| (low..=high).contains(n));
            match (bound(a), bound(b)) {
                (Some(a), Some(b)) if a <= b => {}
                _ => return Err(format!("the {name} {item:?} is not within {low}-{high}")),
            }
        }
    }
    Ok(())
}

/// Every string in a config value, with its dotted path.
fn strings<'a>(value: &'a serde_json::Value, path: &str, out: &mut Vec<(String, &'a str)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) => out.push((path.to_owned(), s)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, &join(&i.to_string()), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                strings(item, &join(key), out);
            }
        }
        _ => {}
    }
}

/// The problems of the `{{ ... }}` templates in `text`: unclosed braces, and references to
/// anything but the run's input, an existing other node's output or a known secret.
fn check_templates(
    text: &str,
    own: &str,
    nodes: &HashSet<&str>,
    secrets: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            problems.push("a template opened with {{ is not closed with }}".to_owned());
            break;
        };
        let expr = after[..end].trim();
        let mut parts = expr.split('.');
        match (parts.next(), parts.next()) {
            (Some("input"), _) => {}
            (Some("nodes"), Some(id)) if id == own => {
                problems.push(format!("{{{{ {expr} }}}} refers to this node's own output"));
            }
            (Some("nodes"), Some(id)) if nodes.contains(id) => {}
            (Some("nodes"), Some(id)) => {
                problems.push(format!("{{{{ {expr} }}}}: there is no node {id:?}"));
            }
            (Some("secrets"), Some(name)) if secrets.iter().any(|s| s == name) => {}
            (Some("secrets"), Some(name)) => {
                problems.push(format!(
                    "{{{{ {expr} }}}}: the workspace has no secret {name:?}"
                ));
            }
            _ => problems.push(format!(
                "{{{{ {expr} }}}} must start with input, nodes.<id> or secrets.<NAME>"
            )),
        }
        rest = &after[end + 2..];
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(value: serde_json::Value) -> Graph {
        serde_json::from_value(value).expect("a graph")
    }

    fn fine() -> serde_json::Value {
        json!({
            "nodes": [
                {"id": "start", "kind": "manual", "config": {}, "position": {"x": 0, "y": 0}},
                {"id": "fetch", "kind": "http", "config": {"method": "GET", "url": "https://example.com/{{ input.id }}",
                    "headers": {"authorization": "Bearer {{ secrets.TOKEN }}"}}, "position": {"x": 200, "y": 0}},
                {"id": "check", "kind": "branch", "config": {"condition": "{{ nodes.fetch.status }} == 200"}},
                {"id": "done", "kind": "output", "config": {"value": "{{ nodes.fetch.body }}"}},
                {"id": "wait", "kind": "delay", "config": {"seconds": 60}},
                {"id": "join", "kind": "merge"},
                {"id": "end", "kind": "output"}
            ],
            "edges": [
                {"from": {"node": "start", "port": "out"}, "to": {"node": "fetch", "port": "in"}},
                {"from": {"node": "fetch", "port": "out"}, "to": {"node": "check", "port": "in"}},
                {"from": {"node": "check", "port": "true"}, "to": {"node": "done", "port": "in"}},
                {"from": {"node": "check", "port": "false"}, "to": {"node": "wait", "port": "in"}},
                {"from": {"node": "wait", "port": "out"}, "to": {"node": "join", "port": "in"}},
                {"from": {"node": "fetch", "port": "out"}, "to": {"node": "join", "port": "in"}},
                {"from": {"node": "join", "port": "out"}, "to": {"node": "end", "port": "in"}}
            ]
        })
    }

    #[test]
    fn a_sound_graph_has_no_problems() {
        assert_eq!(validate(&graph(fine()), &["TOKEN".to_owned()]), vec![]);
    }

    #[test]
    fn every_problem_names_what_it_concerns() {
        let mut g = graph(fine());
        // A cycle, a dangling edge, a wrong port, a duplicate, a second trigger, a missing
        // setting, a bad cron, an unknown secret and node, an unreachable node.
        g.edges.push(serde_json::from_value(json!({"from": {"node": "join", "port": "out"}, "to": {"node": "fetch", "port": "in"}})).unwrap());
        g.edges.push(serde_json::from_value(json!({"from": {"node": "ghost", "port": "out"}, "to": {"node": "end", "port": "in"}})).unwrap());
        g.edges.push(serde_json::from_value(json!({"from": {"node": "check", "port": "out"}, "to": {"node": "end", "port": "in"}})).unwrap());
        g.edges.push(g.edges[0].clone());
        g.nodes.push(
            serde_json::from_value(
                json!({"id": "tick", "kind": "schedule", "config": {"cron": "61 * * * *"}}),
            )
            .unwrap(),
        );
        g.nodes.push(
            serde_json::from_value(json!({"id": "code", "kind": "script", "config": {}})).unwrap(),
        );
        g.nodes[1].config["url"] = json!("https://x/{{ secrets.NOPE }}/{{ nodes.nobody.x }}");
        let problems = validate(&g, &["TOKEN".to_owned()]);
        let has = |node: Option<&str>, edge: Option<usize>, field: Option<&str>, text: &str| {
            problems.iter().any(|p| {
                p.node.as_deref() == node
                    && p.edge == edge
                    && p.field.as_deref() == field
                    && p.message.contains(text)
            })
        };
        assert!(has(Some("fetch"), None, None, "cycle"), "{problems:#?}");
        assert!(has(Some("join"), None, None, "cycle"));
        assert!(has(None, Some(8), None, "does not exist"));
        assert!(has(None, Some(9), None, "has no output \"out\""));
        assert!(has(None, Some(10), None, "drawn twice"));
        assert!(has(Some("tick"), None, None, "second"));
        assert!(has(Some("tick"), None, Some("config.cron"), "minute"));
        assert!(has(Some("code"), None, Some("config.source"), "required"));
        assert!(has(
            Some("fetch"),
            None,
            Some("config.url"),
            "no secret \"NOPE\""
        ));
        assert!(has(
            Some("fetch"),
            None,
            Some("config.url"),
            "no node \"nobody\""
        ));
        assert!(has(Some("code"), None, None, "never runs"));
    }

    #[test]
    fn no_trigger_and_two_inputs_without_a_merge_are_refused() {
        let g = graph(json!({
            "nodes": [{"id": "a", "kind": "script", "config": {"source": "1"}},
                      {"id": "b", "kind": "script", "config": {"source": "2"}},
                      {"id": "c", "kind": "output"}],
            "edges": [{"from": {"node": "a", "port": "out"}, "to": {"node": "c", "port": "in"}},
                      {"from": {"node": "b", "port": "out"}, "to": {"node": "c", "port": "in"}}]
        }));
        let problems = validate(&g, &[]);
        assert!(problems
            .iter()
            .any(|p| p.message.contains("needs a trigger")));
        assert!(problems
            .iter()
            .any(|p| p.edge == Some(1) && p.message.contains("merge")));
    }

    #[test]
    fn topics_are_named_well_and_a_pipeline_cannot_start_itself() {
        let on = |trigger: &str, publish: serde_json::Value| {
            graph(json!({
                "nodes": [{"id": "start", "kind": "topic", "config": {"topic": trigger}},
                          {"id": "send", "kind": "publish", "config": publish}],
                "edges": [{"from": {"node": "start", "port": "out"}, "to": {"node": "send", "port": "in"}}]
            }))
        };
        let secrets = ["TOKEN".to_owned()];
        assert_eq!(
            validate(
                &on(
                    "orders.created",
                    json!({"topic": "orders.shipped", "message": {"id": "{{ input.body.id }}"}})
                ),
                &secrets
            ),
            vec![]
        );
        let problems = |g: &Graph| -> Vec<(Option<String>, Option<String>, String)> {
            validate(g, &secrets)
                .into_iter()
                .map(|p| (p.node, p.field, p.message))
                .collect()
        };
        let looping = problems(&on("orders", json!({"topic": "orders"})));
        assert_eq!(looping.len(), 1, "{looping:?}");
        assert_eq!(looping[0].0.as_deref(), Some("send"));
        assert_eq!(looping[0].1.as_deref(), Some("config.topic"));
        assert!(looping[0].2.contains("forever"), "{looping:?}");
        let bad = problems(&on("Orders!", json!({})));
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad.iter().all(
            |(_, field, message)| field.as_deref() == Some("config.topic")
                && (message.contains("topic name") || message.contains("required"))
        ));
        let leaking = problems(&on(
            "a",
            json!({"topic": "b", "message": "{{ secrets.TOKEN }}"}),
        ));
        assert_eq!(leaking.len(), 1, "{leaking:?}");
        assert_eq!(leaking[0].1.as_deref(), Some("config.message"));
        assert!(leaking[0].2.contains("may not hold secrets"));
    }

    #[test]
    fn connections_are_refused_as_they_are_drawn() {
        let g = graph(fine());
        let port = |node: &str, port: &str| PortRef {
            node: node.into(),
            port: port.into(),
        };
        assert!(check_connection(&g, &port("check", "true"), &port("join", "in")).is_ok());
        assert!(
            check_connection(&g, &port("join", "out"), &port("fetch", "in"))
                .unwrap_err()
                .contains("already has an input")
        );
        assert!(
            check_connection(&g, &port("end", "out"), &port("wait", "in"))
                .unwrap_err()
                .contains("no output")
        );
        assert!(
            check_connection(&g, &port("fetch", "out"), &port("start", "in"))
                .unwrap_err()
                .contains("no input")
        );
        assert!(
            check_connection(&g, &port("fetch", "out"), &port("join", "in"))
                .unwrap_err()
                .contains("connected already")
        );
        let mut merged = g.clone();
        merged.edges.retain(|e| e.to.node != "fetch");
        assert!(
            check_connection(&merged, &port("join", "out"), &port("fetch", "in"))
                .unwrap_err()
                .contains("cycle")
        );
    }

    #[test]
    fn cron_expressions_are_checked_field_by_field() {
        for ok in [
            "* * * * *",
            "*/15 9-17 * * 1-5",
            "0 0 1,15 * 0",
            "5 4 * 12 7",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
        for bad in [
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "*/0 * * * *",
            "5-1 * * * *",
            "a * * * *",
        ] {
            assert!(check_cron(bad).is_err(), "{bad}");
        }
    }

    /// Graphs made of random pieces (ids, kinds, ports, configs, edges between anything):
    /// validation and compilation answer every one of them without panicking. A fixed-seed generator, so a
    /// failure is reproducible.
    #[test]
    fn no_graph_makes_validation_panic() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let ids = ["a", "b", "c", "", "A", "ü", "x-1", "{{", "a.b"];
        let kinds = [
            "manual",
            "webhook",
            "schedule",
            "http",
            "script",
            "branch",
            "merge",
            "delay",
            "set",
            "code_search",
            "output",
            "nope",
            "",
        ];
        let ports = ["in", "out", "true", "false", "", "x"];
        let values = [
            json!(null),
            json!(1),
            json!(-1e308),
            json!("{{"),
            json!("{{ nodes.a.b }}"),
            json!("{{ secrets. }}"),
            json!("}}{{"),
            json!({"url": "{{ input }}"}),
            json!([1, "{{ nodes }}"]),
            json!({"method": "GET", "url": "x", "cron": "* * * * *", "seconds": 1e9, "fields": {}, "source": 5}),
        ];
        for _ in 0..3_000 {
            let n = next(8);
            let nodes: Vec<serde_json::Value> = (0..n)
                .map(|_| json!({"id": ids[next(ids.len())], "kind": kinds[next(kinds.len())], "config": values[next(values.len())].clone()}))
                .collect();
            let edges: Vec<serde_json::Value> = (0..next(10))
                .map(|_| json!({"from": {"node": ids[next(ids.len())], "port": ports[next(ports.len())]},
                                "to": {"node": ids[next(ids.len())], "port": ports[next(ports.len())]}}))
                .collect();
            let g = graph(json!({"nodes": nodes, "edges": edges}));
            let _ = validate(&g, &["TOKEN".to_owned()]);
            if let Ok(plan) = super::super::compile(&g, &["TOKEN".to_owned()]) {
                // Any journal, however inconsistent, gets an answer too.
                let mut finished = BTreeMap::new();
                for step in &plan.steps {
                    let end = match next(4) {
                        0 => continue,
                        1 => super::super::Finished::Failed,
                        2 => super::super::Finished::Succeeded(None),
                        _ => super::super::Finished::Succeeded(Some(
                            ports[next(ports.len())].to_owned(),
                        )),
                    };
                    finished.insert(step.id.clone(), end);
                }
                for id in plan.ready(&finished) {
                    let _ = plan.input_of(&id, &finished, &BTreeMap::new());
                }
            }
        }
    }
}
