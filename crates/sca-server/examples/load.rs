//! Load generator for sca-server. Its device is the project's one client (`sca_client`:
//! activation, the push stream, the sandbox outbox); the web-banking side and the codes are
//! written here from docs/api.md with `sca_protocol` for every computation. Start the release server in sandbox mode with a branch
//! token, then run this against it:
//!
//! ```text
//! cargo build --release -p sca-server --examples
//! SCA_ADMIN_TOKEN=bench target/release/sca-server --listen 127.0.0.1:8080 --data-dir /tmp/sca-bench --sandbox &
//! target/release/examples/load --base http://127.0.0.1:8080 --admin-token bench
//! ```
//!
//! Scenarios: `authorize` (closed loop, `--concurrency` clients: requests/s, p50/p99), `rate`
//! (open loop at `--rate` per second for `--seconds`: p50/p99 measured from each request's
//! scheduled time, so a stall is not hidden), `login` (argon2id-bound: logins/s; start the server
//! with `SCA_LOGIN_BURST=0`, all its clients share one address), `push` (a device connected to its
//! event stream: time from creating a transfer to the `operation` event), `flood` (a legitimate
//! client on 127.0.0.2 logs in every 600 ms for `--seconds` while `--concurrency` flooders on
//! 127.0.0.1 send wrong passwords: the legitimate logins/s, with and without the per-address
//! bucket in front of argon2id).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use reqwest::{Client, StatusCode};
use sca_client::PushEvent;
use sca_protocol::{CodeInput, KnowledgeKey, OpId, PossessionKey, PublicKey, SignedPayload, SigningKey, SystemRandom};
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Debug, Parser)]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// Another instance of the same bank (one PostgreSQL database), repeatable: authorizations
    /// are spread over `--base` and these, and the push run creates its transfers on the first of
    /// them while the device listens on `--base` (push across instances).
    #[arg(long)]
    also: Vec<String>,
    /// Branch token (SCA_ADMIN_TOKEN of the server).
    #[arg(long)]
    admin_token: String,
    /// Which scenarios: all, authorize, rate, login, push, flood (comma separated; `all` is
    /// every one but flood).
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Authorizations in the closed-loop run.
    #[arg(long, default_value_t = 20_000)]
    authorizations: usize,
    /// Customers whose transfers the authorize and rate runs approve (each with its device and
    /// web session; the transfers are spread over them). One is the worst case: every approval
    /// books on the same account row.
    #[arg(long, default_value_t = 1)]
    customers: usize,
    /// Concurrent clients in the closed-loop run.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Open-loop rate per second.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Open-loop duration in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Logins in the login run.
    #[arg(long, default_value_t = 200)]
    logins: usize,
    /// Transfers in the push run.
    #[arg(long, default_value_t = 300)]
    pushes: usize,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

struct Device {
    id: String,
    /// Its signing key, as PKCS#8: each push stream takes a key of its own.
    key_pkcs8: Vec<u8>,
    k_poss: PossessionKey,
    k_know: KnowledgeKey,
    bank_pub: PublicKey,
}

impl Device {
    fn operation_code(&self, payload: &str) -> String {
        let signed = SignedPayload::verify(payload, &self.bank_pub, now_unix()).unwrap();
        let op = signed.operation();
        CodeInput::Operation {
            op_id: &op.op_id,
            nonce: &op.nonce,
            data_sha: &op.data_sha(),
        }
        .code(&self.k_poss, &self.k_know)
        .to_string()
    }

    fn op_id_code(&self, op_id: &str) -> String {
        CodeInput::OperationId(&OpId::parse(op_id).unwrap())
            .code(&self.k_poss, &self.k_know)
            .to_string()
    }

    fn key(&self) -> SigningKey {
        SigningKey::from_pkcs8(&self.key_pkcs8, &SystemRandom::new()).unwrap()
    }
}

struct Customer {
    user_code: String,
    password: String,
    phone: String,
}

struct Session {
    cookie: String,
    csrf: String,
}

async fn json_ok(r: reqwest::Response, expect: StatusCode) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expect, "{body}");
    body
}

async fn setup(http: &Client, a: &Args, n: usize) -> (Customer, Device) {
    let phone = format!("+3933{:09}", now_unix() % 1_000_000_000 + n as u64);
    let v = json_ok(
        http.post(format!("{}/api/v1/admin/customers", a.base))
            .bearer_auth(&a.admin_token)
            .json(&json!({"name": "Load Test", "phone": phone, "email": "load@example.invalid"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let c = Customer {
        user_code: v["user_code"].as_str().unwrap().into(),
        password: v["password"].as_str().unwrap().into(),
        phone,
    };
    let bank = sca_client::Client::new(&a.base).unwrap();
    let activation = bank.start_activation(&c.user_code, &c.password).await.unwrap();
    let otp = last_otp(&bank, &c.phone).await;
    let activated = bank.activate(&activation, Some(&otp), "load", None).await.unwrap();
    let device = Device {
        id: activated.device_id,
        key_pkcs8: activated.secrets.device_key.pkcs8().to_vec(),
        k_poss: activated.secrets.possession,
        k_know: activated.secrets.knowledge,
        bank_pub: activated.bank_pub,
    };
    let mut c = c;
    first_access(http, &a.base, &mut c, &device).await;
    (c, device)
}

/// The newest 6-digit code sent to `phone` (the sandbox outbox).
async fn last_otp(bank: &sca_client::Client, phone: &str) -> String {
    let outbox = bank.sandbox_outbox(phone).await.unwrap();
    sca_client::six_digit_code(&outbox[0].body).unwrap()
}

/// The customer replaces the bank-issued password (confirmed by SMS), as the server requires
/// before any banking call.
async fn first_access(http: &Client, base: &str, c: &mut Customer, device: &Device) {
    let s = login(http, base, c, device).await;
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .json(&body)
            .send()
    };
    json_ok(
        post("/api/v1/password/sms", json!({})).await.unwrap(),
        StatusCode::ACCEPTED,
    )
    .await;
    let otp = last_otp(&sca_client::Client::new(base).unwrap(), &c.phone).await;
    let issued: u64 = c.password.parse().unwrap();
    let chosen = (1..)
        .map(|k| format!("{:08}", (issued + k * 1_234_567) % 100_000_000))
        .find(|p| *p != c.password && p.bytes().any(|b| b != p.as_bytes()[0]))
        .unwrap();
    json_ok(
        post(
            "/api/v1/password",
            json!({"current_password": c.password, "new_password": chosen, "sms_otp": otp}),
        )
        .await
        .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    c.password = chosen;
}

/// Password, then the OPERATION_ID code of the login operation.
async fn login(http: &Client, base: &str, c: &Customer, device: &Device) -> Session {
    let r = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"user": c.user_code, "password": c.password}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let v = json_ok(r, StatusCode::OK).await;
    let s = Session {
        cookie,
        csrf: v["csrf_token"].as_str().unwrap().into(),
    };
    let code = device.op_id_code(v["operation"]["op_id"].as_str().unwrap());
    json_ok(
        http.post(format!("{base}/api/v1/login/{}/code", v["login_id"].as_str().unwrap()))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    s
}

async fn transfer(http: &Client, base: &str, s: &Session) -> Value {
    json_ok(
        http.post(format!("{base}/api/v1/transfers"))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .json(&json!({"payee_name": "Load", "payee_iban": "IT60X0542811101000000123456", "amount": "0.01", "currency": "EUR"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await
}

/// An operation to approve: the session that made it, its op id and its OPERATION code.
type Work = (Arc<Session>, String, String);

/// `n` pending transfers with their OPERATION codes, made by 32 clients, spread over the
/// customers' sessions.
async fn pending(http: &Client, base: &str, people: &[(Arc<Session>, Arc<Device>)], n: usize) -> Vec<Work> {
    let out = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let left = Arc::new(std::sync::atomic::AtomicUsize::new(n));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (s, device) = people[i % people.len()].clone();
        let (http, base, out, left) = (http.clone(), base.to_owned(), out.clone(), left.clone());
        tasks.push(tokio::spawn(async move {
            while take_one(&left) {
                let t = transfer(&http, &base, &s).await;
                let code = device.operation_code(t["payload"].as_str().unwrap());
                out.lock()
                    .await
                    .push((s.clone(), t["op_id"].as_str().unwrap().to_owned(), code));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  (setup: {n} transfers created in {secs:.1} s = {:.0}/s)",
        n as f64 / secs
    );
    let mut work = Arc::try_unwrap(out).ok().unwrap().into_inner();
    // Each client made its own in a row: shuffle them (the codes are random digits), so that
    // consecutive approvals are of different customers.
    work.sort_by(|a, b| a.2.cmp(&b.2));
    work
}

async fn authorize(http: &Client, base: &str, s: &Session, op_id: &str, code: &str) -> StatusCode {
    http.post(format!("{base}/api/v1/operations/{op_id}/authorize"))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .status()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(name: &str, mut lat: Vec<Duration>, elapsed: Duration, errors: usize) {
    lat.sort();
    println!(
        "{name}: {} ok, {errors} errors in {:.2} s = {:.0}/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    );
}

impl Args {
    /// Every instance the authorizations are spread over.
    fn bases(&self) -> Vec<String> {
        std::iter::once(self.base.clone())
            .chain(self.also.iter().cloned())
            .collect()
    }
}

async fn closed_loop(http: &Client, a: &Args, work: Vec<Work>) {
    let queue = Arc::new(Mutex::new(work));
    let lat = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    let bases = a.bases();
    for i in 0..a.concurrency {
        let (http, base, queue, lat, errors) = (
            http.clone(),
            bases[i % bases.len()].clone(),
            queue.clone(),
            lat.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let Some((s, op_id, code)) = queue.lock().await.pop() else {
                    break;
                };
                let t0 = Instant::now();
                if authorize(&http, &base, &s, &op_id, &code).await == StatusCode::OK {
                    mine.push(t0.elapsed());
                } else {
                    errors.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
            lat.lock().await.extend(mine);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let lat = Arc::try_unwrap(lat).ok().unwrap().into_inner();
    report(
        &format!("authorize (closed loop, {} clients)", a.concurrency),
        lat,
        elapsed,
        errors.load(std::sync::atomic::Ordering::SeqCst),
    );
}

async fn open_loop(http: &Client, a: &Args, work: Vec<Work>) {
    let interval = Duration::from_secs_f64(1.0 / a.rate as f64);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(work.len());
    let bases = a.bases();
    for (i, (s, op_id, code)) in work.into_iter().enumerate() {
        let scheduled = start + interval * i as u32;
        tokio::time::sleep_until(scheduled.into()).await;
        let (http, base) = (http.clone(), bases[i % bases.len()].clone());
        tasks.push(tokio::spawn(async move {
            let ok = authorize(&http, &base, &s, &op_id, &code).await == StatusCode::OK;
            (ok, scheduled.elapsed())
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (ok, d) = t.await.unwrap();
        if ok {
            lat.push(d);
        } else {
            errors += 1;
        }
    }
    report(
        &format!("authorize (open loop at {}/s)", a.rate),
        lat,
        start.elapsed(),
        errors,
    );
}

async fn logins(http: &Client, a: &Args, c: Arc<Customer>, device: Arc<Device>) {
    let left = Arc::new(std::sync::atomic::AtomicUsize::new(a.logins));
    let lat = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (http, base, c, device, left, lat) = (
            http.clone(),
            a.base.clone(),
            c.clone(),
            device.clone(),
            left.clone(),
            lat.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while take_one(&left) {
                let t0 = Instant::now();
                let r = http
                    .post(format!("{base}/api/v1/login"))
                    .json(&json!({"user": c.user_code, "password": c.password}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                lat.lock().await.push(t0.elapsed());
                let _ = &device;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    report(
        "login (password step, argon2id, 8 clients)",
        Arc::try_unwrap(lat).ok().unwrap().into_inner(),
        elapsed,
        0,
    );
}

async fn push(http: &Client, a: &Args, s: Arc<Session>, device: Arc<Device>) {
    let bank = sca_client::Client::new(&a.base).unwrap();
    let (events, mut pushed) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move { bank.listen(device.id.clone(), device.key(), events).await });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    tokio::spawn(async move {
        while let Some(event) = pushed.recv().await {
            match event {
                PushEvent::Operation { op_id, .. } => {
                    let _ = tx.send((op_id, Instant::now()));
                }
                PushEvent::Disconnected { reason, .. } => panic!("push stream: {reason}"),
                _ => {}
            }
        }
    });
    // Drain what was pending at connect.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while rx.try_recv().is_ok() {}
    let mut lat = Vec::new();
    let start = Instant::now();
    for _ in 0..a.pushes {
        let t0 = Instant::now();
        let t = transfer(http, a.also.first().unwrap_or(&a.base), &s).await;
        let op_id = t["op_id"].as_str().unwrap();
        loop {
            let (got, at) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            if got == op_id {
                lat.push(at - t0);
                break;
            }
        }
    }
    report(
        if a.also.is_empty() {
            "push (create transfer -> operation event at the device)"
        } else {
            "push across instances (create transfer on --also -> event at the device on --base)"
        },
        lat,
        start.elapsed(),
        0,
    );
}

#[tokio::main]
async fn main() {
    let a = Args::parse();
    let http = Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let all = a.scenario == "all";
    let wants = |s: &str| all || a.scenario.split(',').any(|x| x == s);
    if wants("authorize") || wants("rate") {
        let mut people = Vec::new();
        for i in 0..a.customers.max(1) {
            let (c, device) = setup(&http, &a, if i == 0 { 1 } else { 100 + i }).await;
            let device = Arc::new(device);
            people.push((Arc::new(login(&http, &a.base, &c, &device).await), device));
        }
        if wants("authorize") {
            let work = pending(&http, &a.base, &people, a.authorizations).await;
            closed_loop(&http, &a, work).await;
        }
        if wants("rate") {
            let work = pending(&http, &a.base, &people, (a.rate * a.seconds) as usize).await;
            open_loop(&http, &a, work).await;
        }
    }
    if wants("login") {
        let (c, device) = setup(&http, &a, 2).await;
        logins(&http, &a, Arc::new(c), Arc::new(device)).await;
    }
    if a.scenario.split(',').any(|x| x == "flood") {
        let (c, _device) = setup(&http, &a, 4).await;
        flood(&a, Arc::new(c)).await;
    }
    if wants("push") {
        let (c, device) = setup(&http, &a, 3).await;
        let device = Arc::new(device);
        let s = Arc::new(login(&http, &a.base, &c, &device).await);
        push(&http, &a, s, device).await;
    }
}

/// A legitimate client on 127.0.0.2 logs in every 600 ms while flooders on 127.0.0.1 send wrong
/// passwords for ever new user names that are no customer's (each hashed all the same).
async fn flood(a: &Args, c: Arc<Customer>) {
    let bound = |ip: &str| {
        Client::builder()
            .local_address(Some(ip.parse().unwrap()))
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap()
    };
    let (legit, flooder) = (bound("127.0.0.2"), bound("127.0.0.1"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counts = Arc::new([
        std::sync::atomic::AtomicUsize::new(0),
        std::sync::atomic::AtomicUsize::new(0),
    ]);
    let mut flooders = Vec::new();
    for i in 0..a.concurrency {
        let (http, base, stop, counts) = (flooder.clone(), a.base.clone(), stop.clone(), counts.clone());
        flooders.push(tokio::spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            let mut n = 0u64;
            while !stop.load(Relaxed) {
                // A new user name each time: none is ever blocked, so each one is hashed.
                n += 1;
                let r = http
                    .post(format!("{base}/api/v1/login"))
                    .json(&json!({"user": format!("flood{i}x{n}"), "password": "12345678"}))
                    .send()
                    .await;
                match r.map(|r| r.status()) {
                    Ok(StatusCode::TOO_MANY_REQUESTS) => counts[1].fetch_add(1, Relaxed),
                    _ => counts[0].fetch_add(1, Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut lat = Vec::new();
    let mut errors = 0;
    let start = Instant::now();
    // A person, not a script: one login every 600 ms, within the bucket's sustained rate.
    let mut next = start;
    while start.elapsed() < Duration::from_secs(a.seconds) {
        tokio::time::sleep_until(next.into()).await;
        next += Duration::from_millis(600);
        let t0 = Instant::now();
        let r = legit
            .post(format!("{}/api/v1/login", a.base))
            .json(&json!({"user": c.user_code, "password": c.password}))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::OK {
            lat.push(t0.elapsed());
        } else {
            errors += 1;
        }
    }
    let elapsed = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flooders {
        let _ = f.await;
    }
    use std::sync::atomic::Ordering::Relaxed;
    println!(
        "flood: {} flooders on 127.0.0.1 got {} answers (hashed) and {} refusals (429)",
        a.concurrency,
        counts[0].load(Relaxed),
        counts[1].load(Relaxed)
    );
    report(
        "flood (the legitimate client on 127.0.0.2, a login every 600 ms)",
        lat,
        elapsed,
        errors,
    );
}

/// Takes one request from a budget shared by the client tasks; false once it is spent.
fn take_one(left: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    left.fetch_update(SeqCst, SeqCst, |v| v.checked_sub(1)).is_ok()
}
