//! The graph canvas (SVG): nodes with their ports, edges as curves, problems marked, and in
//! a run view each node's status and duration. Editable, it takes the pointer and the
//! keyboard: drag a node to move it (with the others selected), drag from an output port to
//! an input port to connect (ports that would refuse the connection are marked while
//! dragging), click or shift-click to select, shift-drag the background to select a box,
//! drag the background to pan, the wheel to zoom, Delete, Ctrl+Z / Ctrl+Shift+Z, Ctrl+C /
//! Ctrl+V, Ctrl+A.

use super::model::{Model, View, NODE_H, NODE_W};
use leptos::ev;
use leptos::prelude::*;
use shared::pipelines::views::{NodeRunStatus, NodeRunView};
use shared::pipelines::{Graph, NodeKind, PortRef, Position, Problem};
use std::collections::{BTreeSet, HashMap};

/// Where a port is drawn, relative to its node's corner.
pub fn port_offset(kind: &str, port: &str, input: bool) -> (f64, f64) {
    if input {
        return (0.0, NODE_H / 2.0);
    }
    match (NodeKind::parse(kind), port) {
        (Some(NodeKind::Branch), "true") => (NODE_W, NODE_H / 3.0),
        (Some(NodeKind::Branch), "false") => (NODE_W, 2.0 * NODE_H / 3.0),
        _ => (NODE_W, NODE_H / 2.0),
    }
}

/// A curve from an output port to an input port.
pub fn curve(a: (f64, f64), b: (f64, f64)) -> String {
    let bend = ((b.0 - a.0).abs() / 2.0).max(40.0);
    format!(
        "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
        a.0,
        a.1,
        a.0 + bend,
        a.1,
        b.0 - bend,
        b.1,
        b.0,
        b.1
    )
}

/// What the pointer is doing.
#[derive(Clone, Debug)]
enum Drag {
    /// Moving the background: where it started and the view then.
    Pan { sx: f64, sy: f64, view: View },
    /// Moving nodes: the pointer's start, each node's start, the graph before.
    Move {
        sx: f64,
        sy: f64,
        starts: Vec<(RwSignal<Position>, Position)>,
        before: Graph,
        moved: bool,
    },
    /// Drawing a connection from an output port to the pointer (canvas coordinates);
    /// `refused` says, per input node, why it cannot take this connection.
    Connect {
        from: PortRef,
        x: f64,
        y: f64,
        refused: HashMap<String, String>,
    },
    /// Selecting a box (canvas coordinates).
    Select { x0: f64, y0: f64, x1: f64, y1: f64 },
}

/// The canvas. `runs` paints a run's node statuses (empty in the editor); `pick` hears
/// which node was clicked (the run view opens its details); `palette` is the node kind being
/// dragged in from the palette (dropped here, it becomes a node); `said` gets the reason a
/// connection was refused.
#[component]
pub fn GraphCanvas(
    model: Model,
    /// Whether it can be changed.
    editable: bool,
    /// Problems to mark on nodes and edges.
    #[prop(into)]
    problems: Signal<Vec<Problem>>,
    /// A run's nodes, by id.
    #[prop(into)]
    runs: Signal<HashMap<String, NodeRunView>>,
    /// Hears a click on a node.
    #[prop(optional)]
    pick: Option<Callback<String>>,
    /// The kind being dragged from the palette.
    #[prop(optional)]
    palette: Option<RwSignal<Option<String>>>,
    /// Where refusals are said.
    #[prop(optional)]
    said: Option<RwSignal<Option<String>>>,
    /// The copy buffer (Ctrl+C / Ctrl+V).
    #[prop(optional)]
    clipboard: Option<StoredValue<Option<Graph>>>,
) -> impl IntoView {
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let wrap_ref = NodeRef::<leptos::html::Div>::new();
    let drag = RwSignal::new(None::<Drag>);
    let say = move |m: Option<String>| {
        if let Some(s) = said {
            s.set(m);
        }
    };
    // A point of the page as a point of the canvas element.
    let local = move |cx: f64, cy: f64| -> (f64, f64) {
        match svg_ref.get_untracked() {
            Some(svg) => {
                let r = svg.get_bounding_client_rect();
                (cx - r.left(), cy - r.top())
            }
            None => (cx, cy),
        }
    };
    // Fit the graph into the canvas once it is in the page and laid out (the next frame).
    Effect::new(move |_| {
        if svg_ref.get().is_some() {
            request_animation_frame(move || {
                if let Some(svg) = svg_ref.get_untracked() {
                    let r = svg.get_bounding_client_rect();
                    let at: Vec<Position> = model
                        .nodes
                        .with_untracked(|n| n.iter().map(|n| n.pos.get_untracked()).collect());
                    model.view.set(View::fit(&at, r.width(), r.height()));
                }
            });
        }
    });
    let problem_nodes = Memo::new(move |_| {
        problems.with(|p| {
            p.iter()
                .filter_map(|p| p.node.clone())
                .collect::<BTreeSet<String>>()
        })
    });
    let problem_edges = Memo::new(move |_| {
        problems.with(|p| p.iter().filter_map(|p| p.edge).collect::<BTreeSet<usize>>())
    });
    let index = Memo::new(move |_| {
        model.nodes.with(|nodes| {
            nodes
                .iter()
                .map(|n| (n.id.clone(), (n.kind.clone(), n.pos)))
                .collect::<HashMap<_, _>>()
        })
    });

    let on_background_down = move |e: ev::PointerEvent| {
        if let Some(w) = wrap_ref.get_untracked() {
            let _ = w.focus();
        }
        if e.button() != 0 {
            return;
        }
        let (sx, sy) = local(e.client_x() as f64, e.client_y() as f64);
        if editable && e.shift_key() {
            let p = model.view.get_untracked().to_canvas(sx, sy);
            drag.set(Some(Drag::Select {
                x0: p.x,
                y0: p.y,
                x1: p.x,
                y1: p.y,
            }));
        } else {
            model.selected.set(BTreeSet::new());
            model.selected_edge.set(None);
            drag.set(Some(Drag::Pan {
                sx,
                sy,
                view: model.view.get_untracked(),
            }));
        }
    };
    let on_move = move |e: ev::PointerEvent| {
        let (sx, sy) = local(e.client_x() as f64, e.client_y() as f64);
        let view = model.view.get_untracked();
        drag.update(|d| match d {
            Some(Drag::Pan {
                sx: x0,
                sy: y0,
                view: v,
            }) => model.view.set(View {
                x: v.x + sx - *x0,
                y: v.y + sy - *y0,
                scale: v.scale,
            }),
            Some(Drag::Move {
                sx: x0,
                sy: y0,
                starts,
                moved,
                ..
            }) => {
                let (dx, dy) = ((sx - *x0) / view.scale, (sy - *y0) / view.scale);
                if dx.abs() + dy.abs() > 0.5 {
                    *moved = true;
                }
                for (pos, start) in starts.iter() {
                    pos.set(Position {
                        x: start.x + dx,
                        y: start.y + dy,
                    });
                }
            }
            Some(Drag::Connect { x, y, .. }) => {
                let p = view.to_canvas(sx, sy);
                *x = p.x;
                *y = p.y;
            }
            Some(Drag::Select { x1, y1, .. }) => {
                let p = view.to_canvas(sx, sy);
                *x1 = p.x;
                *y1 = p.y;
            }
            None => {}
        });
    };
    let on_up = move |e: ev::PointerEvent| {
        let (sx, sy) = local(e.client_x() as f64, e.client_y() as f64);
        if let Some(kind) = palette.and_then(|p| p.get_untracked()) {
            if let (true, Some(kind)) = (editable, NodeKind::parse(&kind)) {
                let p = model.view.get_untracked().to_canvas(sx, sy);
                model.add_node(
                    kind,
                    Position {
                        x: p.x - NODE_W / 2.0,
                        y: p.y - NODE_H / 2.0,
                    },
                );
            }
            if let Some(p) = palette {
                p.set(None);
            }
        }
        match drag.get_untracked() {
            Some(Drag::Move { before, moved, .. }) if moved => {
                model.remember(before);
            }
            Some(Drag::Select { x0, y0, x1, y1 }) => {
                let (lx, hx, ly, hy) = (x0.min(x1), x0.max(x1), y0.min(y1), y0.max(y1));
                let inside: BTreeSet<String> = model.nodes.with_untracked(|nodes| {
                    nodes
                        .iter()
                        .filter(|n| {
                            let p = n.pos.get_untracked();
                            p.x >= lx && p.x + NODE_W <= hx && p.y >= ly && p.y + NODE_H <= hy
                        })
                        .map(|n| n.id.clone())
                        .collect()
                });
                model.selected.update(|s| s.extend(inside));
            }
            _ => {}
        }
        drag.set(None);
    };
    let on_wheel = move |e: ev::WheelEvent| {
        e.prevent_default();
        let (sx, sy) = local(e.client_x() as f64, e.client_y() as f64);
        let factor = if e.delta_y() < 0.0 { 1.1 } else { 1.0 / 1.1 };
        model.view.update(|v| *v = v.zoom_at(sx, sy, factor));
    };
    let on_key = move |e: ev::KeyboardEvent| {
        if !editable {
            return;
        }
        let command = e.ctrl_key() || e.meta_key();
        let key = e.key();
        let handled = match key.as_str() {
            "Delete" | "Backspace" => {
                model.delete_selected();
                true
            }
            "z" | "Z" if command && e.shift_key() => {
                model.redo();
                true
            }
            "z" | "Z" if command => {
                model.undo();
                true
            }
            "y" | "Y" if command => {
                model.redo();
                true
            }
            "c" | "C" if command => {
                if let Some(c) = clipboard {
                    c.set_value(Some(model.copy()));
                }
                true
            }
            "v" | "V" if command => {
                if let Some(copied) = clipboard.and_then(|c| c.get_value()) {
                    model.paste(&copied);
                }
                true
            }
            "a" | "A" if command => {
                let all = model
                    .nodes
                    .with_untracked(|n| n.iter().map(|n| n.id.clone()).collect());
                model.selected.set(all);
                true
            }
            _ => false,
        };
        if handled {
            e.prevent_default();
        }
    };

    let node_down = move |id: String, e: ev::PointerEvent| {
        e.stop_propagation();
        if let Some(w) = wrap_ref.get_untracked() {
            let _ = w.focus();
        }
        if let Some(p) = pick {
            p.run(id.clone());
        }
        model.selected_edge.set(None);
        if e.shift_key() {
            model.selected.update(|s| {
                if !s.remove(&id) {
                    s.insert(id.clone());
                }
            });
        } else if !model.selected.with_untracked(|s| s.contains(&id)) {
            model.selected.set(BTreeSet::from([id.clone()]));
        }
        if !editable {
            return;
        }
        let (sx, sy) = local(e.client_x() as f64, e.client_y() as f64);
        let chosen = model.selected.get_untracked();
        let starts = model.nodes.with_untracked(|nodes| {
            nodes
                .iter()
                .filter(|n| chosen.contains(&n.id))
                .map(|n| (n.pos, n.pos.get_untracked()))
                .collect()
        });
        drag.set(Some(Drag::Move {
            sx,
            sy,
            starts,
            before: model.snapshot(),
            moved: false,
        }));
    };
    let port_down = move |from: PortRef, e: ev::PointerEvent| {
        e.stop_propagation();
        if !editable {
            return;
        }
        let graph = model.snapshot();
        let refused = graph
            .nodes
            .iter()
            .filter_map(|n| {
                let to = PortRef {
                    node: n.id.clone(),
                    port: "in".to_owned(),
                };
                shared::pipelines::check_connection(&graph, &from, &to)
                    .err()
                    .map(|why| (n.id.clone(), why))
            })
            .collect();
        let (sx, sy) = local(e.client_x() as f64, e.client_y() as f64);
        let p = model.view.get_untracked().to_canvas(sx, sy);
        say(None);
        drag.set(Some(Drag::Connect {
            from,
            x: p.x,
            y: p.y,
            refused,
        }));
    };
    let port_up = move |to: String, e: ev::PointerEvent| {
        if let Some(Drag::Connect { from, .. }) = drag.get_untracked() {
            e.stop_propagation();
            drag.set(None);
            let to = PortRef {
                node: to,
                port: "in".to_owned(),
            };
            if let Err(why) = model.connect(from, to) {
                say(Some(format!("Not connected: {why}")));
            }
        }
    };
    let connecting_refusal = move |node: &str| -> Option<Option<String>> {
        drag.with(|d| match d {
            Some(Drag::Connect { refused, .. }) => Some(refused.get(node).cloned()),
            _ => None,
        })
    };

    let transform = move || {
        let v = model.view.get();
        format!("translate({:.2},{:.2}) scale({:.4})", v.x, v.y, v.scale)
    };
    let edges = move || {
        model
            .edges
            .get()
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
    };
    view! {
        <div class="canvas-wrap" node_ref=wrap_ref tabindex="0" on:keydown=on_key data-testid="canvas" aria-label="Pipeline graph">
            <svg class="canvas" node_ref=svg_ref on:pointerdown=on_background_down on:pointermove=on_move on:pointerup=on_up on:wheel=on_wheel>
                <defs>
                    <pattern id="grid" width="24" height="24" patternUnits="userSpaceOnUse">
                        <circle cx="1" cy="1" r="1" class="grid-dot"/>
                    </pattern>
                </defs>
                <rect class="canvas-bg" width="100%" height="100%" fill="url(#grid)"/>
                <g transform=transform>
                    <For each=edges key=|(i, e)| (*i, e.clone()) let:item>
                        {
                            let (i, e) = item;
                            let path = Memo::new(move |_| {
                                index.with(|ix| {
                                    let (Some((fk, fp)), Some((tk, tp))) = (ix.get(&e.from.node), ix.get(&e.to.node)) else {
                                        return String::new();
                                    };
                                    let (a, b) = (fp.get(), tp.get());
                                    let (ox, oy) = port_offset(fk, &e.from.port, false);
                                    let (ix2, iy) = port_offset(tk, &e.to.port, true);
                                    curve((a.x + ox, a.y + oy), (b.x + ix2, b.y + iy))
                                })
                            });
                            let class = move || {
                                let mut c = "edge".to_owned();
                                if model.selected_edge.get() == Some(i) {
                                    c.push_str(" selected");
                                }
                                if problem_edges.with(|p| p.contains(&i)) {
                                    c.push_str(" has-problem");
                                }
                                c
                            };
                            let select = move |ev: ev::PointerEvent| {
                                ev.stop_propagation();
                                model.selected.set(BTreeSet::new());
                                model.selected_edge.set(Some(i));
                                if let Some(w) = wrap_ref.get_untracked() {
                                    let _ = w.focus();
                                }
                            };
                            view! {
                                <g class=class data-edge=i>
                                    <path class="edge-hit" d=path on:pointerdown=select/>
                                    <path class="edge-line" d=path/>
                                </g>
                            }
                        }
                    </For>
                    {move || drag.with(|d| match d {
                        Some(Drag::Connect { from, x, y, .. }) => index.with(|ix| ix.get(&from.node).map(|(k, p)| {
                            let p = p.get_untracked();
                            let (ox, oy) = port_offset(k, &from.port, false);
                            view! { <path class="edge-draft" d=curve((p.x + ox, p.y + oy), (*x, *y))/> }
                        })),
                        _ => None,
                    })}
                    <For each=move || model.nodes.get() key=|n| (n.id.clone(), n.generation) let:node>
                        {
                            let id = node.id.clone();
                            let kind = NodeKind::parse(&node.kind);
                            let kind_name = node.kind.clone();
                            let pos = node.pos;
                            let run = {
                                let id = id.clone();
                                Memo::new(move |_| runs.with(|r| r.get(&id).cloned()))
                            };
                            let class = {
                                let id = id.clone();
                                move || {
                                    let mut c = format!("node kind-{}", kind_name);
                                    if model.selected.with(|s| s.contains(&id)) {
                                        c.push_str(" selected");
                                    }
                                    if problem_nodes.with(|p| p.contains(&id)) {
                                        c.push_str(" has-problem");
                                    }
                                    if let Some(r) = run.get() {
                                        c.push_str(&format!(" status-{}", status_name(r.status)));
                                    }
                                    c
                                }
                            };
                            let down = {
                                let id = id.clone();
                                move |e: ev::PointerEvent| node_down(id.clone(), e)
                            };
                            let has_input = kind.is_some_and(|k| !k.inputs().is_empty());
                            let outputs: Vec<&'static str> = kind.map(|k| k.outputs().to_vec()).unwrap_or_default();
                            let input_class = {
                                let id = id.clone();
                                move || match connecting_refusal(&id) {
                                    Some(None) => "port in can-drop",
                                    Some(Some(_)) => "port in no-drop",
                                    None => "port in",
                                }
                            };
                            let input_title = {
                                let id = id.clone();
                                move || connecting_refusal(&id).flatten().unwrap_or_default()
                            };
                            let up = {
                                let id = id.clone();
                                move |e: ev::PointerEvent| port_up(id.clone(), e)
                            };
                            let kind_label = kind.map_or(node.kind.clone(), |k| k.as_str().to_owned());
                            let node_kind = node.kind.clone();
                            view! {
                                <g class=class transform=move || { let p = pos.get(); format!("translate({:.1},{:.1})", p.x, p.y) }
                                    data-node=id.clone() on:pointerdown=down>
                                    <rect class="node-box" width=NODE_W height=NODE_H rx="8"/>
                                    <text class="node-kind" x="12" y="21">{kind_label}</text>
                                    <text class="node-id" x="12" y="41">{id.clone()}</text>
                                    {move || run.get().map(|r| view! {
                                        <text class="node-run" x=NODE_W - 10.0 y="21" text-anchor="end" data-testid="node-status">{status_name(r.status)}</text>
                                        <text class="node-time" x=NODE_W - 10.0 y="41" text-anchor="end">{duration(&r)}</text>
                                    })}
                                    {has_input.then(|| view! {
                                        <circle class=input_class cx="0" cy=NODE_H / 2.0 r="7" data-port="in" on:pointerup=up>
                                            <title>{input_title}</title>
                                        </circle>
                                    })}
                                    {outputs.into_iter().map(|port| {
                                        let (ox, oy) = port_offset(&node_kind, port, false);
                                        let from = PortRef { node: id.clone(), port: port.to_owned() };
                                        let start = move |e: ev::PointerEvent| port_down(from.clone(), e);
                                        let label = (port != "out").then(|| view! { <text class="port-label" x=ox - 12.0 y=oy + 4.0 text-anchor="end">{port}</text> });
                                        view! {
                                            {label}
                                            <circle class="port out" cx=ox cy=oy r="7" data-port=port on:pointerdown=start/>
                                        }
                                    }).collect_view()}
                                </g>
                            }
                        }
                    </For>
                    {move || drag.with(|d| match d {
                        Some(Drag::Select { x0, y0, x1, y1 }) => Some(view! {
                            <rect class="select-box" x=x0.min(*x1) y=y0.min(*y1) width=(x1 - x0).abs() height=(y1 - y0).abs()/>
                        }),
                        _ => None,
                    })}
                </g>
            </svg>
        </div>
    }
}

/// A node status's name.
pub fn status_name(s: NodeRunStatus) -> &'static str {
    match s {
        NodeRunStatus::Queued => "queued",
        NodeRunStatus::Running => "running",
        NodeRunStatus::Succeeded => "succeeded",
        NodeRunStatus::Failed => "failed",
        NodeRunStatus::Skipped => "skipped",
    }
}

/// A finished node's duration, as the canvas shows it.
pub fn duration(r: &NodeRunView) -> String {
    match (r.started_at, r.finished_at) {
        (Some(s), Some(f)) if f >= s => {
            let ms = f - s;
            if ms < 1_000 {
                format!("{ms} ms")
            } else {
                format!("{:.1} s", ms as f64 / 1000.0)
            }
        }
        _ => String::new(),
    }
}
