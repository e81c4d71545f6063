//! Lockout (docs/spec/sca1.md §8): 5 wrong answers in a row per credential, counted apart; alerts;
//! unblock by the branch.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn wrong_passwords_block_then_branch_unblocks() {
    let server = TestServer::start().await;
    let c = server.admin_create("Gino Rossi", "+393332220001").await;
    let mut web = Web::new(&server);
    for left in (0..5).rev() {
        let (status, body) = web.login(&c.user_code, "99999999").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "invalid_credentials");
        assert_eq!(body["attempts_left"], left);
    }
    // Blocked: even the right password is refused.
    let (status, body) = web.login(&c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::LOCKED);
    assert_eq!(body["code"], "blocked");
    assert!(
        server.outbox(&c.phone).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("password")
    );
    assert!(
        server.outbox(&c.email).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("blocked")
    );
    // Activation asks for the password too: refused while it is blocked.
    let r = server
        .post_json(
            "/api/v1/activations",
            &json!({"user": c.user_code, "password": c.password}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::LOCKED);
    // The branch unblocks.
    assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    assert_eq!(web.login(&c.user_code, &c.password).await.0, StatusCode::OK);
    // The branch API needs its token.
    let r = server
        .http
        .post(server.url(&format!("/api/v1/admin/customers/{}/unblock", c.user_code)))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_users_look_like_known_ones_and_a_right_answer_resets_the_count() {
    let server = TestServer::start().await;
    let c = server.admin_create("Rita Rossi", "+393332220002").await;
    let mut web = Web::new(&server);
    let (status, body) = web.login("nobody-here", "12345678").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_credentials");
    assert_eq!(body["attempts_left"], 4);
    // Four wrong, one right: the count starts again.
    for _ in 0..4 {
        assert_eq!(web.login(&c.user_code, "99999999").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(web.login(&c.user_code, &c.password).await.0, StatusCode::OK);
    let (_, body) = web.login(&c.user_code, "99999999").await;
    assert_eq!(body["attempts_left"], 4);
}

#[tokio::test]
async fn sms_otps_are_counted_apart_from_codes() {
    let server = TestServer::start().await;
    let c = server.admin_create("Bruno Bianchi", "+393332220003").await;
    let _device = Device::activate(&server, &c).await;
    let mut web = Web::new(&server);
    let (_, login) = web.login(&c.user_code, &c.password).await;
    let login_id = login["login_id"].as_str().unwrap();
    let (status, _) = web.post(&format!("/api/v1/login/{login_id}/sms"), json!(null)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.last_otp(&c.phone).await;
    let wrong = if otp == "000000" { "000001" } else { "000000" };
    for left in (0..5).rev() {
        let (status, body) = web
            .post(&format!("/api/v1/login/{login_id}/code"), json!({"sms_otp": wrong}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "wrong_otp");
        assert_eq!(body["attempts_left"], left);
    }
    let (status, _) = web
        .post(&format!("/api/v1/login/{login_id}/code"), json!({"sms_otp": otp}))
        .await;
    assert_eq!(status, StatusCode::LOCKED);
    // Codes are a separate credential: a wrong code starts at 4.
    let (status, body) = web
        .post(&format!("/api/v1/login/{login_id}/code"), json!({"code": "123456"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["attempts_left"], 4);
}

/// Issue 11 §5: once the customer's device codes are blocked, no push waits on a device that
/// cannot approve it: the open stream ends at once, a reconnect is answered 423, and after the
/// branch's unblock the device connects again.
#[tokio::test]
async fn blocked_codes_close_the_device_stream_until_unblocked() {
    let server = TestServer::start().await;
    let c = server.admin_create("Flusso Bloccato", "+393332220031").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let mut events = device.events(server.clock.now_secs()).await;
    let t = web.transfer("IT60X0542811101000000123456", "2.00").await;
    let op_id = t["op_id"].as_str().unwrap().to_owned();
    let right = device.op_id_code(&op_id);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let (status, body) = web
            .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": wrong}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["attempts_left"], left, "{body}");
    }
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while events.recv().await.is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream of a device whose codes are blocked stayed open"
    );
    let path = format!("/api/v1/devices/{}/events", device.id);
    let (status, body) = device.send("GET", &path, None, server.clock.now_secs()).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    assert_eq!(body["code"], "blocked", "{body}");

    assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    let mut events = device.events(server.clock.now_secs()).await;
    let (event, data) = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.as_str(), data["op_id"].as_str()),
        ("operation", Some(op_id.as_str()))
    );
}

/// What a process that dies while evaluating passwords leaves behind: attempts taken (committed
/// by the real write that takes them) and never settled. On SQLite a restart counts them; on
/// PostgreSQL other instances may be evaluating theirs right now, so the write of the next
/// attempt counts the ones a minute old.
async fn die_while_evaluating(server: &TestServer, c: &Customer, attempts: usize) {
    let store = server.state.store();
    let row = store.customer_by_user(&c.user_code).await.unwrap().unwrap();
    let holder = sca_server::storage::Holder::new(&row, None);
    let now = sca_server::Clock::now(&*server.clock);
    for _ in 0..attempts {
        let h = holder.clone();
        let taken = store
            .write(move |w| {
                Box::pin(async move {
                    w.take_attempt(
                        now,
                        &sca_server::storage::Subject::Customer(&h),
                        sca_server::storage::Credential::Password,
                        5,
                    )
                    .await
                })
            })
            .await
            .unwrap();
        assert!(taken);
    }
}

#[tokio::test]
async fn attempts_a_dead_process_left_taken_count_as_wrong_once_a_minute_old() {
    let server = TestServer::start().await;
    let c = server.admin_create("Tino Morto", "+393332220011").await;
    let mut web = Web::new(&server);
    die_while_evaluating(&server, &c, 4).await;
    // Still young: they may be live, and they hold their attempts (one is left to evaluate).
    let (status, body) = web.login(&c.user_code, "99999999").await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(4)),
        "{body}"
    );
    assert_eq!(web.login(&c.user_code, &c.password).await.0, StatusCode::LOCKED);
    // A minute later they are dead, counted as four wrong answers: with the one before, a block.
    server.clock.advance(61);
    let (status, body) = web.login(&c.user_code, &c.password).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::LOCKED, Some("blocked")),
        "{body}"
    );
    let sms = server.outbox(&c.phone).await;
    assert!(
        sms.iter()
            .any(|m| m["body"].as_str().unwrap().contains("your password has been blocked")),
        "{sms:?}"
    );
    // The branch unblocks: every attempt is there again.
    assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    let (status, body) = web.login(&c.user_code, "99999999").await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(4)),
        "{body}"
    );
    assert_eq!(web.login(&c.user_code, &c.password).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_branch_unblock_forgives_attempts_a_dead_process_left_taken() {
    let server = TestServer::start().await;
    let c = server.admin_create("Pia Morta", "+393332220012").await;
    let mut web = Web::new(&server);
    die_while_evaluating(&server, &c, 5).await;
    // Every attempt is held: none can be evaluated, the customer is refused.
    assert_eq!(web.login(&c.user_code, &c.password).await.0, StatusCode::LOCKED);
    server.clock.advance(61);
    assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    let (status, body) = web.login(&c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Attempts left taken before the time of a take was recorded (a database of an earlier
/// version, where a dead instance left them) are dead too: the next attempt counts them.
#[tokio::test]
async fn attempts_left_taken_before_their_time_was_recorded_count_as_wrong() {
    let server = TestServer::start().await;
    let c = server.admin_create("Ugo Antico", "+393332220013").await;
    let mut web = Web::new(&server);
    die_while_evaluating(&server, &c, 4).await;
    let mut conn = test_db(server.state.config()).await;
    on_db!(&mut conn, |db| sqlx::query(
        "UPDATE credential_failures SET taken_at = NULL"
    )
    .execute(db)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    // Four dead and this wrong one: the fifth, the block.
    let (status, body) = web.login(&c.user_code, "99999999").await;
    assert_eq!(
        (status, body["attempts_left"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(0)),
        "{body}"
    );
    assert_eq!(web.login(&c.user_code, &c.password).await.1["code"], "blocked");
}

/// Wrong answers at once after a dead process: the dead attempts are counted once, by the first
/// write that takes an attempt, and with the two wrong answers that fit they make one block,
/// alerted once.
#[tokio::test]
async fn wrong_answers_at_once_count_a_dead_process_attempts_once() {
    let server = TestServer::start().await;
    let c = server.admin_create("Rino Folla", "+393332220014").await;
    die_while_evaluating(&server, &c, 3).await;
    server.clock.advance(61);
    let answers = (0..20).map(|_| {
        let mut web = Web::new(&server);
        let user = c.user_code.clone();
        async move { web.login(&user, "99999999").await }
    });
    let results = futures_util::future::join_all(answers).await;
    let mut evaluated: Vec<i64> = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .map(|(_, body)| body["attempts_left"].as_i64().unwrap())
        .collect();
    evaluated.sort_unstable();
    assert_eq!(evaluated, [0, 1], "{results:?}");
    assert!(
        results
            .iter()
            .all(|(status, _)| [StatusCode::UNAUTHORIZED, StatusCode::LOCKED].contains(status)),
        "{results:?}"
    );
    let alerts = server.outbox(&c.phone).await;
    let blocks = alerts
        .iter()
        .filter(|m| m["body"].as_str().unwrap().contains("your password has been blocked"))
        .count();
    assert_eq!(blocks, 1, "{alerts:?}");
}
