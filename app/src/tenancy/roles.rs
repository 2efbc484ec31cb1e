//! Roles as the console shows and picks them.

use crate::components::FormReset;
use leptos::html;
use leptos::prelude::*;
use shared::roles::Role;

/// A role as a small label.
#[component]
pub fn RoleBadge(
    /// The role shown.
    role: Role,
) -> impl IntoView {
    view! { <span class=format!("badge role-{}", role.as_str())>{role.as_str()}</span> }
}

/// A role picker for forms.
#[component]
pub fn RoleSelect(
    /// Form field name.
    #[prop(default = "role")]
    name: &'static str,
    /// Pre-selected role.
    #[prop(default = Role::Developer)]
    selected: Role,
    /// Accessible label, when there is no visible one.
    #[prop(optional)]
    aria_label: &'static str,
    /// Element id, for a visible `<label for>`.
    #[prop(optional)]
    id: &'static str,
) -> impl IntoView {
    let select = NodeRef::<html::Select>::new();
    FormReset::on_reset(move || {
        if let Some(el) = select.get_untracked() {
            el.set_value(selected.as_str());
        }
    });
    view! {
        <select node_ref=select name=name id=id aria-label=aria_label>
            {Role::ALL
                .into_iter()
                .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.as_str()}</option> })
                .collect_view()}
        </select>
    }
    .into_any()
}
