//! `/w/:slug/deploys`: the plan (what a deploy would add, change field by field, and
//! remove, and what refuses it), Deploy, and the history with each deploy's manifest and
//! rollback.

use super::api::{get_manifest, get_plan, list_deploys, Deploy, Rollback};
use crate::components::{
    form_error, Card, ConfirmButton, DataTable, Listing, Loaded, PageHead, Precision, Timestamp,
};
use crate::tenancy::api::get_workspace;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use shared::roles::Permission;
use shared::routes::views::{DeployView, PlanView};
use shared::routes::{Change, ChangeKind};

/// Plan, deploy, history.
#[component]
pub fn DeploysPage() -> impl IntoView {
    let slug = use_slug();
    let deploy = ServerAction::<Deploy>::new();
    let rollback = ServerAction::<Rollback>::new();
    let workspace = Resource::new(slug, get_workspace);
    let changed = move || (slug(), deploy.version().get(), rollback.version().get());
    let plan = Resource::new(changed, |(s, _, _)| get_plan(s));
    let history = Resource::new(changed, |(s, _, _)| list_deploys(s));
    view! {
        <PageHead title="Deploys">"A deploy turns the drafts (routes, topics, subscribers) into one manifest and switches the gateway to it at once; requests in flight finish on the version they started with. Rolling back deploys an earlier manifest again."</PageHead>
        <Loaded resource=workspace let:ws>
            {
                let developer = ws.role.allows(Permission::Develop);
                view! {
                    <Loaded resource=plan let:plan>
                        <PlanCard plan=plan developer=developer deploy=deploy/>
                    </Loaded>
                    {move || deploy.value().get().and_then(Result::ok).map(|d| view! {
                        <p class="banner success" role="status" data-testid="deployed">{format!("Version {} is live.", d.version)}</p>
                    })}
                    {move || rollback.value().get().and_then(Result::ok).map(|d| view! {
                        <p class="banner success" role="status" data-testid="rolled-back">{format!("Rolled back: version {} is live.", d.version)}</p>
                    })}
                    <h2>"History"</h2>
                    <Listing items=history empty="No deploys yet" hint=|| "The first deploy appears here." let:list>
                        <DataTable label="Deploys" columns=&["Version", "Changes", "Hash", "By", "When", ""] actions=developer testid="deploys">
                            {list.into_iter().map(|d| view! { <DeployRow deploy=d developer=developer rollback=rollback/> }).collect_view()}
                        </DataTable>
                    </Listing>
                }
            }
        </Loaded>
    }
    .into_any()
}

#[component]
fn PlanCard(plan: PlanView, developer: bool, deploy: ServerAction<Deploy>) -> impl IntoView {
    let slug = use_slug();
    let nothing = plan.changes.is_empty();
    let blocked = !plan.problems.is_empty();
    let about = match plan.live_version {
        Some(v) => format!(
            "Against version {v}, live now. Drafts' hash {}.",
            short(&plan.hash)
        ),
        None => format!("Nothing is live yet. Drafts' hash {}.", short(&plan.hash)),
    };
    view! {
        <Card id="plan" title="Plan" error=form_error(deploy.value())>
            <p class="muted small">{about}</p>
            {if nothing {
                view! { <p data-testid="plan-empty">"No changes: the drafts are what is live."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list" data-testid="plan-changes">
                        {plan.changes.into_iter().map(|c| view! { <ChangeItem change=c/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {blocked.then(|| view! {
                <div class="banner error" role="alert" data-testid="plan-problems">
                    <p><strong>{format!("{} problem(s) refuse this deploy:", plan.problems.len())}</strong></p>
                    <ul class="plain-list">
                        {plan.problems.into_iter().map(|p| view! {
                            <li><code>{p.name}</code> {p.field.map(|f| format!(" ({f})"))} ": " {p.message}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            {(developer && !nothing).then(|| view! {
                <ActionForm action=deploy>
                    <input type="hidden" name="slug" value=slug()/>
                    <button type="submit" class="button primary" disabled=blocked data-testid="deploy">"Deploy"</button>
                </ActionForm>
            })}
        </Card>
    }
    .into_any()
}

#[component]
fn ChangeItem(change: Change) -> impl IntoView {
    let (sign, class) = match change.change {
        ChangeKind::Add => ("+ add", "change-add"),
        ChangeKind::Change => ("~ change", "change-change"),
        ChangeKind::Remove => ("− remove", "change-remove"),
    };
    let kind = change.kind.as_str();
    let text =
        |v: Option<serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_else(|| "—".to_owned());
    view! {
        <li>
            <strong class=class>{sign}</strong> " " {kind} " " <code>{change.name}</code>
            {(!change.diff.is_empty()).then(|| view! {
                <ul class="field-diff">
                    {change.diff.into_iter().map(|d| view! {
                        <li>{d.field} ": " <del>{text(d.before)}</del> " → " <ins>{text(d.after)}</ins></li>
                    }).collect_view()}
                </ul>
            })}
        </li>
    }
}

#[component]
fn DeployRow(
    deploy: DeployView,
    developer: bool,
    rollback: ServerAction<Rollback>,
) -> impl IntoView {
    let slug = use_slug();
    let shown = RwSignal::new(false);
    let id = deploy.id.clone();
    let manifest = Resource::new(
        move || shown.get().then(|| (slug(), id.clone())),
        |which| async move {
            match which {
                Some((s, i)) => get_manifest(s, i).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let s = deploy.summary;
    let mut changes = format!("+{} ~{} −{}", s.added, s.changed, s.removed);
    if let Some(to) = deploy.rollback_to {
        changes.push_str(&format!(" (rollback to v{to})"));
    }
    view! {
        <tr>
            <td>{format!("v{}", deploy.version)} {deploy.live.then(|| view! { " " <span class="badge status-succeeded">"live"</span> })}</td>
            <td>{changes}</td>
            <td><code title=deploy.hash.clone()>{short(&deploy.hash)}</code></td>
            <td class="small">{deploy.created_by.clone()}</td>
            <td class="muted small"><Timestamp at=deploy.created_at.clone() precision=Precision::Minute/></td>
            <td>
                <button type="button" class="button small" on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { "Hide manifest" } else { "Manifest" }}
                </button>
                " " <a class="button small" href=format!("/api/v1/workspaces/{}/deploys/{}/manifest", slug(), deploy.id)
                    download=format!("{}-manifest-v{}.json", slug(), deploy.version)>"Download"</a>
                <Show when=move || shown.get()>
                    <Loaded resource=manifest let:json>
                        <pre class="log">{json.unwrap_or_default()}</pre>
                    </Loaded>
                </Show>
            </td>
            {developer.then(|| view! {
                <td class="actions">
                    {(!deploy.live).then(|| view! {
                        <ActionForm action=rollback>
                            <input type="hidden" name="slug" value=slug()/>
                            <input type="hidden" name="id" value=deploy.id.clone()/>
                            <ConfirmButton label="Roll back" question="Make this version live again?"/>
                        </ActionForm>
                    })}
                </td>
            })}
        </tr>
    }
    .into_any()
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}
