//! "Send a request": a request to the live deploy through the gateway, answered as any
//! caller's would be, with its status, headers, body and time.

use super::api::TryRequest;
use crate::components::{field_error, form_error, Card};
use crate::tenancy::use_slug;
use leptos::prelude::*;
use shared::routes::views::TryResponse;

/// The form and the latest answer.
#[component]
pub fn SendRequest(
    /// The method first selected.
    method: String,
    /// The path first shown.
    path: String,
) -> impl IntoView {
    let slug = use_slug();
    let send = ServerAction::<TryRequest>::new();
    let value = send.value();
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map(|m| {
        let selected = m == method;
        view! { <option value=m selected=selected>{m}</option> }
    });
    view! {
        <Card id="send-request" title="Send a request" about="To the live deploy, through the gateway, as any caller (auth, limits and CORS apply)." error=form_error(value)>
            <ActionForm action=send>
                <input type="hidden" name="slug" value=slug()/>
                <div class="inline-form">
                    <div class="field narrow">
                        <label for="try-method">"Request method"</label>
                        <select id="try-method" name="method">{methods}</select>
                    </div>
                    <div class="field wide">
                        <label for="try-path">"Request path"</label>
                        <input id="try-path" name="path" value=path placeholder="/hello/world?x=1"/>
                        <p class="field-message error">{field_error(value, "path")}</p>
                    </div>
                    <button type="submit" class="button primary" data-testid="send">"Send"</button>
                </div>
                <div class="two-col">
                    <div class="field">
                        <label for="try-headers">"Request headers"</label>
                        <textarea id="try-headers" name="headers" class="input code" rows="3" spellcheck="false"
                            placeholder="Authorization: Bearer sy_…"></textarea>
                        <p class="field-message error">{field_error(value, "headers")}</p>
                    </div>
                    <div class="field">
                        <label for="try-body">"Request body"</label>
                        <textarea id="try-body" name="body" class="input code" rows="3" spellcheck="false"></textarea>
                    </div>
                </div>
            </ActionForm>
            {move || value.get().and_then(Result::ok).map(|r| view! { <Answer response=r/> })}
        </Card>
    }
    .into_any()
}

#[component]
fn Answer(response: TryResponse) -> impl IntoView {
    let class = format!(
        "badge {}",
        if response.status < 400 {
            "status-succeeded"
        } else {
            "status-failed"
        }
    );
    let head: String = response
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    view! {
        <div class="result" data-testid="answer">
            <p><span class=class data-testid="answer-status">{response.status}</span>
               " " <span class="muted small">{format!("{:.1} ms", response.millis)}</span>
               {response.truncated.then(|| view! { " " <span class="muted small">"(body cut at 64 KiB)"</span> })}</p>
            <pre class="log" data-testid="answer-headers">{head}</pre>
            <pre class="log" data-testid="answer-body">{response.body}</pre>
        </div>
    }
}
