//! The authenticator against a real `sca-server` on 127.0.0.1:0: activation, login by push, LOGIN
//! code, QR and op id, transfers, rejection, PIN change, lockout, a second device, removal.
//! The vault here is the kiosk (memory) store; `tests/keyring.rs` runs the real OS keyring.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers, not only #[test] fns

mod support;

use std::time::Duration;

use authenticator::{Error, OpIdLookup, PushEvent, TimeCodeKind, needs_number, parse_op_id};
use sca_protocol::{Kind, OpId};
use support::*;

/// A refusal that counted as a wrong answer (401), with `left` attempts left.
#[track_caller]
fn assert_wrong_answer(err: &Error, left: u32) {
    assert!(
        matches!(err, Error::Server { status: 401, attempts_left: Some(l), .. } if *l == left),
        "{err:?}"
    );
}

async fn next_operation(events: &mut tokio::sync::mpsc::Receiver<authenticator::ProfileEvent>, op_id: &str) -> String {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await.expect("stream open").event {
                PushEvent::Operation { op_id: id, payload } if id == op_id => return payload,
                _ => {}
            }
        }
    })
    .await
    .expect("the push arrives")
}

#[tokio::test]
async fn activation_gives_a_main_profile_whose_login_codes_the_bank_accepts_once() {
    let bank = Bank::start().await;
    let customer = bank.customer("Anna Bianchi").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    assert!(profile.main);
    assert_eq!(profile.user, customer.user_code);
    assert_eq!(profile.bank_pub, bank.state.bank_public_key().to_b64u());

    let web = Web::login(&bank, &customer).await;
    let code = auth.time_code(&profile, &pin(PIN), TimeCodeKind::Login).unwrap();
    assert!((1..=30).contains(&code.seconds_left));
    assert_eq!(web.send_code(code.code.as_str()).await.0, 200);
    assert_eq!(web.login_status().await, "authenticated");

    // The same step again is a replay.
    let again = Web::login(&bank, &customer).await;
    assert_eq!(again.send_code(code.code.as_str()).await.0, 401);
}

#[tokio::test]
async fn a_wrong_sms_code_or_password_at_activation_is_refused_and_nothing_is_stored() {
    let bank = Bank::start().await;
    let customer = bank.customer("Carlo Verdi").await;
    let auth = bank.kiosk();
    let err = auth
        .start_activation(&bank.base, &customer.user_code, "00000000")
        .await
        .unwrap_err();
    assert_wrong_answer(&err, 4);
    let pending = auth
        .start_activation(&bank.base, &customer.user_code, &customer.password)
        .await
        .unwrap();
    let good = bank.last_sms_code(&customer.phone).await;
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let err = auth
        .finish_activation(&pending, wrong, &pin(PIN), "x")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "wrong_otp", "{err:?}");
    assert!(auth.vault().profiles().is_empty());
    // A mistyped SMS code loses nothing: the same activation goes on with the right one.
    let profile = auth.finish_activation(&pending, &good, &pin(PIN), "x").await.unwrap();
    assert_eq!(auth.vault().profiles(), vec![profile]);
    let err = auth.start_activation("http://127.0.0.1:9", "x", "y").await.unwrap_err();
    assert_eq!(err.code(), "offline");
}

#[tokio::test]
async fn login_by_push_needs_the_number_shown_on_the_page() {
    let bank = Bank::start().await;
    let customer = bank.customer("Dario Neri").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let mut events = auth.listen_all().unwrap();

    let web = Web::login(&bank, &customer).await;
    let op_id = web.login_op["op_id"].as_str().unwrap().to_owned();
    let payload = next_operation(&mut events, &op_id).await;
    let verified = auth.verify_payload(&profile, &payload).unwrap();
    assert_eq!(verified.operation().kind, Kind::Login);
    assert!(needs_number(&verified), "the customer must type the page's number");
    // Without it, the bank refuses the approval and nothing is counted.
    let err = auth.approve(&profile, &verified, &pin(PIN), None).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");

    // A wrong number counts as a wrong answer and ends that login: push fatigue or an attacker.
    let wrong_pick = if web.number == 99 { 98 } else { web.number + 1 };
    let err = auth
        .approve(&profile, &verified, &pin(PIN), Some(wrong_pick))
        .await
        .unwrap_err();
    assert_wrong_answer(&err, 4);
    assert_eq!(web.login_status().await, "failed");

    let web = Web::login(&bank, &customer).await;
    let op_id = web.login_op["op_id"].as_str().unwrap().to_owned();
    let payload = next_operation(&mut events, &op_id).await;
    let verified = auth.verify_payload(&profile, &payload).unwrap();
    assert_eq!(
        auth.approve(&profile, &verified, &pin(PIN), Some(web.number))
            .await
            .unwrap(),
        "approved"
    );
    assert_eq!(web.login_status().await, "authenticated");
}

#[tokio::test]
async fn login_by_qr_code_and_by_operation_identifier() {
    let bank = Bank::start().await;
    let customer = bank.customer("Elena Russo").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;

    // QR: the page shows the login payload; the authenticator scans it and shows a code.
    let web = Web::login(&bank, &customer).await;
    let png = sca_qr::render_png(web.login_op["payload"].as_str().unwrap(), 6).unwrap();
    let scanned = auth.scan_image(&profile, &png).unwrap();
    let code = auth.operation_code(&profile, &scanned, &pin(PIN)).unwrap();
    assert_eq!(web.send_code(code.as_str()).await.0, 200);
    assert_eq!(web.login_status().await, "authenticated");

    // Op id typed by hand: online it is looked up and verified first.
    let web = Web::login(&bank, &customer).await;
    let op_id = parse_op_id(web.login_op["op_id"].as_str().unwrap()).unwrap();
    match auth.lookup_op_id(&profile, &op_id).await.unwrap() {
        OpIdLookup::Verified(p) => assert_eq!(p.operation().op_id, op_id),
        OpIdLookup::Offline(r) => panic!("offline: {r}"),
    }
    let code = auth.operation_id_code(&profile, &op_id, &pin(PIN)).unwrap();
    assert_eq!(web.send_code(code.as_str()).await.0, 200);
    assert_eq!(web.login_status().await, "authenticated");
}

#[tokio::test]
async fn offline_a_typed_identifier_says_details_cannot_be_shown_and_still_gives_a_code() {
    let bank = Bank::start().await;
    let customer = bank.customer("Franco Gallo").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = Web::login(&bank, &customer).await;
    let op_id = parse_op_id(web.login_op["op_id"].as_str().unwrap()).unwrap();
    let mut unreachable = profile.clone();
    unreachable.server_url = "http://127.0.0.1:9".into();
    assert!(matches!(
        auth.lookup_op_id(&unreachable, &op_id).await.unwrap(),
        OpIdLookup::Offline(_)
    ));
    let code = auth.operation_id_code(&unreachable, &op_id, &pin(PIN)).unwrap();
    assert_eq!(
        web.send_code(code.as_str()).await.0,
        200,
        "offline codes are the same codes"
    );
    // Offline, LOGIN and TRANSACTION codes need nothing from the network either.
    auth.time_code(&unreachable, &pin(PIN), TimeCodeKind::Transaction)
        .unwrap();
}

#[tokio::test]
async fn a_transfer_approved_by_push_moves_money_exactly_once() {
    let bank = Bank::start().await;
    let customer = bank.customer("Giulia Costa").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = logged_in(&bank, &customer, &auth, &profile).await;
    assert_eq!(web.balance().await, "10000.00");
    let mut events = auth.listen_all().unwrap();
    let (op_id, _) = web.transfer("1250.00").await;
    let payload = next_operation(&mut events, &op_id).await;
    let verified = auth.verify_payload(&profile, &payload).unwrap();
    assert!(!needs_number(&verified));
    let data = &verified.operation().data;
    assert_eq!(data.amount.unwrap().to_string(), "1250.00EUR");
    assert_eq!(data.payee_name.as_deref(), Some("Mario Rossi"));
    assert_eq!(
        auth.approve(&profile, &verified, &pin(PIN), None).await.unwrap(),
        "approved"
    );
    assert_eq!(web.operation_status(&op_id).await, "approved");
    assert_eq!(web.balance().await, "8750.00");
    let again = auth.approve(&profile, &verified, &pin(PIN), None).await.unwrap_err();
    assert!(matches!(again, Error::Server { status: 409, .. }), "{again:?}");
    assert_eq!(web.balance().await, "8750.00");
}

#[tokio::test]
async fn a_transfer_authorized_by_a_code_from_its_qr_and_a_tampered_payload_refused() {
    let bank = Bank::start().await;
    let customer = bank.customer("Ivo Longo").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = logged_in(&bank, &customer, &auth, &profile).await;
    let (op_id, payload) = web.transfer("99.90").await;

    let tampered = payload.replacen("99.90EUR", "19.90EUR", 1);
    let err = auth.verify_payload(&profile, &tampered).unwrap_err();
    assert_eq!(err.code(), "payload_signature");

    let png = sca_qr::render_png(&payload, 4).unwrap();
    let scanned = auth.scan_image(&profile, &png).unwrap();
    let code = auth.operation_code(&profile, &scanned, &pin(PIN)).unwrap();
    let (status, v) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            serde_json::json!({"code": code.as_str()}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(web.balance().await, "9900.10");
}

#[tokio::test]
async fn an_expired_payload_is_refused_before_anything_is_shown() {
    let bank = Bank::start().await;
    let customer = bank.customer("Lara Fontana").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = logged_in(&bank, &customer, &auth, &profile).await;
    let (_, payload) = web.transfer("10.00").await;
    bank.clock.advance(301);
    assert_eq!(
        auth.verify_payload(&profile, &payload).unwrap_err().code(),
        "payload_expired"
    );
}

#[tokio::test]
async fn reject_needs_no_pin_and_alerts_the_customer() {
    let bank = Bank::start().await;
    let customer = bank.customer("Marco Serra").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = logged_in(&bank, &customer, &auth, &profile).await;
    let (op_id, payload) = web.transfer("500.00").await;
    let before = bank.messages_to(&customer.phone).await.len();
    let verified = auth.verify_payload(&profile, &payload).unwrap();
    assert_eq!(auth.reject(&profile, &verified).await.unwrap(), "rejected");
    assert_eq!(web.operation_status(&op_id).await, "rejected");
    assert!(bank.messages_to(&customer.phone).await.len() > before, "an SMS alert");
    assert_eq!(web.balance().await, "10000.00");
}

#[tokio::test]
async fn the_pin_changes_only_after_the_bank_accepts_the_old_one() {
    let bank = Bank::start().await;
    let customer = bank.customer("Nadia Conti").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;

    let err = auth
        .change_pin(&profile, &pin("24680"), &pin("86420"))
        .await
        .unwrap_err();
    assert_wrong_answer(&err, 4);
    assert!(
        auth.change_pin(&profile, &pin(PIN), &pin(PIN)).await.is_err(),
        "same PIN"
    );

    bank.clock.advance(30); // a fresh step: the check above used one
    auth.change_pin(&profile, &pin(PIN), &pin("86420")).await.unwrap();
    let profile = auth.vault().profile(None).unwrap();
    bank.clock.advance(30);
    let web = Web::login(&bank, &customer).await;
    let old = auth.time_code(&profile, &pin(PIN), TimeCodeKind::Login).unwrap();
    assert_eq!(
        web.send_code(old.code.as_str()).await.0,
        401,
        "the old PIN no longer works"
    );
    let new = auth.time_code(&profile, &pin("86420"), TimeCodeKind::Login).unwrap();
    assert_eq!(web.send_code(new.code.as_str()).await.0, 200);
}

#[tokio::test]
async fn five_wrong_pins_block_the_customer_until_unblocked() {
    let bank = Bank::start().await;
    let customer = bank.customer("Olga Marino").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = Web::login(&bank, &customer).await;
    let op_id = OpId::parse(web.login_op["op_id"].as_str().unwrap()).unwrap();
    for (i, wrong) in ["24680", "97531", "11112", "86420", "12457"].iter().enumerate() {
        let code = auth.operation_id_code(&profile, &op_id, &pin(wrong)).unwrap();
        let (status, v) = web.send_code(code.as_str()).await;
        assert_eq!(status, 401, "{v}");
        assert_eq!(v["attempts_left"], 4 - i as u64, "{v}");
    }
    let right = auth.operation_id_code(&profile, &op_id, &pin(PIN)).unwrap();
    let (status, v) = web.send_code(right.as_str()).await;
    assert_eq!(status, 423, "{v}");
    assert_eq!(v["code"], "blocked");
    let sms = bank.messages_to(&customer.phone).await;
    assert!(sms.iter().any(|m| m.body.to_lowercase().contains("blocked")), "{sms:?}");
}

#[tokio::test]
async fn a_second_device_from_the_device_qr_of_an_active_one() {
    let bank = Bank::start().await;
    let customer = bank.customer("Paolo Ferri").await;
    let first = bank.kiosk();
    let profile = bank.activate(&first, &customer).await;
    let started = first.start_second_device(&profile).await.unwrap();
    let device_op = first.verify_payload(&profile, &started.payload).unwrap();
    assert_eq!(device_op.operation().kind, Kind::Device);
    assert_eq!(
        first.approve(&profile, &device_op, &pin(PIN), None).await.unwrap(),
        "approved"
    );

    let second = bank.kiosk();
    let qr = sca_qr::render_png(&started.qr_text, 6).unwrap();
    let qr_text = sca_qr::decode_image_bytes(&qr).unwrap().text;
    let other = second
        .activate_from_qr(&bank.base, &qr_text, &customer.user_code, &pin("24680"), "tablet")
        .await
        .unwrap();
    assert_ne!(other.device_id, profile.device_id);
    let web = Web::login(&bank, &customer).await;
    let code = second.time_code(&other, &pin("24680"), TimeCodeKind::Login).unwrap();
    assert_eq!(
        web.send_code(code.code.as_str()).await.0,
        200,
        "the new device's codes work"
    );
    let reuse = bank
        .kiosk()
        .activate_from_qr(&bank.base, &qr_text, "x", &pin(PIN), "again")
        .await
        .unwrap_err();
    assert!(
        matches!(
            reuse,
            Error::Server {
                status: 409 | 404 | 410,
                ..
            }
        ),
        "{reuse:?}"
    );
}

#[tokio::test]
async fn removing_a_profile_removes_the_device_on_the_server_too() {
    let bank = Bank::start().await;
    let customer = bank.customer("Rita Sala").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let key_before = auth.vault().device_key(&profile).unwrap();
    let client = authenticator::Client::new(&bank.base).unwrap();
    let device = authenticator::client::DeviceIdentity {
        device_id: &profile.device_id,
        key: &key_before,
    };
    let web = Web::login(&bank, &customer).await;
    let op_id = web.login_op["op_id"].as_str().unwrap();
    assert!(
        client.operation_payload(&device, op_id).await.is_ok(),
        "the device works before"
    );
    auth.remove(&profile, false).await.unwrap();
    assert!(auth.vault().profiles().is_empty());
    // The server no longer knows the device: a signed request from its old key is refused.
    let err = Error::from(client.operation_payload(&device, op_id).await.unwrap_err());
    assert!(matches!(err, Error::Server { status: 401, .. }), "{err:?}");
}

#[tokio::test]
async fn pushes_for_several_profiles_arrive_on_one_stream() {
    let bank = Bank::start().await;
    let (a, b) = (bank.customer("Sara Villa").await, bank.customer("Teo Riva").await);
    let auth = bank.kiosk();
    let pa = bank.activate(&auth, &a).await;
    let pb = bank.activate(&auth, &b).await;
    assert!(pa.main && !pb.main);
    let mut events = auth.listen_all().unwrap();
    let wa = Web::login(&bank, &a).await;
    let wb = Web::login(&bank, &b).await;
    let mut want = std::collections::HashMap::from([
        (wa.login_op["op_id"].as_str().unwrap().to_owned(), pa.id.clone()),
        (wb.login_op["op_id"].as_str().unwrap().to_owned(), pb.id.clone()),
    ]);
    tokio::time::timeout(Duration::from_secs(10), async {
        while !want.is_empty() {
            let e = events.recv().await.unwrap();
            if let PushEvent::Operation { op_id, .. } = &e.event
                && let Some(profile) = want.remove(op_id)
            {
                assert_eq!(profile, e.profile, "each push comes with its profile");
            }
        }
    })
    .await
    .expect("both pushes arrive");
}

#[tokio::test]
async fn a_payload_is_scanned_from_camera_frames_and_a_blank_feed_finds_nothing() {
    use authenticator::scan::{Scene, SyntheticSource};
    let bank = Bank::start().await;
    let customer = bank.customer("Zeno Camera").await;
    let auth = bank.kiosk();
    let profile = bank.activate(&auth, &customer).await;
    let web = logged_in(&bank, &customer, &auth, &profile).await;
    let (op_id, payload) = web.transfer("77.00").await;

    // A 1280×720 cluttered frame with the page's QR code in it, as a webcam would give.
    let camera = SyntheticSource::still(&payload, &Scene::cluttered_720p(7), 30.0).unwrap();
    let scanned = auth
        .scan_frames(&profile, Box::new(camera), Duration::from_secs(20))
        .unwrap();
    assert_eq!(scanned.operation().op_id.as_str(), op_id);
    let code = auth.operation_code(&profile, &scanned, &pin(PIN)).unwrap();
    let (status, v) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            serde_json::json!({"code": code.as_str()}),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    let empty = SyntheticSource::still("x", &Scene::cluttered_720p_empty(7), 30.0)
        .unwrap()
        .looping(true);
    let err = auth
        .scan_frames(&profile, Box::new(empty), Duration::from_millis(800))
        .unwrap_err();
    assert_eq!(err.code(), "no_qr_code");
    // A QR code that is not a payload of this bank is not shown; the refusal says why.
    let other =
        SyntheticSource::still("https://example.invalid/not-a-payload", &Scene::cluttered_720p(8), 30.0).unwrap();
    let err = auth
        .scan_frames(&profile, Box::new(other), Duration::from_millis(1500))
        .unwrap_err();
    assert_eq!(err.code(), "payload_form", "{err}");
}

/// A bank served over HTTPS with its own CA (issue 11 §8): the authenticator's client reaches it
/// once it trusts that CA, and not before.
#[tokio::test]
async fn a_bank_over_https_with_its_own_ca() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let bank = Bank::start().await;
    let customer = bank.customer("Tina Tls").await;
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Banca di prova");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let tls = sca_server::tls::server_config(&cert_path, &key_path).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    tokio::spawn(sca_server::tls::serve_tls(
        listener,
        bank.state.clone(),
        tls,
        std::future::pending(),
    ));
    let clock: authenticator::client::UnixClock = std::sync::Arc::new(authenticator::client::system_now);
    let stranger = authenticator::Client::with_roots(&url, clock.clone(), None).unwrap();
    let err = stranger
        .start_activation(&customer.user_code, &customer.password)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "offline", "{err}");
    let ca_pem = ca_cert.pem();
    let trusting = authenticator::Client::with_roots(&url, clock, Some(ca_pem.as_bytes())).unwrap();
    trusting
        .start_activation(&customer.user_code, &customer.password)
        .await
        .unwrap();
    // A file that holds no certificate is refused, naming the option.
    let e = authenticator::client::parse_ca_pem(b"not a certificate").unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("ca_file"), "{e}");
}

/// The codes read from a screen: the operations of the profiles (once per profile a code
/// verifies for, the main one first), the rest refused with the most telling reason, and the
/// two different "nothing to do" errors.
#[tokio::test]
async fn screen_codes_are_sorted_into_operations_of_the_profiles_and_the_rest() {
    let bank = Bank::start().await;
    let first = bank.customer("Lia Prima").await;
    let second = bank.customer("Ugo Secondo").await;
    let auth = bank.kiosk();
    let main = bank.activate(&auth, &first).await;
    let other = bank.activate(&auth, &second).await;
    assert!(main.main && !other.main);
    let web = logged_in(&bank, &first, &auth, &main).await;
    let (op_id, payload) = web.transfer("5.00").await;
    let tampered = payload.replacen("5.00EUR", "500.00EUR", 1);
    let texts = [
        "https://example.com".to_owned(),
        payload.clone(),
        tampered.clone(),
        payload.clone(),
    ];

    let sorted = auth.classify_codes(&texts, None);
    // One bank, one key: the payload verifies for both users; it does not say whose it is.
    let users: Vec<&str> = sorted.operations.iter().map(|o| o.profile.user.as_str()).collect();
    assert_eq!(users, [main.user.as_str(), other.user.as_str()]);
    assert!(
        sorted
            .operations
            .iter()
            .all(|o| o.payload.operation().op_id.as_str() == op_id)
    );
    assert_eq!(sorted.total(), 3, "the repeated code counts once");
    let reasons: Vec<(String, String)> = sorted
        .refused
        .iter()
        .map(|r| (r.text.clone(), r.reason.code()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("https://example.com".to_owned(), "payload_form".to_owned()),
            (tampered, "payload_signature".to_owned())
        ]
    );

    let only = auth.classify_codes(&texts, Some(&main));
    assert_eq!(only.operations.len(), 1);
    let summary = authenticator::operation_summary(&only.operations[0]);
    for part in ["5.00EUR", "Mario Rossi", &bank.base, &main.user, &op_id] {
        assert!(summary.contains(part), "{part} not in {summary}");
    }
    let found = only.into_operations().unwrap();
    assert_eq!(found[0].profile, main);

    let err = auth.classify_codes(&[], None).into_operations().unwrap_err();
    assert!(matches!(err, Error::NoCodeOnScreen), "{err:?}");
    let err = auth.classify_codes(&texts[..1], None).into_operations().unwrap_err();
    assert!(matches!(err, Error::NoOperationOnScreen { codes: 1, .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("QR codes on the screen, but none is an operation of your profiles"),
        "{err}"
    );
    assert_eq!(err.code(), "no_operation");
}
