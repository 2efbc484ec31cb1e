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
    view! {
        <Title text=title/>
        <div class="page-head">
            <h1>{title}</h1>
            {children.map(|about| view! { <p class="muted">{about()}</p> })}
        </div>
    }
}
