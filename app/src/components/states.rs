//! The states of something loaded from the server: loading, empty, loaded, failed. Lists
//! refetched in place (after an action, or on a timer) keep showing the previous answer
//! until the next one arrives, instead of flashing "Loading…".

use crate::error::AppError;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// Shown while the first answer is on its way.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading muted" role="status">"Loading…"</p> }
}

/// A list with nothing in it: what it would show, and how to get something there.
#[component]
pub fn EmptyState(
    /// What is missing ("No API keys").
    title: &'static str,
    /// How to fill it.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="empty">
            <p class="empty-title">{title}</p>
            <p class="empty-hint">{children()}</p>
        </div>
    }
}

/// A failed load, shown in place of the content.
#[component]
pub fn ErrorPanel(
    /// What failed.
    error: AppError,
) -> impl IntoView {
    view! { <div class="banner error" role="alert">{error.to_string()}</div> }
}

/// One value from the server: [`Loading`] until it arrives, then `children` with it, or the
/// error.
#[component]
pub fn Loaded<T, F, V>(
    /// The value being loaded.
    resource: Resource<Result<T, AppError>>,
    /// Renders the value (`let:value`).
    children: F,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let render = Arc::new(children);
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => render(value).into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

/// A list from the server: [`Loading`] until it arrives, then [`EmptyState`] when it is
/// empty, `children` with the items otherwise, or the error.
#[component]
pub fn Listing<T, F, V>(
    /// The list being loaded.
    items: Resource<Result<Vec<T>, AppError>>,
    /// The empty state's title.
    empty: &'static str,
    /// The empty state's text: how to add the first item.
    #[prop(into)]
    hint: ViewFn,
    /// Renders the items (`let:items`).
    children: F,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn(Vec<T>) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Loaded resource=items let:list>
            {if list.is_empty() {
                let hint = hint.clone();
                view! { <EmptyState title=empty>{hint.run()}</EmptyState> }.into_any()
            } else {
                children(list).into_any()
            }}
        </Loaded>
    }
    .into_any()
}
