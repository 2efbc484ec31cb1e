//! `/w/:slug`: the workspace dashboard.

use super::api::get_workspace;
use super::frame::use_slug;
use super::roles::RoleBadge;
use crate::components::{Loaded, Timestamp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::roles::Permission;

/// Workspace overview.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let slug = use_slug();
    let workspace = Resource::new(slug, get_workspace);
    view! {
        <Loaded resource=workspace let:ws>
            {
                let base = format!("/w/{}", ws.slug);
                let admin = ws.role.allows(Permission::ManageMembers);
                view! {
                    <Title text=ws.name.clone()/>
                    <div class="page-head">
                        <h1>{ws.name.clone()}</h1>
                        <p class="muted">"Workspace " <code>{ws.slug.clone()}</code></p>
                    </div>
                    <dl class="stats">
                        <div class="stat"><dt>"Your role"</dt><dd><RoleBadge role=ws.role/></dd></div>
                        <div class="stat"><dt>"Members"</dt><dd data-testid="member-count">{ws.member_count}</dd></div>
                        <div class="stat"><dt>"Created"</dt><dd><Timestamp at=ws.created_at.clone()/></dd></div>
                    </dl>
                    <h2>"Get started"</h2>
                    <div class="card-grid">
                        <A href=format!("{base}/members") attr:class="card link-card">
                            <span class="card-title">"Members"</span>
                            <span class="muted small">{if admin { "Invite teammates and set their roles." } else { "See who is in this workspace." }}</span>
                        </A>
                        <Show when=move || admin>
                            <A href=format!("{base}/api-keys") attr:class="card link-card">
                                <span class="card-title">"API keys"</span>
                                <span class="muted small">"Call the REST API from scripts and CI with a key of this workspace."</span>
                            </A>
                        </Show>
                    </div>
                }
            }
        </Loaded>
    }
    .into_any()
}
