//! Sessions, CSRF, idle timeout; device request signatures and their replay.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn idle_session_ends_after_five_minutes_of_injected_time() {
    let server = TestServer::start().await;
    let c = server.admin_create("Ivo Ivi", "+393334440001").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    // Activity keeps it alive…
    for _ in 0..3 {
        server.clock.advance(290);
        assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::OK);
    }
    // …five idle minutes end it.
    server.clock.advance(300);
    let (status, body) = web.get("/api/v1/accounts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "session_expired");
    assert_eq!(web.get("/api/v1/accounts").await.1["code"], "unauthenticated");
}

#[tokio::test]
async fn absolute_lifetime_csrf_and_logout() {
    let server = TestServer::start_with(|c| c.session_lifetime = 600).await;
    let c = server.admin_create("Lia Lai", "+393334440002").await;
    let device = Device::activate(&server, &c).await;
    let mut web = server.web_login(&c, &device).await;
    // State-changing calls need the CSRF token.
    let csrf = web.csrf.take();
    let (status, body) = web.post("/api/v1/transfers", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    web.csrf = csrf;
    // The absolute lifetime ends it whatever the activity.
    for _ in 0..2 {
        server.clock.advance(250);
        assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::OK);
    }
    server.clock.advance(101);
    assert_eq!(web.get("/api/v1/accounts").await.1["code"], "session_expired");
    // Logout ends a session.
    let web = server.web_login(&c, &device).await;
    let (status, _) = web.post("/api/v1/logout", json!(null)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn device_requests_are_signed_fresh_and_used_once() {
    let server = TestServer::start().await;
    let c = server.admin_create("Marta Mori", "+393334440003").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t = web.transfer("IT60X0542811101000000123456", "9.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let path = format!("/api/v1/devices/{}/operations/{op_id}", device.id);
    let now = server.clock.now_secs();
    let auth = device.authorization("GET", &path, now, b"");
    let send = |auth: String| {
        let url = server.url(&path);
        let http = server.http.clone();
        async move {
            http.get(url)
                .header("authorization", auth)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send(auth.clone()).await, StatusCode::OK);
    // Replayed: refused.
    assert_eq!(send(auth).await, StatusCode::UNAUTHORIZED);
    // Stale or future timestamps: refused.
    assert_eq!(
        send(device.authorization("GET", &path, now - 121, b"")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(device.authorization("GET", &path, now + 121, b"")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(device.authorization("GET", &path, now + 120, b"")).await,
        StatusCode::OK
    );
    // Signed for another path or method: refused.
    assert_eq!(
        send(device.authorization("POST", &path, now, b"")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(device.authorization("GET", &format!("{path}?x=1"), now, b"")).await,
        StatusCode::UNAUTHORIZED
    );
    // Another device's id in the path: forbidden; a malformed header: 400 naming it.
    let r = server
        .http
        .get(server.url(&format!("/api/v1/devices/someoneelse/operations/{op_id}")))
        .header(
            "authorization",
            device.authorization(
                "GET",
                &format!("/api/v1/devices/someoneelse/operations/{op_id}"),
                now,
                b"",
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = server
        .http
        .get(server.url(&path))
        .header("authorization", "SCA1-Device id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["field"], "authorization");
    // A replayed approval body with a fresh header: the operation is no longer pending.
    let body = device.approve_body(t["payload"].as_str().unwrap(), now, None);
    let approve = format!("/api/v1/devices/{}/operations/{op_id}/approve", device.id);
    assert_eq!(
        device.send("POST", &approve, Some(body.clone()), now).await.0,
        StatusCode::OK
    );
    assert_eq!(
        device.send("POST", &approve, Some(body), now + 1).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn push_stream_lists_pending_operations_at_connect_and_sends_heartbeats() {
    let server = TestServer::start_with(|c| c.sse_heartbeat = std::time::Duration::from_millis(200)).await;
    let c = server.admin_create("Nico Nani", "+393334440004").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let t1 = web.transfer("IT60X0542811101000000123456", "1.00").await;
    let t2 = web.transfer("IT60X0542811101000000123456", "2.00").await;
    let mut events = device.events(server.clock.now_secs()).await;
    let (e1, d1) = events.recv().await.unwrap();
    let (e2, d2) = events.recv().await.unwrap();
    assert_eq!((e1.as_str(), e2.as_str()), ("operation", "operation"));
    assert_eq!(d1["op_id"], t1["op_id"]);
    assert_eq!(d2["op_id"], t2["op_id"]);
    assert!(d1.get("number").is_none());
    let (e3, _) = tokio::time::timeout(std::time::Duration::from_secs(3), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e3, "heartbeat");
}

/// A password change ends every other session of the customer; a reset and the branch's unblock
/// end all of them (issue 11 §5): a session opened with the old password does not outlive it.
#[tokio::test]
async fn a_new_password_or_an_unblock_ends_the_other_sessions() {
    let server = TestServer::start().await;
    let c = server.admin_create("Sessione Vecchia", "+393331118001").await;
    let device = Device::activate(&server, &c).await;
    let mine = server.web_login(&c, &device).await;
    // Each login takes a LOGIN code of its own time step.
    server.clock.advance(30);
    let other = server.web_login(&c, &device).await;
    assert_eq!(other.get("/api/v1/accounts").await.0, StatusCode::OK);
    // The change, confirmed with a TRANSACTION code.
    let step = sca_protocol::Step::at(server.clock.now_secs()).0 + 1;
    let code = device.code(sca_protocol::CodeInput::Transaction(sca_protocol::Step(step)));
    let (status, body) = mine
        .post(
            "/api/v1/password",
            json!({"current_password": c.password, "new_password": "97531864", "code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        mine.get("/api/v1/accounts").await.0,
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(other.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);

    // The branch's unblock ends them all.
    let c = Customer {
        password: "97531864".into(),
        ..c
    };
    server.clock.advance(30);
    let again = server.web_login(&c, &device).await;
    assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    assert_eq!(mine.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(again.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);

    // So does a reset with the security code and an SMS code.
    server.clock.advance(30);
    let web = server.web_login(&c, &device).await;
    let r = server
        .post_json(
            "/api/v1/recovery/password",
            &json!({"user": c.user_code, "security_code": c.security_code}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<serde_json::Value>().await.unwrap()["recovery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let otp = server.last_otp(&c.phone).await;
    let r = server
        .post_json(
            &format!("/api/v1/recovery/password/{id}"),
            &json!({"sms_otp": otp, "new_password": "86420975"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);
}

/// The answer that blocks a credential ends the customer's other sessions (issue 11 §5): the
/// session that gave it stays (it shows the block), the others end; a block from the device ends
/// them all.
#[tokio::test]
async fn a_block_ends_the_other_sessions() {
    let server = TestServer::start().await;
    let c = server.admin_create("Blocco Sessioni", "+393331118002").await;
    let device = Device::activate(&server, &c).await;
    let guessing = server.web_login(&c, &device).await;
    server.clock.advance(30);
    let other = server.web_login(&c, &device).await;
    let t = guessing.transfer("IT60X0542811101000000123456", "1.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let right = device.operation_code(t["payload"].as_str().unwrap(), server.clock.now_secs());
    let mut wrong = 100_000;
    for left in (0..5).rev() {
        while format!("{wrong}") == right {
            wrong += 1;
        }
        let (status, body) = guessing
            .post(
                &format!("/api/v1/operations/{op_id}/authorize"),
                json!({"code": format!("{wrong}")}),
            )
            .await;
        assert_eq!(
            (status, body["attempts_left"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(left)),
            "{body}"
        );
        wrong += 1;
        if left > 0 {
            assert_eq!(other.get("/api/v1/accounts").await.0, StatusCode::OK, "not blocked yet");
        }
    }
    assert_eq!(other.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(guessing.get("/api/v1/accounts").await.0, StatusCode::OK);

    // Unblocked at the branch (which ends every session), then blocked from the device: no
    // web session is the one that answered, so all end.
    assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    server.clock.advance(30);
    let web = server.web_login(&c, &device).await;
    for _ in 0..5 {
        let (status, _) = device
            .send(
                "POST",
                &format!("/api/v1/devices/{}/check-code", device.id),
                Some(json!({"code": "000000"})),
                server.clock.now_secs(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::UNAUTHORIZED);
}
