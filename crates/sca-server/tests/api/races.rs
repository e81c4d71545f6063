//! The attempt limit under concurrency (issue 11 §1): for every answer the server evaluates —
//! password, SMS code, device code, security code — 30 wrong answers and the right one are
//! released at once (behind a barrier), then the right one is sent again.
//!
//! What must hold, whatever the interleaving:
//! - no wrong answer is ever accepted, and every answer is 401 (evaluated, wrong), 423 (refused
//!   unevaluated) or, once the right one went through, 409 (nothing pending any more);
//! - at most 5 wrong answers are evaluated per block: 5 in all when the right answer was
//!   refused, at most 4 + 5 when it went through (it resets the count, PSD2 RTS art. 4(3)(b));
//! - a right answer never clears a block: in the audit log no success follows the block;
//! - when the right answer in the burst was refused, the final right answer is refused too;
//! - a password or security code beyond the attempts left is never even hashed.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::{Method, StatusCode};
use sca_protocol::{Code, CodeInput, EphemeralEcdh, SignedPayload, SigningKey, Step, SystemRandom, approve_message};
use serde_json::{Value, json};

use crate::support::*;

const MAX: usize = 5;
const WRONG: usize = 30;

type Answer = BoxFuture<'static, (StatusCode, Value)>;

fn send(req: reqwest::RequestBuilder) -> Answer {
    Box::pin(async move {
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    })
}

/// What a burst must show, for one credential.
struct Case<'a> {
    server: &'a TestServer,
    user_code: String,
    /// The `code` of a wrong answer's 401.
    wrong_code: &'static str,
    /// The audit kind written by the write that lets the right answer through.
    success: &'static str,
    /// The credential's name in `credential_blocked` audit rows (None: a per-code limit).
    credential: Option<&'static str>,
    /// How many wrong answers block.
    max: usize,
    /// Whether the answer is hashed (password, security code).
    hashed: bool,
}

/// Releases every answer at once; the right one is the last.
async fn at_once(wrong: Vec<Answer>, right: Answer) -> (Vec<(StatusCode, Value)>, (StatusCode, Value)) {
    let mut all = wrong;
    all.push(right);
    let barrier = Arc::new(tokio::sync::Barrier::new(all.len()));
    let tasks: Vec<_> = all
        .into_iter()
        .map(|answer| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                answer.await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let right = results.pop().unwrap();
    (results, right)
}

impl Case<'_> {
    /// Runs the burst and checks it; returns whether the right answer in it went through.
    async fn burst(&self, wrong: Vec<Answer>, right: Answer) -> bool {
        let hashes = self.server.state.hashes_run();
        let (wrong, right) = at_once(wrong, right).await;
        let hashed = self.server.state.hashes_run() - hashes;
        let right_ok = right.0.is_success();
        assert!(
            right_ok || right.0 == StatusCode::LOCKED,
            "the right answer: {} {}",
            right.0,
            right.1
        );
        let mut evaluated = 0;
        for (status, body) in &wrong {
            match *status {
                StatusCode::UNAUTHORIZED if body["code"] == self.wrong_code => evaluated += 1,
                StatusCode::LOCKED => assert_eq!(body["code"], "blocked", "{body}"),
                // Once the right answer went through, nothing is pending any more; a password
                // change's other requests then carry the old password.
                StatusCode::CONFLICT | StatusCode::UNAUTHORIZED if right_ok => {}
                other => panic!("a wrong answer was answered {other}: {body}"),
            }
        }
        let limit = if right_ok { 2 * self.max - 1 } else { self.max };
        assert!(
            evaluated <= limit,
            "{evaluated} wrong answers evaluated (at most {limit}; right answer {})",
            right.0
        );
        if self.hashed {
            let limit = if right_ok { 2 * self.max } else { self.max };
            assert!(hashed as usize <= limit, "{hashed} hashes for {} answers", WRONG + 1);
        }
        self.no_success_after_block().await;
        right_ok
    }

    /// In the audit log, nothing of this customer succeeds after the credential was blocked.
    async fn no_success_after_block(&self) {
        let Some(credential) = self.credential else { return };
        let rows = self.server.state.store().audit_after(0, 100_000).await.unwrap();
        let mine: Vec<_> = rows.iter().filter(|r| r.customer == self.user_code).collect();
        if let Some(block) = mine
            .iter()
            .position(|r| r.kind == "credential_blocked" && r.detail == credential)
        {
            let after: Vec<_> = mine[block..].iter().filter(|r| r.kind == self.success).collect();
            assert!(after.is_empty(), "{} after the block: {after:?}", self.success);
        }
    }
}

fn wrong_otps(right: &str) -> Vec<String> {
    (0..WRONG)
        .map(|i| format!("{:06}", 100_000 + i * 7919))
        .filter(|o| o != right)
        .take(WRONG)
        .collect()
}

/// 30 six-digit codes none of which is `right`.
fn wrong_codes(right: &str) -> Vec<String> {
    wrong_otps(right)
}

fn case<'a>(server: &'a TestServer, c: &Customer, wrong_code: &'static str, success: &'static str) -> Case<'a> {
    Case {
        server,
        user_code: c.user_code.clone(),
        wrong_code,
        success,
        credential: None,
        max: MAX,
        hashed: false,
    }
}

fn post(server: &Api, path: &str, body: Value) -> reqwest::RequestBuilder {
    server.http.post(server.url(path)).json(&body)
}

/// 30 wrong answers of `field` (a password or a security code, hashed) and the right one at
/// once on `path`, then the right one again.
async fn secrets_at_once(path: &str, field: &str, name: &str, phone: &str) {
    let server = TestServer::start().await;
    let c = server.admin_create(name, phone).await;
    let (right, credential, wrong_one): (&str, &'static str, fn(usize) -> String) = match field {
        "password" => (c.password.as_str(), "password", |i| format!("{:08}", 10_000_000 + i)),
        _ => (c.security_code.as_str(), "security_code", |i| format!("ZZZZZ{i:015}")),
    };
    let answer = |secret: &str| send(post(&server, path, json!({"user": c.user_code, field: secret})));
    let wrong = (0..WRONG).map(|i| answer(&wrong_one(i))).collect();
    let case = Case {
        credential: Some(credential),
        hashed: true,
        ..case(
            &server,
            &c,
            "invalid_credentials",
            if credential == "password" {
                "password_right"
            } else {
                "security_code_right"
            },
        )
    };
    if !case.burst(wrong, answer(right)).await {
        let (status, body) = answer(right).await;
        assert_eq!(status, StatusCode::LOCKED, "{body}");
    }
}

#[tokio::test]
async fn login_passwords_at_once() {
    secrets_at_once("/api/v1/login", "password", "Gara Password", "+393338880001").await;
}

#[tokio::test]
async fn activation_passwords_at_once() {
    secrets_at_once("/api/v1/activations", "password", "Gara Attivazione", "+393338880003").await;
}

#[tokio::test]
async fn recovery_security_codes_at_once() {
    secrets_at_once(
        "/api/v1/recovery/unblock",
        "security_code",
        "Gara Sicurezza",
        "+393338880011",
    )
    .await;
}

/// Without the right answer among them, exactly 5 of 30 wrong passwords are evaluated (and
/// hashed); the 25 others are refused unhashed, and so is the right one after them.
#[tokio::test]
async fn only_the_attempts_left_are_hashed() {
    let server = TestServer::start().await;
    let c = server.admin_issue("Gara Hash", "+393338880002").await;
    let login = |pw: &str| {
        send(post(
            &server,
            "/api/v1/login",
            json!({"user": c.user_code, "password": pw}),
        ))
    };
    let before = server.state.hashes_run();
    let mut wrong: Vec<Answer> = (0..WRONG).map(|i| login(&format!("{:08}", 20_000_000 + i))).collect();
    let last = wrong.pop().unwrap();
    let (results, last) = at_once(wrong, last).await;
    let results: Vec<_> = results.into_iter().chain([last]).collect();
    let mut left: Vec<i64> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .map(|(_, b)| b["attempts_left"].as_i64().unwrap())
        .collect();
    left.sort_unstable();
    assert_eq!(left, vec![0, 1, 2, 3, 4], "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::LOCKED)
    );
    assert_eq!(server.state.hashes_run() - before, MAX as u64);
    assert_eq!(login(&c.password).await.0, StatusCode::LOCKED);
    // The block alert went out once.
    let alerts = server.outbox(&c.phone).await;
    assert_eq!(
        alerts
            .iter()
            .filter(|m| m["body"].as_str().unwrap().contains("password"))
            .count(),
        1
    );
}

fn keys_body(otp: &str) -> Value {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(&rng).unwrap();
    let ed = EphemeralEcdh::generate(&rng).unwrap();
    json!({"sms_otp": otp, "device_pub": key.public_key().to_b64u(), "ecdh_pub": ed.public_key().to_b64u(), "name": "Gara"})
}

#[tokio::test]
async fn activation_sms_codes_at_once() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gara Sms Attivazione", "+393338880004").await;
    let (status, started) = send(post(
        &server,
        "/api/v1/activations",
        json!({"user": c.user_code, "password": c.password}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let aid = started["activation_id"].as_str().unwrap().to_owned();
    let otp = server.last_otp(&c.phone).await;
    let path = format!("/api/v1/activations/{aid}");
    let wrong = wrong_otps(&otp)
        .iter()
        .map(|o| send(post(&server, &path, keys_body(o))))
        .collect();
    let case = Case {
        credential: Some("sms_otp"),
        ..case(&server, &c, "wrong_otp", "device_keys_exchanged")
    };
    if !case.burst(wrong, send(post(&server, &path, keys_body(&otp)))).await {
        assert_eq!(send(post(&server, &path, keys_body(&otp))).await.0, StatusCode::LOCKED);
        let again = send(post(
            &server,
            "/api/v1/activations",
            json!({"user": c.user_code, "password": c.password}),
        ))
        .await;
        assert_eq!(again.0, StatusCode::LOCKED, "{}", again.1);
    }
}

/// A customer with a device, and a login waiting for its SCA.
async fn pending_login(server: &TestServer, name: &str, phone: &str) -> (Customer, Device, Web, String) {
    let c = server.admin_create(name, phone).await;
    let device = Device::activate(server, &c).await;
    let mut web = Web::new(server);
    let (status, login) = web.login(&c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let login_id = login["login_id"].as_str().unwrap().to_owned();
    (c, device, web, login_id)
}

fn web_post(web: &Web, path: &str, body: Value) -> Answer {
    send(web.request(Method::POST, path).json(&body))
}

#[tokio::test]
async fn login_sms_codes_at_once() {
    let server = TestServer::start().await;
    let (c, _device, mut web, login_id) = pending_login(&server, "Gara Sms Login", "+393338880005").await;
    let (status, _) = web.post(&format!("/api/v1/login/{login_id}/sms"), json!(null)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.last_otp(&c.phone).await;
    let path = format!("/api/v1/login/{login_id}/code");
    let wrong = wrong_otps(&otp)
        .iter()
        .map(|o| web_post(&web, &path, json!({"sms_otp": o})))
        .collect();
    let case = Case {
        credential: Some("sms_otp"),
        ..case(&server, &c, "wrong_otp", "operation_approved")
    };
    if !case.burst(wrong, web_post(&web, &path, json!({"sms_otp": otp}))).await {
        assert_eq!(
            web_post(&web, &path, json!({"sms_otp": otp})).await.0,
            StatusCode::LOCKED
        );
        // A new login: its SMS code is refused too.
        let (status, login) = web.login(&c.user_code, &c.password).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let id = login["login_id"].as_str().unwrap();
        let (status, _) = web.post(&format!("/api/v1/login/{id}/sms"), json!(null)).await;
        assert_eq!(status, StatusCode::LOCKED);
    }
}

#[tokio::test]
async fn login_codes_at_once() {
    let server = TestServer::start().await;
    let (c, device, mut web, login_id) = pending_login(&server, "Gara Codice Login", "+393338880006").await;
    let step = Step::at(server.clock.now_secs()).0;
    let right = device.code(CodeInput::Login(Step(step)));
    let path = format!("/api/v1/login/{login_id}/code");
    let wrong = wrong_codes(&right)
        .iter()
        .map(|code| web_post(&web, &path, json!({"code": code})))
        .collect();
    let case = Case {
        credential: Some("code"),
        ..case(&server, &c, "wrong_code", "operation_approved")
    };
    if !case.burst(wrong, web_post(&web, &path, json!({"code": right}))).await {
        let (status, login) = web.login(&c.user_code, &c.password).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let id = login["login_id"].as_str().unwrap();
        let next = device.code(CodeInput::Login(Step(step + 1)));
        let (status, body) = web
            .post(&format!("/api/v1/login/{id}/code"), json!({"code": next}))
            .await;
        assert_eq!(status, StatusCode::LOCKED, "{body}");
    }
}

/// A logged-in customer with a pending transfer.
async fn pending_transfer(server: &TestServer, name: &str, phone: &str) -> (Customer, Device, Web, Value) {
    let c = server.admin_create(name, phone).await;
    let device = Device::activate(server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t = web.transfer("IT60X0542811101000000123456", "1.00").await;
    (c, device, web, t)
}

#[tokio::test]
async fn authorize_codes_at_once() {
    let server = TestServer::start().await;
    let (c, device, web, t) = pending_transfer(&server, "Gara Autorizza", "+393338880007").await;
    let op_id = t["op_id"].as_str().unwrap().to_owned();
    let right = device.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs());
    let path = format!("/api/v1/operations/{op_id}/authorize");
    let wrong = wrong_codes(&right)
        .iter()
        .map(|code| web_post(&web, &path, json!({"code": code})))
        .collect();
    let case = Case {
        credential: Some("code"),
        ..case(&server, &c, "wrong_code", "operation_approved")
    };
    if !case.burst(wrong, web_post(&web, &path, json!({"code": right}))).await {
        let t2 = web.transfer("IT60X0542811101000000123456", "2.00").await;
        let op2 = t2["op_id"].as_str().unwrap();
        let code = device.operation_code(t2["payload"].as_str().unwrap(), server.clock.now_secs());
        let (status, body) = web
            .post(&format!("/api/v1/operations/{op2}/authorize"), json!({"code": code}))
            .await;
        assert_eq!(status, StatusCode::LOCKED, "{body}");
    }
}

/// A push approval whose code is `code`, signed as the device signs (so the signature holds and
/// the code is what is judged).
fn approve_with(device: &Device, op_id: &str, payload: &str, now: u64, code: &str) -> Answer {
    let signed = SignedPayload::verify(payload, &device.bank_pub, now).unwrap();
    let op = signed.operation();
    let code = Code::parse(code).unwrap();
    let sig = device
        .key
        .sign(
            &device.rng,
            &approve_message(&op.op_id, &op.nonce, &op.data_sha(), &code),
        )
        .unwrap();
    let body = serde_json::to_vec(&json!({"code": code.to_string(), "signature": sig.to_b64u()})).unwrap();
    let path = format!("/api/v1/devices/{}/operations/{op_id}/approve", device.id);
    let auth = device.authorization("POST", &path, now, &body);
    send(
        device
            .http
            .post(format!("{}{path}", device.base))
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body),
    )
}

#[tokio::test]
async fn push_approvals_at_once() {
    let server = TestServer::start().await;
    let (c, device, web, t) = pending_transfer(&server, "Gara Push", "+393338880008").await;
    let now = server.clock.now_secs();
    let (op_id, payload) = (t["op_id"].as_str().unwrap(), t["payload"].as_str().unwrap());
    let right = device.operation_code(payload, now);
    let wrong = wrong_codes(&right)
        .iter()
        .map(|code| approve_with(&device, op_id, payload, now, code))
        .collect();
    let case = Case {
        credential: Some("code"),
        ..case(&server, &c, "wrong_code", "operation_approved")
    };
    // Made before the burst: a block that comes from a device ends every web session.
    let t2 = web.transfer("IT60X0542811101000000123456", "2.00").await;
    if !case
        .burst(wrong, approve_with(&device, op_id, payload, now, &right))
        .await
    {
        let (status, body) = device
            .approve(
                t2["op_id"].as_str().unwrap(),
                t2["payload"].as_str().unwrap(),
                now,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::LOCKED, "{body}");
    }
}

fn check_code(device: &Device, code: &str, ts: u64) -> Answer {
    let path = format!("/api/v1/devices/{}/check-code", device.id);
    let body = serde_json::to_vec(&json!({"code": code})).unwrap();
    let auth = device.authorization("POST", &path, ts, &body);
    send(
        device
            .http
            .post(format!("{}{path}", device.base))
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body),
    )
}

#[tokio::test]
async fn pin_checks_at_once() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gara Pin", "+393338880009").await;
    let device = Device::activate(&server, &c).await;
    let now = server.clock.now_secs();
    let step = Step::at(now).0;
    let right = device.code(CodeInput::Transaction(Step(step)));
    let wrong = wrong_codes(&right)
        .iter()
        .map(|code| check_code(&device, code, now))
        .collect();
    let case = Case {
        credential: Some("code"),
        ..case(&server, &c, "wrong_code", "transaction_code_accepted")
    };
    if !case.burst(wrong, check_code(&device, &right, now)).await {
        let next = device.code(CodeInput::Transaction(Step(step + 1)));
        let (status, body) = check_code(&device, &next, now + 1).await;
        assert_eq!(status, StatusCode::LOCKED, "{body}");
    }
}

#[tokio::test]
async fn password_change_sms_codes_at_once() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gara Cambio", "+393338880010").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let (status, _) = web.post("/api/v1/password/sms", json!(null)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.last_otp(&c.phone).await;
    let change = |o: &str| {
        web_post(
            &web,
            "/api/v1/password",
            json!({"current_password": c.password, "new_password": "2468013579", "sms_otp": o}),
        )
    };
    let wrong = wrong_otps(&otp).iter().map(|o| change(o)).collect();
    let case = Case {
        credential: Some("sms_otp"),
        ..case(&server, &c, "wrong_otp", "password_changed")
    };
    if !case.burst(wrong, change(&otp)).await {
        assert_eq!(change(&otp).await.0, StatusCode::LOCKED);
        let (status, _) = web.post("/api/v1/password/sms", json!(null)).await;
        assert_eq!(status, StatusCode::LOCKED);
    }
}

#[tokio::test]
async fn recovery_sms_codes_at_once() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gara Recupero", "+393338880012").await;
    let (status, started) = send(post(
        &server,
        "/api/v1/recovery/unblock",
        json!({"user": c.user_code, "security_code": c.security_code}),
    ))
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["recovery_id"].as_str().unwrap().to_owned();
    let otp = server.last_otp(&c.phone).await;
    let path = format!("/api/v1/recovery/unblock/{id}");
    let wrong = wrong_otps(&otp)
        .iter()
        .map(|o| send(post(&server, &path, json!({"sms_otp": o}))))
        .collect();
    // Each recovery's SMS code takes 3 wrong answers.
    let case = Case {
        max: 3,
        ..case(&server, &c, "wrong_otp", "unblocked")
    };
    if !case
        .burst(wrong, send(post(&server, &path, json!({"sms_otp": otp}))))
        .await
    {
        let (status, body) = send(post(&server, &path, json!({"sms_otp": otp}))).await;
        assert_eq!(status, StatusCode::LOCKED, "{body}");
    }
}
