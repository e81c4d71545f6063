//! One client cannot take the password-hashing queue from the others (issue 11 §4): a token
//! bucket per client address in front of argon2id answers 429 with `Retry-After`, hashes
//! nothing and counts no attempt, while another address logs in.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn login(http: &reqwest::Client, server: &TestServer, user: &str, password: &str) -> (StatusCode, Value) {
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert_eq!(r.headers()["retry-after"], "1");
    }
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn one_address_is_rate_limited_and_another_is_not() {
    let server = TestServer::start_with(|c| {
        c.login_burst = 3;
        c.login_per_second = 1;
    })
    .await;
    let c = server.admin_issue("Raffica Login", "+393334440001").await;
    let flooder = &server.http;
    let other = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let hashes = server.state.hashes_run();
    for left in [4, 3, 2] {
        let (status, body) = login(flooder, &server, &c.user_code, "11223344").await;
        assert_eq!(
            (status, body["attempts_left"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(left))
        );
    }
    let (status, body) = login(flooder, &server, &c.user_code, "11223344").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["retry_after"], 1);
    assert_eq!(server.state.hashes_run() - hashes, 3, "the refused one was not hashed");
    // Another address is served meanwhile; the refused answer took no attempt (1 left, not 0).
    let (status, body) = login(&other, &server, &c.user_code, "11223344").await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(1)),
        "{body}"
    );
    let (status, body) = login(&other, &server, &c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A second later the first address may try again.
    let (status, _) = login(flooder, &server, &c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    server.clock.advance(1);
    let (status, body) = login(flooder, &server, &c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
