//! Paying a pagoPA notice (docs/api.md §13): the creditor named, a PAGOPA operation whose signed
//! payload carries amount, creditor and notice code, the money debited once, and a notice paid
//! once however many operations and customers race for it.

use reqwest::StatusCode;
use sca_protocol::{FieldKey, Kind, SignedPayload};
use serde_json::{Value, json};

use crate::support::*;

const INPS: &str = "80078750587";
const NOTICE: &str = "302000100000009424";

fn notice(code: &str, amount: &str) -> Value {
    json!({"notice_code": code, "creditor_fiscal_code": INPS, "amount": amount, "currency": "EUR"})
}

#[tokio::test]
async fn a_notice_is_paid_with_dynamic_linking_and_then_never_again() {
    let server = TestServer::start().await;
    let c = server.admin_create("Paola Pagani", "+393333331601").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;

    let (status, creditor) = web.get(&format!("/api/v1/pagopa/creditors/{INPS}")).await;
    assert_eq!(status, StatusCode::OK, "{creditor}");
    assert_eq!(creditor, json!({"fiscal_code": INPS, "name": "INPS"}));

    // Spaces as printed on the paper notice (groups of four) are fine.
    let (status, made) = web
        .post("/api/v1/pagopa/payments", notice("3020 0010 0000 0094 24", "120.30"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let payload = made["payload"].as_str().unwrap();
    let signed = SignedPayload::verify(payload, &device.bank_pub, server.clock.now_secs()).unwrap();
    let op = signed.operation();
    assert_eq!(op.kind, Kind::PagoPa);
    let fields: Vec<(FieldKey, String)> = op.data.fields();
    assert_eq!(
        fields,
        vec![
            (FieldKey::Amount, "120.30EUR".to_owned()),
            (FieldKey::PayeeName, "INPS".to_owned()),
            (FieldKey::CreditorFiscalCode, INPS.to_owned()),
            (FieldKey::NoticeCode, NOTICE.to_owned()),
        ]
    );
    assert_eq!(web.balance().await, "10000.00", "nothing moves before the approval");

    let op_id = made["op_id"].as_str().unwrap();
    let code = device.operation_code(payload, server.clock.now_secs());
    let (status, body) = web
        .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(web.balance().await, "9879.70");
    let (_, moves) = web
        .get(&format!("/api/v1/accounts/{}/movements", web.iban().await))
        .await;
    let debit = moves
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["amount"] == "-120.30")
        .unwrap_or_else(|| panic!("no debit in {moves}"));
    assert_eq!(debit["counterparty"], "INPS");
    assert_eq!(debit["description"], format!("pagoPA {NOTICE}"));

    // Paid: asking again is refused at once, with or without spaces, any amount.
    for again in [notice(NOTICE, "120.30"), notice("3020 0010 0000 0094 24", "1.00")] {
        let (status, body) = web.post("/api/v1/pagopa/payments", again).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "notice_paid");
    }
    assert_eq!(web.balance().await, "9879.70");

    // A notice is paid at the amount its creditor asks for: another amount is refused (a
    // sandbox's creditor issued this one when it was first asked for, at 10.00).
    let other = "302000100000009521";
    let (status, body) = web.post("/api/v1/pagopa/payments", notice(other, "10.00")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for wrong in ["0.01", "9.99", "10.01"] {
        let (status, body) = web.post("/api/v1/pagopa/payments", notice(other, wrong)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{wrong}: {body}");
        assert_eq!(
            (body["code"].as_str(), body["field"].as_str()),
            (Some("notice_amount"), Some("amount"))
        );
        assert!(body["detail"].as_str().unwrap().contains("10.00 EUR"), "{body}");
    }
}

/// The rule is kept by the approval, not by the check at creation: two operations made before
/// either was approved, for the same notice (one customer's, and another customer's), are
/// approved at once by many right answers: one pays, the other fails, one debit in all.
#[tokio::test]
async fn racing_approvals_of_one_notice_pay_it_once() {
    let server = TestServer::start().await;
    let a = server.admin_create("Rita Rossi", "+393333331602").await;
    let b = server.admin_create("Sara Serra", "+393333331603").await;
    let (da, db) = (Device::activate(&server, &a).await, Device::activate(&server, &b).await);
    let wa = std::sync::Arc::new(server.web_login(&a, &da).await);
    let wb = std::sync::Arc::new(server.web_login(&b, &db).await);
    let mut made = Vec::new();
    for (web, device) in [(&wa, &da), (&wa, &da), (&wb, &db)] {
        let (status, m) = web.post("/api/v1/pagopa/payments", notice(NOTICE, "55.00")).await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        let op_id = m["op_id"].as_str().unwrap().to_owned();
        let code = device.operation_code(m["payload"].as_str().unwrap(), server.clock.now_secs());
        made.push((web.clone(), op_id, code));
    }
    let mut tasks = Vec::new();
    for round in 0..10 {
        for (web, op_id, code) in &made {
            let (web, op_id, code) = (web.clone(), op_id.clone(), code.clone());
            tasks.push(tokio::spawn(async move {
                let _ = round;
                web.post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                    .await
            }));
        }
    }
    let (mut ok, mut paid, mut not_pending) = (0, 0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match (status, body["code"].as_str()) {
            (StatusCode::OK, _) => ok += 1,
            (StatusCode::CONFLICT, Some("notice_paid")) => paid += 1,
            (StatusCode::CONFLICT, Some("not_pending")) => not_pending += 1,
            (other, _) => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 1, "exactly one approval pays the notice");
    assert!(paid >= 2, "each other operation learns the notice was paid ({paid})");
    assert_eq!(ok + paid + not_pending, 30);
    let balances = [wa.balance().await, wb.balance().await];
    let debited: Vec<_> = balances.iter().filter(|b| *b == "9945.00").collect();
    assert_eq!(debited.len(), 1, "{balances:?}");
    assert!(
        balances.iter().all(|b| b == "9945.00" || b == "10000.00"),
        "{balances:?}"
    );
    // The two others are failed, not pending: nothing can approve them later.
    let mut statuses = Vec::new();
    for (web, op_id, _) in &made {
        let (_, op) = web.get(&format!("/api/v1/operations/{op_id}")).await;
        statuses.push(op["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["approved", "failed", "failed"]);
}

#[tokio::test]
async fn bad_notices_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let c = server.admin_create("Ugo Ugolini", "+393333331604").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    for (field, value, status, code, named) in [
        (
            "notice_code",
            json!("30200010000000942"),
            400,
            "invalid_input",
            "notice_code",
        ),
        (
            "notice_code",
            json!("402000100000009424"),
            400,
            "invalid_input",
            "notice_code",
        ),
        (
            "notice_code",
            json!("3020001000000094X4"),
            400,
            "invalid_input",
            "notice_code",
        ),
        ("notice_code", json!(""), 400, "invalid_input", "notice_code"),
        (
            "creditor_fiscal_code",
            json!("80078750588"),
            400,
            "invalid_input",
            "creditor_fiscal_code",
        ),
        (
            "creditor_fiscal_code",
            json!("8007875058"),
            400,
            "invalid_input",
            "creditor_fiscal_code",
        ),
        // A well-formed fiscal code of no creditor the bank knows.
        (
            "creditor_fiscal_code",
            json!("00000000000"),
            404,
            "unknown_creditor",
            "creditor_fiscal_code",
        ),
        ("amount", json!("0.00"), 400, "invalid_input", "amount"),
        ("amount", json!("1.5"), 400, "invalid_input", "amount"),
        ("amount", json!("10000.01"), 409, "insufficient_funds", ""),
        ("currency", json!("USD"), 400, "invalid_input", "currency"),
    ] {
        let mut body = notice(NOTICE, "10.00");
        body[field] = value.clone();
        let (got, problem) = web.post("/api/v1/pagopa/payments", body).await;
        assert_eq!(got.as_u16(), status, "{field}={value}: {problem}");
        assert_eq!(problem["code"], code, "{field}={value}: {problem}");
        if !named.is_empty() {
            assert_eq!(problem["field"], named, "{problem}");
        }
    }
    let (status, body) = web
        .post("/api/v1/pagopa/payments", json!({"notice_code": NOTICE}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for (path, status, code) in [
        ("/api/v1/pagopa/creditors/80078750588", 400, "invalid_input"),
        ("/api/v1/pagopa/creditors/abc", 400, "invalid_input"),
        ("/api/v1/pagopa/creditors/00000000000", 404, "unknown_creditor"),
    ] {
        let (got, problem) = web.get(path).await;
        assert_eq!(
            (got.as_u16(), problem["code"].as_str()),
            (status, Some(code)),
            "{path}: {problem}"
        );
    }
    // Nothing was made, nothing moved.
    assert_eq!(web.balance().await, "10000.00");
    // No session: no creditor, no payment.
    let anon = server.get_anon(&format!("/api/v1/pagopa/creditors/{INPS}")).await;
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}

/// By SMS too: the SMS names amount, creditor and notice; and an SMS code for an operation whose
/// notice another operation has paid meanwhile pays nothing (the operation fails, `notice_paid`).
#[tokio::test]
async fn an_sms_code_names_the_notice_and_pays_no_notice_paid_meanwhile() {
    let server = TestServer::start().await;
    let c = server.admin_create("Vera Villa", "+393333331605").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let mut made = Vec::new();
    for _ in 0..2 {
        let (status, m) = web.post("/api/v1/pagopa/payments", notice(NOTICE, "33.00")).await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        made.push(m);
    }
    let second = made[1]["op_id"].as_str().unwrap().to_owned();
    let (status, body) = web.post(&format!("/api/v1/operations/{second}/sms"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sms = server.outbox(&c.phone).await;
    let text = sms[0]["body"].as_str().unwrap();
    assert!(
        text.contains("33,00 EUR") && text.contains("INPS") && text.contains(NOTICE),
        "{text}"
    );
    let otp = server.last_otp(&c.phone).await;
    // The first operation pays the notice, by the authenticator's code.
    let first = made[0]["op_id"].as_str().unwrap();
    let code = device.operation_code(made[0]["payload"].as_str().unwrap(), server.clock.now_secs());
    let (status, body) = web
        .post(&format!("/api/v1/operations/{first}/authorize"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The SMS code of the second pays nothing.
    let (status, body) = web
        .post(
            &format!("/api/v1/operations/{second}/authorize"),
            json!({"sms_otp": otp}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("notice_paid")),
        "{body}"
    );
    let (_, op) = web.get(&format!("/api/v1/operations/{second}")).await;
    assert_eq!(op["status"], "failed");
    assert_eq!(web.balance().await, "9967.00");
}

/// The first requests of a notice race to issue it at their amounts: one amount wins, and every
/// operation made for the notice carries that one (the others: `notice_amount`).
#[tokio::test]
async fn first_requests_of_a_notice_at_different_amounts_agree_on_one() {
    let server = TestServer::start().await;
    let c = server.admin_create("Zeno Zani", "+393333331606").await;
    let device = Device::activate(&server, &c).await;
    let web = std::sync::Arc::new(server.web_login(&c, &device).await);
    let fresh = "302000100000009618";
    let mut tasks = Vec::new();
    for euros in 1..=12 {
        let web = web.clone();
        tasks.push(tokio::spawn(async move {
            (
                euros,
                web.post("/api/v1/pagopa/payments", notice(fresh, &format!("{euros}.00")))
                    .await,
            )
        }));
    }
    let mut made = std::collections::BTreeSet::new();
    for t in tasks {
        let (euros, (status, body)) = t.await.unwrap();
        match (status, body["code"].as_str()) {
            (StatusCode::CREATED, _) => {
                made.insert(euros);
            }
            (StatusCode::CONFLICT, Some("notice_amount")) => {}
            (other, _) => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(made.len(), 1, "one amount wins: {made:?}");
}
