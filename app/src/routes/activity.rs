//! A route's last hour on its page: requests per minute by status class (a bar chart),
//! latency percentiles, and its latest log lines — all from the route log.

use super::api::get_route_activity;
use crate::components::{Card, Loaded};
use crate::tenancy::use_slug;
use leptos::prelude::*;
use shared::routes::views::{MinuteCounts, RouteActivity};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 80.0;
const MINUTES: i64 = 60;

/// The activity of `route` (its name: `GET /users/{id}`).
#[component]
pub fn Activity(route: String) -> impl IntoView {
    let slug = use_slug();
    let (refreshed, refresh) = signal(0u32);
    let activity = Resource::new(
        move || (slug(), route.clone(), refreshed.get()),
        |(s, r, _)| get_route_activity(s, r),
    );
    view! {
        <Card id="route-activity" title="Last hour" about="Requests per minute by how they ended, and the route's latest log lines.">
            <p><button type="button" class="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button></p>
            <Loaded resource=activity let:a>
                {summary(&a)}
                {chart(a.until, &a.minutes)}
                {lines(&a)}
            </Loaded>
        </Card>
    }
}

fn summary(a: &RouteActivity) -> impl IntoView {
    let ms = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1} ms"));
    let text = if a.requests == 0 {
        "No requests in the last hour.".to_owned()
    } else {
        format!(
            "{} request(s) in the last hour · p50 {} · p95 {}",
            a.requests,
            ms(a.p50_ms),
            ms(a.p95_ms)
        )
    };
    view! { <p class="muted small" data-testid="route-activity-summary">{text}</p> }
}

/// One bar per minute of the hour ending with the minute `until` (now, on the server),
/// stacked ok / 4xx / 5xx.
fn chart(until: i64, minutes: &[MinuteCounts]) -> impl IntoView {
    let first = until - (MINUTES - 1) * 60_000;
    let peak = minutes
        .iter()
        .map(|m| m.ok + m.client_errors + m.server_errors)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / MINUTES as f64;
    let bars = minutes
        .iter()
        .filter(|m| m.at >= first && m.at <= until)
        .map(|m| {
            let x = ((m.at - first) / 60_000) as f64 * slot;
            let mut y = HEIGHT;
            let mut part = |n: u32, class: &'static str| {
                let h = n as f64 / peak * (HEIGHT - 4.0);
                y -= h;
                view! { <rect x=x + 1.0 y=y width=slot - 2.0 height=h class=class/> }
            };
            let ok = part(m.ok, "bar ok");
            let client = part(m.client_errors, "bar client");
            let server = part(m.server_errors, "bar server");
            let title = format!(
                "{}: {} ok, {} 4xx, {} 5xx",
                clock(m.at, false),
                m.ok,
                m.client_errors,
                m.server_errors
            );
            view! { <g><title>{title}</title>{ok}{client}{server}</g> }
        })
        .collect_view();
    view! {
        <svg class="activity" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
            aria-label="Requests per minute over the last hour" data-testid="route-activity-chart">
            <line x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT class="axis"/>
            {bars}
        </svg>
        <p class="muted small activity-axis">
            <span>{clock(first, false)}</span>
            <span>{clock(until, false)}</span>
        </p>
        <p class="muted small">
            <span class="swatch ok"></span>" 1xx–3xx "
            <span class="swatch client"></span>" 4xx "
            <span class="swatch server"></span>" 5xx"
        </p>
    }
}

fn lines(a: &RouteActivity) -> impl IntoView {
    if a.recent.is_empty() {
        return view! { <p class="muted">"Nothing logged yet."</p> }.into_any();
    }
    let rows = a
        .recent
        .iter()
        .map(|l| {
            let id: String = l.request_id.chars().take(8).collect();
            view! {
                <tr>
                    <td class="nowrap">{clock(l.at, true)}</td>
                    <td><code>{id}</code></td>
                    <td class="log-line">{l.line.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="route-log">
            <thead><tr><th>"Time"</th><th>"Request"</th><th>"Line"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The UTC time of day of Unix ms: `14:03` or, with seconds, `14:03:59`.
fn clock(ms: i64, seconds: bool) -> String {
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if seconds {
        format!("{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02} UTC")
    }
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn shows_the_utc_time_of_day() {
        // 2026-11-27T14:03:59.123Z
        let at = 1_795_788_239_123;
        assert_eq!(clock(at, true), "14:03:59");
        assert_eq!(clock(at, false), "14:03 UTC");
    }
}
