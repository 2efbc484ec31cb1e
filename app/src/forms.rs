//! Form pieces: a labelled field with inline validation (the same checks the server runs,
//! from `shared`), and the banner for errors that belong to no field.

use crate::error::AppError;
use leptos::prelude::*;

/// A client-side check of a field's text: the message to show, if any.
pub type Check = fn(&str) -> Option<String>;

/// The server's message for `field`, from an action's latest answer.
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || match value.get() {
        Some(Err(e)) if e.field() == Some(field) => Some(e.message()),
        _ => None,
    })
}

/// The server's message for a failure that names no field, from an action's latest answer.
pub fn form_error<T, S>(value: S) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || match value.get() {
        Some(Err(e)) if e.field().is_none() => Some(e.to_string()),
        _ => None,
    })
}

/// A labelled input. Checks `check` on the client once the user has left the field, and
/// shows the server's message for the field after a submit.
#[component]
pub fn Field(
    /// Visible label.
    label: &'static str,
    /// Form field name (the server function argument).
    name: &'static str,
    /// Input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// `autocomplete` attribute.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Placeholder text.
    #[prop(optional)]
    placeholder: &'static str,
    /// Help shown under the field while it has no error.
    #[prop(optional)]
    hint: &'static str,
    /// Client-side check, shared with the server.
    #[prop(optional)]
    check: Option<Check>,
    /// The server's message for this field.
    #[prop(into, optional)]
    server_error: MaybeProp<String>,
    /// Initial value.
    #[prop(into, optional)]
    value: String,
) -> impl IntoView {
    let (touched, set_touched) = signal(false);
    let (text, set_text) = signal(value.clone());
    let error = move || {
        let local = if touched.get() {
            check.and_then(|f| f(&text.get()))
        } else {
            None
        };
        local.or_else(|| server_error.get())
    };
    let id = format!("field-{name}");
    let message_id = format!("field-{name}-message");
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                value=value
                aria-describedby=message_id.clone()
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                on:input=move |ev| set_text.set(event_target_value(&ev))
                on:blur=move |_| set_touched.set(true)
            />
            <p id=message_id class=move || if error().is_some() { "field-message error" } else { "field-message" }>
                {move || error().unwrap_or_else(|| hint.to_owned())}
            </p>
        </div>
    }
}

/// A role picker for forms.
#[component]
pub fn RoleSelect(
    /// Form field name.
    #[prop(default = "role")]
    name: &'static str,
    /// Pre-selected role.
    #[prop(default = shared::roles::Role::Developer)]
    selected: shared::roles::Role,
    /// Accessible label, when there is no visible one.
    #[prop(optional)]
    aria_label: &'static str,
    /// Element id, for a visible `<label for>`.
    #[prop(optional)]
    id: &'static str,
) -> impl IntoView {
    view! {
        <select name=name id=id aria-label=aria_label>
            {shared::roles::Role::ALL
                .into_iter()
                .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.as_str()}</option> })
                .collect_view()}
        </select>
    }
}

/// An error that belongs to no field, shown above the form.
#[component]
pub fn FormError(
    /// The message, if there is one.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <div class="banner error" role="alert">{move || message.get().unwrap_or_default()}</div>
        </Show>
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

/// Client-side checks, the same functions the server validates with.
pub mod checks {
    /// E-mail address.
    pub fn email(v: &str) -> Option<String> {
        shared::accounts::Email::parse(v).err().map(|e| e.message)
    }
    /// New password.
    pub fn new_password(v: &str) -> Option<String> {
        shared::accounts::check_new_password(v, "password")
            .err()
            .map(|e| e.message)
    }
    /// Display name.
    pub fn display_name(v: &str) -> Option<String> {
        shared::accounts::parse_display_name(v)
            .err()
            .map(|e| e.message)
    }
    /// Workspace slug.
    pub fn slug(v: &str) -> Option<String> {
        shared::tenancy::Slug::parse(v).err().map(|e| e.message)
    }
    /// Workspace name.
    pub fn workspace_name(v: &str) -> Option<String> {
        shared::tenancy::WorkspaceName::parse(v)
            .err()
            .map(|e| e.message)
    }
    /// Required text.
    pub fn required(v: &str) -> Option<String> {
        v.trim().is_empty().then(|| "is required".to_owned())
    }
}
