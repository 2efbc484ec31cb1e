//! "Run a test job": the diagnostic job's form, and the checks of its numbers, which run in
//! the browser (inline, naming the field) and again in the server function.

use super::api::RunTestJob;
use crate::components::{field_error, form_error, Field, FormError};
use crate::tenancy::use_slug;
use leptos::prelude::*;

/// Most log lines a test job writes. The diagnostic job kind (in `workers`) has the same
/// limit and checks it again; this one gives the form its message.
const MAX_LINES: u32 = 10_000;
/// Longest test job, in seconds (the diagnostic job kind's limit too).
const MAX_SECONDS: f64 = 3_600.0;

/// The number of lines as typed, or a message naming the field.
pub(crate) fn parse_lines(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_LINES)
        .ok_or_else(|| format!("lines must be a whole number from 0 to {MAX_LINES}"))
}

/// The duration in seconds as typed, or a message naming the field.
pub(crate) fn parse_seconds(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=MAX_SECONDS).contains(s))
        .ok_or_else(|| format!("seconds must be a number from 0 to {MAX_SECONDS}"))
}

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
        <section class="card" aria-labelledby="test-job">
            <h2 id="test-job">"Run a test job"</h2>
            <p class="muted small">"The diagnostic job writes log lines over a few seconds on the default pool; it can be told to fail (it is retried, then dead-lettered) or to hang until cancelled."</p>
            <FormError message=form_error(value)/>
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
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_whole_numbers_within_the_limit() {
        assert_eq!(parse_lines(" 5 "), Ok(5));
        assert_eq!(parse_lines("0"), Ok(0));
        assert_eq!(parse_lines("10000"), Ok(10_000));
        let message = "lines must be a whole number from 0 to 10000";
        for bad in ["", "-1", "1.5", "10001", "ten", "1e3"] {
            assert_eq!(parse_lines(bad), Err(message.to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn seconds_are_numbers_within_the_limit() {
        assert_eq!(parse_seconds("0.5"), Ok(0.5));
        assert_eq!(parse_seconds("3600"), Ok(3600.0));
        let message = "seconds must be a number from 0 to 3600";
        for bad in ["", "-0.1", "3600.5", "NaN", "inf", "soon"] {
            assert_eq!(parse_seconds(bad), Err(message.to_owned()), "{bad:?}");
        }
    }
}
