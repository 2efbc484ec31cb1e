//! `/w/:slug/pipelines/:id`: the editor. A palette of node kinds (drag one onto the
//! canvas), the canvas, an inspector generated from the selected node's kind (with the
//! script editor: line numbers, the syntax error marked at its line), the problems of the
//! graph (click one to go to its node), Save (a new version), Run (with an input), automatic
//! layout, fit and zoom, undo/redo, import and export of the graph JSON, and the versions
//! (compare one with the editor's graph, restore it).

use super::api::{list_runs, open_pipeline, CheckGraph, SavePipeline, StartRun};
use super::canvas::GraphCanvas;
use super::list::RunBadge;
use super::model::{EditorNode, Model, View, NODE_H, NODE_W};
use crate::components::{ErrorPanel, Loading, Precision, Timestamp};
use crate::error::AppError;
use crate::tenancy::use_slug;
use leptos::ev;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;
use shared::pipelines::catalogue::{Field, FieldKind};
use shared::pipelines::diff::diff;
use shared::pipelines::views::{PipelineView, VersionView};
use shared::pipelines::{validate, Graph, NodeKind, Problem};
use std::collections::HashMap;

/// The editor page.
#[component]
pub fn EditorPage() -> impl IntoView {
    let slug = use_slug();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(move || (slug(), id()), |(s, id)| open_pipeline(s, id));
    view! {
        <Title text="Pipeline"/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((pipeline, versions, secrets)) => view! {
                        <Editor pipeline=pipeline versions=versions secrets=secrets slug=slug()/>
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// Which side panel is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Panel {
    Inspector,
    Run,
    Versions,
    Import,
    Export,
    Runs,
}

#[component]
fn Editor(
    pipeline: PipelineView,
    versions: Vec<VersionView>,
    secrets: Vec<String>,
    slug: String,
) -> impl IntoView {
    let model = Model::new(&pipeline.graph);
    let id = pipeline.id.clone();
    let version = RwSignal::new(pipeline.version);
    let versions = RwSignal::new(versions);
    let panel = RwSignal::new(Panel::Inspector);
    let palette = RwSignal::new(None::<String>);
    let ghost = RwSignal::new(None::<(f64, f64)>);
    let said = RwSignal::new(None::<String>);
    let clipboard = StoredValue::new(None::<Graph>);
    let server_problems = RwSignal::new(Vec::<Problem>::new());
    let secrets_for_check = secrets.clone();
    let problems = Memo::new(move |_| {
        let mut all = validate(&model.structure(), &secrets_for_check);
        all.extend(server_problems.get());
        all
    });

    let save = ServerAction::<SavePipeline>::new();
    let check = ServerAction::<CheckGraph>::new();
    let saved_version = save.value();
    // A save's answer: the new version, or the problems that refused it.
    Effect::new(move |_| match saved_version.get() {
        Some(Ok(saved)) => {
            version.set(saved.version);
            model.dirty.set(false);
            server_problems.set(Vec::new());
            said.set(Some(format!("Saved version {}.", saved.version)));
        }
        Some(Err(AppError::Api(e))) => {
            let graph_only = e.problems.is_empty();
            server_problems.set(
                e.problems
                    .into_iter()
                    .filter(|p| {
                        p.line.is_some()
                            || p.field.as_deref().is_some_and(|f| f == "config.timezone")
                    })
                    .collect(),
            );
            said.set(Some(if graph_only {
                e.message
            } else {
                "Not saved: fix the problems listed.".to_owned()
            }));
        }
        Some(Err(e)) => said.set(Some(format!("Not saved: {e}"))),
        None => {}
    });
    let checked = check.value();
    Effect::new(move |_| {
        if let Some(Ok(found)) = checked.get() {
            // Only what the browser cannot find itself: scripts' syntax.
            server_problems.set(found.into_iter().filter(|p| p.line.is_some()).collect());
        }
    });
    let graph_json = move || serde_json::to_string(&model.snapshot()).unwrap_or_default();
    let do_save = {
        let (slug, id) = (slug.clone(), id.clone());
        move |_| {
            save.dispatch(SavePipeline {
                slug: slug.clone(),
                id: id.clone(),
                graph: graph_json(),
            });
        }
    };
    let do_check = {
        let slug = slug.clone();
        Callback::new(move |_: ()| {
            check.dispatch(CheckGraph {
                slug: slug.clone(),
                graph: graph_json(),
            });
        })
    };
    let fit = move || {
        let at: Vec<_> = model
            .nodes
            .with_untracked(|n| n.iter().map(|n| n.pos.get_untracked()).collect());
        let (w, h) = canvas_size();
        model.view.set(View::fit(&at, w, h));
    };
    let zoom = move |factor: f64| {
        let (w, h) = canvas_size();
        model
            .view
            .update(|v| *v = v.zoom_at(w / 2.0, h / 2.0, factor));
    };
    let focus = Callback::new(move |node: String| {
        if let Some(pos) = model.position_of(&node) {
            let p = pos.get_untracked();
            let (w, h) = canvas_size();
            let scale = model.view.get_untracked().scale;
            model.view.set(View {
                x: w / 2.0 - (p.x + NODE_W / 2.0) * scale,
                y: h / 2.0 - (p.y + NODE_H / 2.0) * scale,
                scale,
            });
            model.selected.set([node].into_iter().collect());
            panel.set(Panel::Inspector);
        }
    });
    // The palette: a kind follows the pointer until it is dropped (on the canvas it becomes
    // a node there; elsewhere nothing happens).
    let root_move = move |e: ev::PointerEvent| {
        if palette.get_untracked().is_some() {
            ghost.set(Some((e.client_x() as f64, e.client_y() as f64)));
        }
    };
    let root_up = move |_: ev::PointerEvent| {
        palette.set(None);
        ghost.set(None);
    };
    // Effects run once this component has hydrated: from then on its buttons answer (the
    // page-wide mark on <body> can come before a suspended page like this one hydrates).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let name = pipeline.name.clone();
    let runs_href = format!("/w/{slug}/pipelines/{id}");
    view! {
        <Title text=name.clone()/>
        <div class="editor" on:pointermove=root_move on:pointerup=root_up data-testid="editor" data-ready=move || ready.get().to_string()>
            <div class="editor-bar">
                <h1 class="editor-title">{name} " " <span class="muted small" data-testid="version">{move || format!("v{}", version.get())}</span></h1>
                <div class="button-row">
                    <button class="button" title="Undo (Ctrl+Z)" disabled=move || model.history.get().0 == 0 on:click=move |_| model.undo() data-testid="undo">"Undo"</button>
                    <button class="button" title="Redo (Ctrl+Shift+Z)" disabled=move || model.history.get().1 == 0 on:click=move |_| model.redo()>"Redo"</button>
                    <button class="button" on:click=move |_| model.layout() data-testid="layout">"Arrange"</button>
                    <button class="button" on:click=move |_| fit() title="Fit to view">"Fit"</button>
                    <button class="button" on:click=move |_| zoom(1.2) aria-label="Zoom in">"+"</button>
                    <button class="button" on:click=move |_| zoom(1.0 / 1.2) aria-label="Zoom out">"−"</button>
                    <button class="button" on:click=move |_| panel.set(Panel::Import)>"Import"</button>
                    <button class="button" on:click=move |_| panel.set(Panel::Export)>"Export"</button>
                    <button class="button" on:click=move |_| panel.set(Panel::Versions)>"Versions"</button>
                    <button class="button" on:click=move |_| panel.set(Panel::Runs)>"Runs"</button>
                    <button class="button" on:click=move |_| panel.set(Panel::Run) data-testid="open-run">"Run"</button>
                    <button class="button primary" on:click=do_save disabled=move || save.pending().get() data-testid="save">
                        {move || if save.pending().get() { "Saving…" } else if model.dirty.get() { "Save*" } else { "Save" }}
                    </button>
                </div>
            </div>
            {move || said.get().map(|m| view! { <p class="banner" role="status" data-testid="editor-said">{m}</p> })}
            <div class="editor-body">
                <Palette palette=palette ghost=ghost/>
                <GraphCanvas model=model editable=true problems=problems runs=Signal::derive(HashMap::new)
                    palette=palette said=said clipboard=clipboard/>
                <aside class="editor-side">
                    {move || match panel.get() {
                        Panel::Inspector => view! { <Inspector model=model problems=problems check=do_check/> }.into_any(),
                        Panel::Run => view! { <RunForm slug=slug.clone() id=id.clone() dirty=model.dirty/> }.into_any(),
                        Panel::Versions => view! { <Versions model=model versions=versions/> }.into_any(),
                        Panel::Import => view! { <Import model=model/> }.into_any(),
                        Panel::Export => view! { <Export model=model/> }.into_any(),
                        Panel::Runs => view! { <RecentRuns slug=slug.clone() id=id.clone()/> }.into_any(),
                    }}
                    <ProblemList problems=problems focus=focus/>
                </aside>
            </div>
            {move || ghost.get().zip(palette.get()).map(|((x, y), kind)| view! {
                <div class="palette-ghost" style=format!("left:{x}px;top:{y}px")>{kind}</div>
            })}
        </div>
        <p class="muted small"><A href=runs_href>"Runs of this pipeline"</A></p>
    }
    .into_any()
}

/// The canvas element's size (the editor's only one), for fitting and zooming.
fn canvas_size() -> (f64, f64) {
    document()
        .query_selector("svg.canvas")
        .ok()
        .flatten()
        .map(|e| {
            let r = e.get_bounding_client_rect();
            (r.width(), r.height())
        })
        .unwrap_or((800.0, 600.0))
}

#[component]
fn Palette(
    palette: RwSignal<Option<String>>,
    ghost: RwSignal<Option<(f64, f64)>>,
) -> impl IntoView {
    view! {
        <nav class="palette" aria-label="Node kinds" data-testid="palette">
            {NodeKind::ALL.into_iter().map(|kind| {
                let start = move |e: ev::PointerEvent| {
                    e.prevent_default();
                    palette.set(Some(kind.as_str().to_owned()));
                    ghost.set(Some((e.client_x() as f64, e.client_y() as f64)));
                };
                view! {
                    <div class="palette-item" on:pointerdown=start data-kind=kind.as_str() title=kind.describe()>
                        <span class="palette-name">{kind.as_str()}</span>
                        <span class="muted small">{kind.describe()}</span>
                    </div>
                }
            }).collect_view()}
        </nav>
    }
}

#[component]
fn ProblemList(problems: Memo<Vec<Problem>>, focus: Callback<String>) -> impl IntoView {
    view! {
        <section class="problems" aria-label="Problems" data-testid="problems">
            <h2 class="side-title">{move || match problems.with(Vec::len) { 0 => "No problems".to_owned(), 1 => "1 problem".to_owned(), n => format!("{n} problems") }}</h2>
            <ul>
                {move || problems.get().into_iter().map(|p| {
                    let node = p.node.clone();
                    let place = match (&p.node, p.edge, &p.field) {
                        (Some(n), _, Some(f)) => format!("{n} · {f}"),
                        (Some(n), _, None) => n.clone(),
                        (None, Some(e), _) => format!("edge {}", e + 1),
                        _ => "graph".to_owned(),
                    };
                    let go = move |_| {
                        if let Some(n) = node.clone() {
                            focus.run(n);
                        }
                    };
                    view! {
                        <li><button class="problem" on:click=go><strong>{place}</strong> " " {p.message.clone()}</button></li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The settings of the selected node, generated from its kind's fields.
#[component]
fn Inspector(model: Model, problems: Memo<Vec<Problem>>, check: Callback<()>) -> impl IntoView {
    let chosen = Memo::new(move |_| {
        let picked = model.selected.get();
        (picked.len() == 1)
            .then(|| picked.into_iter().next())
            .flatten()
            .and_then(|id| model.nodes.with(|n| n.iter().find(|n| n.id == id).cloned()))
    });
    view! {
        <section class="inspector" data-testid="inspector">
            {move || match chosen.get() {
                None => view! {
                    <h2 class="side-title">"Inspector"</h2>
                    <p class="muted small">"Select a node to edit its settings. Drag a kind from the palette to add one; drag from a node's right port to another's left port to connect them."</p>
                }.into_any(),
                Some(node) => view! { <NodeSettings model=model node=node problems=problems check=check/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn NodeSettings(
    model: Model,
    node: EditorNode,
    problems: Memo<Vec<Problem>>,
    check: Callback<()>,
) -> impl IntoView {
    let kind = NodeKind::parse(&node.kind);
    let fields: Vec<Field> = kind.map(|k| k.fields().to_vec()).unwrap_or_default();
    let id = node.id.clone();
    view! {
        <h2 class="side-title"><code>{id.clone()}</code> " " <span class="muted small">{node.kind.clone()}</span></h2>
        {kind.map(|k| view! { <p class="muted small">{k.describe()}</p> })}
        {fields.into_iter().map(|f| view! { <SettingInput model=model node=node.clone() field=f problems=problems check=check/> }).collect_view()}
    }
}

/// One setting: its input by kind, its help, and its problems.
#[component]
fn SettingInput(
    model: Model,
    node: EditorNode,
    field: Field,
    problems: Memo<Vec<Problem>>,
    check: Callback<()>,
) -> impl IntoView {
    let config = node.config;
    let key = field.name;
    let node_id = node.id.clone();
    let path = format!("config.{key}");
    let own = Memo::new(move |_| {
        problems.with(|all| {
            all.iter()
                .filter(|p| {
                    p.node.as_deref() == Some(node_id.as_str())
                        && p.field
                            .as_deref()
                            .is_some_and(|f| f == path || f.starts_with(&format!("{path}.")))
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    // One undo step per edit of a field, taken at its first change.
    let editing = StoredValue::new(false);
    let set = move |value: Option<Value>| {
        if !editing.get_value() {
            model.checkpoint();
            editing.set_value(true);
        }
        config.update(|c| {
            if !c.is_object() {
                *c = Value::Object(Default::default());
            }
            if let Some(map) = c.as_object_mut() {
                match value {
                    Some(v) => {
                        map.insert(key.to_owned(), v);
                    }
                    None => {
                        map.remove(key);
                    }
                }
            }
        });
    };
    let current = move || config.with(|c| c.get(key).cloned());
    let text = move || match current() {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let input_id = format!("field-{}-{}", node.id, key);
    let label = if field.required {
        format!("{} *", field.label)
    } else {
        field.label.to_owned()
    };
    let json_error = RwSignal::new(None::<String>);
    let control = match field.kind {
        FieldKind::Text => view! {
            <input id=input_id.clone() class="input" type="text" prop:value=text on:focus=move |_| editing.set_value(false)
                on:input=move |e| { let v = event_target_value(&e); set((!v.is_empty()).then_some(Value::String(v))) } data-field=key/>
        }.into_any(),
        FieldKind::Number => view! {
            <input id=input_id.clone() class="input" type="number" step="any" prop:value=text on:focus=move |_| editing.set_value(false)
                on:input=move |e| { let v = event_target_value(&e); set(v.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)) } data-field=key/>
        }.into_any(),
        FieldKind::Switch => view! {
            <input id=input_id.clone() type="checkbox" prop:checked=move || current().and_then(|v| v.as_bool()).unwrap_or(true)
                on:change=move |e| { editing.set_value(false); set(Some(Value::Bool(event_target_checked(&e)))) } data-field=key/>
        }.into_any(),
        FieldKind::Choice(options) => view! {
            <select id=input_id.clone() class="input" on:focus=move |_| editing.set_value(false)
                on:change=move |e| { let v = event_target_value(&e); set((!v.is_empty()).then_some(Value::String(v))) } data-field=key>
                <option value="" selected=move || text().is_empty()>"—"</option>
                {options.iter().map(|o| { let o = *o; view! { <option value=o selected=move || text() == o>{o}</option> } }).collect_view()}
            </select>
        }.into_any(),
        FieldKind::Json => {
            let initial = current().map(|v| serde_json::to_string_pretty(&v).unwrap_or_default()).unwrap_or_default();
            view! {
                <textarea id=input_id.clone() class="input code" rows="4" on:focus=move |_| editing.set_value(false)
                    on:input=move |e| {
                        let v = event_target_value(&e);
                        if v.trim().is_empty() {
                            json_error.set(None);
                            set(None);
                        } else {
                            match serde_json::from_str::<Value>(&v) {
                                Ok(parsed) => { json_error.set(None); set(Some(parsed)) }
                                Err(err) => json_error.set(Some(format!("not JSON yet: {err}"))),
                            }
                        }
                    } data-field=key>{initial}</textarea>
            }.into_any()
        }
        FieldKind::Code => view! { <ScriptEditor id=input_id.clone() source=Signal::derive(text) set=Callback::new(move |v: String| set(Some(Value::String(v))))
            started=Callback::new(move |_: ()| editing.set_value(false)) problems=own check=check/> }.into_any(),
    };
    view! {
        <div class="setting">
            <label class="label" for=input_id>{label}</label>
            {control}
            {move || json_error.get().map(|m| view! { <p class="field-error">{m}</p> })}
            {move || {
                let list = own.get();
                if list.is_empty() {
                    (!field.help.is_empty()).then(|| view! { <p class="hint">{field.help}</p> }.into_any())
                } else {
                    Some(list.into_iter().map(|p| view! { <p class="field-error" data-testid="field-problem">{p.message}</p> }).collect_view().into_any())
                }
            }}
        </div>
    }
}

/// A script's editor: line numbers beside the text, the line of a syntax error marked.
/// Leaving it checks the syntax on the server (the same check a save makes).
#[component]
fn ScriptEditor(
    id: String,
    source: Signal<String>,
    set: Callback<String>,
    started: Callback<()>,
    problems: Memo<Vec<Problem>>,
    check: Callback<()>,
) -> impl IntoView {
    let initial = source.get_untracked();
    let lines = Memo::new(move |_| source.with(|s| s.split('\n').count().max(1)));
    let bad_line = Memo::new(move |_| problems.with(|p| p.iter().find_map(|p| p.line)));
    view! {
        <div class="script-editor" data-testid="script-editor">
            <div class="gutter" aria-hidden="true">
                {move || (1..=lines.get()).map(|n| {
                    let class = if bad_line.get() == Some(n as u32) { "line error" } else { "line" };
                    view! { <span class=class data-line=n>{n}</span> }
                }).collect_view()}
            </div>
            <textarea id=id class="input code script" rows="12" spellcheck="false"
                on:focus=move |_| started.run(())
                on:input=move |e| set.run(event_target_value(&e))
                on:blur=move |_| check.run(())
                data-field="source">{initial}</textarea>
        </div>
    }
}

#[component]
fn RunForm(slug: String, id: String, dirty: RwSignal<bool>) -> impl IntoView {
    let start = ServerAction::<StartRun>::new();
    let navigate = use_navigate();
    let value = start.value();
    {
        let (slug, id) = (slug.clone(), id.clone());
        Effect::new(move |_| {
            if let Some(Ok(run)) = value.get() {
                navigate(
                    &format!("/w/{slug}/pipelines/{id}/runs/{}", run.id),
                    Default::default(),
                );
            }
        });
    }
    let input = RwSignal::new("{}".to_owned());
    let go = move |_| {
        start.dispatch(StartRun {
            slug: slug.clone(),
            id: id.clone(),
            input: input.get_untracked(),
        });
    };
    view! {
        <section class="run-form">
            <h2 class="side-title">"Run"</h2>
            <p class="muted small">"Runs the live version with this input (JSON)."</p>
            {move || dirty.get().then(|| view! { <p class="banner">"Unsaved changes: save first to run them."</p> })}
            <label class="label" for="run-input">"Input"</label>
            <textarea id="run-input" class="input code" rows="6" prop:value=move || input.get()
                on:input=move |e| input.set(event_target_value(&e)) data-testid="run-input"></textarea>
            {move || value.get().and_then(Result::err).map(|e| view! { <p class="field-error" role="alert">{e.message()}</p> })}
            <button class="button primary" on:click=go disabled=move || start.pending().get() data-testid="start-run">"Start run"</button>
        </section>
    }
}

#[component]
fn Versions(model: Model, versions: RwSignal<Vec<VersionView>>) -> impl IntoView {
    let compared = RwSignal::new(None::<i64>);
    view! {
        <section class="versions">
            <h2 class="side-title">"Versions"</h2>
            <p class="muted small">"Compare a version with the editor's graph, or restore it into the editor (saving makes it a new version)."</p>
            <ul class="version-list">
                {move || versions.get().into_iter().map(|v| {
                    let number = v.version;
                    let graph = v.graph.clone();
                    let restore = move |_| {
                        model.checkpoint();
                        model.load(&graph);
                    };
                    view! {
                        <li>
                            <strong>{format!("v{number}")}</strong>
                            {v.live.then(|| view! { " " <span class="badge">"live"</span> })}
                            " " <span class="muted small"><Timestamp at=v.created_at.clone() precision=Precision::Minute/></span>
                            <div class="row-actions">
                                <button class="button small" on:click=move |_| compared.set(Some(number))>"Compare"</button>
                                <button class="button small" on:click=restore>"Restore"</button>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || compared.get().and_then(|n| versions.with(|vs| vs.iter().find(|v| v.version == n).cloned())).map(|v| {
                let changes = diff(&v.graph, &model.snapshot());
                view! {
                    <h3 class="side-title">{format!("v{} → editor", v.version)}</h3>
                    {if changes.is_empty() {
                        view! { <p class="muted small">"No differences."</p> }.into_any()
                    } else {
                        view! { <pre class="diff" data-testid="diff">{changes.iter().map(|c| c.describe()).collect::<Vec<_>>().join("\n")}</pre> }.into_any()
                    }}
                }
            })}
        </section>
    }
}

#[component]
fn Import(model: Model) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let import = move |_| match serde_json::from_str::<Graph>(&text.get_untracked()) {
        Ok(graph) => {
            model.checkpoint();
            model.load(&graph);
            error.set(None);
        }
        Err(e) => error.set(Some(format!("Not a pipeline graph: {e}"))),
    };
    view! {
        <section>
            <h2 class="side-title">"Import"</h2>
            <p class="muted small">"Paste a graph ({\"nodes\": [...], \"edges\": [...]}); it replaces the editor's (undo brings it back)."</p>
            <textarea class="input code" rows="10" on:input=move |e| text.set(event_target_value(&e)) data-testid="import-text"></textarea>
            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <button class="button primary" on:click=import data-testid="import">"Import"</button>
        </section>
    }
}

#[component]
fn Export(model: Model) -> impl IntoView {
    let json = serde_json::to_string_pretty(&model.snapshot()).unwrap_or_default();
    let href = format!("data:application/json;charset=utf-8,{}", percent(&json));
    view! {
        <section>
            <h2 class="side-title">"Export"</h2>
            <a class="button" href=href download="pipeline.json">"Download pipeline.json"</a>
            <textarea class="input code" rows="14" readonly data-testid="export-text">{json}</textarea>
        </section>
    }
}

#[component]
fn RecentRuns(slug: String, id: String) -> impl IntoView {
    let runs = {
        let (slug, id) = (slug.clone(), id.clone());
        Resource::new(|| (), move |_| list_runs(slug.clone(), id.clone()))
    };
    view! {
        <section>
            <h2 class="side-title">"Runs"</h2>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || {
                    let (slug, id) = (slug.clone(), id.clone());
                    Suspend::new(async move {
                        match runs.await {
                            Ok(list) if list.is_empty() => view! { <p class="muted small">"Not run yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="run-list">
                                    {list.into_iter().map(|r| view! {
                                        <li>
                                            <A href=format!("/w/{slug}/pipelines/{id}/runs/{}", r.id)><RunBadge status=r.status/></A>
                                            " " {format!("v{} · {}", r.version, r.trigger)} " "
                                            <span class="muted small"><Timestamp at=r.created_at precision=Precision::Second/></span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// Percent-encodes everything but unreserved characters (for a `data:` URL).
fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
