//! Nothing a customer depends on lives in one process (issue 13): web sessions (with their CSRF
//! token) and the login rate per address are rows, so a restart logs nobody out and resets no
//! limit, and another instance on the same database sees the same.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// The same data directory served by a new process state on another port.
async fn restarted(server: &TestServer) -> Api {
    let state = sca_server::AppState::new(server.state.config().clone(), server.clock.clone())
        .await
        .unwrap();
    Api::serve(state, server.clock.clone()).await
}

#[tokio::test]
async fn a_session_outlives_a_restart_and_a_logout_ends_it_everywhere() {
    let server = TestServer::start().await;
    let c = server.admin_create("Sessione Durevole", "+393331119001").await;
    let device = Device::activate(&server, &c).await;
    let mut web = server.web_login(&c, &device).await;
    let before = web.balance().await;

    let again = restarted(&server).await;
    web.base = again.base.clone();
    // The cookie and its CSRF token are good on the new process: reads and a transfer.
    assert_eq!(web.balance().await, before);
    let t = web.transfer("IT60X0542811101000000123456", "2.00").await;
    assert_eq!(t["op_id"].as_str().map(str::len), Some(8), "{t}");
    let (status, body) = web.post("/api/v1/logout", json!(null)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Ended for the first process too (one database).
    web.base = server.base.clone();
    let (status, body) = web.get("/api/v1/accounts").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

#[tokio::test]
async fn an_idle_session_ends_on_time_whichever_process_served_its_last_request() {
    let server = TestServer::start().await;
    let c = server.admin_create("Sessione Inattiva", "+393331119002").await;
    let device = Device::activate(&server, &c).await;
    let mut web = server.web_login(&c, &device).await;
    let again = restarted(&server).await;
    // A request on the new process keeps the session alive for the old one too…
    server.clock.advance(290);
    web.base = again.base.clone();
    assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::OK);
    server.clock.advance(290);
    web.base = server.base.clone();
    assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::OK);
    // …and five idle minutes end it on both.
    server.clock.advance(300);
    let (status, body) = web.get("/api/v1/accounts").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired"))
    );
    web.base = again.base.clone();
    assert_eq!(web.get("/api/v1/accounts").await.1["code"], "unauthenticated");
}

/// The last request is written only now and then, but often enough for a short idle time: with
/// 10 s, a request every 9 s keeps the session.
#[tokio::test]
async fn a_short_idle_time_is_kept_alive_by_each_request() {
    let server = TestServer::start_with(|c| c.session_idle = 10).await;
    let c = server.admin_create("Sessione Breve", "+393331119003").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    for _ in 0..4 {
        server.clock.advance(9);
        assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::OK);
    }
    server.clock.advance(10);
    assert_eq!(web.get("/api/v1/accounts").await.1["code"], "session_expired");
}

async fn wrong_login(api: &Api, user: &str) -> (StatusCode, Value) {
    let r = api
        .post_json("/api/v1/login", &json!({"user": user, "password": "11223344"}))
        .await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_login_rate_of_an_address_outlives_a_restart() {
    let server = TestServer::start_with(|c| {
        c.login_burst = 3;
        c.login_per_second = 1;
    })
    .await;
    for user in ["ignoto1", "ignoto2", "ignoto3"] {
        assert_eq!(wrong_login(&server, user).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(wrong_login(&server, "ignoto4").await.0, StatusCode::TOO_MANY_REQUESTS);
    let again = restarted(&server).await;
    let (status, body) = wrong_login(&again, "ignoto4").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    server.clock.advance(1);
    assert_eq!(wrong_login(&again, "ignoto4").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_login(&server, "ignoto5").await.0, StatusCode::TOO_MANY_REQUESTS);
}

/// The bucket is taken in one statement: of many logins from one address at once, no more than
/// the burst reach argon2id.
#[tokio::test]
async fn logins_at_once_from_one_address_take_no_more_than_the_burst() {
    let server = TestServer::start_with(|c| {
        c.login_burst = 5;
        c.login_per_second = 1;
    })
    .await;
    let hashes = server.state.hashes_run();
    let answers = futures_util::future::join_all((0..30).map(|i| {
        let api = &server.api;
        async move { wrong_login(api, &format!("ignoto{i}")).await.0 }
    }))
    .await;
    let passed = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((passed, refused), (5, 25), "{answers:?}");
    assert_eq!(server.state.hashes_run() - hashes, 5);
}
