//! The MCP server at `/mcp`: the Streamable HTTP transport (JSON-RPC 2.0 messages POSTed,
//! answered as `application/json`), authenticated by a workspace API key, exposing the code
//! intelligence tools `search_code`, `get_symbol`, `find_callers`, `find_callees` and
//! `file_outline`. No server-to-client stream is offered, so `GET /mcp` is 405.

use crate::accounts::Principal;
use crate::control::Control;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use shared::error::ApiError;
use std::sync::Arc;

/// Protocol versions this server speaks, newest first.
const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

pub fn router() -> Router<Arc<Control>> {
    Router::new().route("/mcp", post(handle).get(no_stream).delete(no_stream))
}

async fn no_stream() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        Json(json!({"error": "this MCP server answers POSTed messages only; it offers no event stream"})),
    )
        .into_response()
}

fn rpc_error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

fn rpc_result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A 400 answer carrying a JSON-RPC error for the message `id` (null when unknown).
fn bad_request(id: Value, code: i64, message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(rpc_error(id, code, message))).into_response()
}

fn http_error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(rpc_error(Value::Null, code, message))).into_response()
}

/// A browser page of another site must not drive the endpoint: only the configured public
/// origin passes (matching `Host` would let a DNS-rebound name in, since it names itself in
/// both headers).
fn origin_allowed(control: &Arc<Control>, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => true,
        Some(origin) => origin.trim_end_matches('/') == control.config().public_origin(),
    }
}

async fn handle(State(control): State<Arc<Control>>, headers: HeaderMap, body: Bytes) -> Response {
    if !origin_allowed(&control, &headers) {
        return http_error(
            StatusCode::FORBIDDEN,
            INVALID_REQUEST,
            "cross-site requests are refused",
        );
    }
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(key) = key else {
        let mut response = http_error(
            StatusCode::UNAUTHORIZED,
            INVALID_REQUEST,
            "authenticate with `Authorization: Bearer <workspace API key>`",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    let principal = match control.accounts.authenticate_api_key(key).await {
        Ok(p @ Principal::ApiKey(_)) => p,
        _ => {
            return http_error(
                StatusCode::UNAUTHORIZED,
                INVALID_REQUEST,
                "the API key is not valid",
            )
        }
    };
    let message: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(Value::Null, PARSE_ERROR, format!("not JSON: {e}")),
    };
    if message.is_array() {
        return bad_request(
            Value::Null,
            INVALID_REQUEST,
            "batches are not supported; send one message per request",
        );
    }
    let Some(object) = message.as_object() else {
        return bad_request(
            Value::Null,
            INVALID_REQUEST,
            "a message must be a JSON object",
        );
    };
    let id = object.get("id").cloned();
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return bad_request(
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "jsonrpc must be \"2.0\"",
        );
    }
    let Some(method) = object.get("method").and_then(Value::as_str) else {
        // A response or error from the client: nothing was asked of it, so nothing to do.
        if id.is_some() && (object.contains_key("result") || object.contains_key("error")) {
            return StatusCode::ACCEPTED.into_response();
        }
        return bad_request(
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "method is missing",
        );
    };
    let params = object.get("params").cloned().unwrap_or(Value::Null);
    let Some(id) = id.filter(|i| i.is_string() || i.is_number()) else {
        // Notifications get no answer.
        return StatusCode::ACCEPTED.into_response();
    };
    let mut response = match method {
        "initialize" => {
            let asked = params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let version = PROTOCOL_VERSIONS
                .iter()
                .find(|v| **v == asked)
                .copied()
                .unwrap_or(PROTOCOL_VERSIONS[0]);
            Json(rpc_result(
                id,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "switchyard", "title": "Switchyard code intelligence", "version": env!("CARGO_PKG_VERSION")},
                    "instructions": "Search this workspace's indexed repositories with search_code; follow the code graph with get_symbol, find_callers, find_callees and file_outline. Symbol ids come from search results."
                }),
            ))
            .into_response()
        }
        "ping" => Json(rpc_result(id, json!({}))).into_response(),
        "tools/list" => Json(rpc_result(id, json!({"tools": tools()}))).into_response(),
        "tools/call" => Json(call_tool(&control, &principal, id, &params).await).into_response(),
        other => Json(rpc_error(
            id,
            METHOD_NOT_FOUND,
            format!("unknown method {other:?}"),
        ))
        .into_response(),
    };
    if method == "initialize" {
        if let Ok(session) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            response.headers_mut().insert("mcp-session-id", session);
        }
    }
    response
}

fn tools() -> Value {
    let symbol_id = json!({"type": "string", "description": "A symbol id, from search_code results (symbol_id) or other tools"});
    let depth = json!({"type": "integer", "minimum": 1, "maximum": crate::code::MAX_DEPTH, "description": "Steps to follow (default 1)"});
    json!([
        {
            "name": "search_code",
            "title": "Search code",
            "description": "Hybrid keyword + semantic search over the workspace's indexed repositories. Returns matching functions, methods and types with their file, lines and a snippet.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Identifiers, words, or a description of what the code does"},
                    "repo": {"type": "string", "description": "Only this repository id"},
                    "language": {"type": "string", "enum": ["rust", "python", "javascript", "typescript", "tsx", "go", "java"]},
                    "kind": {"type": "string", "enum": ["function", "method", "class", "struct", "enum", "trait", "interface", "type", "module", "file"]},
                    "path": {"type": "string", "description": "Path glob, e.g. src/**/*.rs"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": crate::code::MAX_SEARCH_LIMIT}
                },
                "required": ["query"]
            }
        },
        {
            "name": "get_symbol",
            "title": "Get a symbol",
            "description": "A symbol's signature, docs, code, container, direct callers and callees.",
            "inputSchema": {"type": "object", "properties": {"symbol_id": symbol_id}, "required": ["symbol_id"]}
        },
        {
            "name": "find_callers",
            "title": "Find callers",
            "description": "Functions and methods that call a symbol, to a depth, with the confidence of each resolved call.",
            "inputSchema": {"type": "object", "properties": {"symbol_id": symbol_id, "depth": depth}, "required": ["symbol_id"]}
        },
        {
            "name": "find_callees",
            "title": "Find callees",
            "description": "Functions and methods a symbol calls, to a depth.",
            "inputSchema": {"type": "object", "properties": {"symbol_id": symbol_id, "depth": depth}, "required": ["symbol_id"]}
        },
        {
            "name": "file_outline",
            "title": "File outline",
            "description": "The symbols defined in one file of a repository, in source order with nesting depth.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "repo": {"type": "string", "description": "Repository id"},
                    "path": {"type": "string", "description": "File path in the repository"}
                },
                "required": ["repo", "path"]
            }
        }
    ])
}

fn arg_str<'a>(args: &'a Value, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

fn tool_text(id: Value, value: Result<Value, String>) -> Value {
    match value {
        Ok(structured) => rpc_result(
            id,
            json!({
                "content": [{"type": "text", "text": serde_json::to_string_pretty(&structured).unwrap_or_default()}],
                "structuredContent": structured,
                "isError": false
            }),
        ),
        Err(message) => rpc_result(
            id,
            json!({"content": [{"type": "text", "text": message}], "isError": true}),
        ),
    }
}

fn failure_text(e: ApiError) -> String {
    e.to_string()
}

async fn call_tool(
    control: &Arc<Control>,
    principal: &Principal,
    id: Value,
    params: &Value,
) -> Value {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return rpc_error(id, INVALID_PARAMS, "params.name (the tool) is required");
    };
    let args = params
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !args.is_object() {
        return rpc_error(id, INVALID_PARAMS, "params.arguments must be an object");
    }
    let Principal::ApiKey(key) = principal else {
        return rpc_error(id, INVALID_REQUEST, "an API key is required");
    };
    let slug = match control.store().workspace(key.tenant_id).await {
        Ok(Some(w)) => w.slug.to_string(),
        _ => return rpc_error(id, INVALID_REQUEST, "the API key's workspace is gone"),
    };
    let control = &control;
    let depth = |args: &Value| -> Result<Option<u32>, String> {
        match args.get("depth") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .map(Some)
                .ok_or_else(|| "depth must be a positive integer".to_owned()),
        }
    };
    let symbol_id = |args: &Value| -> Result<String, String> {
        arg_str(args, "symbol_id")
            .map(str::to_owned)
            .ok_or_else(|| "symbol_id is required".to_owned())
    };
    let result: Result<Value, String> = match name {
        "search_code" => match arg_str(&args, "query") {
            None => Err("query is required".into()),
            Some(query) => {
                let limit = match args.get("limit") {
                    None | Some(Value::Null) => None,
                    Some(v) => match v.as_u64() {
                        Some(n) => Some(n as usize),
                        None => {
                            return tool_text(id, Err("limit must be a positive integer".into()))
                        }
                    },
                };
                let params = shared::code::CodeQuery {
                    q: query.to_owned(),
                    repo: arg_str(&args, "repo").map(str::to_owned),
                    lang: arg_str(&args, "language").map(str::to_owned),
                    kind: arg_str(&args, "kind").map(str::to_owned),
                    path: arg_str(&args, "path").map(str::to_owned),
                    limit,
                    mode: None,
                };
                control
                    .code
                    .search_code(principal, &slug, params)
                    .await
                    .map_err(failure_text)
                    .map(|r| json!(r))
            }
        },
        "get_symbol" => match symbol_id(&args) {
            Ok(sid) => control
                .code
                .symbol_detail(principal, &slug, &sid)
                .await
                .map_err(failure_text)
                .map(|r| json!(r)),
            Err(e) => Err(e),
        },
        "find_callers" | "find_callees" => match (symbol_id(&args), depth(&args)) {
            (Ok(sid), Ok(depth)) => control
                .code
                .call_graph(principal, &slug, &sid, name == "find_callers", depth)
                .await
                .map_err(failure_text)
                .map(|r| json!(r)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        "file_outline" => match (arg_str(&args, "repo"), arg_str(&args, "path")) {
            (Some(repo), Some(path)) => control
                .code
                .file_outline(principal, &slug, repo, path)
                .await
                .map_err(failure_text)
                .map(|r| json!(r)),
            _ => Err("repo and path are required".into()),
        },
        other => return rpc_error(id, INVALID_PARAMS, format!("unknown tool {other:?}")),
    };
    tool_text(id, result)
}
