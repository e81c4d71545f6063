//! kill -9 in the middle of a stream of approvals: no acknowledged approval is lost and no
//! transfer executes twice. Runs the real `sca-server` binary.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use crate::support::*;

fn spawn_server(dir: &std::path::Path, database_url: Option<&str>) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sca-server"));
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--sandbox", "--data-dir"])
        .arg(dir)
        .env("SCA_ADMIN_TOKEN", ADMIN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(url) = line.strip_prefix("sca-server listening on ") {
            break url.trim().to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

async fn login_by_op_id(api: &Api, c: &Customer, device: &Device) -> Web {
    let mut web = Web::new(api);
    let (status, login) = web.login(&c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let op_id = login["operation"]["op_id"].as_str().unwrap();
    let (status, body) = web
        .post(
            &format!("/api/v1/login/{}/code", login["login_id"].as_str().unwrap()),
            json!({"code": device.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    web
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_approvals_loses_no_acknowledged_one_and_executes_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let database = test_database().await;
    let (mut child, base) = spawn_server(dir.path(), database.as_deref());
    let api = Api::external(base);
    let c = api.admin_create("Kill Nine", "+393336660001").await;
    let device = Device::activate(&api, &c).await;
    let web = Arc::new(login_by_op_id(&api, &c, &device).await);
    // A block acknowledged before the kill must survive it.
    let blocked = api.admin_create("Kill Blocked", "+393336660002").await;
    let mut other = Web::new(&api);
    for _ in 0..5 {
        assert_eq!(
            other.login(&blocked.user_code, "99999999").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        other.login(&blocked.user_code, &blocked.password).await.0,
        StatusCode::LOCKED
    );

    // Pending transfers, each with its right OPERATION code.
    const N: usize = 400;
    let mut ops = Vec::with_capacity(N);
    for _ in 0..N {
        let t = web.transfer("IT60X0542811101000000123456", "0.01").await;
        let code = device.operation_code(t["payload"].as_str().unwrap(), now_unix());
        ops.push((t["op_id"].as_str().unwrap().to_owned(), code));
    }
    let queue = Arc::new(Mutex::new(ops.clone()));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (queue, acknowledged, count, web) = (queue.clone(), acknowledged.clone(), count.clone(), web.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some((op_id, code)) = queue.lock().await.pop() else {
                    return;
                };
                let r = web
                    .request(reqwest::Method::POST, &format!("/api/v1/operations/{op_id}/authorize"))
                    .json(&json!({"code": code}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == StatusCode::OK => {
                        acknowledged.lock().await.push(op_id);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => panic!("unexpected {} before the kill", r.status()),
                    // The server is gone: in-flight requests fail; stop.
                    Err(_) => return,
                }
            }
        }));
    }
    // Kill in the middle of the stream.
    while count.load(Ordering::SeqCst) < N / 3 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        acknowledged.len() >= N / 3 && acknowledged.len() < N,
        "{}",
        acknowledged.len()
    );

    // Restart on the same data directory and compare.
    let (mut child, base) = spawn_server(dir.path(), database.as_deref());
    let api = Api::external(base);
    let device = Device {
        base: api.base.clone(),
        ..device
    };
    let mut other = Web::new(&api);
    assert_eq!(
        other.login(&blocked.user_code, &blocked.password).await.0,
        StatusCode::LOCKED,
        "an acknowledged block was lost"
    );
    let web = login_by_op_id(&api, &c, &device).await;
    let mut approved = 0usize;
    for (op_id, code) in &ops {
        let (status, op) = web.get(&format!("/api/v1/operations/{op_id}")).await;
        assert_eq!(status, StatusCode::OK);
        let st = op["status"].as_str().unwrap();
        if acknowledged.contains(op_id) {
            assert_eq!(st, "approved", "acknowledged approval of {op_id} lost");
        }
        if st == "approved" {
            approved += 1;
            // Approving again never executes it twice.
            let (status, _) = web
                .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                .await;
            assert_eq!(status, StatusCode::CONFLICT);
        } else {
            assert_eq!(st, "pending");
        }
    }
    // Money moved exactly once per approved transfer.
    let expected = 1_000_000 - approved as i64;
    assert_eq!(web.balance().await, format!("{}.{:02}", expected / 100, expected % 100));
    // The audit chain survived the kill.
    let mut verify = Command::new(env!("CARGO_BIN_EXE_sca-server"));
    verify.args(["audit-verify", "--data-dir"]).arg(dir.path());
    if let Some(url) = &database {
        verify.arg("--database-url").arg(url);
    }
    let out = verify.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Three instances on one PostgreSQL database, approvals spread over them, one killed with
/// SIGKILL in the middle: every acknowledged approval is there, none executed twice, the money
/// moved once for each, the customer stays logged in on the others, the device's stream opened
/// again on another instance gets what is pending, and the audit chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_one_of_three_instances_loses_nothing_and_logs_nobody_out() {
    postgres_only!();
    let dir = tempfile::tempdir().unwrap();
    let database = test_database().await;
    // The first start makes the keys in the shared data directory; the others read them.
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..3 {
        let (child, base) = spawn_server(dir.path(), database.as_deref());
        children.push(child);
        bases.push(base);
    }
    let apis: Vec<Api> = bases.iter().map(|b| Api::external(b.clone())).collect();
    let c = apis[0].admin_create("Tre Meno Uno", "+393336660003").await;
    let device = Device::activate(&apis[0], &c).await;
    let web = login_by_op_id(&apis[1], &c, &device).await;
    let webs: Arc<Vec<Web>> = Arc::new(
        bases
            .iter()
            .map(|b| Web {
                base: b.clone(),
                http: web.http.clone(),
                cookie: web.cookie.clone(),
                csrf: web.csrf.clone(),
            })
            .collect(),
    );
    const N: usize = 300;
    let mut ops = Vec::with_capacity(N);
    for i in 0..N {
        let t = webs[i % 3].transfer("IT60X0542811101000000123456", "0.01").await;
        let code = device.operation_code(t["payload"].as_str().unwrap(), now_unix());
        ops.push((t["op_id"].as_str().unwrap().to_owned(), code));
    }
    let queue = Arc::new(Mutex::new(ops.clone()));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..15 {
        let (queue, acknowledged, count, webs) = (queue.clone(), acknowledged.clone(), count.clone(), webs.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some((op_id, code)) = queue.lock().await.pop() else {
                    return;
                };
                let r = webs[w % 3]
                    .request(reqwest::Method::POST, &format!("/api/v1/operations/{op_id}/authorize"))
                    .json(&json!({"code": code}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == StatusCode::OK => {
                        acknowledged.lock().await.push(op_id);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => panic!("unexpected {} on instance {}", r.status(), w % 3),
                    // Instance 3 is gone: this worker's in-flight request failed; it stops.
                    Err(_) => return,
                }
            }
        }));
    }
    while count.load(Ordering::SeqCst) < N / 3 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let mut killed = children.pop().unwrap();
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(acknowledged.len() >= N / 3, "{}", acknowledged.len());

    // The customer is still logged in on the two left, and a device stream opened on one of them
    // lists what is still pending.
    let web = &webs[0];
    assert_eq!(webs[1].get("/api/v1/accounts").await.0, StatusCode::OK);
    let mut approved = 0usize;
    let mut pending = Vec::new();
    for (op_id, code) in &ops {
        let (status, op) = web.get(&format!("/api/v1/operations/{op_id}")).await;
        assert_eq!(status, StatusCode::OK);
        let st = op["status"].as_str().unwrap();
        if acknowledged.contains(op_id) {
            assert_eq!(st, "approved", "acknowledged approval of {op_id} lost");
        }
        if st == "approved" {
            approved += 1;
            let (status, _) = web
                .post(&format!("/api/v1/operations/{op_id}/authorize"), json!({"code": code}))
                .await;
            assert_eq!(status, StatusCode::CONFLICT, "approved twice: {op_id}");
        } else {
            assert_eq!(st, "pending");
            pending.push(op_id.clone());
        }
    }
    let expected = 1_000_000 - approved as i64;
    assert_eq!(web.balance().await, format!("{}.{:02}", expected / 100, expected % 100));
    if let Some(first) = pending.first() {
        let device = Device {
            base: bases[0].clone(),
            ..device
        };
        let mut events = device.events(now_unix()).await;
        let mut listed = Vec::new();
        while listed.len() < pending.len() {
            let (event, data) = tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
                .await
                .expect("the pending operations at connect")
                .unwrap();
            if event == "operation" {
                listed.push(data["op_id"].as_str().unwrap().to_owned());
            }
        }
        assert!(listed.contains(first));
    }
    let mut verify = Command::new(env!("CARGO_BIN_EXE_sca-server"));
    verify
        .args(["audit-verify", "--data-dir"])
        .arg(dir.path())
        .arg("--database-url")
        .arg(database.as_deref().unwrap());
    let out = verify.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for mut child in children {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
