//! The frame around signed-in pages: the top bar, and for workspace pages the side
//! navigation. Pages behind it redirect to the login page when the session is gone.

use crate::api::{current_user, get_workspace, LogOut};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::{use_location, use_params_map};
use shared::roles::{Permission, Role};

/// Top bar and page body for a signed-in user; sends others to the login page.
#[component]
pub fn AppFrame(children: ChildrenFn) -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    let location = use_location();
    let logout = ServerAction::<LogOut>::new();
    view! {
        <header class="topbar">
            <A href="/workspaces" attr:class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Switchyard"
            </A>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(me) => view! {
                            <nav class="topbar-user" aria-label="Account">
                                <A href="/account" attr:class="user-link">{me.user.name.clone()}</A>
                                <ActionForm action=logout>
                                    <button type="submit" class="button ghost">"Log out"</button>
                                </ActionForm>
                            </nav>
                        }.into_any(),
                        Err(e) if e.is_unauthorized() => {
                            let next = location.pathname.get_untracked();
                            view! { <Redirect path=format!("/login?next={next}")/> }.into_any()
                        }
                        Err(e) => view! { <span class="banner error">{e.to_string()}</span> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="page">{children()}</main>
    }
}

/// A workspace's pages: side navigation (only the pages the caller's role can use) and the
/// selected page.
#[component]
pub fn WorkspaceFrame() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let workspace = Resource::new(slug, get_workspace);
    view! {
        <AppFrame>
            <div class="workspace-layout">
                <aside class="sidebar">
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match workspace.await {
                                Ok(ws) => {
                                    let base = format!("/w/{}", ws.slug);
                                    let admin = ws.role.allows(Permission::ManageApiKeys);
                                    view! {
                                        <div class="sidebar-head">
                                            <p class="sidebar-title">{ws.name.clone()}</p>
                                            <p class="muted small">{ws.slug.clone()} " · " <RoleBadge role=ws.role/></p>
                                        </div>
                                        <nav class="sidebar-nav" aria-label="Workspace">
                                            <A href=base.clone() exact=true>"Overview"</A>
                                            <A href=format!("{base}/members")>"Members"</A>
                                            <A href=format!("{base}/jobs")>"Jobs"</A>
                                            <A href=format!("{base}/workers")>"Workers"</A>
                                            <A href=format!("{base}/code") exact=true>"Repositories"</A>
                                            <A href=format!("{base}/code/search")>"Code search"</A>
                                            <Show when=move || admin>
                                                <A href=format!("{base}/api-keys")>"API keys"</A>
                                                <A href=format!("{base}/settings")>"Settings"</A>
                                            </Show>
                                        </nav>
                                    }.into_any()
                                }
                                Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <A href="/workspaces" attr:class="sidebar-back">"← All workspaces"</A>
                </aside>
                <section class="workspace-content">
                    <Outlet/>
                </section>
            </div>
        </AppFrame>
    }
}

/// A role as a small label.
#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    view! { <span class=format!("badge role-{}", role.as_str())>{role.as_str()}</span> }
}

/// The workspace slug of the current route.
pub fn use_slug() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("slug").unwrap_or_default()
}
