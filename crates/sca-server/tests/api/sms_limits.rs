//! SMS codes cannot be farmed (issue 11 §4): at most one every 30 seconds and 10 in any hour to
//! a customer and to a phone, answered 429 with `Retry-After` and `retry_after`; the block alert
//! is never held back.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn unblock_start(server: &TestServer, c: &Customer) -> (StatusCode, Option<String>, Value) {
    let r = server
        .post_json(
            "/api/v1/recovery/unblock",
            &json!({"user": c.user_code, "security_code": c.security_code}),
        )
        .await;
    let status = r.status();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sms_codes_are_rate_limited_per_customer_and_per_phone() {
    let server = TestServer::start_with(|c| {
        c.sms_min_interval = 30;
        c.sms_per_hour = 10;
    })
    .await;
    let c = server.admin_issue("Limite Sms", "+393335550001").await;
    let same_phone = server.admin_issue("Stesso Telefono", "+393335550001").await;
    let t0 = server.clock.now_secs();

    let (status, _, body) = unblock_start(&server, &c).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // At once again: held back, with the wait.
    let (status, retry, body) = unblock_start(&server, &c).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(body["retry_after"], 30);
    assert_eq!(retry.as_deref(), Some("30"));
    // Another customer with the same phone is held back too: the phone is counted.
    server.clock.advance(10);
    let (status, _, body) = unblock_start(&server, &same_phone).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["retry_after"], 20);

    // One every 30 seconds passes, up to 10 in the hour.
    for i in 1..10 {
        server.clock.set(t0 + 30 * i);
        let (status, _, body) = unblock_start(&server, &c).await;
        assert_eq!(status, StatusCode::ACCEPTED, "send {i}: {body}");
    }
    server.clock.set(t0 + 300);
    let (status, retry, body) = unblock_start(&server, &c).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["retry_after"], 3300, "until the first send of the hour leaves it");
    assert_eq!(retry.as_deref(), Some("3300"));
    let sent = server.outbox(&c.phone).await.len();
    assert_eq!(sent, 10);

    // The block alert is never held back.
    let mut web = Web::new(&server);
    for _ in 0..5 {
        assert_eq!(web.login(&c.user_code, "13572468").await.0, StatusCode::UNAUTHORIZED);
    }
    let msgs = server.outbox(&c.phone).await;
    assert_eq!(msgs.len(), 11);
    assert!(msgs[0]["body"].as_str().unwrap().contains("password"), "{}", msgs[0]);

    // An hour after the first, one more passes.
    server.clock.set(t0 + 3600);
    let (status, _, body) = unblock_start(&server, &c).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn the_user_code_sms_is_limited_for_any_phone_alike() {
    let server = TestServer::start_with(|c| {
        c.sms_min_interval = 30;
        c.sms_per_hour = 10;
    })
    .await;
    let c = server.admin_issue("Codice Utente", "+393335550002").await;
    for phone in [c.phone.as_str(), "+393335559999"] {
        let ask = || async {
            server
                .post_json("/api/v1/recovery/user-code", &json!({"phone": phone}))
                .await
        };
        assert_eq!(ask().await.status(), StatusCode::ACCEPTED);
        let r = ask().await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{phone}");
        assert_eq!(r.headers()["retry-after"], "30");
    }
}

/// A new recovery is not 3 fresh guesses: the wrong SMS codes of recoveries count against the
/// customer's SMS codes, and once those are blocked no recovery opens.
#[tokio::test]
async fn recovery_sms_codes_count_across_recoveries() {
    let server = TestServer::start().await;
    let c = server.admin_issue("Recupero Ripetuto", "+393335550003").await;
    let finish = |id: String, otp: &'static str| {
        let server = &server;
        async move {
            let r = server
                .post_json(&format!("/api/v1/recovery/unblock/{id}"), &json!({"sms_otp": otp}))
                .await;
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let mut left = Vec::new();
    for _ in 0..2 {
        let (status, _, started) = unblock_start(&server, &c).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        let id = started["recovery_id"].as_str().unwrap().to_owned();
        let otp = server.last_otp(&c.phone).await;
        let wrong = if otp == "000000" { "111111" } else { "000000" };
        for _ in 0..3 {
            let (status, body) = finish(id.clone(), wrong).await;
            if status == StatusCode::UNAUTHORIZED {
                left.push(body["attempts_left"].as_i64().unwrap());
            } else {
                assert_eq!(status, StatusCode::LOCKED, "{body}");
            }
        }
    }
    // 3 on the first code (3 tries each), then the customer's last 2.
    assert_eq!(left, vec![2, 1, 0, 1, 0]);
    let (status, _, body) = unblock_start(&server, &c).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
}
