//! The node kinds: their ports, whether they start a run, and the settings each one needs.

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// Started by hand (console or API), with an input checked against an optional schema.
    Manual,
    /// Started by a request to its unique URL.
    Webhook,
    /// Started by a cron schedule.
    Schedule,
    /// Started by each message published to a topic.
    Topic,
    /// An outbound HTTP request (through the egress guard).
    Http,
    /// JavaScript in the sandbox.
    Script,
    /// A condition that continues on `true` or `false`.
    Branch,
    /// Waits for all its inputs.
    Merge,
    /// Waits, holding no worker.
    Delay,
    /// Builds an object from templates.
    Set,
    /// Queries the workspace's code index.
    CodeSearch,
    /// Publishes a message to one of the workspace's topics.
    Publish,
    /// The run's result.
    Output,
}

impl NodeKind {
    /// Every kind, in the order the editor's palette lists them.
    pub const ALL: [NodeKind; 13] = [
        NodeKind::Manual,
        NodeKind::Webhook,
        NodeKind::Schedule,
        NodeKind::Topic,
        NodeKind::Http,
        NodeKind::Script,
        NodeKind::Branch,
        NodeKind::Merge,
        NodeKind::Delay,
        NodeKind::Set,
        NodeKind::CodeSearch,
        NodeKind::Publish,
        NodeKind::Output,
    ];

    /// The kind's name in the graph JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Manual => "manual",
            NodeKind::Webhook => "webhook",
            NodeKind::Schedule => "schedule",
            NodeKind::Topic => "topic",
            NodeKind::Http => "http",
            NodeKind::Script => "script",
            NodeKind::Branch => "branch",
            NodeKind::Merge => "merge",
            NodeKind::Delay => "delay",
            NodeKind::Set => "set",
            NodeKind::CodeSearch => "code_search",
            NodeKind::Publish => "publish",
            NodeKind::Output => "output",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<NodeKind> {
        NodeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether it starts runs (a pipeline has exactly one).
    pub fn is_trigger(self) -> bool {
        matches!(
            self,
            NodeKind::Manual | NodeKind::Webhook | NodeKind::Schedule | NodeKind::Topic
        )
    }

    /// Its input ports (none for a trigger).
    pub fn inputs(self) -> &'static [&'static str] {
        if self.is_trigger() {
            &[]
        } else {
            &["in"]
        }
    }

    /// Its output ports (none for the output node; a branch has `true` and `false`).
    pub fn outputs(self) -> &'static [&'static str] {
        match self {
            NodeKind::Output => &[],
            NodeKind::Branch => &["true", "false"],
            _ => &["out"],
        }
    }

    /// Whether more than one edge may arrive at its input (merge waits for all of them).
    pub fn joins(self) -> bool {
        self == NodeKind::Merge
    }

    /// The settings it needs, each with what makes it valid.
    pub fn required(self) -> &'static [(&'static str, Setting)] {
        match self {
            NodeKind::Schedule => &[("cron", Setting::Cron)],
            NodeKind::Http => &[("method", Setting::HttpMethod), ("url", Setting::Text)],
            NodeKind::Script => &[("source", Setting::Text)],
            NodeKind::Branch => &[("condition", Setting::Text)],
            NodeKind::Delay => &[("seconds", Setting::Seconds)],
            NodeKind::Set => &[("fields", Setting::Object)],
            NodeKind::CodeSearch => &[("query", Setting::Text)],
            NodeKind::Topic | NodeKind::Publish => &[("topic", Setting::Topic)],
            NodeKind::Manual | NodeKind::Webhook | NodeKind::Merge | NodeKind::Output => &[],
        }
    }
}

/// How the editor's inspector shows a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// One line of text (templates allowed).
    Text,
    /// JavaScript, in the script editor.
    Code,
    /// A number.
    Number,
    /// One of a few values.
    Choice(&'static [&'static str]),
    /// Any JSON value (templates allowed in its strings).
    Json,
    /// On or off.
    Switch,
}

/// One setting of a node kind, as the inspector shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The key in the node's `config`.
    pub name: &'static str,
    /// The label.
    pub label: &'static str,
    /// How it is edited.
    pub kind: FieldKind,
    /// Whether the node cannot run without it.
    pub required: bool,
    /// A hint under the input.
    pub help: &'static str,
}

const fn field(
    name: &'static str,
    label: &'static str,
    kind: FieldKind,
    required: bool,
    help: &'static str,
) -> Field {
    Field {
        name,
        label,
        kind,
        required,
        help,
    }
}

const RETRIES: Field = field(
    "retries",
    "Retries",
    FieldKind::Number,
    false,
    "Attempts after the first (0-10), with doubling waits.",
);
const RETRY_DELAY: Field = field(
    "retry_delay_seconds",
    "First retry after (seconds)",
    FieldKind::Number,
    false,
    "Default 1.",
);
const TIMEOUT: Field = field(
    "timeout_seconds",
    "Timeout (seconds)",
    FieldKind::Number,
    false,
    "Per attempt. Default 10 (HTTP: 30).",
);

const TOPIC: Field = field(
    "topic",
    "Topic",
    FieldKind::Text,
    true,
    "A topic of this workspace, like orders.created (deployed with the routes).",
);

impl NodeKind {
    /// Every setting the inspector offers for this kind, required ones first.
    pub fn fields(self) -> &'static [Field] {
        match self {
            NodeKind::Manual => {
                const F: &[Field] = &[field(
                    "schema",
                    "Input schema",
                    FieldKind::Json,
                    false,
                    "A JSON schema the run's input must match: type, required, properties.",
                )];
                F
            }
            NodeKind::Webhook => {
                const F: &[Field] = &[field(
                "wait_seconds",
                "Wait for the result (seconds)",
                FieldKind::Number,
                false,
                "Answer with the output when the run ends within this time (at most 30); else 202 with the run id.",
            )];
                F
            }
            NodeKind::Schedule => {
                const F: &[Field] = &[
                    field(
                        "cron",
                        "Cron",
                        FieldKind::Text,
                        true,
                        "minute hour day month weekday, like */15 9-17 * * 1-5",
                    ),
                    field(
                        "timezone",
                        "Time zone",
                        FieldKind::Text,
                        false,
                        "IANA name, like Europe/Paris. Default UTC.",
                    ),
                    field(
                        "missed",
                        "Missed ticks",
                        FieldKind::Choice(&["skip", "run_once"]),
                        false,
                        "After downtime: skip them, or run once.",
                    ),
                ];
                F
            }
            NodeKind::Topic => {
                const F: &[Field] = &[TOPIC];
                F
            }
            NodeKind::Publish => {
                const F: &[Field] = &[
                    TOPIC,
                    field(
                        "message",
                        "Message",
                        FieldKind::Json,
                        false,
                        "Any JSON; its strings may be templates. Default: what arrives at this node.",
                    ),
                    RETRIES,
                    RETRY_DELAY,
                ];
                F
            }
            NodeKind::Http => {
                const F: &[Field] = &[
                    field(
                        "method",
                        "Method",
                        FieldKind::Choice(&HTTP_METHODS),
                        true,
                        "",
                    ),
                    field(
                        "url",
                        "URL",
                        FieldKind::Text,
                        true,
                        "https://… Templates allowed: {{ nodes.fetch.body.id }}",
                    ),
                    field(
                        "headers",
                        "Headers",
                        FieldKind::Json,
                        false,
                        "An object of header names to values.",
                    ),
                    field(
                        "body",
                        "Body",
                        FieldKind::Json,
                        false,
                        "Text, or JSON sent as application/json.",
                    ),
                    field(
                        "fail_on_status",
                        "Fail on 4xx/5xx",
                        FieldKind::Switch,
                        false,
                        "Default on.",
                    ),
                    TIMEOUT,
                    RETRIES,
                    RETRY_DELAY,
                ];
                F
            }
            NodeKind::Script => {
                const F: &[Field] = &[
                field("source", "Script", FieldKind::Code, true, "export default function main(input, ctx) { … } — ctx.input, ctx.nodes, ctx.log()"),
                TIMEOUT,
                RETRIES,
                RETRY_DELAY,
            ];
                F
            }
            NodeKind::Branch => {
                const F: &[Field] = &[field(
                "condition",
                "Condition",
                FieldKind::Text,
                true,
                "A JavaScript expression; templates become values: {{ nodes.fetch.status }} == 200",
            )];
                F
            }
            NodeKind::Merge => {
                const F: &[Field] = &[];
                F
            }
            NodeKind::Delay => {
                const F: &[Field] = &[field(
                    "seconds",
                    "Seconds",
                    FieldKind::Number,
                    true,
                    "Up to 30 days; longer than 10 s holds no worker.",
                )];
                F
            }
            NodeKind::Set => {
                const F: &[Field] = &[field(
                    "fields",
                    "Fields",
                    FieldKind::Json,
                    true,
                    "An object; its strings may be templates.",
                )];
                F
            }
            NodeKind::CodeSearch => {
                const F: &[Field] = &[
                    field(
                        "query",
                        "Query",
                        FieldKind::Text,
                        true,
                        "What to look for in the workspace's code.",
                    ),
                    field(
                        "limit",
                        "Results",
                        FieldKind::Number,
                        false,
                        "1-50, default 10.",
                    ),
                    TIMEOUT,
                    RETRIES,
                    RETRY_DELAY,
                ];
                F
            }
            NodeKind::Output => {
                const F: &[Field] = &[field(
                    "value",
                    "Value",
                    FieldKind::Json,
                    false,
                    "The run's result; default: what arrives at this node.",
                )];
                F
            }
        }
    }

    /// A short description for the palette.
    pub fn describe(self) -> &'static str {
        match self {
            NodeKind::Manual => "Start by hand, with an input",
            NodeKind::Webhook => "Start on an HTTP request",
            NodeKind::Schedule => "Start on a cron schedule",
            NodeKind::Topic => "Start on each message to a topic",
            NodeKind::Http => "Call an HTTP API",
            NodeKind::Script => "Run JavaScript",
            NodeKind::Branch => "Go one way or the other",
            NodeKind::Merge => "Wait for every input",
            NodeKind::Delay => "Wait, holding no worker",
            NodeKind::Set => "Build an object",
            NodeKind::CodeSearch => "Search the workspace's code",
            NodeKind::Publish => "Publish a message to a topic",
            NodeKind::Output => "The run's result",
        }
    }

    /// The settings a new node of this kind starts with.
    pub fn starter_config(self) -> serde_json::Value {
        match self {
            NodeKind::Schedule => serde_json::json!({"cron": "0 * * * *", "timezone": "UTC"}),
            NodeKind::Http => serde_json::json!({"method": "GET", "url": "https://example.com"}),
            NodeKind::Script => {
                serde_json::json!({"source": "export default function main(input, ctx) {\n  return input;\n}\n"})
            }
            NodeKind::Branch => serde_json::json!({"condition": "true"}),
            NodeKind::Delay => serde_json::json!({"seconds": 1}),
            NodeKind::Set => serde_json::json!({"fields": {}}),
            NodeKind::CodeSearch => serde_json::json!({"query": "parse configuration"}),
            NodeKind::Topic | NodeKind::Publish => serde_json::json!({"topic": "events"}),
            _ => serde_json::json!({}),
        }
    }
}

/// What a required setting must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A non-empty string.
    Text,
    /// A JSON object.
    Object,
    /// One of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`.
    HttpMethod,
    /// A number of seconds from 0 to 30 days.
    Seconds,
    /// A 5-field cron expression.
    Cron,
    /// A topic's name (`orders.created`).
    Topic,
}

/// The longest a delay node may wait.
pub const MAX_DELAY_SECONDS: f64 = 30.0 * 86_400.0;

/// The methods an HTTP node may send.
pub const HTTP_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_know_their_ports() {
        for kind in NodeKind::ALL {
            assert_eq!(NodeKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.is_trigger(), kind.inputs().is_empty());
        }
        assert_eq!(NodeKind::parse("cron"), None);
        assert_eq!(NodeKind::Branch.outputs(), &["true", "false"]);
        assert!(NodeKind::Output.outputs().is_empty());
    }

    #[test]
    fn every_required_setting_has_a_field_and_starter_configs_are_valid() {
        for kind in NodeKind::ALL {
            for (name, _) in kind.required() {
                assert!(
                    kind.fields().iter().any(|f| f.name == *name && f.required),
                    "{kind:?} {name}"
                );
            }
            for (name, setting) in kind.required() {
                let value = kind.starter_config().get(*name).cloned();
                assert!(
                    super::super::validate::check_setting_for_tests(*setting, value.as_ref()),
                    "{kind:?} starts with a bad {name}"
                );
            }
        }
    }
}
