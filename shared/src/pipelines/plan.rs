//! Compilation: a valid graph becomes a [`Plan`], and the plan says, from what has finished,
//! which nodes may run now, which wait, and which are skipped (the untaken side of a
//! branch, and everything only it leads to). The run engine asks it after every step; the
//! run view asks it to paint the nodes of a run from its journal. Pure: the same answers in
//! the browser and on the workers.

use super::validate::{validate, Problem};
use super::{Graph, NodeKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A graph ready to run: its nodes in a topological order with their inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The node that starts runs.
    pub trigger: String,
    /// Every node, in an order where each comes after the nodes it depends on.
    pub steps: Vec<Step>,
}

/// One node of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The node's id.
    pub id: String,
    /// What it does.
    pub kind: NodeKind,
    /// Its settings (templates not yet rendered).
    pub config: Value,
    /// The edges arriving at it: the node and output port each comes from.
    pub inputs: Vec<(String, String)>,
}

/// How a finished node ended, as its journal entry says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finished {
    /// It succeeded and continues on `port` (a branch), or on every output (`None`).
    Succeeded(Option<String>),
    /// It failed for good (retries exhausted).
    Failed,
}

/// Where a node stands in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Something it depends on has not finished.
    Waiting,
    /// Everything it depends on has finished, and at least one input carries a value.
    Ready,
    /// It will not run: no input carries a value (an untaken branch, a failed upstream).
    Skipped,
    /// It succeeded.
    Succeeded,
    /// It failed.
    Failed,
}

/// Compiles `graph` (validated with the workspace's `secrets`) into a plan, or answers its
/// problems.
pub fn compile(graph: &Graph, secrets: &[String]) -> Result<Plan, Vec<Problem>> {
    let problems = validate(graph, secrets);
    if !problems.is_empty() {
        return Err(problems);
    }
    let kind_of = |id: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.id == id)
            .and_then(|n| NodeKind::parse(&n.kind))
    };
    let mut inputs: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for edge in &graph.edges {
        inputs
            .entry(edge.to.node.as_str())
            .or_default()
            .push((edge.from.node.clone(), edge.from.port.clone()));
        next.entry(edge.from.node.as_str())
            .or_default()
            .push(edge.to.node.as_str());
    }
    // Kahn's order, ties broken by the nodes' order in the graph so a plan is deterministic.
    let mut waiting: BTreeMap<&str, usize> = graph
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), inputs.get(n.id.as_str()).map_or(0, Vec::len)))
        .collect();
    let mut ready: VecDeque<&str> = graph
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .filter(|id| waiting.get(id) == Some(&0))
        .collect();
    let mut steps = Vec::with_capacity(graph.nodes.len());
    while let Some(id) = ready.pop_front() {
        let (Some(node), Some(kind)) = (graph.nodes.iter().find(|n| n.id == id), kind_of(id))
        else {
            continue;
        };
        steps.push(Step {
            id: id.to_owned(),
            kind,
            config: node.config.clone(),
            inputs: inputs.get(id).cloned().unwrap_or_default(),
        });
        for t in next.get(id).into_iter().flatten() {
            if let Some(n) = waiting.get_mut(t) {
                *n -= 1;
                if *n == 0 {
                    ready.push_back(t);
                }
            }
        }
    }
    let trigger = steps
        .iter()
        .find(|s| s.kind.is_trigger())
        .map(|s| s.id.clone());
    match trigger {
        Some(trigger) if steps.len() == graph.nodes.len() => Ok(Plan { trigger, steps }),
        // Validation refuses cycles and graphs without a trigger; this is its safety net.
        _ => Err(vec![Problem::graph("the graph cannot be ordered")]),
    }
}

impl Plan {
    /// The node `id`.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Every node's state, given the nodes that finished. The trigger counts as succeeded
    /// from the start (its output is the run's input).
    pub fn states(&self, finished: &BTreeMap<String, Finished>) -> BTreeMap<String, NodeState> {
        self.states_by_id(finished)
            .into_iter()
            .map(|(id, state)| (id.to_owned(), state))
            .collect()
    }

    /// [`Plan::states`] keyed by the plan's own ids (nothing copied: the engine asks after
    /// every step).
    fn states_by_id(&self, finished: &BTreeMap<String, Finished>) -> BTreeMap<&str, NodeState> {
        let mut states: BTreeMap<&str, NodeState> = BTreeMap::new();
        for step in &self.steps {
            let state = match finished.get(&step.id) {
                Some(Finished::Succeeded(_)) => NodeState::Succeeded,
                Some(Finished::Failed) => NodeState::Failed,
                None if step.id == self.trigger => NodeState::Succeeded,
                None => {
                    let mut unresolved = false;
                    let mut active = false;
                    for (from, port) in &step.inputs {
                        match states.get(from.as_str()) {
                            Some(NodeState::Succeeded) => {
                                active |= match finished.get(from) {
                                    Some(Finished::Succeeded(Some(taken))) => taken == port,
                                    _ => true,
                                };
                            }
                            Some(NodeState::Skipped) => {}
                            // Failed upstream: the run stops, but nothing here is skipped by it.
                            _ => unresolved = true,
                        }
                    }
                    match (unresolved, active) {
                        (true, _) => NodeState::Waiting,
                        (false, true) => NodeState::Ready,
                        (false, false) => NodeState::Skipped,
                    }
                }
            };
            states.insert(step.id.as_str(), state);
        }
        states
    }

    /// The nodes that may start now, in plan order.
    pub fn ready(&self, finished: &BTreeMap<String, Finished>) -> Vec<String> {
        let states = self.states_by_id(finished);
        self.steps
            .iter()
            .filter(|s| states.get(s.id.as_str()) == Some(&NodeState::Ready))
            .map(|s| s.id.clone())
            .collect()
    }

    /// What a node receives: the output of the node before it, or for a merge an object of
    /// every input that carried a value, by the node it came from. `outputs` holds the
    /// finished nodes' outputs and the trigger's (the run's input).
    pub fn input_of(
        &self,
        id: &str,
        finished: &BTreeMap<String, Finished>,
        outputs: &BTreeMap<String, Value>,
    ) -> Value {
        let Some(step) = self.step(id) else {
            return Value::Null;
        };
        let carried: Vec<&(String, String)> = step
            .inputs
            .iter()
            .filter(|(from, port)| {
                outputs.contains_key(from)
                    && match finished.get(from) {
                        Some(Finished::Succeeded(Some(taken))) => taken == port,
                        Some(Finished::Failed) => false,
                        _ => true,
                    }
            })
            .collect();
        if step.kind.joins() {
            Value::Object(
                carried
                    .iter()
                    .filter_map(|(from, _)| Some((from.clone(), outputs.get(from)?.clone())))
                    .collect(),
            )
        } else {
            carried
                .first()
                .and_then(|(from, _)| outputs.get(from).cloned())
                .unwrap_or(Value::Null)
        }
    }

    /// The nodes `id` leads to, directly or not.
    pub fn downstream(&self, id: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut queue = VecDeque::from([id.to_owned()]);
        while let Some(current) = queue.pop_front() {
            for step in &self.steps {
                if step.inputs.iter().any(|(from, _)| *from == current)
                    && found.insert(step.id.clone())
                {
                    queue.push_back(step.id.clone());
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diamond() -> Graph {
        serde_json::from_value(json!({
            "nodes": [
                {"id": "start", "kind": "manual"},
                {"id": "check", "kind": "branch", "config": {"condition": "{{ input.n }} > 1"}},
                {"id": "big", "kind": "set", "config": {"fields": {"size": "big"}}},
                {"id": "small", "kind": "set", "config": {"fields": {"size": "small"}}},
                {"id": "after", "kind": "script", "config": {"source": "export default () => 1"}},
                {"id": "join", "kind": "merge"},
                {"id": "done", "kind": "output"}
            ],
            "edges": [
                {"from": {"node": "start", "port": "out"}, "to": {"node": "check", "port": "in"}},
                {"from": {"node": "check", "port": "true"}, "to": {"node": "big", "port": "in"}},
                {"from": {"node": "check", "port": "false"}, "to": {"node": "small", "port": "in"}},
                {"from": {"node": "small", "port": "out"}, "to": {"node": "after", "port": "in"}},
                {"from": {"node": "big", "port": "out"}, "to": {"node": "join", "port": "in"}},
                {"from": {"node": "after", "port": "out"}, "to": {"node": "join", "port": "in"}},
                {"from": {"node": "join", "port": "out"}, "to": {"node": "done", "port": "in"}}
            ]
        }))
        .expect("a graph")
    }

    #[test]
    fn compiles_in_dependency_order() {
        let plan = compile(&diamond(), &[]).expect("valid");
        let order: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            order,
            vec!["start", "check", "big", "small", "after", "join", "done"]
        );
        assert_eq!(plan.trigger, "start");
        assert_eq!(
            plan.step("join").map(|s| s.inputs.clone()),
            Some(vec![
                ("big".to_owned(), "out".to_owned()),
                ("after".to_owned(), "out".to_owned())
            ])
        );
        let mut broken = diamond();
        broken.nodes.remove(0);
        assert!(compile(&broken, &[]).is_err());
    }

    #[test]
    fn a_branch_skips_its_untaken_side_and_the_merge_waits_for_the_rest() {
        let plan = compile(&diamond(), &[]).expect("valid");
        let mut finished = BTreeMap::new();
        assert_eq!(plan.ready(&finished), vec!["check"]);
        finished.insert("check".to_owned(), Finished::Succeeded(Some("true".into())));
        assert_eq!(plan.ready(&finished), vec!["big"]);
        let states = plan.states(&finished);
        assert_eq!(states["small"], NodeState::Skipped);
        assert_eq!(states["after"], NodeState::Skipped);
        assert_eq!(states["join"], NodeState::Waiting);
        finished.insert("big".to_owned(), Finished::Succeeded(None));
        assert_eq!(plan.ready(&finished), vec!["join"]);

        let outputs = BTreeMap::from([
            ("start".to_owned(), json!({"n": 2})),
            ("check".to_owned(), json!({"n": 2})),
            ("big".to_owned(), json!({"size": "big"})),
        ]);
        assert_eq!(
            plan.input_of("join", &finished, &outputs),
            json!({"big": {"size": "big"}})
        );
        assert_eq!(plan.input_of("big", &finished, &outputs), json!({"n": 2}));
        assert_eq!(
            plan.downstream("small"),
            BTreeSet::from(["after".into(), "join".into(), "done".into()])
        );
    }

    #[test]
    fn a_failed_node_holds_what_depends_on_it() {
        let plan = compile(&diamond(), &[]).expect("valid");
        let finished = BTreeMap::from([
            (
                "check".to_owned(),
                Finished::Succeeded(Some("false".into())),
            ),
            ("small".to_owned(), Finished::Failed),
        ]);
        let states = plan.states(&finished);
        assert_eq!(states["small"], NodeState::Failed);
        assert_eq!(states["after"], NodeState::Waiting);
        assert_eq!(states["big"], NodeState::Skipped);
        assert!(plan.ready(&finished).is_empty());
    }
}
