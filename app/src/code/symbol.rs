//! `/w/:slug/code/symbols/:id`: a symbol with its signature, docs, code, callers, callees
//! and a small call graph.

use super::api::get_symbol;
use super::code_block::CodeBlock;
use crate::components::Loaded;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos::svg;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::code::{RelatedSymbol, SymbolDetail};

/// One symbol: signature, docs, code, callers and callees.
#[component]
pub fn SymbolPage() -> impl IntoView {
    let slug = use_slug();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(move || (slug(), id()), |(s, id)| get_symbol(s, id));
    view! {
        <Title text="Symbol"/>
        <Loaded resource=detail let:d>
            <SymbolDetailView slug=slug() detail=d/>
        </Loaded>
    }
    .into_any()
}

/// The symbol's page body.
#[component]
fn SymbolDetailView(slug: String, detail: SymbolDetail) -> impl IntoView {
    let d = detail;
    let s = d.symbol.clone();
    view! {
        <div class="page-head">
            <p class="muted small">
                <A href=format!("/w/{slug}/code/search?repo={}", s.repo_id)>"Search"</A>
                " / " <code>{format!("{}:{}", s.path, s.line_start)}</code>
                {d.parent.clone().filter(|p| p.kind != "file").map(|p| view! { " in " <A href=format!("/w/{slug}/code/symbols/{}", p.id)>{p.qualified.clone()}</A> })}
            </p>
            <h1 data-testid="symbol-name">{s.qualified.clone()}</h1>
            <p>
                <span class="badge">{s.kind.clone()}</span> " "
                <span class="badge">{s.visibility.clone()}</span> " "
                <span class="muted small">{s.language.clone()}</span>
            </p>
        </div>
        {(!s.signature.is_empty()).then(|| view! { <pre class="signature" data-testid="signature"><code>{s.signature.clone()}</code></pre> })}
        {(!s.doc.is_empty()).then(|| view! { <div class="doc" data-testid="symbol-doc">{s.doc.clone()}</div> })}
        <CallGraph slug=slug.clone() detail=d.clone()/>
        <div class="two-col">
            <RelatedList slug=slug.clone() title="Callers" testid="callers" items=d.callers.clone() empty="Nothing in the index calls it."/>
            <RelatedList slug=slug.clone() title="Callees" testid="callees" items=d.callees.clone() empty="It calls nothing the index knows."/>
        </div>
        {(!d.references.is_empty()).then(|| view! { <RelatedList slug=slug.clone() title="Used by" testid="references" items=d.references.clone() empty=""/> })}
        {(!d.uses.is_empty()).then(|| view! { <RelatedList slug=slug.clone() title="Uses" testid="uses" items=d.uses.clone() empty=""/> })}
        <h2>"Code"</h2>
        {match d.code.clone() {
            Some(code) => view! { <CodeBlock code=code language=s.language.clone() first_line=d.code_line_start/> }.into_any(),
            None => view! { <p class="muted">"This symbol has no code of its own in the index (a module or file)."</p> }.into_any(),
        }}
    }
    .into_any()
}

/// Symbols related to this one (callers, callees, uses), each linking to its page.
#[component]
fn RelatedList(
    slug: String,
    title: &'static str,
    testid: &'static str,
    items: Vec<RelatedSymbol>,
    empty: &'static str,
) -> impl IntoView {
    view! {
        <section class="card related" data-testid=testid>
            <h2>{title} " " <span class="muted small">{items.len()}</span></h2>
            {if items.is_empty() {
                view! { <p class="muted small">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="related-list">
                        {items.into_iter().map(|r| view! {
                            <li>
                                <A href=format!("/w/{slug}/code/symbols/{}", r.symbol.id)>{r.symbol.qualified.clone()}</A>
                                <span class="muted small">
                                    " " {r.symbol.kind.clone()} " · " <code>{format!("{}:{}", r.symbol.path, r.line)}</code>
                                    {(r.relation != "calls").then(|| format!(" · {}", r.relation))}
                                    {format!(" · confidence {:.2}", r.confidence)}
                                </span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// Callers on the left, callees on the right, the symbol in the middle; each node links to
/// its symbol page.
///
/// A node's link and tooltip are built with `leptos::svg`: `a` and `title` exist in HTML and
/// SVG alike, and `view!` creates them as HTML elements when it renders in the browser (a
/// client-side navigation), where an HTML `<a>` inside `<svg>` draws nothing: its boxes
/// measure 0×0. Server-rendered markup is parsed by the browser, which gets them right.
#[component]
fn CallGraph(slug: String, detail: SymbolDetail) -> impl IntoView {
    const WIDTH: f64 = 720.0;
    const ROW: f64 = 34.0;
    let callers: Vec<_> = detail.callers.iter().take(8).cloned().collect();
    let callees: Vec<_> = detail.callees.iter().take(8).cloned().collect();
    let rows = callers.len().max(callees.len()).max(1) as f64;
    let height = rows * ROW + 20.0;
    let center_y = height / 2.0;
    let label = |s: &str| -> String {
        if s.chars().count() > 26 {
            format!("{}…", s.chars().take(25).collect::<String>())
        } else {
            s.to_owned()
        }
    };
    let side = |items: Vec<RelatedSymbol>, x: f64, left: bool| {
        let n = items.len() as f64;
        let slug = slug.clone();
        items
            .into_iter()
            .enumerate()
            .map(move |(i, r)| {
                let y = center_y + (i as f64 - (n - 1.0) / 2.0) * ROW;
                let (x1, x2) = if left { (x + 200.0, WIDTH / 2.0 - 90.0) } else { (WIDTH / 2.0 + 90.0, x) };
                let href = format!("/w/{slug}/code/symbols/{}", r.symbol.id);
                let opacity = format!("{:.2}", 0.35 + 0.65 * r.confidence);
                let tooltip = format!(
                    "{} ({}:{}) · confidence {:.2}",
                    r.symbol.qualified, r.symbol.path, r.symbol.line_start, r.confidence
                );
                let link = svg::a()
                    .attr("href", href)
                    .attr("data-testid", "graph-node")
                    .child((
                        view! { <rect x=x y=y - 12.0 width="200" height="24" rx="5" class="node"/> },
                        view! { <text x=x + 100.0 y=y + 4.0 text-anchor="middle" class="node-label">{label(&r.symbol.qualified)}</text> },
                        svg::title().child(tooltip),
                    ));
                view! {
                    <g class="graph-node">
                        <line x1=x1 y1=y x2=x2 y2=center_y class="edge" stroke-opacity=opacity/>
                        {link}
                    </g>
                }
            })
            .collect_view()
    };
    let left = side(callers, 10.0, true);
    let right = side(callees, WIDTH - 210.0, false);
    view! {
        <svg class="call-graph" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label="Callers and callees" data-testid="call-graph">
            {left}
            {right}
            <rect x=WIDTH / 2.0 - 90.0 y=center_y - 14.0 width="180" height="28" rx="6" class="node focus"/>
            <text x=WIDTH / 2.0 y=center_y + 5.0 text-anchor="middle" class="node-label focus">{label(&detail.symbol.qualified)}</text>
        </svg>
    }
    .into_any()
}
