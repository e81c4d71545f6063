//! The webhook gateway delivers queued messages to a provider over HTTP.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::*;

type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

async fn provider(State(received): State<Received>, headers: HeaderMap, body: axum::Json<Value>) -> StatusCode {
    let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
    received.lock().await.push((auth, body.0));
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn webhook_gateway_delivers_sms_and_email() {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route("/send", axum::routing::post(provider))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let server = TestServer::start_with(move |c| {
        c.messages = sca_server::MessagesConfig::Webhook {
            url,
            token: Some("provider-token".into()),
        }
    })
    .await;
    let c = server.admin_issue("Webhook User", "+393337770001").await;
    let r = server
        .post_json(
            "/api/v1/activations",
            &json!({"user": c.user_code, "password": c.password}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let otp = server.last_otp(&c.phone).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        {
            let got = received.lock().await;
            if let Some((auth, msg)) = got.iter().find(|(_, m)| m["to"] == c.phone.as_str()) {
                assert_eq!(auth.as_deref(), Some("Bearer provider-token"));
                assert_eq!(msg["channel"], "sms");
                assert!(msg["body"].as_str().unwrap().contains(&otp));
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "the provider got nothing");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
