//! `/w/:slug/code/search`: hybrid code search (keywords and meaning) with filters.

use super::api::{list_repositories, search_code};
use super::code_block::CodeBlock;
use crate::components::{EmptyState, ErrorPanel, Loading, PageHead};
use crate::error::AppError;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::code::{CodeQuery, SearchResult, DEFAULT_SEARCH_LIMIT, LANGUAGES, SYMBOL_KINDS};

/// Hybrid code search with filters. The query lives in the URL (a GET form), so a search
/// can be linked to and reloaded.
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
        limit: Some(DEFAULT_SEARCH_LIMIT),
        mode: None,
    };
    let repos = Resource::new(slug, list_repositories);
    let results = Resource::new(
        move || (slug(), code_query()),
        |(s, q)| async move {
            if q.q.trim().is_empty() {
                return Ok(None);
            }
            // The server checks the same rules; checking here first names the field at
            // fault without a round trip.
            if let Err(e) = q.validate() {
                return Err(AppError::Api(e.into()));
            }
            search_code(s, q).await.map(Some)
        },
    );
    let current = code_query();
    let (lang, kind, repo) = (
        current.lang.clone().unwrap_or_default(),
        current.kind.clone().unwrap_or_default(),
        current.repo.clone().unwrap_or_default(),
    );
    view! {
        <PageHead title="Code search">"Words, identifiers or a description of what the code does: keyword (BM25 over identifiers split into sub-words) and semantic matches, fused by rank."</PageHead>
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
                    {SYMBOL_KINDS.into_iter().map(|k| view! { <option value=k selected=kind == k>{k}</option> }).collect_view()}
                </select>
                <label for="code-path">"Path"</label>
                <input id="code-path" name="path" type="text" placeholder="src/**/*.rs" value=current.path.clone().unwrap_or_default()/>
                <button type="submit" class="button primary">"Search"</button>
            </div>
        </form>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    match results.await {
                        Ok(None) => view! { <p class="muted">"Type a query to search the workspace's repositories."</p> }.into_any(),
                        Ok(Some(r)) if r.results.is_empty() => view! {
                            <EmptyState title="No matches">"Try other words, or fewer filters."</EmptyState>
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
    .into_any()
}

/// One hit: the symbol (linking to its page), where it is, how it ranked, and the snippet
/// with the matched lines marked.
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
    .into_any()
}
