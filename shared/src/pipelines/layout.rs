//! Automatic layout for the editor: layers from left to right by the longest path from a
//! node without inputs, nodes in a layer ordered by the average place of the nodes they
//! come from (so edges cross less), stacked top to bottom. Pure; a graph with a cycle gets
//! a layout too (the nodes on the cycle go after the rest).

use super::{Graph, Position};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Horizontal distance between layers.
pub const LAYER_GAP: f64 = 260.0;
/// Vertical distance between nodes in a layer.
pub const ROW_GAP: f64 = 110.0;
/// Where the first layer's first node goes.
pub const ORIGIN: Position = Position { x: 40.0, y: 40.0 };

/// A position for every node of `graph`, by id.
pub fn layered(graph: &Graph) -> BTreeMap<String, Position> {
    let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    let mut prev: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    let mut waiting = vec![0usize; ids.len()];
    for edge in &graph.edges {
        if let (Some(&a), Some(&b)) = (
            index.get(edge.from.node.as_str()),
            index.get(edge.to.node.as_str()),
        ) {
            if a != b {
                next[a].push(b);
                prev[b].push(a);
                waiting[b] += 1;
            }
        }
    }
    // Longest-path layers in a topological order; what a cycle keeps waiting goes last.
    let mut layer = vec![0usize; ids.len()];
    let mut queue: VecDeque<usize> = (0..ids.len()).filter(|i| waiting[*i] == 0).collect();
    let mut placed = vec![false; ids.len()];
    while let Some(i) = queue.pop_front() {
        placed[i] = true;
        for &j in &next[i] {
            layer[j] = layer[j].max(layer[i] + 1);
            waiting[j] -= 1;
            if waiting[j] == 0 {
                queue.push_back(j);
            }
        }
    }
    let deepest = layer.iter().copied().max().unwrap_or(0);
    for (i, done) in placed.iter().enumerate() {
        if !done {
            layer[i] = deepest + 1;
        }
    }
    let layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in 0..ids.len() {
        rows[layer[i]].push(i);
    }
    // Order each layer by the barycentre of its predecessors' rows.
    let mut row_of = vec![0.0f64; ids.len()];
    for row in rows.iter_mut() {
        let key = |i: usize| {
            let from: Vec<f64> = prev[i].iter().map(|p| row_of[*p]).collect();
            if from.is_empty() {
                i as f64
            } else {
                from.iter().sum::<f64>() / from.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = row.iter().map(|&i| (key(i), i)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *row = keyed.into_iter().map(|(_, i)| i).collect();
        for (r, &i) in row.iter().enumerate() {
            row_of[i] = r as f64;
        }
    }
    let mut out = BTreeMap::new();
    for (l, row) in rows.iter().enumerate() {
        for (r, &i) in row.iter().enumerate() {
            out.insert(
                ids[i].to_owned(),
                Position {
                    x: ORIGIN.x + l as f64 * LAYER_GAP,
                    y: ORIGIN.y + r as f64 * ROW_GAP,
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layers_follow_the_longest_path_and_rows_do_not_overlap() {
        let g: Graph = serde_json::from_value(json!({
            "nodes": [{"id": "a", "kind": "manual"}, {"id": "b", "kind": "script"},
                      {"id": "c", "kind": "script"}, {"id": "d", "kind": "merge"}],
            "edges": [
                {"from": {"node": "a", "port": "out"}, "to": {"node": "b", "port": "in"}},
                {"from": {"node": "a", "port": "out"}, "to": {"node": "c", "port": "in"}},
                {"from": {"node": "b", "port": "out"}, "to": {"node": "d", "port": "in"}},
                {"from": {"node": "c", "port": "out"}, "to": {"node": "d", "port": "in"}}
            ]
        }))
        .expect("a graph");
        let at = layered(&g);
        assert_eq!(at["a"].x, ORIGIN.x);
        assert_eq!(at["b"].x, ORIGIN.x + LAYER_GAP);
        assert_eq!(at["c"].x, ORIGIN.x + LAYER_GAP);
        assert_eq!(at["d"].x, ORIGIN.x + 2.0 * LAYER_GAP);
        assert_ne!(at["b"].y, at["c"].y);
    }

    #[test]
    fn a_cycle_still_gets_a_place() {
        let g: Graph = serde_json::from_value(json!({
            "nodes": [{"id": "a", "kind": "script"}, {"id": "b", "kind": "script"}],
            "edges": [
                {"from": {"node": "a", "port": "out"}, "to": {"node": "b", "port": "in"}},
                {"from": {"node": "b", "port": "out"}, "to": {"node": "a", "port": "in"}}
            ]
        }))
        .expect("a graph");
        assert_eq!(layered(&g).len(), 2);
    }
}
