//! The table every list page uses.

use leptos::prelude::*;

/// A table in its own horizontally scrolling container, so a wide table scrolls inside the
/// page instead of widening it (on a phone, the page stays 375 px wide). The container is
/// focusable and labelled, so keyboard users can scroll it too.
#[component]
pub fn DataTable(
    /// What the table lists, for assistive technology ("API keys").
    label: &'static str,
    /// Column headings.
    columns: &'static [&'static str],
    /// Whether the last column holds row actions (its heading is for screen readers only).
    #[prop(optional)]
    actions: bool,
    /// `data-testid` of the table.
    #[prop(optional)]
    testid: &'static str,
    /// The rows (`<tr>` elements).
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap" role="region" aria-label=label tabindex="0">
            <table class="table" data-testid=testid>
                <thead>
                    <tr>
                        {columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()}
                        {actions.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
    .into_any()
}
