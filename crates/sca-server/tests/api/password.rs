//! Changing the password in Area Clienti, with strong authentication: the current password and
//! a TRANSACTION code from the authenticator, or an SMS code.

use reqwest::StatusCode;
use sca_protocol::{CodeInput, Step};
use sca_server::Clock as _;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_password_changes_with_a_transaction_code_or_an_sms_code_and_nothing_less() {
    let server = TestServer::start().await;
    let c = server.admin_create("Ugo Password", "+393331110003").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;

    let (status, v) = web
        .post(
            "/api/v1/password",
            json!({"current_password": c.password, "new_password": "86420975"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("code"), "{v}");

    let now = server.clock.now();
    let right = device.code(CodeInput::Transaction(Step::at(now)));
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let (status, v) = web
        .post(
            "/api/v1/password",
            json!({"current_password": c.password, "new_password": "86420975", "code": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["attempts_left"], 4);
    let (status, v) = web
        .post(
            "/api/v1/password",
            json!({"current_password": "99999999", "new_password": "86420975", "code": right}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["code"], "invalid_credentials");

    let (status, v) = web
        .post(
            "/api/v1/password",
            json!({"current_password": c.password, "new_password": "86420975", "code": right}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let mut fresh = Web::new(&server);
    assert_eq!(fresh.login(&c.user_code, "86420975").await.0, StatusCode::OK);
    assert_eq!(fresh.login(&c.user_code, &c.password).await.0, StatusCode::UNAUTHORIZED);

    // Without an authenticator at hand: an SMS code to the certified phone.
    let (status, _) = web.post("/api/v1/password/sms", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.last_otp(&c.phone).await;
    let body = server.outbox(&c.phone).await[0]["body"].as_str().unwrap().to_owned();
    assert!(
        body.contains("cambiare la password") && body.contains("change your password"),
        "{body}"
    );
    let (status, v) = web
        .post(
            "/api/v1/password",
            json!({"current_password": "86420975", "new_password": "97531864", "sms_otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let (status, v) = web
        .post(
            "/api/v1/password",
            json!({"current_password": "97531864", "new_password": "11223344", "sms_otp": otp}),
        )
        .await;
    assert_ne!(status, StatusCode::NO_CONTENT, "an SMS code works once: {v}");
}
