//! `/w/:slug/code`: the workspace's repositories; add one, watch its index run, re-index,
//! remove.

use super::api::{list_repositories, AddRepository, DeleteRepository, ReindexRepository};
use super::index_progress::{IndexProgress, IndexRun, RepositoryStatusBadge};
use crate::components::{
    field_error, form_error, Card, ClearOnSuccess, ConfirmButton, DataTable, Field, FormError,
    Listing, PageHead, Precision, Timestamp,
};
use crate::secrets::api::list_secrets;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::code::RepositoryView;

/// Repositories.
#[component]
pub fn RepositoriesPage() -> impl IntoView {
    let slug = use_slug();
    let add = ServerAction::<AddRepository>::new();
    let reindex = ServerAction::<ReindexRepository>::new();
    let remove = ServerAction::<DeleteRepository>::new();
    let finished = RwSignal::new(0usize);
    let repos = Resource::new(
        {
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
    view! {
        <PageHead title="Repositories">"Code the workspace searches. Each repository is parsed with tree-sitter into a code graph and embedded for semantic search; re-indexing only touches files that changed."</PageHead>
        <AddRepositoryForm add=add/>
        <FormError message=form_error(reindex.value())/>
        <FormError message=form_error(remove.value())/>
        <Listing items=repos empty="No repositories" hint=|| "Add a git URL above; the indexer clones it and builds the code graph." let:list>
            <DataTable label="Repositories" columns=&["Repository", "Status", "Index", "Commit"] actions=true testid="repositories">
                {list.into_iter().map(|r| view! {
                    <RepositoryRow repo=r slug=slug() finished=finished reindex=reindex remove=remove/>
                }).collect_view()}
            </DataTable>
        </Listing>
    }
    .into_any()
}

/// Adds a repository by git URL (the form is emptied once it is added).
#[component]
fn AddRepositoryForm(add: ServerAction<AddRepository>) -> impl IntoView {
    let slug = use_slug();
    let value = add.value();
    view! {
        <Card id="add-repo" title="Add a repository" error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=add>
                    <input type="hidden" name="slug" value=slug()/>
                    <div class="inline-form">
                        <Field label="Git URL" name="url" required=true class="wide"
                            placeholder="https://github.com/org/repo.git" server_error=field_error(value, "url")/>
                        <Field label="Branch" name="branch" class="narrow" placeholder="default"
                            server_error=field_error(value, "branch")/>
                        <CredentialPicker slug=slug() error=field_error(value, "credential")/>
                        <button type="submit" class="button primary">"Add and index"</button>
                    </div>
                </ActionForm>
            </ClearOnSuccess>
        </Card>
    }
    .into_any()
}

/// The credential of a private repository: one of the workspace's secrets, picked by name
/// (their values are never shown), or none for a public repository.
#[component]
fn CredentialPicker(slug: String, error: Signal<Option<String>>) -> impl IntoView {
    let secrets = Resource::new(move || slug.clone(), list_secrets);
    view! {
        <div class="field narrow" class:invalid=move || error.get().is_some()>
            <label for="field-credential">"Credential"</label>
            <select id="field-credential" name="credential" aria-describedby="field-credential-message">
                <option value="">"None (public)"</option>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        secrets.await.unwrap_or_default().into_iter().map(|s| {
                            let name = s.name;
                            view! { <option value=name.clone()>{name.clone()}</option> }
                        }).collect_view()
                    })}
                </Suspense>
            </select>
            <p id="field-credential-message" class=move || if error.get().is_some() { "field-message error" } else { "field-message" }>
                {move || error.get().unwrap_or_else(|| "A workspace secret holding a token, for a private repository".to_owned())}
            </p>
        </div>
    }
    .into_any()
}

/// One repository: where it comes from, its status and index run (live while it runs), its
/// commit, and Search, Re-index and Remove (behind a confirmation).
#[component]
fn RepositoryRow(
    repo: RepositoryView,
    slug: String,
    finished: RwSignal<usize>,
    reindex: ServerAction<ReindexRepository>,
    remove: ServerAction<DeleteRepository>,
) -> impl IntoView {
    let busy = repo.status.is_busy();
    let run = IndexRun::follow(slug.clone(), &repo, finished);
    let skipped = repo
        .skipped
        .iter()
        .map(|(reason, count)| format!("{count} {}", reason.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ");
    let search = format!("/w/{slug}/code/search?repo={}", repo.id);
    let (reindex_slug, reindex_id) = (slug.clone(), repo.id.clone());
    let (remove_slug, remove_id) = (slug, repo.id.clone());
    let index = if busy {
        view! { <IndexProgress progress=run.progress queue=run.queue/> }.into_any()
    } else {
        view! {
            <span data-testid="repo-counts">{repo.files_indexed} " files · " {repo.symbols} " symbols · " {repo.chunks} " chunks"</span>
            {(!skipped.is_empty()).then(|| view! { <div class="muted small">"Skipped: " {skipped.clone()}</div> })}
        }
        .into_any()
    };
    view! {
        <tr data-testid="repository">
            <td>
                <strong>{repo.name.clone()}</strong>
                <div class="muted small"><code>{repo.url.clone()}</code>{repo.branch.clone().map(|b| format!(" · {b}"))}</div>
            </td>
            <td>
                <RepositoryStatusBadge status=run.status/>
                {repo.error.clone().map(|e| view! { <div class="small error-text" data-testid="repo-error">{e}</div> })}
            </td>
            <td>{index}</td>
            <td class="muted small">
                {repo.commit.clone().map(|c| view! { <code>{c.chars().take(10).collect::<String>()}</code> })}
                {repo.indexed_at.clone().map(|t| view! { <div><Timestamp at=t precision=Precision::Second/></div> })}
            </td>
            <td class="actions">
                <div class="row-actions">
                    <A href=search>"Search"</A>
                    <ActionForm action=reindex>
                        <input type="hidden" name="slug" value=reindex_slug/>
                        <input type="hidden" name="id" value=reindex_id/>
                        <button type="submit" class="button small" disabled=busy>"Re-index"</button>
                    </ActionForm>
                    <ActionForm action=remove>
                        <input type="hidden" name="slug" value=remove_slug/>
                        <input type="hidden" name="id" value=remove_id/>
                        <ConfirmButton label="Remove" question="Remove this repository and its index?"/>
                    </ActionForm>
                </div>
            </td>
        </tr>
    }
    .into_any()
}
