//! Several instances on one PostgreSQL database behave as one (issue 13): push reaches a device
//! whichever instance holds its stream, a page on another instance sees the approval, a session
//! is good on every instance, an answer is approved once whichever instances the copies reach,
//! a device request is accepted once, and a listener whose connection the database ended still
//! delivers. Run with `SCA_TEST_ENGINE=postgres`; on SQLite (one instance per file) these tests
//! say so and pass.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Two more instances on the first one's database, with its keys (the same data directory).
async fn more_instances(one: &TestServer) -> (Api, Api) {
    let config = one.state.config().clone();
    let mut apis = Vec::new();
    for _ in 0..2 {
        let state = sca_server::AppState::new(config.clone(), one.clock.clone())
            .await
            .unwrap();
        apis.push(Api::serve(state, one.clock.clone()).await);
    }
    let three = apis.pop().unwrap();
    (apis.pop().unwrap(), three)
}

/// The same browser (cookie and CSRF token) talking to another instance.
fn on(web: &Web, api: &Api) -> Web {
    Web {
        base: api.base.clone(),
        http: web.http.clone(),
        cookie: web.cookie.clone(),
        csrf: web.csrf.clone(),
    }
}

/// The next `event` on a stream, within a few seconds (heartbeats skipped).
async fn next(rx: &mut tokio::sync::mpsc::Receiver<(String, Value)>, event: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {event} event within 10 s"))
            .expect("the stream ended");
        if got.0 == event {
            return got.1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_made_on_one_instance_reaches_a_device_on_another_and_the_approval_a_page_on_a_third() {
    postgres_only!();
    let one = TestServer::start().await;
    let (two, three) = more_instances(&one).await;
    let c = one.admin_create("Tre Istanze", "+393331121001").await;
    let mut device = Device::activate(&one, &c).await;
    // The device's stream is held by instance one.
    let mut pushes = device.events(one.clock.now_secs()).await;

    // The customer logs in on instance two: the login's push reaches the device on one.
    let mut web = Web::new(&two);
    let (status, login) = web.login(&c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let login_id = login["login_id"].as_str().unwrap();
    let pushed = next(&mut pushes, "operation").await;
    assert_eq!(pushed["op_id"], login["operation"]["op_id"]);
    // The page waits on instance two; the device approves through instance three.
    let page = web
        .request(Method::GET, &format!("/api/v1/login/{login_id}/events"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let mut page = sse_events(page);
    assert_eq!(next(&mut page, "status").await["status"], "pending");
    device.base = three.base.clone();
    let (status, body) = device
        .approve(
            pushed["op_id"].as_str().unwrap(),
            pushed["payload"].as_str().unwrap(),
            one.clock.now_secs(),
            login["number"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(next(&mut page, "status").await["status"], "authenticated");
    // The session made on two is good on one and three.
    for api in [&one.api, &two, &three] {
        assert_eq!(on(&web, api).get("/api/v1/accounts").await.0, StatusCode::OK);
    }

    // A transfer made on three is pushed to the device on one; the decision reaches it too.
    web = on(&web, &three);
    let t = web.transfer("IT60X0542811101000000123456", "3.00").await;
    let pushed = next(&mut pushes, "operation").await;
    assert_eq!(pushed["op_id"], t["op_id"]);
    device.base = two.base.clone();
    let (status, body) = device
        .approve(
            pushed["op_id"].as_str().unwrap(),
            pushed["payload"].as_str().unwrap(),
            one.clock.now_secs(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decided = next(&mut pushes, "status").await;
    assert_eq!(
        (&decided["op_id"], &decided["status"]),
        (&t["op_id"], &json!("approved"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_right_answers_spread_over_three_instances_approve_once_and_move_the_money_once() {
    postgres_only!();
    let one = TestServer::start().await;
    let (two, three) = more_instances(&one).await;
    let c = one.admin_create("Cinquanta Risposte", "+393331121002").await;
    let device = Device::activate(&one, &c).await;
    let web = one.web_login(&c, &device).await;
    let t = web.transfer("IT60X0542811101000000123456", "700.00").await;
    let op_id = t["op_id"].as_str().unwrap().to_owned();
    let code = device.operation_code(t["payload"].as_str().unwrap(), one.clock.now_secs());
    let webs = Arc::new([on(&web, &one.api), on(&web, &two), on(&web, &three)]);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (webs, op_id, code) = (webs.clone(), op_id.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            webs[i % 3]
                .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                .await
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().0);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((ok, conflict), (1, 49), "{statuses:?}");
    assert_eq!(web.balance().await, "9300.00");
    let store = one.state.store();
    let customer = store.customer_by_user(&c.user_code).await.unwrap().unwrap();
    let row = store.operation(customer.id, &op_id).await.unwrap().unwrap();
    assert_eq!(store.movements_of_operation(row.id).await.unwrap(), 1);
}

#[tokio::test]
async fn a_device_request_accepted_by_one_instance_is_refused_by_another() {
    postgres_only!();
    let one = TestServer::start().await;
    let (two, _three) = more_instances(&one).await;
    let c = one.admin_create("Replica Altrove", "+393331121003").await;
    let device = Device::activate(&one, &c).await;
    let path = format!("/api/v1/devices/{}/activations", device.id);
    let auth = device.authorization("POST", &path, one.clock.now_secs(), b"");
    let send = |base: String| {
        let (http, auth, path) = (device.http.clone(), auth.clone(), path.clone());
        async move {
            http.post(format!("{base}{path}"))
                .header("authorization", auth)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send(one.base.clone()).await, StatusCode::CREATED);
    assert_eq!(send(two.base.clone()).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_whose_connection_the_database_ended_still_delivers_the_next_push() {
    postgres_only!();
    let one = TestServer::start().await;
    let (two, _three) = more_instances(&one).await;
    let c = one.admin_create("Ascolto Interrotto", "+393331121004").await;
    let device = Device::activate(&one, &c).await;
    let web = on(&one.web_login(&c, &device).await, &two);
    let mut pushes = device.events(one.clock.now_secs()).await;
    let mut db = test_db(one.state.config()).await;
    let ended: i64 = on_db!(&mut db, |c| sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%') t"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(ended, 3, "one listener per instance");
    let t = web.transfer("IT60X0542811101000000123456", "4.00").await;
    let pushed = next(&mut pushes, "operation").await;
    assert_eq!(pushed["op_id"], t["op_id"]);
}

/// A burst of operations made at once on one instance (their hints sent together, several to a
/// statement) reaches a device on another, each once, long before the periodic re-read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_pushes_made_on_one_instance_reaches_a_device_on_another_each_once() {
    postgres_only!();
    let one = TestServer::start().await;
    let (two, _three) = more_instances(&one).await;
    let c = one.admin_create("Raffica Push", "+393331121005").await;
    let device = Device::activate(&one, &c).await;
    let web = on(&one.web_login(&c, &device).await, &two);
    let mut pushes = device.events(one.clock.now_secs()).await;
    let made = futures_util::future::join_all((0..40).map(|i| {
        let web = &web;
        async move { web.transfer("IT60X0542811101000000123456", &format!("1.{i:02}")).await }
    }))
    .await;
    let mut expected: Vec<String> = made.iter().map(|t| t["op_id"].as_str().unwrap().to_owned()).collect();
    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.push(
            next(&mut pushes, "operation").await["op_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Nothing more: no hint delivered twice.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), next(&mut pushes, "operation"))
            .await
            .is_err(),
        "an operation was pushed twice"
    );
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

/// Outbox delivery runs on one instance at a time: with three instances configured with the
/// same provider, each message reaches it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_deliver_each_message_once() {
    postgres_only!();
    let received: Arc<tokio::sync::Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |body: axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().await.push(body.0);
                // A slow provider: a message stays undelivered long enough for every instance's
                // dispatcher to see it, were they all delivering.
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let one =
        TestServer::start_with(move |c| c.messages = sca_server::MessagesConfig::Webhook { url, token: None }).await;
    let (two, three) = more_instances(&one).await;
    // Messages queued through every instance: an SMS code each.
    let mut phones = Vec::new();
    for (i, api) in [&one.api, &two, &three].into_iter().enumerate() {
        let phone = format!("+39333112201{i}");
        let c = api.admin_issue("Messaggio Unico", &phone).await;
        let r = api
            .post_json(
                "/api/v1/activations",
                &json!({"user": c.user_code, "password": c.password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        phones.push(phone);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let got = received.lock().await.clone();
        if phones.iter().all(|p| got.iter().any(|m| m["to"] == p.as_str())) {
            // A further round of every instance's dispatcher would send a duplicate now.
            tokio::time::sleep(Duration::from_secs(6)).await;
            let got = received.lock().await.clone();
            let mut ids: Vec<String> = got.iter().map(|m| m["id"].to_string()).collect();
            let all = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), all, "a message was delivered twice: {got:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every message arrived: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two operations paying one pagoPA notice, approved at once on two instances (each answer sent
/// to both): the notice is paid once, the other operation fails with `notice_paid`, and no
/// answer meets a server error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pagopa_notice_approved_on_two_instances_is_paid_once() {
    postgres_only!();
    let one = TestServer::start().await;
    let (two, _three) = more_instances(&one).await;
    let c = one.admin_create("Due Avvisi", "+393331121090").await;
    let device = Device::activate(&one, &c).await;
    let web = one.web_login(&c, &device).await;
    let body = json!({"notice_code": "302000100000009424", "creditor_fiscal_code": "80078750587",
                      "amount": "42.00", "currency": "EUR"});
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, m) = web.post("/api/v1/pagopa/payments", body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        let code = device.operation_code(m["payload"].as_str().unwrap(), one.clock.now_secs());
        answers.push((m["op_id"].as_str().unwrap().to_owned(), code));
    }
    let webs = [Arc::new(on(&web, &one.api)), Arc::new(on(&web, &two))];
    let mut tasks = Vec::new();
    for _ in 0..5 {
        for (op_id, code) in &answers {
            for w in &webs {
                let (w, op_id, code) = (w.clone(), op_id.clone(), code.clone());
                tasks.push(tokio::spawn(async move {
                    w.post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                        .await
                }));
            }
        }
    }
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match (status, body["code"].as_str()) {
            (StatusCode::OK, _) => ok += 1,
            (StatusCode::CONFLICT, Some("notice_paid" | "not_pending")) => {}
            (other, _) => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(web.balance().await, "9958.00");
}
