//! A card: a titled section of a page, usually a form.

use super::FormError;
use leptos::prelude::*;

/// A section with a heading (`id` names it for screen readers) and, when given, one line
/// under the heading saying what the section does and the banner of its form's last error.
#[component]
pub fn Card(
    /// The heading's element id, which labels the section.
    id: &'static str,
    /// The heading.
    title: &'static str,
    /// One sentence under the heading.
    #[prop(optional)]
    about: Option<&'static str>,
    /// The form's error that belongs to no single field (`form_error(action.value())`).
    #[prop(optional, into)]
    error: Option<Signal<Option<String>>>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby=id>
            <h2 id=id>{title}</h2>
            {about.map(|about| view! { <p class="muted small">{about}</p> })}
            {error.map(|message| view! { <FormError message=message/> })}
            {children()}
        </section>
    }
}
