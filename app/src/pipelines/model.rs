//! The editor's state: the graph as signals (each node's settings and position are signals
//! of their own, so dragging one node redraws that node and its edges, not the graph),
//! the selection, the view (pan and zoom), and undo/redo as snapshots of the graph taken
//! before each change.

use leptos::prelude::*;
use serde_json::Value;
use shared::pipelines::layout::layered;
use shared::pipelines::{check_connection, Edge, Graph, Node, NodeKind, PortRef, Position};
use std::collections::{BTreeSet, HashMap};

/// A node's box on the canvas.
pub const NODE_W: f64 = 180.0;
/// See [`NODE_W`].
pub const NODE_H: f64 = 56.0;
/// Most snapshots undo keeps.
const HISTORY: usize = 200;

/// A node in the editor.
#[derive(Clone, Debug, PartialEq)]
pub struct EditorNode {
    /// Its id.
    pub id: String,
    /// Its kind's name.
    pub kind: String,
    /// Its settings.
    pub config: RwSignal<Value>,
    /// Its place on the canvas.
    pub pos: RwSignal<Position>,
    /// Which load of the graph made it: a node reloaded (undo, import) under the same id
    /// has new signals, so views keyed by id and generation are made again.
    pub generation: u64,
}

/// Counts graph loads, for [`EditorNode::generation`].
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

/// Pan and zoom: a canvas point `p` is drawn at `p * scale + (x, y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    /// Horizontal offset.
    pub x: f64,
    /// Vertical offset.
    pub y: f64,
    /// Zoom.
    pub scale: f64,
}

impl Default for View {
    fn default() -> View {
        View {
            x: 0.0,
            y: 0.0,
            scale: 1.0,
        }
    }
}

impl View {
    /// The canvas point under a point of the canvas element (relative to its corner).
    pub fn to_canvas(self, sx: f64, sy: f64) -> Position {
        Position {
            x: (sx - self.x) / self.scale,
            y: (sy - self.y) / self.scale,
        }
    }

    /// Zooms by `factor` keeping the canvas point under `(sx, sy)` in place.
    pub fn zoom_at(self, sx: f64, sy: f64, factor: f64) -> View {
        let scale = (self.scale * factor).clamp(0.1, 3.0);
        let p = self.to_canvas(sx, sy);
        View {
            x: sx - p.x * scale,
            y: sy - p.y * scale,
            scale,
        }
    }

    /// The view that shows every node inside a `width` × `height` element.
    pub fn fit(nodes: &[Position], width: f64, height: f64) -> View {
        if nodes.is_empty() || width <= 0.0 || height <= 0.0 {
            return View::default();
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in nodes {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x + NODE_W);
            y1 = y1.max(p.y + NODE_H);
        }
        let margin = 40.0;
        let scale = ((width - 2.0 * margin) / (x1 - x0))
            .min((height - 2.0 * margin) / (y1 - y0))
            .clamp(0.1, 1.5);
        View {
            x: (width - (x1 - x0) * scale) / 2.0 - x0 * scale,
            y: (height - (y1 - y0) * scale) / 2.0 - y0 * scale,
            scale,
        }
    }
}

/// The editor's state.
#[derive(Clone, Copy)]
pub struct Model {
    /// The nodes, in the graph's order.
    pub nodes: RwSignal<Vec<EditorNode>>,
    /// The edges.
    pub edges: RwSignal<Vec<Edge>>,
    /// Selected nodes, by id.
    pub selected: RwSignal<BTreeSet<String>>,
    /// The selected edge, by index.
    pub selected_edge: RwSignal<Option<usize>>,
    /// Pan and zoom.
    pub view: RwSignal<View>,
    /// Whether there are changes since the last save.
    pub dirty: RwSignal<bool>,
    undo: StoredValue<Vec<Graph>>,
    redo: StoredValue<Vec<Graph>>,
    /// Snapshots available (for the buttons' state).
    pub history: RwSignal<(usize, usize)>,
}

fn editor_nodes(graph: &Graph) -> Vec<EditorNode> {
    let generation = next_generation();
    graph
        .nodes
        .iter()
        .map(|n| EditorNode {
            id: n.id.clone(),
            kind: n.kind.clone(),
            config: RwSignal::new(n.config.clone()),
            pos: RwSignal::new(n.position),
            generation,
        })
        .collect()
}

impl Model {
    /// The editor over `graph`.
    pub fn new(graph: &Graph) -> Model {
        Model {
            nodes: RwSignal::new(editor_nodes(graph)),
            edges: RwSignal::new(graph.edges.clone()),
            selected: RwSignal::new(BTreeSet::new()),
            selected_edge: RwSignal::new(None),
            view: RwSignal::new(View::default()),
            dirty: RwSignal::new(false),
            undo: StoredValue::new(Vec::new()),
            redo: StoredValue::new(Vec::new()),
            history: RwSignal::new((0, 0)),
        }
    }

    /// The graph as it is now (read without tracking).
    pub fn snapshot(&self) -> Graph {
        Graph {
            nodes: self.nodes.with_untracked(|nodes| {
                nodes
                    .iter()
                    .map(|n| Node {
                        id: n.id.clone(),
                        kind: n.kind.clone(),
                        config: n.config.get_untracked(),
                        position: n.pos.get_untracked(),
                    })
                    .collect()
            }),
            edges: self.edges.get_untracked(),
        }
    }

    /// The graph without positions, tracked: what validation depends on (moving a node
    /// does not validate again).
    pub fn structure(&self) -> Graph {
        Graph {
            nodes: self.nodes.with(|nodes| {
                nodes
                    .iter()
                    .map(|n| Node {
                        id: n.id.clone(),
                        kind: n.kind.clone(),
                        config: n.config.get(),
                        position: Position::default(),
                    })
                    .collect()
            }),
            edges: self.edges.get(),
        }
    }

    /// Replaces the whole graph (import, restore, undo).
    pub fn load(&self, graph: &Graph) {
        self.nodes.set(editor_nodes(graph));
        self.edges.set(graph.edges.clone());
        self.selected.set(BTreeSet::new());
        self.selected_edge.set(None);
    }

    /// Remembers the graph before a change, for undo.
    pub fn checkpoint(&self) {
        self.remember(self.snapshot());
    }

    /// Remembers `before` (the graph as a change that already happened found it).
    pub fn remember(&self, before: Graph) {
        self.undo.update_value(|u| {
            u.push(before);
            if u.len() > HISTORY {
                u.remove(0);
            }
        });
        self.redo.update_value(Vec::clear);
        self.dirty.set(true);
        self.count();
    }

    fn count(&self) {
        self.history.set((
            self.undo.with_value(Vec::len),
            self.redo.with_value(Vec::len),
        ));
    }

    /// Goes back one change.
    pub fn undo(&self) {
        if let Some(before) = self.undo.try_update_value(Vec::pop).flatten() {
            let now = self.snapshot();
            self.redo.update_value(|r| r.push(now));
            self.load(&before);
            self.dirty.set(true);
        }
        self.count();
    }

    /// Goes forward one undone change.
    pub fn redo(&self) {
        if let Some(after) = self.redo.try_update_value(Vec::pop).flatten() {
            let now = self.snapshot();
            self.undo.update_value(|u| u.push(now));
            self.load(&after);
            self.dirty.set(true);
        }
        self.count();
    }

    /// The position signal of node `id`.
    pub fn position_of(&self, id: &str) -> Option<RwSignal<Position>> {
        self.nodes
            .with_untracked(|nodes| nodes.iter().find(|n| n.id == id).map(|n| n.pos))
    }

    /// A fresh id for a node of `kind` (`script`, `script-2`, …).
    fn fresh_id(&self, kind: &str) -> String {
        let taken: BTreeSet<String> = self
            .nodes
            .with_untracked(|nodes| nodes.iter().map(|n| n.id.clone()).collect());
        let base: String = kind.replace('_', "-");
        if !taken.contains(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base}-{i}"))
            .find(|id| !taken.contains(id))
            .unwrap_or(base)
    }

    /// Adds a node of `kind` at `at` and selects it.
    pub fn add_node(&self, kind: NodeKind, at: Position) -> String {
        self.checkpoint();
        let id = self.fresh_id(kind.as_str());
        self.nodes.update(|nodes| {
            nodes.push(EditorNode {
                id: id.clone(),
                kind: kind.as_str().to_owned(),
                config: RwSignal::new(kind.starter_config()),
                pos: RwSignal::new(at),
                generation: next_generation(),
            })
        });
        self.selected.set(BTreeSet::from([id.clone()]));
        id
    }

    /// Whether `from` may be connected to `to` now.
    pub fn can_connect(&self, from: &PortRef, to: &PortRef) -> Result<(), String> {
        check_connection(&self.snapshot(), from, to)
    }

    /// Connects two ports, or says why not.
    pub fn connect(&self, from: PortRef, to: PortRef) -> Result<(), String> {
        self.can_connect(&from, &to)?;
        self.checkpoint();
        self.edges.update(|edges| edges.push(Edge { from, to }));
        Ok(())
    }

    /// Deletes the selected nodes (with their edges) and the selected edge.
    pub fn delete_selected(&self) {
        let nodes = self.selected.get_untracked();
        let edge = self.selected_edge.get_untracked();
        if nodes.is_empty() && edge.is_none() {
            return;
        }
        self.checkpoint();
        self.edges.update(|edges| {
            let mut i = 0;
            edges.retain(|e| {
                let keep =
                    Some(i) != edge && !nodes.contains(&e.from.node) && !nodes.contains(&e.to.node);
                i += 1;
                keep
            });
        });
        self.nodes
            .update(|all| all.retain(|n| !nodes.contains(&n.id)));
        self.selected.set(BTreeSet::new());
        self.selected_edge.set(None);
    }

    /// The selected nodes and the edges between them.
    pub fn copy(&self) -> Graph {
        let picked = self.selected.get_untracked();
        let all = self.snapshot();
        Graph {
            nodes: all
                .nodes
                .into_iter()
                .filter(|n| picked.contains(&n.id))
                .collect(),
            edges: all
                .edges
                .into_iter()
                .filter(|e| picked.contains(&e.from.node) && picked.contains(&e.to.node))
                .collect(),
        }
    }

    /// Adds copied nodes (new ids, offset) with their edges, and selects them.
    pub fn paste(&self, copied: &Graph) {
        if copied.nodes.is_empty() {
            return;
        }
        self.checkpoint();
        let mut renamed: HashMap<String, String> = HashMap::new();
        let mut added = Vec::new();
        for node in &copied.nodes {
            let kind =
                NodeKind::parse(&node.kind).map_or(node.kind.clone(), |k| k.as_str().to_owned());
            let id = self.fresh_id(&kind);
            renamed.insert(node.id.clone(), id.clone());
            self.nodes.update(|nodes| {
                nodes.push(EditorNode {
                    id: id.clone(),
                    kind: node.kind.clone(),
                    config: RwSignal::new(node.config.clone()),
                    pos: RwSignal::new(Position {
                        x: node.position.x + 40.0,
                        y: node.position.y + 40.0,
                    }),
                    generation: next_generation(),
                })
            });
            added.push(id);
        }
        self.edges.update(|edges| {
            for e in &copied.edges {
                if let (Some(a), Some(b)) = (renamed.get(&e.from.node), renamed.get(&e.to.node)) {
                    edges.push(Edge {
                        from: PortRef {
                            node: a.clone(),
                            port: e.from.port.clone(),
                        },
                        to: PortRef {
                            node: b.clone(),
                            port: e.to.port.clone(),
                        },
                    });
                }
            }
        });
        self.selected.set(added.into_iter().collect());
    }

    /// Places every node by the automatic layered layout.
    pub fn layout(&self) {
        self.checkpoint();
        let at = layered(&self.snapshot());
        self.nodes.with_untracked(|nodes| {
            for n in nodes {
                if let Some(p) = at.get(&n.id) {
                    n.pos.set(*p);
                }
            }
        });
    }
}
