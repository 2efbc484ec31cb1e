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
    /// The run's result.
    Output,
}

impl NodeKind {
    /// Every kind, in the order the editor's palette lists them.
    pub const ALL: [NodeKind; 11] = [
        NodeKind::Manual,
        NodeKind::Webhook,
        NodeKind::Schedule,
        NodeKind::Http,
        NodeKind::Script,
        NodeKind::Branch,
        NodeKind::Merge,
        NodeKind::Delay,
        NodeKind::Set,
        NodeKind::CodeSearch,
        NodeKind::Output,
    ];

    /// The kind's name in the graph JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Manual => "manual",
            NodeKind::Webhook => "webhook",
            NodeKind::Schedule => "schedule",
            NodeKind::Http => "http",
            NodeKind::Script => "script",
            NodeKind::Branch => "branch",
            NodeKind::Merge => "merge",
            NodeKind::Delay => "delay",
            NodeKind::Set => "set",
            NodeKind::CodeSearch => "code_search",
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
            NodeKind::Manual | NodeKind::Webhook | NodeKind::Schedule
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
            NodeKind::Manual | NodeKind::Webhook | NodeKind::Merge | NodeKind::Output => &[],
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
}
