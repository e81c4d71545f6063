//! Edge cases: funds short at approval time, activation misuse, SMS resend limit, the demo seed.

use reqwest::StatusCode;
use sca_protocol::{EphemeralEcdh, SigningKey, SystemRandom};
use serde_json::{Value, json};

use crate::support::*;

/// Two transfers both fit the balance when made; only the first fits when approved. The second
/// fails (409 insufficient_funds), books nothing, and stays failed.
#[tokio::test]
async fn funds_short_at_approval_fail_the_operation_and_move_nothing() {
    let server = TestServer::start().await;
    let c = server.admin_create("Ugo Ulivi", "+393338880001").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t1 = web.transfer("IT60X0542811101000000123456", "6000.00").await;
    let t2 = web.transfer("IT60X0542811101000000123456", "6000.00").await;
    for (t, expect) in [(&t1, StatusCode::OK), (&t2, StatusCode::CONFLICT)] {
        let op_id = t["op_id"].as_str().unwrap();
        let code = device.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs());
        let (status, body) = web
            .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
            .await;
        assert_eq!(status, expect, "{body}");
        if expect == StatusCode::CONFLICT {
            assert_eq!(body["code"], "insufficient_funds");
        }
    }
    assert_eq!(web.balance().await, "4000.00");
    let (_, op) = web
        .get(&format!("/api/v1/operations/{}", t2["op_id"].as_str().unwrap()))
        .await;
    assert_eq!(op["status"], "failed");
    let iban = web.iban().await;
    let (_, movements) = web.get(&format!("/api/v1/accounts/{iban}/movements")).await;
    assert_eq!(movements.as_array().unwrap().len(), 1);
    assert_eq!(movements[0]["amount"], "-6000.00");
}

async fn start_activation(server: &TestServer, c: &Customer) -> String {
    let r = server
        .post_json(
            "/api/v1/activations",
            &json!({"user": c.user_code, "password": c.password}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["activation_id"].as_str().unwrap().to_owned()
}

async fn exchange(server: &TestServer, aid: &str, otp: &str) -> StatusCode {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(&rng).unwrap();
    let ed = EphemeralEcdh::generate(&rng).unwrap();
    server.post_json(&format!("/api/v1/activations/{aid}"), &json!({"sms_otp": otp, "device_pub": key.public_key().to_b64u(), "ecdh_pub": ed.public_key().to_b64u(), "name": "n"})).await
        .status()
}

#[tokio::test]
async fn activation_ids_expire_are_used_once_and_a_wrong_tag_voids_them() {
    let server = TestServer::start().await;
    let c = server.admin_create("Vera Viola", "+393338880002").await;
    // Expired after 10 minutes.
    let aid = start_activation(&server, &c).await;
    let otp = server.last_otp(&c.phone).await;
    server.clock.advance(601);
    assert_eq!(exchange(&server, &aid, &otp).await, StatusCode::GONE);
    // Used once: a second key exchange on the same id is refused.
    let aid = start_activation(&server, &c).await;
    // A device key off the curve is refused before anything is spent.
    let off_curve = sca_protocol::b64u_encode(&[4u8; 65]);
    let r = server
        .post_json(
            &format!("/api/v1/activations/{aid}"),
            &json!({"sms_otp": "123456", "device_pub": off_curve, "ecdh_pub": off_curve, "name": "n"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["field"], "device_pub");
    let otp = server.last_otp(&c.phone).await;
    let wrong = if otp == "000000" { "000001" } else { "000000" };
    assert_eq!(exchange(&server, &aid, wrong).await, StatusCode::UNAUTHORIZED);
    assert_eq!(exchange(&server, &aid, &otp).await, StatusCode::OK);
    assert_eq!(exchange(&server, &aid, &otp).await, StatusCode::CONFLICT);
    // A wrong confirmation tag: no device, and the activation is void.
    let confirm = |tag: String| {
        let url = server.url(&format!("/api/v1/activations/{aid}/confirm"));
        let http = server.http.clone();
        async move {
            http.post(url)
                .json(&json!({"confirm": tag}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(confirm("00".repeat(32)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(confirm("00".repeat(32)).await, StatusCode::CONFLICT);
    assert_eq!(confirm("zz".into()).await, StatusCode::BAD_REQUEST);
    let mut web = Web::new(&server);
    web.login(&c.user_code, &c.password).await;
    // Unknown activation ids: 404.
    let r = server
        .post_json(
            "/api/v1/activations/AAAAAAAAAAAAAAAAAAAAAA/confirm",
            &json!({"confirm": "00".repeat(32)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sms_codes_are_not_resent_within_the_interval() {
    let server = TestServer::start_with(|c| c.otp_resend_interval = 30).await;
    let c = server.admin_create("Walter White", "+393338880003").await;
    let _device = Device::activate(&server, &c).await;
    let mut web = Web::new(&server);
    let (_, login) = web.login(&c.user_code, &c.password).await;
    let path = format!("/api/v1/login/{}/sms", login["login_id"].as_str().unwrap());
    assert_eq!(web.post(&path, json!(null)).await.0, StatusCode::ACCEPTED);
    let (status, body) = web.post(&path, json!(null)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    server.clock.advance(30);
    assert_eq!(web.post(&path, json!(null)).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn demo_seed_gives_a_customer_with_accounts_and_movements_once() {
    let server = TestServer::start().await;
    let demo = sca_server::seed_demo(&server.state).await.unwrap();
    let again = sca_server::seed_demo(&server.state).await.unwrap();
    assert_eq!(demo.user_code, again.user_code);
    // One customer of each of two acquired banks, open, for their first access.
    assert_eq!(demo.legacy, again.legacy);
    let auths: Vec<&str> = demo.legacy.iter().map(|l| l.auth.as_str()).collect();
    assert_eq!(auths, ["app", "card"]);
    let banks: Value = server
        .get_anon("/api/v1/first-access/banks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (banks[0]["state"].as_str(), banks[1]["state"].as_str()),
        (Some("open"), Some("open")),
        "{banks}"
    );
    for l in &demo.legacy {
        let r = server
            .post_json(
                "/api/v1/first-access",
                &json!({"bank": l.bank, "legacy_code": l.legacy_code, "password": l.password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", l.bank);
    }
    let c = Customer {
        user_code: demo.user_code.clone(),
        password: demo.password.clone(),
        security_code: demo.security_code.clone(),
        phone: demo.phone.clone(),
        email: demo.email.clone(),
    };
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let (_, accounts) = web.get("/api/v1/accounts").await;
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    let iban = accounts[0]["iban"].as_str().unwrap();
    let (_, movements) = web.get(&format!("/api/v1/accounts/{iban}/movements")).await;
    assert!(movements.as_array().unwrap().len() >= 5);
    // The alias logs in too.
    let mut by_alias = Web::new(&server);
    assert_eq!(by_alias.login("DEMO", &demo.password).await.0, StatusCode::OK);
}
