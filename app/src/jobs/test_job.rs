//! "Run a test job": the diagnostic job's form. Its numbers are checked in the browser
//! (inline, naming the field) and again in the server function, by `shared`'s parsers.

use super::api::RunTestJob;
use crate::components::{field_error, form_error, Card, Field};
use crate::tenancy::use_slug;
use leptos::prelude::*;
use shared::jobs::diagnostic::{parse_lines, parse_seconds};

fn check_lines(text: &str) -> Option<String> {
    parse_lines(text).err()
}

fn check_seconds(text: &str) -> Option<String> {
    parse_seconds(text).err()
}

/// The diagnostic job's form: how many lines over how many seconds, and whether it fails
/// or hangs. A submitted job opens its page.
#[component]
pub fn TestJobForm() -> impl IntoView {
    let slug = use_slug();
    let run = ServerAction::<RunTestJob>::new();
    let value = run.value();
    view! {
        <Card id="test-job" title="Run a test job" about="The diagnostic job writes log lines over a few seconds on the default pool; it can be told to fail (it is retried, then dead-lettered) or to hang until cancelled." error=form_error(value)>
            <ActionForm action=run>
                <input type="hidden" name="slug" value=slug()/>
                <div class="inline-form">
                    <Field label="Lines" name="lines" kind="number" value="10" min="0" max="10000"
                        class="narrow" check=check_lines server_error=field_error(value, "lines")/>
                    <Field label="Seconds" name="seconds" kind="number" value="3" min="0" max="3600"
                        step="0.1" class="narrow" check=check_seconds server_error=field_error(value, "seconds")/>
                    <label class="check"><input type="checkbox" name="fail"/>" Fail"</label>
                    <label class="check"><input type="checkbox" name="hang"/>" Hang until cancelled"</label>
                    <button type="submit" class="button primary">"Run test job"</button>
                </div>
            </ActionForm>
        </Card>
    }
    .into_any()
}
