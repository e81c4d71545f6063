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
