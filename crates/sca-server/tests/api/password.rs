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

/// Issue 11 §5: the password the branch handed over opens nothing but its own change. Every
/// banking route answers 403 `password_change_required` until the customer has chosen a new
/// one (not the issued one); then the same session opens, and later logins are not asked again.
#[tokio::test]
async fn a_branch_issued_password_must_be_changed_before_any_banking_call() {
    let server = TestServer::start().await;
    let c = server.admin_issue("Nuovo Cliente", "+393331110017").await;
    let (web, login) = server.sms_login(&c).await;
    assert_eq!(login["password_change_required"], true, "{login}");

    // Strong authentication passed, but every banking call is refused.
    let refused = |status: StatusCode, body: &serde_json::Value, what: &str| {
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert_eq!(body["code"], "password_change_required", "{what}: {body}");
    };
    let (status, body) = web.get("/api/v1/accounts").await;
    refused(status, &body, "accounts");
    let (status, body) = web
        .post(
            "/api/v1/transfers",
            json!({"payee_name": "Anna Bianchi", "payee_iban": "IT60X0542811101000000123456",
                   "amount": "1.00", "currency": "EUR"}),
        )
        .await;
    refused(status, &body, "transfer");
    let (status, body) = web.get("/api/v1/devices").await;
    refused(status, &body, "devices");
    let (status, body) = web.post("/api/v1/devices/activations", json!({})).await;
    refused(status, &body, "device activation from the web");
    let r = web
        .request(reqwest::Method::PUT, "/api/v1/alias")
        .json(&json!({"alias": "nuovo.cliente"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "alias");

    // The change itself is open; the issued password cannot be chosen again.
    let (status, _) = web.post("/api/v1/password/sms", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.last_otp(&c.phone).await;
    let (status, body) = web.change_password_by_sms(&c.password, &c.password, &otp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "new_password", "{body}");
    let chosen = chosen_password(&c.password);
    let (status, body) = web.change_password_by_sms(&c.password, &chosen, &otp).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // The same session now banks, and the next login is not asked again.
    let (status, body) = web.get("/api/v1/accounts").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut next = Web::new(&server);
    let (status, body) = next.login(&c.user_code, &chosen).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["password_change_required"], false, "{body}");
}
