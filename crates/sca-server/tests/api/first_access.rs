//! The first access of customers of acquired banks (issue 15): the old bank's credentials, the
//! SMS code to the mobile it certified, new credentials, the mobile and the e-mail; the SCA
//! policy that follows; every counted rule raced.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::legacy::{argon2_of, pbkdf2_of};
use crate::support::*;
use sca_server::legacy::{self, Format};

const UBI_IBAN: &str = "IT60X0542811101000000123456";
const CARIGE_IBAN: &str = "IT42L1234512345123456789012";

/// A legacy customer to import: (code, old password, phone, e-mail, auth, IBAN).
struct Legacy {
    code: &'static str,
    password: &'static str,
    phone: &'static str,
    email: &'static str,
}

const GIULIA: Legacy = Legacy {
    code: "U-100",
    password: "ubi-vecchia-1",
    phone: "+393331110001",
    email: "giulia@example.it",
};

const LUCA: Legacy = Legacy {
    code: "C-200",
    password: "tessera-2020",
    phone: "+393331110002",
    email: "luca@example.it",
};

/// The acquired bank `code`, opening on `opens`, with Giulia (app, argon2) and Luca (card,
/// pbkdf2-sha256, bcrypt checked in legacy.rs) as its customers.
async fn setup(server: &TestServer, code: &str, opens: &str) {
    let r = server
        .http
        .put(server.url(&format!("/api/v1/admin/acquired-banks/{code}")))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "UBI Banca", "opens": opens}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = format!(
        "legacy_code,password_hash,name,phone,email,accounts,auth\n\
         {},\"{}\",Giulia Verdi,{},{},{UBI_IBAN}=3200.00,app\n\
         {},\"{}\",Luca Neri,{},{},{CARIGE_IBAN}=850.50,card\n",
        GIULIA.code,
        argon2_of(GIULIA.password),
        GIULIA.phone,
        GIULIA.email,
        LUCA.code,
        pbkdf2_of(LUCA.password),
        LUCA.phone,
        LUCA.email,
    );
    legacy::import_text(&server.state, code, &text, Format::Csv)
        .await
        .unwrap();
}

async fn open_bank(server: &TestServer) {
    setup(server, "ubi", "2026-01-01").await;
}

async fn start(server: &TestServer, bank: &str, code: &str, password: &str) -> (StatusCode, Value) {
    let r = server
        .post_json(
            "/api/v1/first-access",
            &json!({"bank": bank, "legacy_code": code, "password": password}),
        )
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn step(server: &TestServer, id: &str, what: &str, body: Value) -> (StatusCode, Value) {
    let r = server
        .post_json(&format!("/api/v1/first-access/{id}/{what}"), &body)
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The newest 6-digit code in the messages to `to` (SMS or e-mail).
async fn code_to(server: &TestServer, to: &str) -> String {
    server.last_otp(to).await
}

/// Through the SMS code: the first access's id, at `credentials` (or `resume`).
async fn through_sms(server: &TestServer, who: &Legacy) -> (String, Value) {
    let (status, body) = start(server, "ubi", who.code, who.password).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["first_access_id"].as_str().unwrap().to_owned();
    let otp = code_to(server, who.phone).await;
    let (status, body) = step(server, &id, "sms-code", json!({"sms_otp": otp})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, body)
}

/// A whole first access, confirming the phone: the new user code.
async fn move_customer(server: &TestServer, who: &Legacy, password: &str) -> String {
    let (id, body) = through_sms(server, who).await;
    assert_eq!(body["step"], "credentials", "{body}");
    let (status, body) = step(server, &id, "credentials", json!({"password": password})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user_code = body["user_code"].as_str().unwrap().to_owned();
    let (status, body) = step(server, &id, "phone", json!({})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("email")),
        "{body}"
    );
    let (status, body) = step(server, &id, "email", json!({})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("email_code")),
        "{body}"
    );
    let code = code_to(server, who.email).await;
    let (status, body) = step(server, &id, "email-code", json!({"code": code})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("done")),
        "{body}"
    );
    user_code
}

async fn admin_banks(server: &TestServer) -> Value {
    let r = server
        .http
        .get(server.url("/api/v1/admin/acquired-banks"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn an_app_customer_moves_to_new_credentials_and_logs_in_with_the_accounts_carried_over() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["step"], "sms");
    // Masked until the SMS code is proven.
    assert_eq!(body["phone"], "+39******0001", "{body}");
    assert_eq!(body["email"], "g***@example.it");
    assert!(body.get("user_code").is_none());
    let id = body["first_access_id"].as_str().unwrap().to_owned();
    let sms = server.outbox(GIULIA.phone).await;
    assert!(sms[0]["body"].as_str().unwrap().contains("UBI Banca"), "{sms:?}");

    // A wrong code is counted; the right one opens the credentials step.
    let (status, body) = step(&server, &id, "sms-code", json!({"sms_otp": "000000"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "wrong_otp");
    assert_eq!(body["attempts_left"], 2, "3 tries per code: {body}");
    let otp = code_to(&server, GIULIA.phone).await;
    let (status, body) = step(&server, &id, "sms-code", json!({"sms_otp": otp})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("credentials")),
        "{body}"
    );
    assert_eq!(body["phone"], GIULIA.phone);
    // The code is spent with its step.
    let (status, _) = step(&server, &id, "sms-code", json!({"sms_otp": otp})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The new password: not trivial, not the old one.
    for (bad, why) in [("12345678", "straight"), ("11111111", "repeat"), ("1234", "short")] {
        let (status, body) = step(&server, &id, "credentials", json!({"password": bad})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {body}");
        assert_eq!(body["field"], "password");
    }
    let (status, body) = step(
        &server,
        &id,
        "credentials",
        json!({"password": "27182818", "alias": "giulia.v"}),
    )
    .await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("phone")),
        "{body}"
    );
    let user_code = body["user_code"].as_str().unwrap().to_owned();
    assert!(
        sca_protocol::UserCode::parse(&user_code).is_ok(),
        "Damm check digit: {user_code}"
    );
    assert_eq!(body["alias"], "giulia.v");
    assert_eq!(body["security_code"].as_str().unwrap().len(), 20, "{body}");
    // Only in that answer.
    let r = server.get_anon(&format!("/api/v1/first-access/{id}")).await;
    let again: Value = r.json().await.unwrap();
    assert!(again.get("security_code").is_none());
    assert_eq!(again["user_code"], user_code.as_str());

    // Not a login until the first access ends.
    let mut web = Web::new(&server);
    let (status, body) = web.login(&user_code, "27182818").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "first_access_unfinished");
    // (A wrong password is just wrong: the state is told only to whoever knows the password.)
    let (status, _) = web.login(&user_code, "27182819").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = step(&server, &id, "phone", json!({"phone": GIULIA.phone})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("email")),
        "the same number is confirmed: {body}"
    );
    let (status, body) = step(&server, &id, "email", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code_to"], GIULIA.email);
    let code = code_to(&server, GIULIA.email).await;
    let (status, body) = step(&server, &id, "email-code", json!({"code": code})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("done")),
        "{body}"
    );
    assert_eq!(body["sca_policy"], "push");
    assert_eq!(body["user_code"], user_code.as_str());

    // The confirmation e-mail: the user code, never the password.
    let mails = server.outbox(GIULIA.email).await;
    let confirm = mails[0]["body"].as_str().unwrap();
    assert!(confirm.contains(&user_code), "{confirm}");
    assert!(!confirm.contains("27182818"), "{confirm}");

    // The first login: push policy; the accounts carried over with their balances.
    let c = Customer {
        user_code: user_code.clone(),
        password: "27182818".into(),
        security_code: String::new(),
        phone: GIULIA.phone.into(),
        email: GIULIA.email.into(),
    };
    let (web, login) = server.sms_login(&c).await;
    assert_eq!(login["sca_policy"], "push", "{login}");
    assert_eq!(login["password_change_required"], false);
    let (status, accounts) = web.get("/api/v1/accounts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accounts[0]["iban"], UBI_IBAN, "{accounts}");
    assert_eq!(accounts[0]["balance"], "3200.00", "{accounts}");
    let mut by_alias = Web::new(&server);
    assert_eq!(by_alias.login("giulia.v", "27182818").await.0, StatusCode::OK);

    // The legacy credentials are over: the right ones say so, and never start a first access.
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "already_migrated");
    let (status, body) = start(&server, "ubi", GIULIA.code, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let banks = admin_banks(&server).await;
    assert_eq!(
        (banks[0]["migrated"].as_i64(), banks[0]["pending"].as_i64()),
        (Some(1), Some(1)),
        "{banks}"
    );
}

#[tokio::test]
async fn a_card_customer_certifies_a_new_phone_gets_sms_pins_then_push_once_an_authenticator_is_active() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (id, _) = through_sms(&server, &LUCA).await;
    let (status, body) = step(&server, &id, "credentials", json!({"password": "31415926"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user_code = body["user_code"].as_str().unwrap().to_owned();
    // A new number: proven by an SMS code sent to it.
    let new_phone = "+393339998877";
    let (status, body) = step(&server, &id, "phone", json!({"phone": new_phone})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("phone_code")),
        "{body}"
    );
    assert_eq!(body["code_to"], new_phone);
    let otp = code_to(&server, new_phone).await;
    let (status, body) = step(&server, &id, "phone-code", json!({"sms_otp": otp})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("email")),
        "{body}"
    );
    assert_eq!(body["phone"], new_phone);
    // Another e-mail address.
    let (status, _) = step(&server, &id, "email", json!({"email": "luca.neri@example.org"})).await;
    assert_eq!(status, StatusCode::OK);
    let code = code_to(&server, "luca.neri@example.org").await;
    let (status, body) = step(&server, &id, "email-code", json!({"code": code})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("done")),
        "{body}"
    );
    assert_eq!(body["sca_policy"], "sms");
    assert!(
        server.outbox("luca.neri@example.org").await[0]["body"]
            .as_str()
            .unwrap()
            .contains("PIN")
    );

    let c = Customer {
        user_code: user_code.clone(),
        password: "31415926".into(),
        security_code: String::new(),
        phone: new_phone.into(),
        email: "luca.neri@example.org".into(),
    };
    let (web, login) = server.sms_login(&c).await;
    assert_eq!(login["sca_policy"], "sms", "{login}");
    assert_eq!(web.balance().await, "850.50");

    // An operation by SMS: the SMS says what it authorizes.
    let transfer = web.transfer("IT60X0542811101000000123456", "25.00").await;
    let op_id = transfer["op_id"].as_str().unwrap().to_owned();
    let (status, body) = web.post(&format!("/api/v1/operations/{op_id}/sms"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sms = server.outbox(new_phone).await;
    let text = sms[0]["body"].as_str().unwrap();
    assert!(
        text.contains("25,00 EUR") && text.contains(UBI_IBAN) && text.contains(&op_id),
        "{text}"
    );
    let (status, body) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"sms_otp": "000000"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_otp")),
        "{body}"
    );
    let otp = code_to(&server, new_phone).await;
    let (status, body) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"sms_otp": otp}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{body}"
    );
    assert_eq!(web.balance().await, "825.50");
    let (status, _) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"sms_otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "an SMS code authorizes once");

    // An authenticator: push from now on.
    let device = Device::activate(&server, &c).await;
    let mut web = Web::new(&server);
    let (status, login) = web.login(&user_code, "31415926").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login["sca_policy"], "push", "{login}");
    let _ = server.web_login(&c, &device).await;
}

#[tokio::test]
async fn a_code_that_never_existed_and_a_wrong_password_get_the_same_answers_and_work() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let mut seen = Vec::new();
    for code in [GIULIA.code, "U-999"] {
        let before = server.state.hashes_run();
        let mut answers = Vec::new();
        for _ in 0..6 {
            let (status, body) = start(&server, "ubi", code, "not-the-password").await;
            answers.push((
                status,
                body["code"].clone(),
                body["attempts_left"].clone(),
                body["detail"].clone(),
            ));
        }
        seen.push((answers, server.state.hashes_run() - before));
    }
    assert_eq!(seen[0], seen[1]);
    let (answers, hashes) = &seen[0];
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].2, 4);
    assert_eq!(answers[4].2, 0);
    assert_eq!(answers[5].0, StatusCode::LOCKED, "{answers:?}");
    assert_eq!(*hashes, 5, "the sixth is refused before any hashing");
}

#[tokio::test]
async fn five_wrong_legacy_passwords_at_once_block_the_legacy_credential_until_the_branch_unblocks() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let tries = (0..12).map(|_| start(&server, "ubi", GIULIA.code, "wrong-password"));
    let answers = futures_util::future::join_all(tries).await;
    let wrong = answers.iter().filter(|(s, _)| *s == StatusCode::UNAUTHORIZED).count();
    let locked = answers.iter().filter(|(s, _)| *s == StatusCode::LOCKED).count();
    assert_eq!((wrong, locked), (5, 7), "{answers:?}");
    // Blocked: even the right password, and the customer was told.
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("branch"), "{body}");
    let alert = server.outbox(GIULIA.phone).await;
    assert!(alert[0]["body"].as_str().unwrap().contains("bloccato"), "{alert:?}");
    assert!(
        server.outbox(GIULIA.email).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("UBI Banca")
    );
    let banks = admin_banks(&server).await;
    assert_eq!(banks[0]["blocked"], 1, "{banks}");
    // Thirty days later the counters of names are forgotten; the block is not.
    server.clock.advance(31 * 86_400);
    assert_eq!(
        start(&server, "ubi", GIULIA.code, GIULIA.password).await.0,
        StatusCode::LOCKED
    );

    let r = server
        .http
        .post(server.url(&format!(
            "/api/v1/admin/acquired-banks/ubi/customers/{}/unblock",
            GIULIA.code
        )))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(admin_banks(&server).await[0]["blocked"], 0);
    assert!(server.audit_text().await.contains("legacy_unblocked"));
}

#[tokio::test]
async fn wrong_codes_sent_at_once_take_no_more_than_their_tries_and_five_block() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["first_access_id"].as_str().unwrap().to_owned();
    let tries = (0..10).map(|i| step(&server, &id, "sms-code", json!({"sms_otp": format!("{:06}", i)})));
    let answers = futures_util::future::join_all(tries).await;
    let wrong = answers.iter().filter(|(s, _)| *s == StatusCode::UNAUTHORIZED).count();
    assert!(wrong <= 3, "one code takes 3 wrong answers: {answers:?}");
    // The code is spent: even the right one no longer opens the step.
    let otp = code_to(&server, GIULIA.phone).await;
    let (status, body) = step(&server, &id, "sms-code", json!({"sms_otp": otp})).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    // A fresh code; two more wrong ones make five in a row: the legacy credential is blocked.
    let (status, _) = step(&server, &id, "resend", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = step(&server, &id, "sms-code", json!({"sms_otp": "999999"})).await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(1)),
        "{body}"
    );
    let (status, body) = step(&server, &id, "sms-code", json!({"sms_otp": "999998"})).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    let (status, _) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::LOCKED);
    assert_eq!(admin_banks(&server).await[0]["blocked"], 1);
}

#[tokio::test]
async fn credentials_sent_at_once_make_one_customer() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (id, _) = through_sms(&server, &GIULIA).await;
    let tries = (0..6).map(|i| step(&server, &id, "credentials", json!({"password": format!("2718281{i}")})));
    let answers = futures_util::future::join_all(tries).await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{answers:?}"
    );
    let mut db = test_db(server.state.config()).await;
    let customers: i64 = on_db!(&mut db, |c| sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(c)
        .await
        .unwrap());
    assert_eq!(customers, 1);
}

#[tokio::test]
async fn a_half_finished_first_access_is_resumed_or_restarted_with_the_same_customer() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (first, _) = through_sms(&server, &GIULIA).await;
    let (status, body) = step(
        &server,
        &first,
        "credentials",
        json!({"password": "27182818", "alias": "giulia"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user_code = body["user_code"].as_str().unwrap().to_owned();
    // The browser closed here. A new first access stops the old one.
    server.clock.advance(60);
    let (second, body) = through_sms(&server, &GIULIA).await;
    assert_eq!(body["step"], "resume", "{body}");
    assert_eq!(body["reached"], "phone");
    assert!(
        body.get("user_code").is_none(),
        "shown once the customer chooses: {body}"
    );
    assert_eq!(
        server.get_anon(&format!("/api/v1/first-access/{first}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, body) = step(&server, &second, "resume", json!({"restart": false})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("phone")),
        "{body}"
    );
    assert_eq!(body["user_code"], user_code.as_str());
    // A new number, proven; then the browser closes again.
    let (status, _) = step(&server, &second, "phone", json!({"phone": "+393330009999"})).await;
    assert_eq!(status, StatusCode::OK);
    let otp = code_to(&server, "+393330009999").await;
    let (status, body) = step(&server, &second, "phone-code", json!({"sms_otp": otp})).await;
    assert_eq!(
        (status, body["phone"].as_str()),
        (StatusCode::OK, Some("+393330009999")),
        "{body}"
    );

    // A third time: going on confirms the mobile again, from the one the old bank had (the only
    // one this first access proved), never from a number an earlier one set.
    server.clock.advance(60);
    let (third, body) = through_sms(&server, &GIULIA).await;
    assert_eq!(
        (body["step"].as_str(), body["reached"].as_str()),
        (Some("resume"), Some("email")),
        "{body}"
    );
    let (status, body) = step(&server, &third, "resume", json!({"restart": false})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("phone")),
        "{body}"
    );
    assert_eq!(body["phone"], GIULIA.phone, "{body}");
    // Starting again: the same user code, a new password.
    server.clock.advance(60);
    let (third, body) = through_sms(&server, &GIULIA).await;
    assert_eq!(body["step"], "resume", "{body}");
    let (status, body) = step(&server, &third, "resume", json!({"restart": true})).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("credentials")),
        "{body}"
    );
    let (status, body) = step(&server, &third, "credentials", json!({"password": "16180339"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_code"], user_code.as_str(), "never a second customer");
    assert!(body.get("alias").is_none(), "the alias chosen again: none");
    let done = {
        let (status, _) = step(&server, &third, "phone", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = step(&server, &third, "email", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let code = code_to(&server, GIULIA.email).await;
        step(&server, &third, "email-code", json!({"code": code})).await
    };
    assert_eq!(done.1["step"], "done", "{:?}", done);
    let mut web = Web::new(&server);
    assert_eq!(web.login(&user_code, "16180339").await.0, StatusCode::OK);
    assert_eq!(web.login(&user_code, "27182818").await.0, StatusCode::UNAUTHORIZED);
    let mut db = test_db(server.state.config()).await;
    let customers: i64 = on_db!(&mut db, |c| sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(c)
        .await
        .unwrap());
    assert_eq!(customers, 1);
    // Moving twice is refused; a whole new first access too.
    assert_eq!(
        start(&server, "ubi", GIULIA.code, GIULIA.password).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn before_the_opening_day_the_box_says_when_and_nothing_is_checked() {
    let server = TestServer::start().await;
    // Opening tomorrow, by the server's clock.
    let tomorrow = {
        let days = (server.clock.now_secs() / 86_400 + 1) as i64;
        sca_server::legacy::civil_date(days * 86_400)
    };
    setup(&server, "ubi", &tomorrow).await;
    let banks: Value = server
        .get_anon("/api/v1/first-access/banks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(banks[0]["state"], "upcoming", "{banks}");
    let before = server.state.hashes_run();
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_open")),
        "{body}"
    );
    assert!(body["detail"].as_str().unwrap().contains(&tomorrow), "{body}");
    assert_eq!(server.state.hashes_run(), before);
    assert!(server.outbox(GIULIA.phone).await.is_empty());
    server.clock.advance(86_400);
    let banks: Value = server
        .get_anon("/api/v1/first-access/banks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(banks[0]["state"], "open");
    assert_eq!(move_customer(&server, &GIULIA, "27182818").await.len(), 8);
}

#[tokio::test]
async fn a_first_access_expires_and_unknown_ids_are_not_found() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (id, _) = through_sms(&server, &GIULIA).await;
    server.clock.advance(21 * 60);
    let (status, _) = step(&server, &id, "credentials", json!({"password": "27182818"})).await;
    assert_eq!(status, StatusCode::GONE);
    let (status, _) = step(&server, "AAAAAAAAAAAAAAAAAAAAAA", "resend", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = start(&server, "nope", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = start(&server, "ubi", "bad code!", GIULIA.password).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("legacy_code")),
        "{body}"
    );
}

#[tokio::test]
async fn a_sandbox_clock_moves_forward_only_and_a_bank_has_no_such_route() {
    let server = TestServer::start().await;
    let before = server.clock.now_secs();
    let r = server.post_json("/dev/clock", &json!({"advance": 86_400})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["now"], before + 86_400);
    for bad in [
        json!({"advance": 0}),
        json!({"advance": -5}),
        json!({"advance": 400 * 86_400 + 1}),
    ] {
        assert_eq!(
            server.post_json("/dev/clock", &bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let bank = TestServer::start_with(|c| c.sandbox = false).await;
    assert_eq!(
        bank.post_json("/dev/clock", &json!({"advance": 60})).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_last_step_and_a_new_start_at_once_never_both_go_through() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let (id, _) = through_sms(&server, &GIULIA).await;
    assert_eq!(
        step(&server, &id, "credentials", json!({"password": "27182818"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(step(&server, &id, "phone", json!({})).await.0, StatusCode::OK);
    assert_eq!(step(&server, &id, "email", json!({})).await.0, StatusCode::OK);
    let code = code_to(&server, GIULIA.email).await;
    let (done, started) = tokio::join!(
        step(&server, &id, "email-code", json!({"code": code})),
        start(&server, "ubi", GIULIA.code, GIULIA.password)
    );
    assert!(
        !(done.0 == StatusCode::OK && started.0 == StatusCode::ACCEPTED),
        "a first access opened on a customer who moved: {done:?} {started:?}"
    );
    if started.0 == StatusCode::ACCEPTED {
        // The new one won: the old one ended, and the customer has not moved.
        assert_eq!(done.0, StatusCode::CONFLICT, "{done:?}");
    } else {
        assert_eq!(started.1["code"], "already_migrated", "{started:?}");
    }
}

#[tokio::test]
async fn legacy_counters_are_their_own_and_never_fade() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    // The login's counters of unknown user names do not touch a legacy code's.
    let mut web = Web::new(&server);
    for _ in 0..6 {
        let _ = web.login(&format!("legacy:ubi:{}", GIULIA.code), "00000000").await;
    }
    // Nor does the same code in other letters, which is another (unknown) code.
    for _ in 0..5 {
        let _ = start(&server, "ubi", &GIULIA.code.to_lowercase(), GIULIA.password).await;
    }
    let (status, body) = start(&server, "ubi", GIULIA.code, GIULIA.password).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // Four guesses a month: the fifth blocks all the same.
    for _ in 0..4 {
        assert_eq!(
            start(&server, "ubi", GIULIA.code, "guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    server.clock.advance(31 * 86_400);
    let (status, body) = start(&server, "ubi", GIULIA.code, "guess").await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(0)),
        "{body}"
    );
    assert_eq!(
        start(&server, "ubi", GIULIA.code, GIULIA.password).await.0,
        StatusCode::LOCKED
    );
    assert_eq!(admin_banks(&server).await[0]["blocked"], 1);
}

#[tokio::test]
async fn one_first_access_sends_at_most_eight_codes_and_one_per_interval_wherever_they_go() {
    let server = TestServer::start_with(|c| c.otp_resend_interval = 30).await;
    open_bank(&server).await;
    let (id, _) = through_sms(&server, &GIULIA).await;
    assert_eq!(
        step(&server, &id, "credentials", json!({"password": "27182818"}))
            .await
            .0,
        StatusCode::OK
    );
    let mut sent = 1; // the first SMS
    let mut refused = 0;
    for i in 0..12 {
        // Another number each time, to get round the limits per number.
        let (status, body) = step(&server, &id, "phone", json!({"phone": format!("+3933300010{i:02}")})).await;
        match status {
            StatusCode::OK => sent += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            _ => panic!("{status} {body}"),
        }
        // A second one at once is refused whatever the number.
        let (status, _) = step(&server, &id, "phone", json!({"phone": format!("+3933300020{i:02}")})).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        server.clock.advance(31);
    }
    assert_eq!((sent, refused), (8, 5));
}

#[tokio::test]
async fn a_finished_first_access_is_shown_for_ten_minutes_then_no_more() {
    let server = TestServer::start().await;
    open_bank(&server).await;
    let user_code = move_customer(&server, &GIULIA, "27182818").await;
    let mut db = test_db(server.state.config()).await;
    let id: String = on_db!(&mut db, |c| sqlx::query_scalar(
        "SELECT id FROM first_accesses WHERE step = 'done'"
    )
    .fetch_one(c)
    .await
    .unwrap());
    let v: Value = server
        .get_anon(&format!("/api/v1/first-access/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["user_code"], user_code.as_str());
    server.clock.advance(10 * 60);
    assert_eq!(
        server.get_anon(&format!("/api/v1/first-access/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
