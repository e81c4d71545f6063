//! 3-D Secure with Key6 (issue 14): the Key6 set, shown, changed and unblocked with SCA; the
//! ACS answering a merchant frictionless, or by a challenge approved by push, by a code or by
//! the SMS code with the Key6; the 5-answer limit of the Key6 raced; nothing of the card number
//! or the Key6 in an answer or the audit log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const VISA: &str = "4111111111111111";

/// A customer with an authenticator, a web session and a Visa debit card.
struct Holder {
    c: Customer,
    device: Device,
    web: Web,
    card_id: String,
}

async fn holder(server: &TestServer, name: &str, phone: &str, pan: &str) -> Holder {
    let c = server.admin_create(name, phone).await;
    let device = Device::activate(server, &c).await;
    let web = server.web_login(&c, &device).await;
    let iban = web.iban().await;
    let (status, card) = server
        .admin_card(
            &c.user_code,
            json!({"pan": pan, "expiry": "12/39", "kind": "debit", "account": iban,
                   "secure_phone": "+393339990001"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    Holder {
        c,
        device,
        web,
        card_id: card["card_id"].as_str().unwrap().to_owned(),
    }
}

impl Holder {
    async fn card(&self) -> Value {
        self.card_by_id(&self.card_id).await
    }

    /// One of the customer's cards as `GET /api/v1/cards` shows it.
    async fn card_by_id(&self, card_id: &str) -> Value {
        let (_, cards) = self.web.get("/api/v1/cards").await;
        cards
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["card_id"] == card_id)
            .unwrap()
            .clone()
    }

    /// A Mastercard credit card (`5555555555554444`) on the same account, with a monthly `limit`.
    async fn credit_card(&self, server: &TestServer, limit: &str) -> Value {
        let iban = self.web.iban().await;
        let (status, credit) = server
            .admin_card(
                &self.c.user_code,
                json!({"pan": "5555555555554444", "expiry": "12/39", "kind": "credit", "account": iban,
                       "credit_limit": limit}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{credit}");
        credit
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .web
            .request(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Approves an operation by push from the authenticator.
    async fn approve(&self, server: &TestServer, op: &Value) {
        let (status, body) = self
            .device
            .approve(
                op["op_id"].as_str().unwrap(),
                op["payload"].as_str().unwrap(),
                server.clock.now_secs(),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Sets the Key6 with SCA.
    async fn set_key6(&self, server: &TestServer, key6: &str) {
        let (status, op) = self
            .put(&format!("/api/v1/cards/{}/key6", self.card_id), json!({"key6": key6}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{op}");
        self.approve(server, &op).await;
    }

    /// Shows the Key6 with SCA.
    async fn show_key6(&self, server: &TestServer) -> (StatusCode, Value) {
        let (status, op) = self
            .web
            .post(&format!("/api/v1/cards/{}/key6/show", self.card_id), json!({}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{op}");
        self.approve(server, &op).await;
        self.reveal(&op).await
    }

    async fn reveal(&self, op: &Value) -> (StatusCode, Value) {
        self.web
            .post(
                &format!("/api/v1/cards/{}/key6/reveal", self.card_id),
                json!({"op_id": op["op_id"]}),
            )
            .await
    }
}

/// A merchant asks the ACS to authenticate a purchase.
async fn buy(server: &TestServer, pan: &str, amount: &str) -> (StatusCode, Value) {
    let r = server
        .post_json(
            "/api/v1/acs/authentications",
            &json!({"pan": pan, "amount": amount, "currency": "EUR", "merchant_name": "Libreria Àncora",
                    "merchant_url": "https://libreria.example", "return_url": "https://libreria.example/back?o=7"}),
        )
        .await;
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn challenge_post(server: &TestServer, id: &str, what: &str, body: Value) -> (StatusCode, Value) {
    let r = server
        .post_json(&format!("/api/v1/acs/challenges/{id}/{what}"), &body)
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// What the challenge page of `id` shows.
async fn challenge_view(server: &TestServer, id: &str) -> Value {
    server
        .get_anon(&format!("/api/v1/acs/challenges/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn result(server: &TestServer, id: &str) -> Value {
    let r = server.get_anon(&format!("/api/v1/acs/authentications/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn key6_is_set_shown_once_and_changed_with_sca_and_kept_sealed() {
    let server = TestServer::start().await;
    let h = holder(&server, "Kira Sei", "+393335550001", VISA).await;
    assert_eq!(h.card().await["key6"], "unset");
    let path = format!("/api/v1/cards/{}/key6", h.card_id);
    for (weak, why) in [
        ("123456", "consecutive"),
        ("111111", "repeat"),
        ("12345", "6 digits"),
        ("12a456", "digits only"),
    ] {
        let (status, body) = h.put(&path, json!({"key6": weak})).await;
        assert_eq!(
            (status, &body["field"]),
            (StatusCode::BAD_REQUEST, &json!("key6")),
            "{body}"
        );
        assert!(body["detail"].as_str().unwrap().contains(why), "{body}");
        assert!(!body.to_string().contains(weak), "the refusal repeats the code: {body}");
    }
    // Asked, not yet approved: nothing changes. The signed payload says what and which card.
    let (status, op) = h.put(&path, json!({"key6": "583920"})).await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let payload = op["payload"].as_str().unwrap();
    assert!(
        payload.contains("GENERIC\nC:\\*\\*\\*\\*1111*D:Key6 3D Secure: imposta / set"),
        "{payload}"
    );
    assert_eq!(h.card().await["key6"], "unset");
    // Nothing to reveal with an operation that is not an approved `show`.
    assert_eq!(h.reveal(&op).await.0, StatusCode::CONFLICT);
    h.approve(&server, &op).await;
    assert_eq!(h.card().await["key6"], "set");
    assert_eq!(h.reveal(&op).await.0, StatusCode::CONFLICT);

    // Shown once, within 30 seconds of the approval.
    let (status, shown) = h.show_key6(&server).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["key6"], "583920");
    let until = shown["visible_until"].as_u64().unwrap();
    assert!(until > server.clock.now_secs() && until <= server.clock.now_secs() + 30);
    // Revealed 10 s after its approval, it stays 20 s more: 30 s from the approval.
    let (status, op) = h
        .web
        .post(&format!("/api/v1/cards/{}/key6/show", h.card_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    h.approve(&server, &op).await;
    let approved = server.clock.now_secs();
    server.clock.advance(10);
    let (status, shown) = h.reveal(&op).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["visible_until"].as_u64().unwrap(), approved + 30);
    let (status, op) = h
        .web
        .post(&format!("/api/v1/cards/{}/key6/show", h.card_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(h.reveal(&op).await.0, StatusCode::CONFLICT, "before its approval");
    h.approve(&server, &op).await;
    server.clock.advance(31);
    assert_eq!(h.reveal(&op).await.0, StatusCode::GONE, "31 s after its approval");

    // Changed: the new one is shown; the old one shown is gone with its operation.
    let (status, op) = h.put(&path, json!({"key6": "402719"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(op["payload"].as_str().unwrap().contains("cambia / change"));
    h.approve(&server, &op).await;
    let (status, shown) = h.show_key6(&server).await;
    assert_eq!((status, &shown["key6"]), (StatusCode::OK, &json!("402719")));

    // Another customer cannot touch this card.
    let other = server.admin_create("Otto Altro", "+393335550002").await;
    let other_device = Device::activate(&server, &other).await;
    let other_web = server.web_login(&other, &other_device).await;
    let (status, _) = other_web
        .post(&format!("/api/v1/cards/{}/key6/show", h.card_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // At rest, sealed: the digits are nowhere in the row; nor in the audit log.
    let mut db = test_db(server.state.config()).await;
    let sealed: Vec<u8> = on_db!(&mut db, |c| sqlx::query_scalar(
        "SELECT key6 FROM cards WHERE card_id = $1"
    )
    .bind(&h.card_id)
    .fetch_one(c)
    .await)
    .unwrap();
    assert!(sealed.len() > 6 + 16);
    assert!(!sealed.windows(6).any(|w| w == b"402719" || w == b"583920"));
    let log = server.audit_text().await;
    assert!(log.contains("key6_shown"), "{log}");
    assert!(!log.contains("402719") && !log.contains("583920"));
}

#[tokio::test]
async fn low_value_purchases_pass_until_the_sixth_which_is_challenged_and_approved_by_push() {
    let server = TestServer::start().await;
    let h = holder(&server, "Lea Piccola", "+393335550011", VISA).await;
    let before: f64 = h.web.balance().await.parse().unwrap();
    let mut ids = vec![];
    for _ in 0..5 {
        let (status, r) = buy(&server, VISA, "20.00").await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(
            (&r["transStatus"], &r["eci"], &r["frictionless"]),
            (&json!("Y"), &json!("05"), &json!(true)),
            "{r}"
        );
        assert_eq!(r["authenticationValue"].as_str().unwrap().len(), 27);
        ids.push(r["acsTransID"].as_str().unwrap().to_owned());
    }
    assert_eq!(result(&server, &ids[0]).await["transStatus"], "Y");
    // The sixth in a row is challenged; so is one above 30 EUR.
    let (_, big) = buy(&server, VISA, "30.01").await;
    assert_eq!(big["transStatus"], "C", "{big}");
    let (_, sixth) = buy(&server, VISA, "20.00").await;
    assert_eq!(sixth["transStatus"], "C", "{sixth}");
    let id = sixth["acsTransID"].as_str().unwrap();
    assert!(
        sixth["challengeURL"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/challenge.html#{id}")),
        "{sixth}"
    );
    assert_eq!(result(&server, id).await["transStatus"], "C");
    // The challenge shows merchant, amount and masked card; the push carries them signed.
    let view: Value = challenge_view(&server, id).await;
    assert_eq!(
        (&view["merchant_name"], &view["amount"], &view["card"], &view["status"]),
        (
            &json!("Libreria Àncora"),
            &json!("20.00"),
            &json!("**** 1111"),
            &json!("pending")
        )
    );
    let payload = view["payload"].as_str().unwrap();
    assert!(
        payload.contains("CARD_PAYMENT\nA:20.00EUR*C:\\*\\*\\*\\*1111*M:Libreria Àncora"),
        "{payload}"
    );
    h.approve(&server, &json!({"op_id": view["op_id"], "payload": payload}))
        .await;
    let done = result(&server, id).await;
    assert_eq!(
        (&done["transStatus"], &done["frictionless"]),
        (&json!("Y"), &json!(false)),
        "{done}"
    );
    // Six purchases of 20.00 booked, once each.
    let after: f64 = h.web.balance().await.parse().unwrap();
    assert!((before - after - 120.0).abs() < 0.001, "{before} → {after}");
    let iban = h.web.iban().await;
    let (_, moves) = h.web.get(&format!("/api/v1/accounts/{iban}/movements")).await;
    let card_moves = moves
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["counterparty"] == "Libreria Àncora")
        .count();
    assert_eq!(card_moves, 6, "{moves}");
    // The card's own list: its six purchases; what it can spend: the account's balance.
    let (status, purchases) = h.web.get(&format!("/api/v1/cards/{}/movements", h.card_id)).await;
    assert_eq!(status, StatusCode::OK, "{purchases}");
    let purchases = purchases.as_array().unwrap();
    assert_eq!(purchases.len(), 6, "{purchases:?}");
    assert!(
        purchases
            .iter()
            .all(|m| m["amount"] == "-20.00" && m["counterparty"] == "Libreria Àncora")
    );
    assert_eq!(h.card().await["available"], json!(h.web.balance().await));
    // The challenge started a new run: the next small one passes again.
    assert_eq!(buy(&server, VISA, "20.00").await.1["transStatus"], "Y");
    // A second approval does nothing.
    let (status, _) = h
        .device
        .approve(view["op_id"].as_str().unwrap(), payload, server.clock.now_secs(), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_exemption_can_be_switched_off() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let _h = holder(&server, "Nino Nullo", "+393335550021", VISA).await;
    assert_eq!(buy(&server, VISA, "1.00").await.1["transStatus"], "C");
}

#[tokio::test]
async fn the_sms_code_with_the_key6_approves_a_purchase_once() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Sara Messaggi", "+393335550031", VISA).await;
    let before = h.web.balance().await;
    let (_, r) = buy(&server, VISA, "49.90").await;
    let id = r["acsTransID"].as_str().unwrap().to_owned();
    // No Key6 yet: no SMS way.
    let (status, body) = challenge_post(&server, &id, "sms", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Nor the SMS code of Area Clienti's operations: that one goes to the customer's phone and
    // asks for no Key6.
    let op_id = challenge_view(&server, &id).await["op_id"].as_str().unwrap().to_owned();
    let (status, body) = h.web.post(&format!("/api/v1/operations/{op_id}/sms"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = h
        .web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"sms_otp": "123456"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        server
            .outbox(&h.c.phone)
            .await
            .iter()
            .all(|m| !m["body"].as_str().unwrap().contains("49,90"))
    );
    h.set_key6(&server, "583920").await;
    let (status, body) = challenge_post(&server, &id, "otp", json!({"otp": "123456", "key6": "583920"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "no code sent yet: {body}");
    let (status, sent) = challenge_post(&server, &id, "sms", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["phone"], "+39*******001");
    let sms = server.outbox("+393339990001").await;
    let text = sms[0]["body"].as_str().unwrap();
    assert!(
        text.contains("49,90 EUR") && text.contains("Libreria Àncora") && text.contains("**** 1111"),
        "{text}"
    );
    let otp = server.last_otp("+393339990001").await;
    // A wrong Key6 with the right code is one wrong answer.
    let (status, body) = challenge_post(&server, &id, "otp", json!({"otp": otp, "key6": "583921"})).await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(4)),
        "{body}"
    );
    let (status, body) = challenge_post(&server, &id, "otp", json!({"otp": otp, "key6": "583920"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = result(&server, &id).await;
    assert_eq!(
        (&done["transStatus"], &done["eci"]),
        (&json!("Y"), &json!("05")),
        "{done}"
    );
    let (status, _) = challenge_post(&server, &id, "otp", json!({"otp": otp, "key6": "583920"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let after = h.web.balance().await;
    let (b, a): (f64, f64) = (before.parse().unwrap(), after.parse().unwrap());
    assert!((b - a - 49.90).abs() < 0.001, "{before} → {after}");
    assert_eq!(h.card().await["key6"], "set");
}

#[tokio::test]
async fn five_wrong_answers_block_the_key6_alert_and_sca_unblocks_it() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Bruno Blocco", "+393335550041", VISA).await;
    h.set_key6(&server, "583920").await;
    let (_, r) = buy(&server, VISA, "60.00").await;
    let id = r["acsTransID"].as_str().unwrap().to_owned();
    challenge_post(&server, &id, "sms", json!({})).await;
    let otp = server.last_otp("+393339990001").await;
    let wrong_otp = if otp == "000000" { "000001" } else { "000000" };
    let answers = [
        json!({"otp": wrong_otp, "key6": "583920"}),
        json!({"otp": otp, "key6": "111112"}),
        json!({"otp": wrong_otp, "key6": "583920"}),
        json!({"otp": otp, "key6": "000001"}),
        json!({"otp": wrong_otp, "key6": "583921"}),
    ];
    for (i, a) in answers.into_iter().enumerate() {
        let (status, body) = challenge_post(&server, &id, "otp", a).await;
        assert_eq!(
            (status, body["attempts_left"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(4 - i as i64)),
            "{body}"
        );
    }
    let (status, body) = challenge_post(&server, &id, "otp", json!({"otp": otp, "key6": "583920"})).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::LOCKED, &json!("blocked")),
        "the right answer, blocked"
    );
    assert_eq!(h.card().await["key6"], "blocked");
    for to in ["+393339990001", h.c.email.as_str()] {
        let alerts = server.outbox(to).await;
        let n = alerts
            .iter()
            .filter(|m| {
                m["body"]
                    .as_str()
                    .unwrap()
                    .contains("the Key6 of card **** 1111 has been blocked")
            })
            .count();
        assert_eq!(n, 1, "{to}: {alerts:?}");
    }
    // Unblocked with SCA from Area Clienti: the right answer is taken again.
    let (status, op) = h
        .web
        .post(&format!("/api/v1/cards/{}/key6/unblock", h.card_id), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    assert_eq!(h.card().await["key6"], "blocked", "not before the approval");
    h.approve(&server, &op).await;
    assert_eq!(h.card().await["key6"], "set");
    let (status, body) = challenge_post(&server, &id, "otp", json!({"otp": otp, "key6": "583920"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn thirty_wrong_key6_at_once_are_evaluated_at_most_five_times() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Ruggero Raffica", "+393335550051", VISA).await;
    h.set_key6(&server, "583920").await;
    let (_, r) = buy(&server, VISA, "70.00").await;
    let id = r["acsTransID"].as_str().unwrap().to_owned();
    challenge_post(&server, &id, "sms", json!({})).await;
    let otp = server.last_otp("+393339990001").await;
    let answers = (0..30).map(|i| {
        let (server, id, otp) = (&server, id.clone(), otp.clone());
        async move {
            challenge_post(
                server,
                &id,
                "otp",
                json!({"otp": otp, "key6": format!("{:06}", 100_000 + i)}),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(answers).await;
    let mut left: Vec<i64> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .map(|(_, b)| b["attempts_left"].as_i64().unwrap())
        .collect();
    left.sort_unstable();
    assert_eq!(left, [0, 1, 2, 3, 4], "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, _)| [StatusCode::UNAUTHORIZED, StatusCode::LOCKED].contains(s))
    );
    let log = server.audit_text().await;
    assert_eq!(log.matches("key6_wrong").count(), 5, "evaluated");
    assert_eq!(log.matches("\"key6_blocked\"").count(), 1, "{log}");
    // The branch unblocks it too.
    let r = server
        .http
        .post(server.url(&format!(
            "/api/v1/admin/customers/{}/cards/{}/key6/unblock",
            h.c.user_code, h.card_id
        )))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.card().await["key6"], "set");
}

#[tokio::test]
async fn an_expired_and_a_cancelled_challenge_are_not_authenticated_and_move_no_money() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Ettore Scaduto", "+393335550061", VISA).await;
    let before = h.web.balance().await;
    let (_, r) = buy(&server, VISA, "10.00").await;
    let cancelled = r["acsTransID"].as_str().unwrap().to_owned();
    let (status, body) = challenge_post(&server, &cancelled, "cancel", json!({})).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("cancelled")),
        "{body}"
    );
    let done = result(&server, &cancelled).await;
    assert_eq!(
        (&done["transStatus"], &done["transStatusReason"]),
        (&json!("N"), &json!("01")),
        "{done}"
    );
    assert!(done["reasonText"].as_str().unwrap().contains("cancelled"));
    let view: Value = challenge_view(&server, &cancelled).await;
    assert_eq!(view["status"], "cancelled");
    assert_eq!(
        challenge_post(&server, &cancelled, "cancel", json!({})).await.0,
        StatusCode::CONFLICT
    );

    let (_, r) = buy(&server, VISA, "10.00").await;
    let expired = r["acsTransID"].as_str().unwrap().to_owned();
    let op: Value = challenge_view(&server, &expired).await;
    server.clock.advance(301);
    let done = result(&server, &expired).await;
    assert_eq!(
        (&done["transStatus"], &done["transStatusReason"]),
        (&json!("N"), &json!("14")),
        "{done}"
    );
    assert_eq!(op["status"], "pending");
    assert_eq!(
        challenge_post(&server, &expired, "cancel", json!({})).await.0,
        StatusCode::GONE
    );
    assert_eq!(
        challenge_post(&server, &expired, "code", json!({"code": "123456"}))
            .await
            .0,
        StatusCode::GONE
    );
    // (The session ended while the challenge expired.)
    let web = server.web_login(&h.c, &h.device).await;
    assert_eq!(web.balance().await, before);
}

#[tokio::test]
async fn a_merchant_gets_typed_errors_and_refusals_and_never_the_card_number_back() {
    let server = TestServer::start().await;
    let h = holder(&server, "Mara Mercante", "+393335550071", VISA).await;
    let base = json!({"pan": VISA, "amount": "5.00", "currency": "EUR", "merchant_name": "Shop",
                      "merchant_url": "https://shop.example", "return_url": "https://shop.example/r"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("pan", json!("4111111111111112")), "pan"),
        (with("amount", json!("5")), "amount"),
        (with("amount", json!("0.00")), "amount"),
        (with("currency", json!("EURO")), "currency"),
        (with("merchant_name", json!("")), "merchant_name"),
        (with("return_url", json!("javascript:alert(1)")), "return_url"),
        (with("merchant_url", json!("http://shop.example")), "merchant_url"),
        (with("expiry", json!("13/30")), "expiry"),
    ] {
        let r = server.post_json("/api/v1/acs/authentications", &body).await;
        let status = r.status();
        let b: Value = r.json().await.unwrap();
        assert_eq!((status, &b["field"]), (StatusCode::BAD_REQUEST, &json!(field)), "{b}");
        assert!(!b.to_string().contains("411111111111111"), "{b}");
    }
    // Refusals: an unknown card, a wrong expiry, more than the account holds.
    let r: Value = server
        .post_json("/api/v1/acs/authentications", &with("pan", json!("4000000000000002")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&r["transStatus"], &r["transStatusReason"]),
        (&json!("R"), &json!("08")),
        "{r}"
    );
    assert_eq!(
        result(&server, r["acsTransID"].as_str().unwrap()).await["transStatus"],
        "R"
    );
    let r: Value = server
        .post_json("/api/v1/acs/authentications", &with("expiry", json!("11/39")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&r["transStatus"], &r["transStatusReason"]),
        (&json!("R"), &json!("08")),
        "as an unknown card: {r}"
    );
    // More than the account holds: asked like any purchase; the approval fails it.
    let r: Value = server
        .post_json("/api/v1/acs/authentications", &with("amount", json!("49999.00")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["transStatus"], "C", "{r}");
    let id = r["acsTransID"].as_str().unwrap();
    let view: Value = challenge_view(&server, id).await;
    let (status, body) = h
        .device
        .approve(
            view["op_id"].as_str().unwrap(),
            view["payload"].as_str().unwrap(),
            server.clock.now_secs(),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::CONFLICT, &json!("insufficient_funds")),
        "{body}"
    );
    let done = result(&server, id).await;
    assert_eq!(
        (&done["transStatus"], &done["transStatusReason"]),
        (&json!("N"), &json!("12")),
        "{done}"
    );
    // A merchant name that would break the SMS or reorder its text; a URL with a user part.
    for (body, field) in [
        (
            with("merchant_name", json!("Shop\nChiama il 800 000 000")),
            "merchant_name",
        ),
        (with("merchant_name", json!("Shop \u{202e}gnp.exe")), "merchant_name"),
        (
            with("return_url", json!("https://bank.example@evil.example/")),
            "return_url",
        ),
        (
            with("merchant_url", json!("http://localhost:1@evil.example/")),
            "merchant_url",
        ),
    ] {
        let r = server.post_json("/api/v1/acs/authentications", &body).await;
        let status = r.status();
        let b: Value = r.json().await.unwrap();
        assert_eq!((status, &b["field"]), (StatusCode::BAD_REQUEST, &json!(field)), "{b}");
    }
    let r: Value = server
        .post_json("/api/v1/acs/authentications", &with("expiry", json!("12/39")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["transStatus"], "Y", "{r}");
    // Unknown or malformed ids.
    assert_eq!(
        server
            .get_anon("/api/v1/acs/authentications/0f8fad5b-d9cb-469f-a165-70867728950e")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get_anon("/api/v1/acs/challenges/nope").await.status(),
        StatusCode::BAD_REQUEST
    );
    let log = server.audit_text().await;
    assert!(!log.contains(VISA) && !log.contains("4000000000000002"), "{log}");
    let _ = h;
}

#[tokio::test]
async fn a_credit_card_spends_its_monthly_limit_and_lists_only_its_own_purchases() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Clara Credito", "+393335550081", VISA).await;
    let credit = h.credit_card(&server, "500.00").await;
    assert_eq!(credit["available"], "500.00");
    let (_, r) = buy(&server, "5555555555554444", "120.00").await;
    let view: Value = challenge_view(&server, r["acsTransID"].as_str().unwrap()).await;
    h.approve(&server, &json!({"op_id": view["op_id"], "payload": view["payload"]}))
        .await;
    let credit = h.card_by_id(credit["card_id"].as_str().unwrap()).await;
    assert_eq!(credit["available"], "380.00", "{credit}");
    let (_, mine) = h
        .web
        .get(&format!(
            "/api/v1/cards/{}/movements",
            credit["card_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let (_, visa) = h.web.get(&format!("/api/v1/cards/{}/movements", h.card_id)).await;
    assert_eq!(visa, json!([]), "the debit card on the same account bought nothing");
    // Beyond what is left of the limit: refused, whatever the account holds.
    let (_, r) = buy(&server, "5555555555554444", "380.01").await;
    assert_eq!(
        (&r["transStatus"], &r["transStatusReason"]),
        (&json!("N"), &json!("12")),
        "{r}"
    );
    assert_eq!(buy(&server, "5555555555554444", "380.00").await.1["transStatus"], "C");
}

/// Purchases waiting for their challenge at once were each within the credit card's monthly
/// limit when they were made; approved at once, those the limit covers go through and the others
/// fail, in the write that approves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_approved_at_once_stay_within_the_credit_cards_monthly_limit() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Lia Limite", "+393335550082", VISA).await;
    let credit = h.credit_card(&server, "500.00").await;
    let balance: f64 = h.web.balance().await.parse().unwrap();
    assert!(balance >= 600.0, "the account holds the three purchases: {balance}");
    // Three purchases of 200.00, each within the limit when made (the card has spent nothing).
    let mut ops = Vec::new();
    for _ in 0..3 {
        let (_, r) = buy(&server, "5555555555554444", "200.00").await;
        assert_eq!(r["transStatus"], "C", "{r}");
        let id = r["acsTransID"].as_str().unwrap().to_owned();
        ops.push((id.clone(), challenge_view(&server, &id).await));
    }
    let answers = futures_util::future::join_all(ops.iter().map(|(_, view)| {
        h.device.approve(
            view["op_id"].as_str().unwrap(),
            view["payload"].as_str().unwrap(),
            server.clock.now_secs(),
            None,
        )
    }))
    .await;
    let approved = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(approved, 2, "{answers:?}");
    let (_, refused) = answers.iter().find(|(s, _)| *s != StatusCode::OK).unwrap();
    assert_eq!(refused["code"], "insufficient_funds", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap_or_default().contains("monthly limit")
            || refused.to_string().contains("monthly limit"),
        "{refused}"
    );
    let mut statuses = Vec::new();
    for (id, _) in &ops {
        statuses.push(result(&server, id).await["transStatus"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["N", "Y", "Y"]);
    let credit = h.card_by_id(credit["card_id"].as_str().unwrap()).await;
    assert_eq!(credit["available"], "100.00", "{credit}");
    assert!(server.audit_text().await.contains("over the card's monthly limit"));
}

/// Low-value purchases made at once, each let through by the exemption: the credit card's
/// monthly limit holds in the write that books them, not only in the read before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_purchases_made_at_once_stay_within_the_credit_cards_monthly_limit() {
    let server = TestServer::start().await;
    let h = holder(&server, "Ugo Esente", "+393335550083", VISA).await;
    let credit = h.credit_card(&server, "50.00").await;
    // Authenticated at once (`Y`), refused (`N`), or challenged once the exemption's sum is
    // spent (`C`): never more than the limit booked.
    let answers = futures_util::future::join_all((0..8).map(|_| buy(&server, "5555555555554444", "20.00"))).await;
    let authenticated = answers.iter().filter(|(_, r)| r["transStatus"] == "Y").count();
    assert!(
        answers
            .iter()
            .all(|(s, r)| *s == StatusCode::OK
                && ["Y", "N", "C"].contains(&r["transStatus"].as_str().unwrap_or_default())),
        "{answers:?}"
    );
    assert_eq!(authenticated, 2, "two of 20.00 fit in 50.00: {answers:?}");
    let credit = h.card_by_id(credit["card_id"].as_str().unwrap()).await;
    assert_eq!(credit["available"], "10.00", "{credit}");
}

#[tokio::test]
async fn wrong_codes_on_the_challenge_page_fail_the_purchase_and_leave_the_customer_two_attempts() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let h = holder(&server, "Gino Pagina", "+393335550091", VISA).await;
    for i in 0..3 {
        let (_, r) = buy(&server, VISA, "50.00").await;
        let id = r["acsTransID"].as_str().unwrap().to_owned();
        let (status, body) = challenge_post(&server, &id, "code", json!({"code": "000000"})).await;
        assert_eq!(
            (status, body["attempts_left"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(4 - i)),
            "{body}"
        );
        // That purchase is over: not authenticated.
        assert_eq!(result(&server, &id).await["transStatus"], "N");
        assert_eq!(
            challenge_post(&server, &id, "code", json!({"code": "000000"})).await.0,
            StatusCode::CONFLICT
        );
    }
    // The page takes no more: the last two attempts are the customer's.
    let (_, r) = buy(&server, VISA, "50.00").await;
    let id = r["acsTransID"].as_str().unwrap().to_owned();
    let (status, body) = challenge_post(&server, &id, "code", json!({"code": "000000"})).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::LOCKED, &json!("blocked")),
        "{body}"
    );
    assert_eq!(
        result(&server, &id).await["transStatus"],
        "C",
        "that purchase still waits"
    );
    // The customer still logs in with the authenticator (a code of a later step than the first
    // login's), and its push still approves.
    server.clock.advance(60);
    let _web = server.web_login(&h.c, &h.device).await;
    let view: Value = challenge_view(&server, &id).await;
    h.approve(&server, &json!({"op_id": view["op_id"], "payload": view["payload"]}))
        .await;
    assert_eq!(result(&server, &id).await["transStatus"], "Y");
}

#[tokio::test]
async fn a_card_has_at_most_three_challenges_waiting() {
    let server = TestServer::start_with(|c| c.exempt_count = 0).await;
    let _h = holder(&server, "Flora Flusso", "+393335550101", VISA).await;
    for _ in 0..3 {
        assert_eq!(buy(&server, VISA, "5.00").await.1["transStatus"], "C");
    }
    let (_, r) = buy(&server, VISA, "5.00").await;
    assert_eq!(
        (&r["transStatus"], &r["transStatusReason"]),
        (&json!("N"), &json!("12")),
        "{r}"
    );
    // Once they expire, purchases are asked again.
    server.clock.advance(301);
    assert_eq!(buy(&server, VISA, "5.00").await.1["transStatus"], "C");
}

#[tokio::test]
async fn a_new_key6_or_phone_is_announced_to_the_old_phone_and_by_e_mail_and_the_phone_is_signed_whole() {
    let server = TestServer::start().await;
    let h = holder(&server, "Nora Nuova", "+393335550111", VISA).await;
    h.set_key6(&server, "583920").await;
    let key6_alert = |m: &Value| {
        m["body"]
            .as_str()
            .unwrap()
            .contains("a Key6 was set for card **** 1111")
    };
    assert_eq!(
        server
            .outbox("+393339990001")
            .await
            .iter()
            .filter(|m| key6_alert(m))
            .count(),
        1
    );
    assert_eq!(
        server.outbox(&h.c.email).await.iter().filter(|m| key6_alert(m)).count(),
        1
    );
    let (status, op) = h
        .put(
            &format!("/api/v1/cards/{}/secure-phone", h.card_id),
            json!({"phone": "+39 333 777 0002"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    assert!(
        op["payload"]
            .as_str()
            .unwrap()
            .contains("nuovo telefono / new phone +393337770002"),
        "{op}"
    );
    assert!(
        server
            .outbox("+393339990001")
            .await
            .iter()
            .all(|m| !m["body"].as_str().unwrap().contains("+39*******002"))
    );
    h.approve(&server, &op).await;
    let phone_alert = |m: &Value| m["body"].as_str().unwrap().contains("will go to +39*******002");
    assert_eq!(
        server
            .outbox("+393339990001")
            .await
            .iter()
            .filter(|m| phone_alert(m))
            .count(),
        1,
        "the old phone"
    );
    assert_eq!(
        server
            .outbox(&h.c.email)
            .await
            .iter()
            .filter(|m| phone_alert(m))
            .count(),
        1
    );
    assert_eq!(h.card().await["secure_phone"], "+39*******002");
    // The purchase codes go to the new phone.
    let (_, r) = buy(&server, VISA, "40.00").await;
    let (status, _) = challenge_post(&server, r["acsTransID"].as_str().unwrap(), "sms", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        server.outbox("+393337770002").await[0]["body"]
            .as_str()
            .unwrap()
            .contains("40,00 EUR")
    );
}

#[tokio::test]
async fn the_acs_answers_only_the_3_d_secure_servers_given_a_token_outside_a_sandbox() {
    let server = TestServer::start_with(|c| c.acs_token = Some("ds-token".into())).await;
    let _h = holder(&server, "Tito Token", "+393335550121", VISA).await;
    let body = json!({"pan": VISA, "amount": "5.00", "currency": "EUR", "merchant_name": "Shop",
                      "merchant_url": "https://shop.example", "return_url": "https://shop.example/r"});
    let url = server.url("/api/v1/acs/authentications");
    let r = server.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = server
        .http
        .post(&url)
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = server
        .http
        .post(&url)
        .bearer_auth("ds-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A bank (no sandbox) without a token has the ACS off.
    let bank = TestServer::start_with(|c| c.sandbox = false).await;
    let r = bank.post_json("/api/v1/acs/authentications", &body).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
