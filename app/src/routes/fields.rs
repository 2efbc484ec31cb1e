//! The route form's fields: method, path, the handler (its kind chooses which fields show),
//! and the settings. Used to add a route and to edit one; the server reads them with
//! `shared::routes::form`, and its errors land on the field they name.

use crate::components::{field_error, Field};
use crate::error::AppError;
use leptos::prelude::*;
use shared::routes::form::RouteForm;
use shared::routes::views::Created;
use shared::routes::Method;

/// A multi-line field (a script, a body) with the server's message for `error_field`.
#[component]
pub fn TextArea(
    /// Visible label.
    label: &'static str,
    /// Form field name.
    name: &'static str,
    /// The element's id (`field-{name}` when absent; give one where a page repeats the form).
    #[prop(optional, into)]
    id: Option<String>,
    /// Initial text.
    #[prop(into)]
    value: String,
    /// Rows shown.
    #[prop(default = 6)]
    rows: u32,
    /// Help under the field.
    #[prop(optional)]
    hint: &'static str,
    /// The server's message for this field.
    #[prop(into, optional)]
    server_error: MaybeProp<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let message_id = format!("{id}-message");
    let error = move || server_error.get();
    view! {
        <div class="field wide" class:invalid=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name class="input code" rows=rows spellcheck="false"
                aria-describedby=message_id.clone()>{value}</textarea>
            <p id=message_id class=move || if error().is_some() { "field-message error" } else { "field-message" }>
                {move || error().unwrap_or_else(|| hint.to_owned())}
            </p>
        </div>
    }
}

/// Every field of a route; `admin` may require an API key (others keep the route's auth).
#[component]
pub fn RouteFields(
    /// The values shown first.
    initial: RouteForm,
    /// The save action's latest answer (for the server's messages).
    value: Signal<Option<Result<Created, AppError>>>,
    /// Whether the caller may change who may call the route.
    admin: bool,
    /// The workspace's pipelines (id, name), for a pipeline handler.
    pipelines: Vec<(String, String)>,
) -> impl IntoView {
    let kind = RwSignal::new(if initial.kind.is_empty() {
        "static".to_owned()
    } else {
        initial.kind.clone()
    });
    let shows = move |k: &'static str| move || kind.get() != k;
    let method = if initial.method.is_empty() {
        "GET".to_owned()
    } else {
        initial.method.clone()
    };
    let status = if initial.status.is_empty() {
        "200".to_owned()
    } else {
        initial.status.clone()
    };
    let auth = if initial.auth.is_empty() {
        "public".to_owned()
    } else {
        initial.auth.clone()
    };
    let methods = Method::ALL.map(|m| {
        let selected = m.as_str() == method;
        view! { <option value=m.as_str() selected=selected>{m.as_str()}</option> }
    });
    let kinds = [
        ("static", "Static answer"),
        ("script", "Script"),
        ("pipeline", "Run a pipeline"),
        ("publish", "Publish to a topic"),
    ]
    .map(|(k, label)| {
        let selected = kind.get_untracked() == k;
        view! { <option value=k selected=selected>{label}</option> }
    });
    let pipeline_options = pipelines
        .into_iter()
        .map(|(id, name)| {
            let selected = id == initial.pipeline_id;
            view! { <option value=id selected=selected>{name}</option> }
        })
        .collect_view();
    let (auth_error, role_error) = (
        field_error(value, "settings.auth"),
        field_error(value, "settings.auth.min_role"),
    );
    let pipeline_error = field_error(value, "handler.pipeline_id");
    let auth_choice = if admin {
        let options = [
            ("public", "Anyone"),
            ("viewer", "API key: viewer or more"),
            ("developer", "API key: developer or more"),
            ("admin", "API key: admin"),
        ]
        .map(|(v, label)| {
            let selected = auth == v;
            view! { <option value=v selected=selected>{label}</option> }
        });
        view! {
            <div class="field">
                <label for="field-auth">"Who may call it"</label>
                <select id="field-auth" name="auth">{options}</select>
                <p class="field-message error">{move || auth_error.get().or_else(|| role_error.get())}</p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <input type="hidden" name="auth" value=auth.clone()/>
            <p class="muted small">"Callers: " {if auth == "public" { "anyone".to_owned() } else { format!("API keys with role {auth} or more") }} " (an admin changes this)."</p>
        }
        .into_any()
    };
    view! {
        <div class="inline-form">
            <div class="field narrow">
                <label for="field-method">"Method"</label>
                <select id="field-method" name="method">{methods}</select>
            </div>
            <Field label="Path" name="path" value=initial.path.clone() placeholder="/hello/{name}" class="wide"
                check=path_check hint="Parameters: {name}; the rest of the path: {*rest}" server_error=field_error(value, "path")/>
            <div class="field">
                <label for="field-kind">"Handler"</label>
                <select id="field-kind" name="kind" on:change=move |e| kind.set(event_target_value(&e))>{kinds}</select>
                <p class="field-message error">{field_error(value, "handler.kind")}</p>
            </div>
        </div>
        <div hidden=shows("static") data-testid="static-fields">
            <div class="inline-form">
                <Field label="Status" name="status" value=status kind="number" min="100" max="599" class="narrow"
                    server_error=field_error(value, "handler.status")/>
                <TextArea label="Body" name="body" value=initial.body.clone() rows=4
                    hint="JSON is answered as JSON; any other text as text."
                    server_error=field_error(value, "handler.body")/>
            </div>
        </div>
        <div hidden=shows("script")>
            <TextArea label="Script" name="source" value=initial.source.clone() rows=10
                hint="export default (req, ctx) => ({ status: 200, body: { hello: req.params.name } }) — req has method, path, params, query, headers, body."
                server_error=field_error(value, "handler.source")/>
        </div>
        <div hidden=shows("pipeline")>
            <div class="field">
                <label for="field-pipeline">"Pipeline"</label>
                <select id="field-pipeline" name="pipeline_id">
                    <option value="">"Choose a pipeline"</option>
                    {pipeline_options}
                </select>
                <p class="field-message">{move || pipeline_error.get().unwrap_or_else(||
                    "Its live version runs with the request as input; the answer is its output (an output {status, headers, body} sets them). Past the timeout: 504, and the run goes on.".to_owned())}</p>
            </div>
        </div>
        <div hidden=shows("publish")>
            <Field label="Topic" name="topic" value=initial.topic.clone() placeholder="orders"
                hint="A topic of this workspace; callers get 202 with the message id."
                server_error=field_error(value, "handler.topic")/>
        </div>
        <details class="settings">
            <summary>"Settings: timeout, limits, callers, CORS"</summary>
            <div class="inline-form">
                <Field label="Timeout (ms)" name="timeout_ms" value=initial.timeout_ms.clone() kind="number" min="1" placeholder="10000"
                    server_error=field_error(value, "settings.timeout_ms")/>
                <Field label="Requests per minute per IP" name="rate_limit" value=initial.rate_limit.clone() kind="number" min="1" placeholder="no limit"
                    server_error=field_error(value, "settings.rate_limit_per_minute")/>
                <Field label="Largest body (bytes)" name="max_body_bytes" value=initial.max_body_bytes.clone() kind="number" min="1" placeholder="1048576"
                    server_error=field_error(value, "settings.max_body_bytes")/>
            </div>
            <div class="inline-form">
                {auth_choice}
                <Field label="CORS origins" name="cors_origins" value=initial.cors_origins.clone() class="wide"
                    placeholder="https://app.example.com, or *" hint="Browsers on these origins may call the route; empty: none."
                    server_error=field_error(value, "settings.cors.allowed_origins")/>
            </div>
        </details>
    }
    .into_any()
}

/// The path pattern, checked as the server checks it.
fn path_check(v: &str) -> Option<String> {
    shared::routes::PathPattern::parse(v.trim())
        .err()
        .map(|e| format!("path {e}"))
}
