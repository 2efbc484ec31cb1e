//! The frames around signed-in pages: the top bar (who is signed in; log out), and for
//! workspace pages the side navigation. Pages inside the top bar send a signed-out visitor
//! to the login page.

use super::api::{current_user, get_workspace};
use super::roles::RoleBadge;
use crate::accounts::api::LogOut;
use crate::components::{ErrorPanel, Loading, RedirectTo};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_location, use_params_map};
use shared::api::Workspace;
use shared::roles::Permission;

/// Top bar and page body for a signed-in user; sends others to the login page (and back
/// here once signed in).
#[component]
pub fn AppFrame(children: Children) -> impl IntoView {
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
                            view! { <RedirectTo path=format!("/login?next={next}")/> }.into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="page">{children()}</main>
    }
    .into_any()
}

/// Lets a page tell the workspace frame that the workspace changed (it was renamed), so the
/// side navigation shows it as it is now.
#[derive(Clone, Copy)]
pub struct WorkspaceChanged(Resource<Result<Workspace, AppError>>);

impl WorkspaceChanged {
    /// Reloads the workspace in the side navigation.
    pub fn notify(self) {
        self.0.refetch();
    }
}

/// A workspace's pages: side navigation (only the pages the caller's role can use) and the
/// selected page.
#[component]
pub fn WorkspaceFrame() -> impl IntoView {
    let workspace = Resource::new(use_slug(), get_workspace);
    provide_context(WorkspaceChanged(workspace));
    view! {
        <AppFrame>
            <div class="workspace-layout">
                <aside class="sidebar">
                    <Transition fallback=|| view! { <Loading/> }>
                        {move || Suspend::new(async move {
                            match workspace.await {
                                Ok(ws) => {
                                    let base = format!("/w/{}", ws.slug);
                                    let admin = ws.role.allows(Permission::ManageApiKeys);
                                    view! {
                                        <div class="sidebar-head">
                                            <p class="sidebar-title" data-testid="sidebar-workspace">{ws.name.clone()}</p>
                                            <p class="muted small">{ws.slug.clone()} " · " <RoleBadge role=ws.role/></p>
                                        </div>
                                        <nav class="sidebar-nav" aria-label="Workspace">
                                            <A href=base.clone() exact=true>"Overview"</A>
                                            <A href=format!("{base}/members")>"Members"</A>
                                            <A href=format!("{base}/pipelines")>"Pipelines"</A>
                                            <A href=format!("{base}/routes")>"Routes"</A>
                                            <A href=format!("{base}/topics")>"Topics"</A>
                                            <A href=format!("{base}/deploys")>"Deploys"</A>
                                            <A href=format!("{base}/jobs")>"Jobs"</A>
                                            <A href=format!("{base}/workers")>"Workers"</A>
                                            <A href=format!("{base}/code") exact=true>"Repositories"</A>
                                            <A href=format!("{base}/code/search")>"Code search"</A>
                                            <A href=format!("{base}/secrets")>"Secrets"</A>
                                            <Show when=move || admin>
                                                <A href=format!("{base}/api-keys")>"API keys"</A>
                                                <A href=format!("{base}/settings")>"Settings"</A>
                                            </Show>
                                        </nav>
                                    }.into_any()
                                }
                                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                            }
                        })}
                    </Transition>
                    <A href="/workspaces" attr:class="sidebar-back">"← All workspaces"</A>
                </aside>
                <section class="workspace-content">
                    <Outlet/>
                </section>
            </div>
        </AppFrame>
    }
    .into_any()
}

/// The workspace slug of the current route. The reader is `Copy`, so views can call it
/// from any closure without cloning.
pub fn use_slug() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("slug").unwrap_or_default()
}
