//! Timestamps as the console shows them.

use leptos::prelude::*;

/// How much of a timestamp to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// `2026-11-27`.
    #[default]
    Day,
    /// `2026-11-27 14:03`.
    Minute,
    /// `2026-11-27 14:03:59`.
    Second,
}

impl Precision {
    /// `rfc3339` cut to this precision, with a space between date and time.
    pub fn format(self, rfc3339: &str) -> String {
        let len = match self {
            Precision::Day => 10,
            Precision::Minute => 16,
            Precision::Second => 19,
        };
        rfc3339.get(..len).unwrap_or(rfc3339).replace('T', " ")
    }
}

/// A point in time (RFC 3339 from the server), readable and on one line; the full value
/// stays machine-readable in `datetime`.
#[component]
pub fn Timestamp(
    /// RFC 3339 time.
    #[prop(into)]
    at: String,
    /// How much of it to show.
    #[prop(optional)]
    precision: Precision,
) -> impl IntoView {
    let text = precision.format(&at);
    view! { <time class="when" datetime=at>{text}</time> }
}

#[cfg(test)]
mod tests {
    use super::Precision;

    #[test]
    fn cuts_to_the_precision_and_separates_date_and_time() {
        let at = "2026-11-27T14:03:59.123Z";
        assert_eq!(Precision::Day.format(at), "2026-11-27");
        assert_eq!(Precision::Minute.format(at), "2026-11-27 14:03");
        assert_eq!(Precision::Second.format(at), "2026-11-27 14:03:59");
    }

    #[test]
    fn keeps_a_value_shorter_than_the_precision_whole() {
        assert_eq!(Precision::Second.format("2026-11-27"), "2026-11-27");
    }
}
