//! The job stream over a real WebSocket: a member watches state and log; a member of another
//! workspace and an anonymous client are refused before any byte of the job is sent; a
//! foreign page (Origin) is refused.

use crate::common::{Auth, TestApp};
use axum::http::{Method, StatusCode};
use futures::StreamExt;
use serde_json::{json, Value};
use server::store::Backend;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use workers::bus::memory::InProcessBus;

async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    format!("127.0.0.1:{}", addr.port())
}

fn cookie(auth: &Auth) -> String {
    match auth {
        Auth::Cookie(c) => c.clone(),
        _ => String::new(),
    }
}

async fn open(
    addr: &str,
    path: &str,
    cookie: &str,
    origin: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    u16,
> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if !cookie.is_empty() {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("unexpected WebSocket failure: {e}"),
    }
}

#[tokio::test]
async fn the_job_stream_is_live_and_only_for_the_workspace() {
    let app =
        TestApp::with_jobs(Backend::Sqlite, Arc::new(InProcessBus::new()), "default", 2).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let (eve, _) = app.sign_up("eve@example.com").await;
    app.create_workspace(&ada, "acme").await;
    app.create_workspace(&eve, "globex").await;
    let submitted = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(json!({"kind": "diagnostic", "payload": {"lines": 3, "seconds": 0.6}})),
            &ada,
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED);
    let id = submitted.body["id"].as_str().unwrap().to_owned();
    let addr = serve(&app).await;
    let origin = format!("http://{addr}");
    let path = format!("/api/v1/workspaces/acme/jobs/{id}/stream");

    assert_eq!(
        open(&addr, &path, &cookie(&eve), &origin).await.err(),
        Some(404),
        "another workspace's member"
    );
    assert_eq!(
        open(&addr, &path, "", &origin).await.err(),
        Some(401),
        "no credentials"
    );
    assert_eq!(
        open(&addr, &path, &cookie(&ada), "https://evil.example")
            .await
            .err(),
        Some(403),
        "a foreign page"
    );
    assert_eq!(
        open(
            &addr,
            &format!("/api/v1/workspaces/globex/jobs/{id}/stream"),
            &cookie(&eve),
            &origin
        )
        .await
        .err(),
        Some(404),
        "a foreign job id through one's own workspace"
    );

    let mut socket = open(&addr, &path, &cookie(&ada), &origin)
        .await
        .expect("the member may watch");
    let mut lines = Vec::new();
    let mut last_status = String::new();
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_secs(20), socket.next()).await
    {
        let Message::Text(text) = message else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        match event["type"].as_str() {
            Some("log") => lines.extend(
                event["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["line"].as_str().unwrap().to_owned()),
            ),
            Some("job") => last_status = event["job"]["status"].as_str().unwrap().to_owned(),
            _ => {}
        }
    }
    assert_eq!(
        last_status, "succeeded",
        "the stream follows the job to its end, then closes"
    );
    assert_eq!(
        lines,
        vec![
            "diagnostic line 1 of 3",
            "diagnostic line 2 of 3",
            "diagnostic line 3 of 3"
        ]
    );
    app.finish().await;
}

/// The live view re-checks its caller every few seconds; that must not count as activity,
/// or an open job page would keep an idle session alive for ever.
#[tokio::test]
async fn a_live_view_recheck_does_not_keep_a_session_alive() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (auth, _) = app.sign_up("ada@example.com").await;
    let Auth::Cookie(cookie) = &auth else {
        panic!("cookie auth")
    };
    let token = cookie.strip_prefix("sy_session=").expect("session cookie");
    let principal = app
        .control
        .accounts
        .authenticate_session(token)
        .await
        .expect("session");
    let server::accounts::Principal::User { session, .. } = principal else {
        panic!("a user session")
    };
    let earlier = server::clock::now() - 600;
    app.store
        .touch_session(session, earlier)
        .await
        .expect("touch");
    let last_seen = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .session(session)
                .await
                .expect("store")
                .expect("session")
                .last_seen_at
        }
    };
    app.control
        .accounts
        .recheck_session(token)
        .await
        .expect("still live");
    assert_eq!(last_seen(&app).await, earlier, "a re-check is not activity");
    app.control
        .accounts
        .authenticate_session(token)
        .await
        .expect("still live");
    assert!(last_seen(&app).await > earlier, "a request is");
    app.finish().await;
}
