//! A secret or link shown once after it was created, with a button to copy it.

use leptos::prelude::*;

/// The newly created secret or link: what it is (`children`), the value, and a copy button.
#[component]
pub fn Reveal(
    /// The value to hand over.
    value: String,
    /// `data-testid` of the box.
    testid: &'static str,
    /// `data-testid` of the value.
    #[prop(optional)]
    value_testid: &'static str,
    /// What the value is and what to do with it.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="reveal" data-testid=testid role="status">
            {children()}
            <div class="secret-row">
                <code class="secret" data-testid=value_testid>{value.clone()}</code>
                <CopyButton text=value/>
            </div>
        </div>
    }
    .into_any()
}

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(
    /// What to copy.
    text: String,
) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        // The promise settles on its own; there is nothing to do with its result.
        let _ = clipboard.write_text(&text);
        set_copied.set(true);
    };
    view! {
        <button type="button" class="button small" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
    .into_any()
}
