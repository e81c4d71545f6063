//! What a device asks for itself: a code check before a PIN change, and its own removal.

use reqwest::StatusCode;
use sca_protocol::{CodeInput, Step};
use serde_json::json;

use sca_server::Clock as _;

use crate::support::*;

#[tokio::test]
async fn check_code_accepts_a_fresh_transaction_code_once_and_counts_wrong_ones() {
    let server = TestServer::start().await;
    let c = server.admin_create("Pia Check", "+393331110001").await;
    let device = Device::activate(&server, &c).await;
    let now = server.clock.now();
    let path = format!("/api/v1/devices/{}/check-code", device.id);

    let wrong = if device.code(CodeInput::Transaction(Step::at(now))) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, v) = device.send("POST", &path, Some(json!({"code": wrong})), now).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["attempts_left"], 4);

    let right = device.code(CodeInput::Transaction(Step::at(now)));
    let (status, v) = device.send("POST", &path, Some(json!({"code": right})), now).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ok");
    // The step is spent: the same code again is a replay (and the count was reset by the right one).
    let (status, v) = device.send("POST", &path, Some(json!({"code": right})), now).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["attempts_left"], 4);
    // A LOGIN code is not a TRANSACTION code.
    let login = device.code(CodeInput::Login(Step::at(now)));
    let (status, _) = device.send("POST", &path, Some(json!({"code": login})), now).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, v) = device.send("POST", &path, Some(json!({"code": "12a"})), now).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("code"), "{v}");
}

#[tokio::test]
async fn a_device_removes_itself_but_no_other() {
    let server = TestServer::start().await;
    let c = server.admin_create("Rino Self", "+393331110002").await;
    let first = Device::activate(&server, &c).await;
    let second = Device::activate(&server, &c).await;
    let now = server.clock.now();

    let (status, _) = first
        .send("DELETE", &format!("/api/v1/devices/{}", second.id), None, now)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the path names another device");

    let (status, v) = first
        .send("DELETE", &format!("/api/v1/devices/{}", first.id), None, now)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let (status, _) = first
        .send("GET", &format!("/api/v1/devices/{}/events", first.id), None, now)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a removed device is refused");
    assert!(
        server.outbox(&c.phone).await.iter().any(|m| {
            let body = m["body"].as_str().unwrap();
            body.contains("rimosso") && body.contains("removed")
        }),
        "the customer is alerted, in Italian and in English"
    );
    let (status, _) = second
        .send(
            "GET",
            &format!("/api/v1/devices/{}/operations/57240000", second.id),
            None,
            now,
        )
        .await;
    assert_ne!(status, StatusCode::UNAUTHORIZED, "the other device still works");
}

#[tokio::test]
async fn area_clienti_starts_a_second_device_that_an_active_one_approves() {
    let server = TestServer::start().await;
    let c = server.admin_create("Sofia Web", "+393331110004").await;
    let first = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &first).await;

    let (status, started) = web.post("/api/v1/devices/activations", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let qr = started["qr_text"].as_str().unwrap();
    let activation_id = qr.strip_prefix("SCA1-ACTIVATE:").unwrap().to_owned();
    assert_eq!(activation_id, started["activation_id"].as_str().unwrap());

    // Not before the active device approves the DEVICE operation.
    let rng = sca_protocol::SystemRandom::new();
    let key = sca_protocol::SigningKey::generate(&rng).unwrap();
    let ecdh = sca_protocol::EphemeralEcdh::generate(&rng).unwrap();
    let early = server
        .post_json(
            &format!("/api/v1/activations/{activation_id}"),
            &json!({"device_pub": key.public_key().to_b64u(), "ecdh_pub": ecdh.public_key().to_b64u(), "name": "x"}),
        )
        .await;
    assert_eq!(early.status(), StatusCode::FORBIDDEN);

    let now = server.clock.now();
    let op_id = started["op_id"].as_str().unwrap();
    let (status, v) = first
        .approve(op_id, started["payload"].as_str().unwrap(), now, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let second = finish_activation(&server, &activation_id, None, "Tablet").await;
    assert_ne!(second.id, first.id);
    let (status, devices) = web.get("/api/v1/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(devices.as_array().unwrap().len(), 2, "{devices}");
    let again = server
        .post_json(
            &format!("/api/v1/activations/{activation_id}"),
            &json!({"device_pub": key.public_key().to_b64u(), "ecdh_pub": ecdh.public_key().to_b64u(), "name": "x"}),
        )
        .await;
    assert_ne!(again.status(), StatusCode::OK, "an activation id works once");
}
