//! A second step before destructive actions.

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

/// A destructive button that asks before it acts. The first press replaces it with the
/// question and two buttons: "Confirm" submits the form it sits in, "Cancel" (or Escape)
/// goes back. Focus moves with each step, so the whole exchange works from the keyboard.
///
/// The first button never submits: before hydration it does nothing at all, which is the
/// safe way for a destructive action to fail.
#[component]
pub fn ConfirmButton(
    /// The button's text ("Revoke").
    label: &'static str,
    /// The question asked ("Revoke this key?").
    #[prop(default = "Are you sure?")]
    question: &'static str,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let ask = NodeRef::<html::Button>::new();
    let confirm = NodeRef::<html::Button>::new();
    // Move focus to the control that replaced the one just pressed, once it is in the page
    // (the next frame); never on the first render, which would steal focus on page load.
    Effect::watch(
        move || asking.get(),
        move |now_asking, _, _| {
            let target = if *now_asking { confirm } else { ask };
            request_animation_frame(move || {
                if let Some(button) = target.get_untracked() {
                    let _ = button.focus();
                }
            });
        },
        false,
    );
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && asking.get_untracked() {
            ev.prevent_default();
            asking.set(false);
        }
    };
    view! {
        <span class="confirm" on:keydown=on_key>
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button type="button" class="button small danger" node_ref=ask
                        on:click=move |_| asking.set(true)>{label}</button>
                }
            >
                <span class="confirm-question" role="status">{question}</span>
                <button type="submit" class="button small danger" node_ref=confirm>"Confirm"</button>
                <button type="button" class="button small" on:click=move |_| asking.set(false)>"Cancel"</button>
            </Show>
        </span>
    }
}
