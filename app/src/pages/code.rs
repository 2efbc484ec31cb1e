//! Code intelligence: `/w/:slug/code` (repositories and their index runs, with live
//! progress), `/w/:slug/code/search` (hybrid search) and `/w/:slug/code/symbols/:id` (a
//! symbol with its code, callers, callees and a small graph).

use crate::api::{
    get_symbol, list_repositories, search_code, AddRepository, DeleteRepository, ReindexRepository,
};
use crate::forms::{field_error, form_error, ErrorPanel, FormError};
use crate::frame::use_slug;
use crate::highlight;
use crate::live::follow_job;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shared::code::{
    CodeQuery, RelatedSymbol, RepositoryStatus, RepositoryView, SearchResult, SymbolDetail,
};
use shared::jobs::{JobLogEntry, JobView};

const LANGUAGES: [&str; 7] = [
    "rust",
    "python",
    "javascript",
    "typescript",
    "tsx",
    "go",
    "java",
];
const KINDS: [&str; 9] = [
    "function",
    "method",
    "class",
    "struct",
    "enum",
    "trait",
    "interface",
    "type",
    "module",
];

fn when(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or_default().replace('T', " ")
}

/// Lines of code with line numbers, highlighted, matched lines marked.
#[component]
pub fn CodeBlock(
    code: String,
    language: String,
    first_line: u32,
    #[prop(optional)] marked: Vec<u32>,
) -> impl IntoView {
    let mut in_block = false;
    let lines: Vec<_> = code
        .lines()
        .enumerate()
        .map(|(i, text)| {
            let number = first_line + i as u32;
            let pieces = highlight::line(text, &language, &mut in_block);
            let hit = marked.contains(&number);
            view! {
                <div class="code-line" class:hit=hit>
                    <span class="ln" aria-hidden="true">{number}</span>
                    <span class="lc">
                        {pieces.into_iter().map(|(token, piece)| match token {
                            highlight::Token::Plain => view! { <span>{piece}</span> }.into_any(),
                            other => view! { <span class=other.class()>{piece}</span> }.into_any(),
                        }).collect_view()}
                    </span>
                </div>
            }
        })
        .collect();
    view! { <pre class="code" data-testid="code"><code>{lines}</code></pre> }
}

#[component]
fn RepoStatus(status: RepositoryStatus) -> impl IntoView {
    view! { <span class=format!("badge repo-{}", status.as_str()) data-testid="repo-status">{status.as_str()}</span> }
}

/// A progress bar following a repository's index run live (over the job's WebSocket
/// stream); tells `done` when the run ends.
#[component]
fn RunProgress(slug: String, repo: RepositoryView, done: RwSignal<usize>) -> impl IntoView {
    let job_id = repo.job_id.clone().unwrap_or_default();
    let live_job = RwSignal::new(None::<JobView>);
    let live_lines = RwSignal::new(None::<Vec<JobLogEntry>>);
    let generation = RwSignal::new(0usize);
    {
        let slug = slug.clone();
        let job_id = job_id.clone();
        follow_job(
            move || slug.clone(),
            move || job_id.clone(),
            generation,
            live_job,
            live_lines,
        );
    }
    Effect::new(move |ended_before: Option<bool>| {
        let ended = live_job.with(|j| j.as_ref().is_some_and(|j| j.status.is_final()));
        if ended && ended_before != Some(true) {
            done.update(|n| *n += 1);
        }
        ended
    });
    let first = repo.progress.clone();
    let progress = Signal::derive(move || {
        live_job
            .with(|j| j.as_ref().and_then(|j| j.progress.clone()))
            .or_else(|| first.clone())
    });
    let percent = move || progress.with(|p| p.as_ref().and_then(|p| p.percent()).unwrap_or(0));
    let label = move || {
        progress.with(|p| match p {
            Some(p) if p.total > 0 => format!("{} {} / {}", p.phase, p.done, p.total),
            Some(p) => p.phase.clone(),
            None => "waiting for an indexer".to_owned(),
        })
    };
    view! {
        <div class="progress-wrap">
            <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || percent().to_string() data-testid="index-progress">
                <div class="progress-bar" style=move || format!("width: {}%", percent())></div>
            </div>
            <span class="muted small" data-testid="index-phase">{label}</span>
        </div>
    }
}

/// Repositories: add one, watch its index run, re-index, remove.
#[component]
pub fn RepositoriesPage() -> impl IntoView {
    let slug = use_slug();
    let add = ServerAction::<AddRepository>::new();
    let reindex = ServerAction::<ReindexRepository>::new();
    let remove = ServerAction::<DeleteRepository>::new();
    let finished = RwSignal::new(0usize);
    let repos = Resource::new(
        {
            let slug = slug.clone();
            move || {
                (
                    slug(),
                    add.version().get(),
                    reindex.version().get(),
                    remove.version().get(),
                    finished.get(),
                )
            }
        },
        |(s, ..)| list_repositories(s),
    );
    let form_slug = slug();
    view! {
        <Title text="Repositories"/>
        <div class="page-head">
            <h1>"Repositories"</h1>
            <p class="muted">"Code the workspace searches. Each repository is parsed with tree-sitter into a code graph and embedded for semantic search; re-indexing only touches files that changed."</p>
        </div>
        <section class="card" aria-labelledby="add-repo">
            <h2 id="add-repo">"Add a repository"</h2>
            <FormError message=form_error(add.value())/>
            <ActionForm action=add>
                <input type="hidden" name="slug" value=form_slug.clone()/>
                <div class="inline-form">
                    <div class="field wide" class:invalid=move || field_error(add.value(), "url").get().is_some()>
                        <label for="repo-url">"Git URL"</label>
                        <input id="repo-url" name="url" type="text" required placeholder="https://github.com/org/repo.git"/>
                        {move || field_error(add.value(), "url").get().map(|m| view! { <p class="field-error">{m}</p> })}
                    </div>
                    <div class="field narrow">
                        <label for="repo-branch">"Branch"</label>
                        <input id="repo-branch" name="branch" type="text" placeholder="default"/>
                    </div>
                    <button type="submit" class="button primary">"Add and index"</button>
                </div>
            </ActionForm>
        </section>
        <FormError message=form_error(reindex.value())/>
        <FormError message=form_error(remove.value())/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    match repos.await {
                        Ok(list) if list.is_empty() => view! {
                            <div class="empty">
                                <p class="empty-title">"No repositories"</p>
                                <p class="muted">"Add a git URL above; the indexer clones it and builds the code graph."</p>
                            </div>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table" data-testid="repositories">
                                <thead><tr><th>"Repository"</th><th>"Status"</th><th>"Index"</th><th>"Commit"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|r| {
                                        let busy = r.status.is_busy();
                                        let (slug1, slug2, slug3, slug4) = (slug.clone(), slug.clone(), slug.clone(), slug.clone());
                                        let (id1, id2) = (r.id.clone(), r.id.clone());
                                        let skipped = r.skipped.iter().map(|(k, v)| format!("{v} {}", k.replace('_', " "))).collect::<Vec<_>>().join(", ");
                                        view! {
                                            <tr data-testid="repository">
                                                <td>
                                                    <strong>{r.name.clone()}</strong>
                                                    <div class="muted small"><code>{r.url.clone()}</code>{r.branch.clone().map(|b| format!(" · {b}"))}</div>
                                                </td>
                                                <td>
                                                    <RepoStatus status=r.status/>
                                                    {r.error.clone().map(|e| view! { <div class="small error-text" data-testid="repo-error">{e}</div> })}
                                                </td>
                                                <td>
                                                    {if busy {
                                                        view! { <RunProgress slug=slug1 repo=r.clone() done=finished/> }.into_any()
                                                    } else {
                                                        view! {
                                                            <span data-testid="repo-counts">{r.files_indexed} " files · " {r.symbols} " symbols · " {r.chunks} " chunks"</span>
                                                            {(!skipped.is_empty()).then(|| view! { <div class="muted small">"Skipped: " {skipped.clone()}</div> })}
                                                        }.into_any()
                                                    }}
                                                </td>
                                                <td class="muted small">
                                                    {r.commit.clone().map(|c| view! { <code>{c.chars().take(10).collect::<String>()}</code> })}
                                                    {r.indexed_at.clone().map(|t| view! { <div>{when(&t)}</div> })}
                                                </td>
                                                <td class="actions">
                                                    <A href=format!("/w/{slug2}/code/search?repo={}", r.id)>"Search"</A>
                                                    <ActionForm action=reindex>
                                                        <input type="hidden" name="slug" value=slug3/>
                                                        <input type="hidden" name="id" value=id1/>
                                                        <button type="submit" class="button small" disabled=busy>"Re-index"</button>
                                                    </ActionForm>
                                                    <ActionForm action=remove>
                                                        <input type="hidden" name="slug" value=slug4/>
                                                        <input type="hidden" name="id" value=id2/>
                                                        <button type="submit" class="button small danger">"Remove"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn ResultCard(slug: String, hit: SearchResult) -> impl IntoView {
    let href = format!("/w/{slug}/code/symbols/{}", hit.symbol_id);
    let how = match (hit.keyword_rank, hit.vector_rank) {
        (Some(k), Some(v)) => format!("keyword #{k} · semantic #{v}"),
        (Some(k), None) => format!("keyword #{k}"),
        (None, Some(v)) => format!("semantic #{v}"),
        (None, None) => String::new(),
    };
    view! {
        <article class="result" data-testid="search-result">
            <header>
                <A href=href><strong class="result-symbol">{hit.symbol.clone()}</strong></A>
                <span class="badge">{hit.kind.clone()}</span>
                <span class="muted small"><code>{format!("{}:{}-{}", hit.path, hit.line_start, hit.line_end)}</code> " · " {hit.language.clone()} " · " {how}</span>
            </header>
            <CodeBlock code=hit.snippet.clone() language=hit.language.clone() first_line=hit.snippet_line_start marked=hit.matched_lines.clone()/>
        </article>
    }
}

/// Hybrid code search with filters.
#[component]
pub fn SearchPage() -> impl IntoView {
    let slug = use_slug();
    let query = use_query_map();
    let get = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let code_query = move || CodeQuery {
        q: get("q").unwrap_or_default(),
        repo: get("repo"),
        lang: get("lang"),
        kind: get("kind"),
        path: get("path"),
        limit: Some(20),
        mode: None,
    };
    let repos = Resource::new(
        {
            let slug = slug.clone();
            move || slug()
        },
        list_repositories,
    );
    let results = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), code_query())
        },
        |(s, q)| async move {
            if q.q.trim().is_empty() {
                Ok(None)
            } else {
                search_code(s, q).await.map(Some)
            }
        },
    );
    let current = code_query();
    let (lang, kind, repo) = (
        current.lang.clone().unwrap_or_default(),
        current.kind.clone().unwrap_or_default(),
        current.repo.clone().unwrap_or_default(),
    );
    view! {
        <Title text="Code search"/>
        <div class="page-head">
            <h1>"Code search"</h1>
            <p class="muted">"Words, identifiers or a description of what the code does: keyword (BM25 over identifiers split into sub-words) and semantic matches, fused by rank."</p>
        </div>
        <form method="get" class="search-form" role="search" aria-label="Search code">
            <input id="code-q" name="q" type="search" class="search-box" placeholder="e.g. parse a config file" value=current.q.clone() aria-label="Query"/>
            <div class="filters">
                <label for="code-repo">"Repository"</label>
                <select id="code-repo" name="repo">
                    <option value="">"All"</option>
                    <Suspense fallback=|| ()>
                        {
                            let repo = repo.clone();
                            move || {
                                let repo = repo.clone();
                                Suspend::new(async move {
                                    repos.await.unwrap_or_default().into_iter().map(|r| {
                                        let selected = r.id == repo;
                                        view! { <option value=r.id.clone() selected=selected>{r.name.clone()}</option> }
                                    }).collect_view()
                                })
                            }
                        }
                    </Suspense>
                </select>
                <label for="code-lang">"Language"</label>
                <select id="code-lang" name="lang">
                    <option value="">"Any"</option>
                    {LANGUAGES.into_iter().map(|l| view! { <option value=l selected=lang == l>{l}</option> }).collect_view()}
                </select>
                <label for="code-kind">"Kind"</label>
                <select id="code-kind" name="kind">
                    <option value="">"Any"</option>
                    {KINDS.into_iter().map(|k| view! { <option value=k selected=kind == k>{k}</option> }).collect_view()}
                </select>
                <label for="code-path">"Path"</label>
                <input id="code-path" name="path" type="text" placeholder="src/**/*.rs" value=current.path.clone().unwrap_or_default()/>
                <button type="submit" class="button primary">"Search"</button>
            </div>
        </form>
        <Suspense fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    match results.await {
                        Ok(None) => view! { <p class="muted">"Type a query to search the workspace's repositories."</p> }.into_any(),
                        Ok(Some(r)) if r.results.is_empty() => view! {
                            <div class="empty"><p class="empty-title">"No matches"</p><p class="muted">"Try other words, or fewer filters."</p></div>
                        }.into_any(),
                        Ok(Some(r)) => view! {
                            <p class="muted small" data-testid="search-mode">{format!("{} results · {} search", r.results.len(), r.mode)}</p>
                            <div class="results">
                                {r.results.into_iter().map(|hit| view! { <ResultCard slug=slug.clone() hit=hit/> }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

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
}

/// Callers on the left, callees on the right, the symbol in the middle; each node links to
/// its symbol page.
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
                view! {
                    <line x1=x1 y1=y x2=x2 y2=center_y class="edge" stroke-opacity=opacity/>
                    <a href=href>
                        <rect x=x y=y - 12.0 width="200" height="24" rx="5" class="node"/>
                        <text x=x + 100.0 y=y + 4.0 text-anchor="middle" class="node-label">{label(&r.symbol.qualified)}</text>
                        <title>{format!("{} ({}:{}) · confidence {:.2}", r.symbol.qualified, r.symbol.path, r.symbol.line_start, r.confidence)}</title>
                    </a>
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
}

/// One symbol: signature, docs, code, callers and callees.
#[component]
pub fn SymbolPage() -> impl IntoView {
    let slug = use_slug();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), id())
        },
        |(s, id)| get_symbol(s, id),
    );
    view! {
        <Title text="Symbol"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    match detail.await {
                        Ok(d) => {
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
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
