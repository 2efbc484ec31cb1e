//! A page's heading: the document title, the `h1` and, when given, one line saying what the
//! page is for.

use leptos::prelude::*;
use leptos_meta::Title;

/// The head of a page: `title` becomes the browser tab's title and the `h1`; the children,
/// when given, the muted line under it.
#[component]
pub fn PageHead(
    /// The page's name.
    title: &'static str,
    /// What the page is for, in a sentence.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    // Set once this page has hydrated (an effect runs only then, in the browser); the
    // page-wide mark on the body can come before a lazy page's own hydration.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <Title text=title/>
        <div class="page-head" data-ready=move || ready.get().to_string()>
            <h1>{title}</h1>
            {children.map(|about| view! { <p class="muted">{about()}</p> })}
        </div>
    }
}
