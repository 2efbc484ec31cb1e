//! The `switchyard` CLI's deploy commands: a directory with a `switchyard.toml` (routes,
//! topics and subscribers, with handler code in files beside it) or a `switchyard.json` (a
//! manifest, as the console downloads it) is the workspace's definition, sent to the REST
//! API with an API key.
//!
//! - `plan [DIR]` shows what deploying DIR would change (nothing is saved);
//! - `deploy [DIR] [--yes]` saves DIR as the drafts, shows the plan and, once confirmed,
//!   deploys it;
//! - `dev [DIR]` deploys DIR, then again whenever what it reads changes;
//! - `publish TOPIC [JSON]` publishes a message (the argument, or stdin);
//! - `logs [ROUTE] [--follow]` prints the route log (every route's, or one's), and with
//!   `--follow` every new line as it is written; `logs TOPIC [--follow]` prints a topic's
//!   messages with how each delivery stands, and with `--follow` each new message and each
//!   change of a delivery.
//!
//! In `switchyard.toml`, a handler's `file = "hello.js"` stands for `source =` that file's
//! text; files are read only from inside DIR.

use serde_json::{json, Value};
use shared::jobs::JobStatus;
use shared::routes::views::{
    DeliveryView, MessageRunView, MessageView, PlanView, RouteLogLine, RouteLogs,
};
use shared::routes::{ChangeKind, Manifest};
use std::path::{Component, Path, PathBuf};

/// Where the API is and who calls it: `SWITCHYARD_URL`, `SWITCHYARD_API_KEY` and the
/// workspace (`SWITCHYARD_WORKSPACE`, or `workspace =` in `switchyard.toml`).
#[derive(Clone, Debug)]
pub struct Client {
    /// The console's address (`http://127.0.0.1:3000`).
    pub url: String,
    /// A workspace API key.
    pub key: String,
    /// The workspace's slug, when the environment names it.
    pub workspace: Option<String>,
}

impl Client {
    /// The client the environment describes.
    pub fn from_env() -> anyhow::Result<Client> {
        let url = std::env::var("SWITCHYARD_URL").map_err(|_| {
            anyhow::anyhow!(
                "SWITCHYARD_URL must name the Switchyard server (http://127.0.0.1:3000)"
            )
        })?;
        let key = std::env::var("SWITCHYARD_API_KEY").map_err(|_| {
            anyhow::anyhow!("SWITCHYARD_API_KEY must hold one of the workspace's API keys")
        })?;
        Ok(Client {
            url: url.trim_end_matches('/').to_owned(),
            key,
            workspace: std::env::var("SWITCHYARD_WORKSPACE").ok(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/api/v1{path}", self.url))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{} did not answer: {e}", self.url))?;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
}

/// A directory's definition: the manifest and the workspace it names, if any.
#[derive(Debug, PartialEq)]
pub struct Project {
    /// The routes, topics and subscribers.
    pub manifest: Manifest,
    /// `workspace =` of `switchyard.toml`.
    pub workspace: Option<String>,
}

/// Reads `dir`'s `switchyard.toml` (or else `switchyard.json`).
pub fn read_project(dir: &Path) -> anyhow::Result<Project> {
    let toml_path = dir.join("switchyard.toml");
    if toml_path.is_file() {
        let text = std::fs::read_to_string(&toml_path)?;
        let mut doc: Value =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", toml_path.display()))?;
        let workspace = doc
            .as_object_mut()
            .and_then(|o| o.remove("workspace"))
            .and_then(|w| w.as_str().map(str::to_owned));
        if let Some(routes) = doc.get_mut("routes").and_then(Value::as_array_mut) {
            for (i, route) in routes.iter_mut().enumerate() {
                inline_file(dir, route, &format!("routes[{i}].handler"))?;
            }
        }
        if let Some(topics) = doc.get_mut("topics").and_then(Value::as_array_mut) {
            for (i, topic) in topics.iter_mut().enumerate() {
                if let Some(subs) = topic.get_mut("subscribers").and_then(Value::as_array_mut) {
                    for (j, sub) in subs.iter_mut().enumerate() {
                        inline_file(dir, sub, &format!("topics[{i}].subscribers[{j}].handler"))?;
                    }
                }
            }
        }
        let manifest = serde_json::from_value(doc)
            .map_err(|e| anyhow::anyhow!("{}: {e}", toml_path.display()))?;
        return Ok(Project {
            manifest,
            workspace,
        });
    }
    let json_path = dir.join("switchyard.json");
    let text = std::fs::read_to_string(&json_path).map_err(|_| {
        anyhow::anyhow!(
            "{} has no switchyard.toml or switchyard.json",
            dir.display()
        )
    })?;
    let manifest =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", json_path.display()))?;
    Ok(Project {
        manifest,
        workspace: None,
    })
}

/// Replaces a handler's `file = "x.js"` (in `definition.handler`) with `source =` its text.
fn inline_file(dir: &Path, definition: &mut Value, at: &str) -> anyhow::Result<()> {
    let Some(handler) = definition.get_mut("handler").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let Some(file) = handler.remove("file") else {
        return Ok(());
    };
    let file = file
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{at}.file must be a file name"))?;
    let path = inside(dir, file).ok_or_else(|| {
        anyhow::anyhow!("{at}.file {file:?} must be a relative path inside the project")
    })?;
    let source = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("{at}.file {}: {e}", path.display()))?;
    handler.insert("source".into(), Value::String(source));
    Ok(())
}

/// `file` under `dir`, when it is a plain relative path that stays there.
fn inside(dir: &Path, file: &str) -> Option<PathBuf> {
    let relative = Path::new(file);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !plain || file.is_empty() {
        return None;
    }
    let path = dir.join(relative);
    let real = path.canonicalize().ok()?;
    let root = dir.canonicalize().ok()?;
    real.starts_with(&root).then_some(real)
}

fn workspace(client: &Client, project: &Project) -> anyhow::Result<String> {
    client
        .workspace
        .clone()
        .or_else(|| project.workspace.clone())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "name the workspace: SWITCHYARD_WORKSPACE, or workspace = \"…\" in switchyard.toml"
            )
        })
}

/// The plan as the terminal shows it.
pub fn render_plan(plan: &PlanView) -> String {
    let mut out = String::new();
    match plan.live_version {
        Some(v) => out.push_str(&format!("against version {v}, live now\n")),
        None => out.push_str("nothing is live yet\n"),
    }
    if plan.changes.is_empty() {
        out.push_str("no changes\n");
    }
    for change in &plan.changes {
        let sign = match change.change {
            ChangeKind::Add => "+",
            ChangeKind::Change => "~",
            ChangeKind::Remove => "-",
        };
        out.push_str(&format!(
            "{sign} {} {}\n",
            change.kind.as_str(),
            change.name
        ));
        for field in &change.diff {
            let show = |v: &Option<Value>| v.as_ref().map_or("-".to_owned(), Value::to_string);
            out.push_str(&format!(
                "    {}: {} -> {}\n",
                field.field,
                show(&field.before),
                show(&field.after)
            ));
        }
    }
    for problem in &plan.problems {
        let field = problem
            .field
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "problem: {}{field}: {}\n",
            problem.name, problem.message
        ));
    }
    out
}

fn api_error(status: u16, body: &Value) -> anyhow::Error {
    let message = body["error"]["message"].as_str().unwrap_or("no message");
    let mut text = format!("the server answered {status}: {message}");
    if let Some(problems) = body["error"]["problems"].as_array() {
        for p in problems {
            text.push_str(&format!(
                "\nproblem: {}{}: {}",
                p["name"].as_str().unwrap_or(""),
                p["field"]
                    .as_str()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default(),
                p["message"].as_str().unwrap_or("")
            ));
        }
    }
    anyhow::anyhow!(text)
}

/// The workspace the environment names, else the one `dir`'s definition names.
fn named_workspace(client: &Client, dir: &Path) -> anyhow::Result<String> {
    match &client.workspace {
        Some(w) => Ok(w.clone()),
        None => workspace(client, &read_project(dir)?),
    }
}

/// `switchyard plan DIR`: the plan of DIR against what is live; nothing is saved.
pub async fn plan(client: &Client, dir: &Path) -> anyhow::Result<PlanView> {
    let project = read_project(dir)?;
    let slug = workspace(client, &project)?;
    let body = serde_json::to_value(&project.manifest)?;
    let (status, answer) = client
        .call(
            reqwest::Method::POST,
            &format!("/workspaces/{slug}/deploys/plan"),
            Some(&body),
        )
        .await?;
    if status != 200 {
        return Err(api_error(status, &answer));
    }
    Ok(serde_json::from_value(answer)?)
}

/// What `deploy` did.
#[derive(Debug, PartialEq)]
pub enum Deployed {
    /// The drafts are what is live already.
    Unchanged,
    /// Not confirmed: the drafts are saved, nothing is deployed.
    NotConfirmed,
    /// Deployed as this version.
    Version(i64),
}

/// `switchyard deploy DIR`: saves DIR as the drafts, shows the plan through `show` and,
/// when there is something to deploy and `confirm` says yes, deploys it.
pub async fn deploy(
    client: &Client,
    dir: &Path,
    show: impl Fn(&str),
    confirm: impl FnOnce() -> bool,
) -> anyhow::Result<Deployed> {
    let project = read_project(dir)?;
    let slug = workspace(client, &project)?;
    let body = serde_json::to_value(&project.manifest)?;
    let (status, answer) = client
        .call(
            reqwest::Method::PUT,
            &format!("/workspaces/{slug}/drafts"),
            Some(&body),
        )
        .await?;
    if status != 200 {
        return Err(api_error(status, &answer));
    }
    let plan: PlanView = serde_json::from_value(answer)?;
    show(&render_plan(&plan));
    if plan.changes.is_empty() && plan.live_version.is_some() {
        return Ok(Deployed::Unchanged);
    }
    if !confirm() {
        return Ok(Deployed::NotConfirmed);
    }
    let (status, answer) = client
        .call(
            reqwest::Method::POST,
            &format!("/workspaces/{slug}/deploys"),
            None,
        )
        .await?;
    if status != 201 {
        return Err(api_error(status, &answer));
    }
    Ok(Deployed::Version(
        answer["version"].as_i64().unwrap_or_default(),
    ))
}

/// How often `dev` reads the directory.
pub const DEV_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// What `dev` did with one state of the directory.
#[derive(Debug, PartialEq)]
pub enum DevEvent {
    /// Deployed as `version`; `plan` is what changed.
    Deployed {
        /// The new live version.
        version: i64,
        /// The plan it applied, as `plan` prints it.
        plan: String,
    },
    /// The directory says what is live already.
    Unchanged,
    /// The directory cannot be read or deployed (a syntax error, a plan with problems, the
    /// server away): why. What is live stays live.
    Refused(String),
}

/// `switchyard dev DIR`: deploys DIR, then again each time what it reads changes — the
/// `switchyard.toml` or a handler's file —, looking every `every`, until `on` answers
/// false. A state that cannot be deployed is reported once; the next change is tried.
pub async fn dev(
    client: &Client,
    dir: &Path,
    every: std::time::Duration,
    mut on: impl FnMut(DevEvent) -> bool,
) -> anyhow::Result<()> {
    let mut last: Option<Result<Value, String>> = None;
    loop {
        let now = read_project(dir)
            .map(|p| json!({"workspace": p.workspace, "manifest": p.manifest}))
            .map_err(|e| e.to_string());
        if last.as_ref() != Some(&now) {
            let event = match &now {
                Err(e) => DevEvent::Refused(e.clone()),
                Ok(_) => {
                    let plan = std::sync::Mutex::new(String::new());
                    let show = |text: &str| {
                        if let Ok(mut plan) = plan.lock() {
                            plan.push_str(text);
                        }
                    };
                    match deploy(client, dir, show, || true).await {
                        Ok(Deployed::Version(version)) => DevEvent::Deployed {
                            version,
                            plan: plan.into_inner().unwrap_or_else(|p| p.into_inner()),
                        },
                        Ok(_) => DevEvent::Unchanged,
                        Err(e) => DevEvent::Refused(e.to_string()),
                    }
                }
            };
            last = Some(now);
            if !on(event) {
                return Ok(());
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// `switchyard publish TOPIC JSON`: the message's id.
pub async fn publish(
    client: &Client,
    dir: &Path,
    topic: &str,
    message: &str,
) -> anyhow::Result<String> {
    let slug = named_workspace(client, dir)?;
    let body: Value = serde_json::from_str(message)
        .map_err(|e| anyhow::anyhow!("the message is not JSON: {e}"))?;
    let (status, answer) = client
        .call(
            reqwest::Method::POST,
            &format!("/workspaces/{slug}/topics/{topic}/messages"),
            Some(&json!(body)),
        )
        .await?;
    if status != 202 {
        return Err(api_error(status, &answer));
    }
    Ok(answer["id"].as_str().unwrap_or_default().to_owned())
}

/// How often `logs --follow` asks for new lines.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(1_000);

/// How far back before the newest line seen `logs --follow` asks again, so lines written a
/// moment late (a batch still on its way to the store) are not missed; ids already shown
/// are skipped.
const FOLLOW_OVERLAP_MS: i64 = 5_000;

/// A route log line as the terminal shows it.
pub fn render_log_line(line: &RouteLogLine) -> String {
    let short_id: String = line.request_id.chars().take(8).collect();
    format!(
        "{}  {}  {short_id}  {}",
        crate::clock::rfc3339_ms(line.at),
        line.route,
        line.line
    )
}

/// `switchyard logs [ROUTE] [--follow]`: the workspace's route log (of `route` only, when
/// given), oldest first, each line through `out`; with `follow`, then every new line as it
/// is written, until `out` answers false.
pub async fn logs(
    client: &Client,
    dir: &Path,
    route: Option<&str>,
    follow: bool,
    mut out: impl FnMut(&str) -> bool,
) -> anyhow::Result<()> {
    let slug = named_workspace(client, dir)?;
    let mut seen: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut since: Option<i64> = None;
    loop {
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("limit", "1000");
            if let Some(route) = route {
                query.append_pair("route", route);
            }
            if let Some(since) = since {
                query.append_pair("since", &since.to_string());
            }
            query.finish()
        };
        let (status, answer) = client
            .call(
                reqwest::Method::GET,
                &format!("/workspaces/{slug}/logs?{query}"),
                None,
            )
            .await?;
        if status != 200 {
            return Err(api_error(status, &answer));
        }
        let page: RouteLogs = serde_json::from_value(answer)?;
        for line in &page.lines {
            if seen.insert(line.id.clone(), line.at).is_some() {
                continue;
            }
            if !out(&render_log_line(line)) {
                return Ok(());
            }
        }
        if !follow {
            return Ok(());
        }
        // From a little before the newest line (with none yet, from the start: there was
        // nothing before).
        let newest = page.lines.last().map(|l| l.at).or(since).unwrap_or(0);
        let from = (newest - FOLLOW_OVERLAP_MS).max(0);
        seen.retain(|_, at| *at >= from);
        since = Some(from);
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// A topic's message as the terminal shows it (its deliveries follow, one line each).
pub fn render_message(topic: &str, message: &MessageView) -> String {
    format!(
        "{}  {topic}  {}  {}",
        crate::clock::rfc3339_ms(message.at),
        message.id,
        message.body
    )
}

/// A delivery's state as the terminal shows it.
pub fn render_delivery(delivery: &DeliveryView) -> String {
    let replay = if delivery.replay_of.is_some() {
        " (a replay)"
    } else {
        ""
    };
    let attempts = match delivery.attempts {
        0 => String::new(),
        1 => ", 1 attempt".to_owned(),
        n => format!(", {n} attempts"),
    };
    let error = match (&delivery.error, delivery.status) {
        (Some(e), JobStatus::Queued | JobStatus::Dead | JobStatus::Failed) => format!(": {e}"),
        _ => String::new(),
    };
    format!(
        "    -> {}{replay}: {}{attempts}{error}",
        delivery.subscriber,
        delivery.status.as_str()
    )
}

/// A run a message started, as the terminal shows it.
pub fn render_run(run: &MessageRunView) -> String {
    let error = match &run.error {
        Some(e) => format!(": {e}"),
        None => String::new(),
    };
    format!(
        "    => pipeline {} run {}: {}{error}",
        run.pipeline,
        run.run_id,
        run.status.as_str()
    )
}

/// `switchyard logs TOPIC [--follow]`: the topic's latest messages, oldest first, each
/// with how its deliveries stand, through `out`; with `follow`, then every new message
/// and every change of a delivery (a retry, its success, its death), until `out` answers
/// false.
pub async fn topic_tail(
    client: &Client,
    dir: &Path,
    topic: &str,
    follow: bool,
    mut out: impl FnMut(&str) -> bool,
) -> anyhow::Result<()> {
    let slug = named_workspace(client, dir)?;
    // Per message seen: when it was published, and the last line shown of each delivery
    // and run it started (by job).
    type Shown = (i64, std::collections::HashMap<String, String>);
    let mut seen: std::collections::HashMap<String, Shown> = std::collections::HashMap::new();
    let mut since: Option<i64> = None;
    loop {
        let query = match since {
            Some(since) => format!("limit=500&since={since}"),
            None => "limit=50".to_owned(),
        };
        let path = format!(
            "/workspaces/{slug}/topics/{}/messages?{query}",
            url::form_urlencoded::byte_serialize(topic.as_bytes()).collect::<String>()
        );
        let (status, answer) = client.call(reqwest::Method::GET, &path, None).await?;
        if status != 200 {
            return Err(api_error(status, &answer));
        }
        let messages: Vec<MessageView> = serde_json::from_value(answer)?;
        for message in &messages {
            let mut lines = Vec::new();
            let (_, shown) = seen.entry(message.id.clone()).or_insert_with(|| {
                lines.push(render_message(topic, message));
                (message.at, Default::default())
            });
            let deliveries = message
                .deliveries
                .iter()
                .map(|d| (&d.job_id, render_delivery(d)));
            let runs = message.runs.iter().map(|r| (&r.run_id, render_run(r)));
            for (job, line) in deliveries.chain(runs) {
                if shown.get(job) != Some(&line) {
                    shown.insert(job.clone(), line.clone());
                    lines.push(line);
                }
            }
            for line in lines {
                if !out(&line) {
                    return Ok(());
                }
            }
        }
        if !follow {
            return Ok(());
        }
        // From a little before the newest message, or the oldest whose deliveries are not
        // over yet (they may still retry), whichever is earlier.
        let newest = messages.last().map(|m| m.at).or(since).unwrap_or(0);
        let unsettled = messages
            .iter()
            .filter(|m| {
                m.deliveries
                    .iter()
                    .any(|d| matches!(d.status, JobStatus::Queued | JobStatus::Running))
                    || m.runs.iter().any(|r| !r.status.is_final())
            })
            .map(|m| m.at)
            .min();
        let from = unsettled
            .unwrap_or(i64::MAX)
            .min(newest - FOLLOW_OVERLAP_MS)
            .max(0);
        seen.retain(|_, (at, _)| *at >= from);
        since = Some(from);
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::pipelines::views::RunStatus;

    #[test]
    fn deliveries_show_their_state_attempts_and_last_error() {
        let delivery = |status, attempts, error: Option<&str>, replay: bool| DeliveryView {
            subscriber: "audit".into(),
            job_id: "j1".into(),
            status,
            attempts,
            error: error.map(str::to_owned),
            replay_of: replay.then(|| "j0".to_owned()),
        };
        assert_eq!(
            render_delivery(&delivery(JobStatus::Queued, 0, None, false)),
            "    -> audit: queued"
        );
        assert_eq!(
            render_delivery(&delivery(
                JobStatus::Queued,
                1,
                Some("Error: not yet"),
                false
            )),
            "    -> audit: queued, 1 attempt: Error: not yet"
        );
        assert_eq!(
            render_delivery(&delivery(
                JobStatus::Succeeded,
                3,
                Some("Error: not yet"),
                false
            )),
            "    -> audit: succeeded, 3 attempts"
        );
        assert_eq!(
            render_delivery(&delivery(JobStatus::Dead, 2, Some("Error: broken"), true)),
            "    -> audit (a replay): dead, 2 attempts: Error: broken"
        );
    }

    #[test]
    fn runs_show_their_pipeline_state_and_why_they_failed() {
        let run = |status, error: Option<&str>| MessageRunView {
            run_id: "r1".into(),
            pipeline_id: "p1".into(),
            pipeline: "billing".into(),
            status,
            error: error.map(str::to_owned),
        };
        assert_eq!(
            render_run(&run(RunStatus::Running, None)),
            "    => pipeline billing run r1: running"
        );
        assert_eq!(
            render_run(&run(RunStatus::Failed, Some("node s1: boom"))),
            "    => pipeline billing run r1: failed: node s1: boom"
        );
    }

    fn project(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sy-cli-{}", uuid::Uuid::new_v4().simple()));
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("dir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn a_toml_project_reads_handler_files_from_inside_it_only() {
        let dir = project(&[
            ("switchyard.toml", "workspace = \"acme\"\n[[routes]]\nmethod = \"GET\"\npath = \"/hi\"\nhandler = { kind = \"script\", file = \"src/hi.js\" }\n[[topics]]\nname = \"orders\"\n[[topics.subscribers]]\nname = \"audit\"\nhandler = { kind = \"script\", file = \"audit.js\" }\n"),
            ("src/hi.js", "export default () => ({ status: 200 })"),
            ("audit.js", "export default () => {}"),
        ]);
        let p = read_project(&dir).expect("a project");
        assert_eq!(p.workspace.as_deref(), Some("acme"));
        assert_eq!(
            serde_json::to_value(&p.manifest.routes[0].handler).expect("json"),
            json!({"kind": "script", "source": "export default () => ({ status: 200 })"})
        );
        assert_eq!(p.manifest.topics[0].subscribers[0].name, "audit");
        for bad in ["../secret.js", "/etc/passwd", "src/../../x.js"] {
            let dir = project(&[(
                "switchyard.toml",
                &format!("[[routes]]\nmethod = \"GET\"\npath = \"/x\"\nhandler = {{ kind = \"script\", file = \"{bad}\" }}\n"),
            )]);
            let e = read_project(&dir).expect_err("refused").to_string();
            assert!(e.contains("inside the project"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_json_manifest_is_read_as_it_is_and_bad_files_are_named() {
        let manifest = json!({"routes": [{"method": "GET", "path": "/a", "handler": {"kind": "static", "status": 204}}], "topics": []});
        let dir = project(&[("switchyard.json", &manifest.to_string())]);
        let p = read_project(&dir).expect("a project");
        assert_eq!(
            serde_json::to_value(&p.manifest).expect("json")["routes"][0]["path"],
            "/a"
        );
        let dir = project(&[("switchyard.toml", "[[routes]]\nmethod = \"FETCH\"\n")]);
        let e = read_project(&dir).expect_err("refused").to_string();
        assert!(e.contains("switchyard.toml"), "{e}");
        let empty = project(&[("README", "")]);
        assert!(read_project(&empty)
            .expect_err("refused")
            .to_string()
            .contains("no switchyard.toml"));
    }
}
