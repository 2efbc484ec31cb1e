//! The console's route form: every field as the browser sends it (text), turned into a
//! [`RouteBody`] with the same field names the API's errors use, and made from a route to
//! edit it. Values the API would refuse (a timeout past the limit) pass here and are refused
//! by validation, so the console and the API say the same thing.

use super::views::{RouteBody, RouteView};
use super::{Cors, Handler, Method, RouteAuth, RouteSettings};
use crate::error::FieldError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

/// A route as the console's form holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteForm {
    /// `GET` … `ANY`.
    pub method: String,
    /// The path pattern.
    pub path: String,
    /// `static`, `script`, `pipeline` or `publish`.
    pub kind: String,
    /// A static answer's status.
    pub status: String,
    /// A static answer's body: JSON, or any other text sent as text.
    pub body: String,
    /// A script's source.
    pub source: String,
    /// The topic a publish handler publishes to.
    pub topic: String,
    /// The pipeline a pipeline handler runs.
    pub pipeline_id: String,
    /// The handler's timeout in ms (empty: the default).
    pub timeout_ms: String,
    /// Requests per minute per client IP (empty: no limit).
    pub rate_limit: String,
    /// The largest body in bytes (empty: the default).
    pub max_body_bytes: String,
    /// `public`, or the least role of an API key (`viewer`, `developer`, `admin`).
    pub auth: String,
    /// Allowed CORS origins, separated by commas or spaces (empty: no CORS).
    pub cors_origins: String,
}

impl RouteForm {
    /// The route body this form describes, or the first field it cannot read.
    pub fn to_body(&self) -> Result<RouteBody, FieldError> {
        let method = Method::parse(self.method.trim())
            .ok_or_else(|| FieldError::new("method", "is not a method a route answers"))?;
        let handler = match self.kind.trim() {
            "static" => {
                let status =
                    self.status.trim().parse::<u16>().map_err(|_| {
                        FieldError::new("handler.status", "must be a status, 100-599")
                    })?;
                let text = self.body.trim();
                let body = if text.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(text).unwrap_or_else(|_| Value::String(self.body.clone()))
                };
                Handler::Static {
                    status,
                    headers: BTreeMap::new(),
                    body,
                }
            }
            "script" => Handler::Script {
                source: self.source.clone(),
            },
            "pipeline" => {
                let pipeline_id = self.pipeline_id.trim();
                if pipeline_id.is_empty() {
                    return Err(FieldError::new("handler.pipeline_id", "choose a pipeline"));
                }
                Handler::Pipeline {
                    pipeline_id: pipeline_id.to_owned(),
                }
            }
            "publish" => {
                let topic = self.topic.trim();
                if topic.is_empty() {
                    return Err(FieldError::new("handler.topic", "name the topic"));
                }
                Handler::Publish {
                    topic: topic.to_owned(),
                }
            }
            _ => {
                return Err(FieldError::new(
                    "handler.kind",
                    "must be static, script, pipeline or publish",
                ))
            }
        };
        let mut settings = RouteSettings::default();
        if let Some(ms) = number(&self.timeout_ms, "settings.timeout_ms")? {
            settings.timeout_ms = ms;
        }
        if let Some(bytes) = number(&self.max_body_bytes, "settings.max_body_bytes")? {
            settings.max_body_bytes = bytes;
        }
        settings.rate_limit_per_minute =
            number(&self.rate_limit, "settings.rate_limit_per_minute")?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        settings.auth = match self.auth.trim() {
            "" | "public" => RouteAuth::Public,
            role => RouteAuth::ApiKey {
                min_role: crate::roles::Role::from_str(role)
                    .map_err(|_| FieldError::new("settings.auth", "must be public or a role"))?,
            },
        };
        let origins: Vec<String> = self
            .cors_origins
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if !origins.is_empty() {
            settings.cors = Some(Cors {
                allowed_origins: origins,
                allowed_methods: vec![],
                allowed_headers: vec!["content-type".into(), "authorization".into()],
                max_age_seconds: 600,
            });
        }
        Ok(RouteBody {
            method,
            path: self.path.trim().to_owned(),
            handler,
            settings,
        })
    }

    /// The form of an existing route (to edit it).
    pub fn of(route: &RouteView) -> RouteForm {
        let s = &route.settings;
        let mut form = RouteForm {
            method: route.method.as_str().to_owned(),
            path: route.path.clone(),
            kind: route.handler.kind().to_owned(),
            timeout_ms: s.timeout_ms.to_string(),
            rate_limit: s
                .rate_limit_per_minute
                .map(|n| n.to_string())
                .unwrap_or_default(),
            max_body_bytes: s.max_body_bytes.to_string(),
            auth: match &s.auth {
                RouteAuth::Public => "public".to_owned(),
                RouteAuth::ApiKey { min_role } => min_role.as_str().to_owned(),
            },
            cors_origins: s
                .cors
                .as_ref()
                .map(|c| c.allowed_origins.join(", "))
                .unwrap_or_default(),
            ..RouteForm::default()
        };
        match &route.handler {
            Handler::Static { status, body, .. } => {
                form.status = status.to_string();
                form.body = match body {
                    Value::Null => String::new(),
                    Value::String(text) => text.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
            }
            Handler::Script { source } => form.source = source.clone(),
            Handler::Publish { topic } => form.topic = topic.clone(),
            Handler::Pipeline { pipeline_id } => form.pipeline_id = pipeline_id.clone(),
        }
        form
    }
}

/// An optional whole number: empty is `None`.
fn number(text: &str, field: &'static str) -> Result<Option<u64>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| FieldError::new(field, "must be a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str) -> RouteForm {
        RouteForm {
            method: "GET".into(),
            path: " /hello/{name} ".into(),
            kind: kind.into(),
            status: "200".into(),
            ..RouteForm::default()
        }
    }

    #[test]
    fn a_static_form_becomes_a_route_with_default_settings_and_json_or_text_bodies() {
        let mut f = form("static");
        f.body = r#"{"hi": 1}"#.into();
        let body = f.to_body().expect("a body");
        assert_eq!(body.method, Method::Get);
        assert_eq!(body.path, "/hello/{name}");
        assert_eq!(
            body.handler,
            Handler::Static {
                status: 200,
                headers: BTreeMap::new(),
                body: serde_json::json!({"hi": 1})
            }
        );
        assert_eq!(body.settings, RouteSettings::default());
        f.body = "plain words".into();
        assert!(matches!(
            f.to_body().expect("a body").handler,
            Handler::Static { body: Value::String(ref t), .. } if t == "plain words"
        ));
    }

    #[test]
    fn settings_are_read_and_bad_fields_are_named() {
        let mut f = form("publish");
        f.topic = "orders".into();
        f.timeout_ms = "2500".into();
        f.rate_limit = "60".into();
        f.auth = "developer".into();
        f.cors_origins = "https://a.example, https://b.example".into();
        let body = f.to_body().expect("a body");
        assert_eq!(
            body.handler,
            Handler::Publish {
                topic: "orders".into()
            }
        );
        assert_eq!(body.settings.timeout_ms, 2500);
        assert_eq!(body.settings.rate_limit_per_minute, Some(60));
        assert_eq!(
            body.settings.auth,
            RouteAuth::ApiKey {
                min_role: crate::roles::Role::Developer
            }
        );
        assert_eq!(
            body.settings.cors.map(|c| c.allowed_origins),
            Some(vec!["https://a.example".into(), "https://b.example".into()])
        );
        for (change, field) in [
            (("method", "FETCH"), "method"),
            (("kind", "lambda"), "handler.kind"),
            (("timeout_ms", "soon"), "settings.timeout_ms"),
            (("auth", "emperor"), "settings.auth"),
            (("topic", " "), "handler.topic"),
        ] {
            let mut bad = f.clone();
            match change.0 {
                "method" => bad.method = change.1.into(),
                "kind" => bad.kind = change.1.into(),
                "timeout_ms" => bad.timeout_ms = change.1.into(),
                "auth" => bad.auth = change.1.into(),
                _ => bad.topic = change.1.into(),
            }
            assert_eq!(bad.to_body().map_err(|e| e.field), Err(field), "{change:?}");
        }
        let mut pipeline = form("pipeline");
        assert_eq!(
            pipeline.to_body().map_err(|e| e.field),
            Err("handler.pipeline_id")
        );
        pipeline.pipeline_id = "0b4c".into();
        assert_eq!(
            pipeline.to_body().map(|b| b.handler),
            Ok(Handler::Pipeline {
                pipeline_id: "0b4c".into()
            })
        );
        let mut status = form("static");
        status.status = "ok".into();
        assert_eq!(status.to_body().map_err(|e| e.field), Err("handler.status"));
    }

    #[test]
    fn a_route_made_into_a_form_becomes_the_same_route() {
        let mut f = form("script");
        f.source = "export default () => ({status: 200})".into();
        f.rate_limit = "5".into();
        f.auth = "admin".into();
        f.cors_origins = "*".into();
        let body = f.to_body().expect("a body");
        let view = RouteView {
            id: "r".into(),
            method: body.method,
            path: body.path.clone(),
            handler: body.handler.clone(),
            settings: body.settings.clone(),
            deployed: false,
            updated_at: String::new(),
        };
        assert_eq!(RouteForm::of(&view).to_body(), Ok(body));
    }
}
