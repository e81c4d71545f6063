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

/// A device removed by a write this instance was not told of (another instance removed it and
/// the hint was lost): its keys are still cached here, yet its code approves nothing. The write
/// that approves reads the device's status; the answer counts as a wrong one.
#[tokio::test]
async fn a_removed_devices_code_approves_nothing_where_its_keys_are_still_cached() {
    let server = TestServer::start().await;
    let c = server.admin_create("Remo Rimosso", "+393333330031").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t = web.transfer("IT60X0542811101000000123456", "25.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let mut conn = test_db(server.state.config()).await;
    let removed = on_db!(&mut conn, |db| sqlx::query(
        "UPDATE devices SET status = 'removed', removed_at = 1 WHERE id = $1 AND status = 'active'"
    )
    .bind(&device.id)
    .execute(db)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    assert_eq!(removed, 1);
    let (status, body) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"code": device.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some("wrong_code"), Some(4)),
        "{body}"
    );
    let (_, op) = web.get(&format!("/api/v1/operations/{op_id}")).await;
    assert_eq!(op["status"], "pending");
    assert_eq!(web.balance().await, "10000.00");
    assert!(server.audit_text().await.contains("answer of a removed device"));
}

/// Right answers of a device racing its removal: those the writer takes before the removal
/// approve, none after it. Read in the audit chain's order: no approval by the device follows
/// its `device_removed`.
#[tokio::test]
async fn no_approval_by_a_device_follows_its_removal() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gara Rimozione", "+393333330032").await;
    let device = Device::activate(&server, &c).await;
    let web = std::sync::Arc::new(server.web_login(&c, &device).await);
    let mut ops = Vec::new();
    for _ in 0..30 {
        let t = web.transfer("IT60X0542811101000000123456", "1.00").await;
        let op_id = t["op_id"].as_str().unwrap().to_owned();
        let code = device.op_id_code(&op_id);
        ops.push((op_id, code));
    }
    let mut tasks = Vec::new();
    for (i, (op_id, code)) in ops.into_iter().enumerate() {
        let web = web.clone();
        let device_id = device.id.clone();
        tasks.push(tokio::spawn(async move {
            if i == 10 {
                let r = web
                    .request(reqwest::Method::DELETE, &format!("/api/v1/devices/{device_id}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::NO_CONTENT);
            }
            web.post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                .await
        }));
    }
    let mut approved = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => approved += 1,
            // Wrong (the keys were dropped, or the write found the device removed), or blocked
            // once five of those were counted.
            StatusCode::UNAUTHORIZED | StatusCode::LOCKED => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let entries: Vec<serde_json::Value> = server
        .http
        .get(server.url("/api/v1/admin/audit"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by = format!("TRANSFER by code:{}", device.id);
    let removed_at = entries
        .iter()
        .position(|e| e["kind"] == "device_removed")
        .expect("the removal is audited");
    let approvals: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == "operation_approved" && e["detail"].as_str().unwrap_or("").contains(&by))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(approvals.len(), approved);
    assert!(
        approvals.iter().all(|&i| i < removed_at),
        "an approval by the device was written after its removal: {approvals:?} vs {removed_at}"
    );
    assert_eq!(
        web.balance().await,
        format!("{}.00", 10000 - approved),
        "one euro moved per approval"
    );
}

/// Right answers at once to more transfers than the account covers: the writer takes the
/// approvals of a batch together (on PostgreSQL, in one statement), and the account covers them
/// only one at a time. Exactly those that fit are approved, the others fail for want of funds;
/// no overdraft, each approved one booked once.
#[tokio::test]
async fn approvals_at_once_that_the_account_covers_one_at_a_time() {
    let server = TestServer::start().await;
    let c = server.admin_create("Tina Tetto", "+393333330033").await;
    let device = Device::activate(&server, &c).await;
    let web = std::sync::Arc::new(server.web_login(&c, &device).await);
    let mut answers = Vec::new();
    for _ in 0..10 {
        let t = web.transfer("IT60X0542811101000000123456", "1500.00").await;
        let op_id = t["op_id"].as_str().unwrap().to_owned();
        let code = device.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs());
        answers.push((op_id, code));
    }
    let tasks: Vec<_> = answers
        .into_iter()
        .map(|(op_id, code)| {
            let web = web.clone();
            tokio::spawn(async move {
                web.post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                    .await
            })
        })
        .collect();
    let (mut approved, mut short) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match (status, body["code"].as_str()) {
            (StatusCode::OK, _) => approved += 1,
            (StatusCode::CONFLICT, Some("insufficient_funds")) => short += 1,
            other => panic!("unexpected {other:?}: {body}"),
        }
    }
    assert_eq!((approved, short), (6, 4));
    assert_eq!(web.balance().await, "1000.00");
}

/// Approvals at once where one transfer is covered only by another customer's credit that
/// arrives with it: whatever the order the writer takes them in (on PostgreSQL, several in one
/// statement), the audit chain tells it. A payer's transfer beyond its balance is approved only
/// after the credit, in the chain's order; otherwise it failed for want of funds.
#[tokio::test]
async fn a_transfer_covered_by_a_credit_at_the_same_time_follows_it_in_the_audit() {
    let server = TestServer::start().await;
    let mut answers = Vec::new();
    let mut pairs = Vec::new();
    for k in 0..8 {
        let payer = server
            .admin_create("Paola Pagante", &format!("+3933333301{k:02}"))
            .await;
        let giver = server.admin_create("Gino Donante", &format!("+3933333302{k:02}")).await;
        let (payer_device, giver_device) = (
            Device::activate(&server, &payer).await,
            Device::activate(&server, &giver).await,
        );
        let payer_web = std::sync::Arc::new(server.web_login(&payer, &payer_device).await);
        let giver_web = std::sync::Arc::new(server.web_login(&giver, &giver_device).await);
        let payer_iban = payer_web.iban().await;
        let code = |d: &Device, t: &serde_json::Value| {
            d.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs())
        };
        // 10 000.00, all the payer holds; then 50.00 spent, so that it is beyond the balance by
        // 50.00; and the 100.00 that covers it.
        let beyond = payer_web.transfer("IT60X0542811101000000123456", "10000.00").await;
        let spent = payer_web.transfer("IT60X0542811101000000123456", "50.00").await;
        let (status, body) = payer_web
            .post(
                &format!("/api/v1/operations/{}/authorize", spent["op_id"].as_str().unwrap()),
                json!({"code": code(&payer_device, &spent)}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let credit = giver_web.transfer(&payer_iban, "100.00").await;
        let beyond_id = beyond["op_id"].as_str().unwrap().to_owned();
        let credit_id = credit["op_id"].as_str().unwrap().to_owned();
        answers.push((payer_web.clone(), beyond_id.clone(), code(&payer_device, &beyond)));
        answers.push((giver_web.clone(), credit_id.clone(), code(&giver_device, &credit)));
        pairs.push((beyond_id, credit_id));
    }
    let tasks: Vec<_> = answers
        .into_iter()
        .map(|(web, op_id, code)| {
            tokio::spawn(async move {
                web.post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                    .await
            })
        })
        .collect();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert!(
            status == StatusCode::OK || body["code"] == "insufficient_funds",
            "{status}: {body}"
        );
    }
    let entries: Vec<serde_json::Value> = server
        .http
        .get(server.url("/api/v1/admin/audit"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let approved_at = |op_id: &str| {
        entries.iter().position(|e| {
            e["kind"] == "operation_approved" && e["detail"].as_str().unwrap_or("").starts_with(&format!("{op_id} "))
        })
    };
    for (beyond, credit) in &pairs {
        let credit_at = approved_at(credit).expect("the credit is approved");
        if let Some(beyond_at) = approved_at(beyond) {
            assert!(
                credit_at < beyond_at,
                "{beyond} was approved at {beyond_at}, before the credit {credit} that covers it ({credit_at})"
            );
        }
    }
}
