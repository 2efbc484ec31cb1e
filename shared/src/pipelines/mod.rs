//! Pipelines: a workflow as a directed acyclic graph of nodes and edges, in the public JSON
//! format API bodies and exported files use:
//!
//! ```json
//! {"nodes": [{"id": "fetch", "kind": "http", "config": {...}, "position": {"x": 0, "y": 0}}],
//!  "edges": [{"from": {"node": "start", "port": "out"}, "to": {"node": "fetch", "port": "in"}}]}
//! ```
//!
//! [`catalogue`] says what each node kind accepts; [`validate`] reports every problem of a
//! graph with the node, edge and field it concerns. The same code runs in the browser (the
//! editor marks problems as they are made) and on the server (a save is refused with them).
//! [`plan`] compiles a valid graph and says which nodes may run as a run progresses;
//! [`template`] renders `{{ ... }}` references in settings and redacts secrets; [`layout`]
//! places nodes for the editor; [`schema`] checks a manual run's input.

pub mod catalogue;
pub mod diff;
pub mod layout;
pub mod plan;
pub mod schema;
pub mod template;
pub mod validate;
pub mod views;

pub use catalogue::NodeKind;
pub use plan::{compile, Finished, NodeState, Plan};
pub use validate::{check_connection, validate, Problem};

use serde::{Deserialize, Serialize};

/// A pipeline's graph.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Graph {
    /// The nodes, each with an id unique in the graph.
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// The connections from an output port to an input port.
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// One step of a pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    /// Unique in the graph: lowercase letters, digits, `_` and `-`, at most 64; templates
    /// refer to a node's output by it (`{{ nodes.fetch.body }}`).
    pub id: String,
    /// One of the [`NodeKind`]s, by name (`http`, `script`, ...).
    pub kind: String,
    /// The kind's settings (see [`catalogue`]).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub config: serde_json::Value,
    /// Where the editor draws it.
    #[serde(default)]
    pub position: Position,
}

/// A point on the editor's canvas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    /// Horizontal, in canvas units.
    pub x: f64,
    /// Vertical, in canvas units.
    pub y: f64,
}

/// A connection from one node's output port to another's input port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Edge {
    /// The output it leaves from.
    pub from: PortRef,
    /// The input it arrives at.
    pub to: PortRef,
}

/// A port of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortRef {
    /// The node's id.
    pub node: String,
    /// The port's name (`in`, `out`; a branch's `true` and `false`).
    pub port: String,
}
