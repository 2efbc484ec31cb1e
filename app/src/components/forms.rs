//! Form pieces: a labelled field with inline validation (the same checks the server runs,
//! from `shared`), the banner for errors that belong to no field, and a form that starts
//! over after a success.

use crate::error::AppError;
use leptos::context::Provider;
use leptos::html;
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
    /// Whether the form cannot be sent without it.
    #[prop(optional)]
    required: bool,
    /// Lowest value of a number field.
    #[prop(optional)]
    min: Option<&'static str>,
    /// Highest value of a number field.
    #[prop(optional)]
    max: Option<&'static str>,
    /// Granularity of a number field.
    #[prop(optional)]
    step: Option<&'static str>,
    /// Extra classes of the field (`narrow`, `wide`).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let (touched, set_touched) = signal(false);
    let (text, set_text) = signal(value.clone());
    let input = NodeRef::<html::Input>::new();
    {
        // Rendering the same markup again would keep what the user typed (the DOM keeps an
        // input's value when its attribute does not change), so the field resets itself.
        let initial = value.clone();
        FormReset::on_reset(move || {
            set_text.set(initial.clone());
            set_touched.set(false);
            if let Some(el) = input.get_untracked() {
                el.set_value(&initial);
            }
        });
    }
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
    let classes = if class.is_empty() {
        "field".to_owned()
    } else {
        format!("field {class}")
    };
    view! {
        <div class=classes class:invalid=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                node_ref=input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                value=value
                required=required
                min=min
                max=max
                step=step
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

/// How many times the form around a field has been used successfully; fields start over
/// (empty, or at their initial value, and not yet visited) each time it goes up.
#[derive(Clone, Copy, Debug)]
pub struct FormReset(ReadSignal<usize>);

impl FormReset {
    /// Runs `reset` each time the form around the caller has been used successfully.
    pub fn on_reset(reset: impl Fn() + 'static) {
        if let Some(FormReset(resets)) = use_context::<FormReset>() {
            Effect::watch(move || resets.get(), move |_, _, _| reset(), false);
        }
    }
}

/// A form that starts over after each successful answer of its action: what was typed, and
/// whether a field was visited, is gone once it has been used, so the next invitation or key
/// starts from an empty form. A failed answer keeps the form as it is, so the user can
/// correct it.
#[component]
pub fn ClearOnSuccess<T, S>(
    /// The action's latest answer (`action.value()`).
    value: S,
    /// The form.
    children: Children,
) -> impl IntoView
where
    T: Send + Sync + 'static,
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    let (resets, set_resets) = signal(0usize);
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Ok(_)))) {
            set_resets.update(|n| *n += 1);
        }
    });
    view! { <Provider value=FormReset(resets)>{children()}</Provider> }
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
    /// A workspace secret's name.
    pub fn secret_name(v: &str) -> Option<String> {
        shared::secrets::check_secret_name(v.trim())
            .err()
            .map(|e| e.message)
    }
    /// A workspace secret's value.
    pub fn secret_value(v: &str) -> Option<String> {
        shared::secrets::check_secret_value(v)
            .err()
            .map(|e| e.message)
    }
    /// Required text.
    pub fn required(v: &str) -> Option<String> {
        v.trim().is_empty().then(|| "is required".to_owned())
    }
}
