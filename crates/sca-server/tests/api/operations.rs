//! Operations: exactly-once approval under concurrency, expiry, dynamic linking.

use reqwest::StatusCode;
use sca_protocol::{CodeInput, OperationData, SignedPayload};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn fifty_concurrent_right_answers_one_success_one_money_movement() {
    let server = TestServer::start().await;
    let c = server.admin_create("Carla Conti", "+393333330001").await;
    let payee = server.admin_create("Dario Dini", "+393333330002").await;
    let device = Device::activate(&server, &c).await;
    let payee_device = Device::activate(&server, &payee).await;
    let web = std::sync::Arc::new(server.web_login(&c, &device).await);
    let payee_web = server.web_login(&payee, &payee_device).await;
    let payee_iban = payee_web.iban().await;
    let t = web.transfer(&payee_iban, "700.00").await;
    let op_id = t["op_id"].as_str().unwrap().to_owned();
    let code = device.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs());
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (web, op_id, code) = (web.clone(), op_id.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            web.post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                .await
        }));
    }
    let mut ok = 0;
    let mut conflict = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "not_pending");
                conflict += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflict), (1, 49));
    assert_eq!(web.balance().await, "9300.00");
    assert_eq!(payee_web.balance().await, "10700.00");
    // One debit and one credit booked for the operation, no more.
    let store = server.state.store();
    let customer = store.customer_by_user(&c.user_code).await.unwrap().unwrap();
    let row = store.operation(customer.id, &op_id).await.unwrap().unwrap();
    assert_eq!(store.movements_of_operation(row.id).await.unwrap(), 2);
}

#[tokio::test]
async fn expired_operations_answer_410() {
    let server = TestServer::start().await;
    let c = server.admin_create("Enzo Eco", "+393333330003").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t = web.transfer("IT60X0542811101000000123456", "5.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let code = device.op_id_code(op_id);
    server.clock.advance(299);
    let (status, _) = web.get(&format!("/api/v1/operations/{op_id}")).await;
    assert_eq!(status, StatusCode::OK);
    server.clock.advance(2);
    let (status, body) = web
        .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["code"], "expired");
    let (_, op) = web.get(&format!("/api/v1/operations/{op_id}")).await;
    assert_eq!(op["status"], "expired");
    assert_eq!(web.balance().await, "10000.00");
}

/// The code binds amount, payee and IBAN: a code made over tampered data does not fit.
#[tokio::test]
async fn tampered_payload_data_gives_a_code_that_does_not_fit() {
    let server = TestServer::start().await;
    let c = server.admin_create("Fabio Fini", "+393333330004").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t = web.transfer("IT60X0542811101000000123456", "1250.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let signed = SignedPayload::verify(
        t["payload"].as_str().unwrap(),
        &device.bank_pub,
        server.clock.now_secs(),
    )
    .unwrap();
    let op = signed.operation();
    // A man in the browser changes the amount shown; the device signs what it was shown.
    let mut data: OperationData = op.data.clone();
    data.set(sca_protocol::FieldKey::Amount, "12.50EUR").unwrap();
    let tampered_sha = sca_protocol::sha256(data.canonical().as_bytes());
    let code = device.code(CodeInput::Operation {
        op_id: &op.op_id,
        nonce: &op.nonce,
        data_sha: &tampered_sha,
    });
    let (status, body) = web
        .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "wrong_code");
    // Above the OPERATION_ID limit (1 000.00), an op-id code does not fit either.
    let (status, _) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"code": device.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The right code does.
    let right = device.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs());
    let (status, _) = web
        .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": right}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(web.balance().await, "8750.00");
}

#[tokio::test]
async fn transfer_checks_iban_amount_and_funds() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gaia Galli", "+393333330005").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let base =
        json!({"payee_name": "X", "payee_iban": "IT60X0542811101000000123456", "amount": "1.00", "currency": "EUR"});
    for (field, value, expect_status, expect_field) in [
        ("payee_iban", json!("IT61X0542811101000000123456"), 400, "payee_iban"),
        ("payee_iban", json!("it60 x054 2811 1010 0000 0123 456"), 201, ""),
        ("amount", json!("1.5"), 400, "amount"),
        ("amount", json!("0.00"), 400, "amount"),
        ("amount", json!("50000.01"), 400, "amount"),
        ("amount", json!("9999.99"), 201, ""),
        ("amount", json!("10000.01"), 409, ""),
        ("currency", json!("USD"), 400, "currency"),
        ("currency", json!("eur"), 400, "currency"),
        ("payee_name", json!("x".repeat(71)), 400, "payee_name"),
        ("payee_name", json!(""), 400, "payee_name"),
        ("description", json!("d".repeat(141)), 400, "description"),
        ("description", json!("riga\u{0007}"), 400, "description"),
    ] {
        let mut body = base.clone();
        body[field] = value.clone();
        let (status, problem) = web.post("/api/v1/transfers", body).await;
        assert_eq!(status.as_u16(), expect_status, "{field}={value}: {problem}");
        if !expect_field.is_empty() {
            assert_eq!(problem["field"], expect_field, "{problem}");
        }
    }
}
