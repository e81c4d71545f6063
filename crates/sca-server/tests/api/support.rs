//! The test side: a real server on 127.0.0.1:0 over a temporary SQLite file with a manual clock,
//! a web client that keeps its cookie and CSRF token, and an authenticator ("device") written
//! only from docs/spec/sca1.md and docs/api.md with `sca_protocol` — as an independent client would be.
//!
//! This client is deliberately *not* `sca_client` (which the authenticator, the CLI, the desktop
//! app, the load generator and the authenticator's own tests share): it is the oracle that keeps
//! the server and that client from agreeing on a mistake. Keep it written from the specification
//! alone. Only the server-sent-events framing (HTTP, not SCA1) is `sca_client`'s.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use sca_client::sse::{SseItem, SseParser};
use sca_protocol::{
    ActivationId, Code, CodeInput, DeviceAuthorization, EphemeralEcdh, KnowledgeKey, OpId, PossessionKey, PublicKey,
    SignedPayload, SigningKey, Step, SystemRandom, activation_message, approve_message, confirm_tag, derive_keys,
    reject_message, request_message,
};
use sca_server::{AppState, Config, ManualClock};

use serde_json::{Value, json};

pub const ADMIN: &str = "test-admin-token";

/// A server's HTTP API as a client sees it, with the clock the client's device uses.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
}

/// A server running in this process.
pub struct TestServer {
    pub api: Api,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

impl std::ops::Deref for TestServer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Whether this run tests the PostgreSQL engine (`SCA_TEST_ENGINE=postgres`, in the throwaway
/// cluster `scripts/with-postgres.sh` starts and names in `SCA_TEST_POSTGRES`); otherwise each
/// server gets an SQLite file in its data directory.
pub fn on_postgres() -> bool {
    std::env::var("SCA_TEST_ENGINE").as_deref() == Ok("postgres")
}

/// Ends a test that needs PostgreSQL (several instances, what only that engine must survive) when
/// this run is on SQLite, saying so.
macro_rules! postgres_only {
    () => {
        if !$crate::support::on_postgres() {
            eprintln!("this test needs PostgreSQL: SCA_TEST_ENGINE=postgres (make unit runs it so)");
            return;
        }
    };
}
pub(crate) use postgres_only;

/// A new, empty database for one test server: `None` for SQLite (the default file in its data
/// directory), a new PostgreSQL database otherwise.
pub async fn test_database() -> Option<String> {
    use sqlx::Connection as _;
    if !on_postgres() {
        return None;
    }
    let admin = std::env::var("SCA_TEST_POSTGRES")
        .expect("SCA_TEST_ENGINE=postgres needs SCA_TEST_POSTGRES: run it inside scripts/with-postgres.sh");
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "sca_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

/// A connection of the test's own to a server's database, to change rows behind its back.
pub enum TestDb {
    Sqlite(sqlx::SqliteConnection),
    Pg(sqlx::PgConnection),
}

/// Runs `$body` with `$c` the engine's connection (the statement is compiled for each).
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::support::TestDb::Sqlite($c) => $body,
            $crate::support::TestDb::Pg($c) => $body,
        }
    };
}
pub(crate) use on_db;

/// Opens [`TestDb`] on the database of `config`.
pub async fn test_db(config: &Config) -> TestDb {
    use sqlx::Connection as _;
    let url = config.database_url();
    if url.starts_with("postgres") {
        TestDb::Pg(sqlx::PgConnection::connect(&url).await.unwrap())
    } else {
        TestDb::Sqlite(sqlx::SqliteConnection::connect(&url).await.unwrap())
    }
}

/// `sca-server audit-verify` on a server's data directory and database.
pub fn audit_verify_command(server: &TestServer) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sca-server"));
    command
        .args(["audit-verify", "--data-dir"])
        .arg(server.dir.path())
        .arg("--database-url")
        .arg(server.state.config().database_url());
    command
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.sandbox = true;
        config.admin_token = Some(ADMIN.into());
        config.cookie_secure = false;
        // Real argon2id, lighter parameters so the suite stays quick.
        config.argon2_memory_kib = 1024;
        config.argon2_iterations = 1;
        config.otp_resend_interval = 0;
        config.without_sms_limits();
        // Every test client is 127.0.0.1: the per-address login rate is tested on its own.
        config.login_burst = 0;
        tune(&mut config);
        if config.database_url.is_none() {
            config.database_url = test_database().await;
        }
        // The server's errors (RUST_LOG for more) in the output of a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let clock = Arc::new(ManualClock::new(now_unix()));
        let state = AppState::new(config, clock.clone()).await.unwrap();
        Self {
            api: Api::serve(state.clone(), clock).await,
            state,
            dir,
        }
    }
}

impl Api {
    /// Serves `state` on a new loopback port (another instance, or the same data after a
    /// restart); its client reads `clock`.
    pub async fn serve(state: AppState, clock: Arc<ManualClock>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            sca_server::serve(listener, state, std::future::pending())
                .await
                .unwrap();
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { base, http, clock }
    }

    /// A client of a server in another process (the device follows the system clock).
    pub fn external(base: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base,
            http,
            clock: Arc::new(ManualClock::new(now_unix())),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A POST of `body` as JSON, with no session (login, activation, recovery steps).
    pub async fn post_json(&self, path: &str, body: &impl serde::Serialize) -> reqwest::Response {
        self.http.post(self.url(path)).json(body).send().await.unwrap()
    }

    /// A GET with no session.
    pub async fn get_anon(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// A customer as the branch creates one, after their first access: the branch-issued password
    /// already replaced by one they chose (with an SMS code), as the server requires before any
    /// banking call. The SMS codes of that first access are in the outbox.
    pub async fn admin_create(&self, name: &str, phone: &str) -> Customer {
        let mut c = self.admin_issue(name, phone).await;
        let (web, login) = self.sms_login(&c).await;
        assert_eq!(login["password_change_required"], true, "{login}");
        let (status, body) = web.post("/api/v1/password/sms", json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let otp = self.last_otp(phone).await;
        let chosen = chosen_password(&c.password);
        let (status, body) = web.change_password_by_sms(&c.password, &chosen, &otp).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = web.post("/api/v1/logout", json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        c.password = chosen;
        c
    }

    /// A web session whose SCA was an SMS code (a customer with no device yet), and the answer of
    /// its password step.
    pub async fn sms_login(&self, c: &Customer) -> (Web, Value) {
        let mut web = Web::new(self);
        let (status, login) = web.login(&c.user_code, &c.password).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let login_id = login["login_id"].as_str().unwrap().to_owned();
        let (status, body) = web.post(&format!("/api/v1/login/{login_id}/sms"), json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let otp = self.last_otp(&c.phone).await;
        let (status, body) = web
            .post(&format!("/api/v1/login/{login_id}/code"), json!({"sms_otp": otp}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (web, login)
    }

    /// A customer as the branch creates one: the password is the one the bank drew, which must be
    /// changed before any banking call.
    pub async fn admin_issue(&self, name: &str, phone: &str) -> Customer {
        let r = self
            .http
            .post(self.url("/api/v1/admin/customers"))
            .bearer_auth(ADMIN)
            .json(
                &json!({"name": name, "phone": phone, "email": format!("{}@example.invalid", name.replace(' ', "."))}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        Customer {
            user_code: v["user_code"].as_str().unwrap().to_owned(),
            password: v["password"].as_str().unwrap().to_owned(),
            security_code: v["security_code"].as_str().unwrap().to_owned(),
            phone: phone.to_owned(),
            email: format!("{}@example.invalid", name.replace(' ', ".")),
        }
    }

    /// The branch registers a card of a customer: (status, body).
    pub async fn admin_card(&self, user_code: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(&format!("/api/v1/admin/customers/{user_code}/cards")))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The branch unblocks a customer (and ends the customer's sessions).
    pub async fn admin_unblock(&self, user_code: &str) -> StatusCode {
        self.http
            .post(self.url(&format!("/api/v1/admin/customers/{user_code}/unblock")))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The audit log as the branch reads it (JSON text).
    pub async fn audit_text(&self) -> String {
        self.http
            .get(self.url("/api/v1/admin/audit"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Messages to `to`, newest first.
    pub async fn outbox(&self, to: &str) -> Vec<Value> {
        let r = self
            .http
            .get(self.url("/dev/outbox"))
            .query(&[("to", to)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// The newest 6-digit code sent by SMS to `phone`.
    pub async fn last_otp(&self, phone: &str) -> String {
        let msgs = self.outbox(phone).await;
        for m in msgs {
            let body = m["body"].as_str().unwrap();
            if let Some(code) = body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6) {
                return code.to_owned();
            }
        }
        panic!("no OTP sent to {phone}");
    }

    /// A logged-in, SCA-authenticated web session (LOGIN code from `device`).
    pub async fn web_login(&self, c: &Customer, device: &Device) -> Web {
        let mut web = Web::new(self);
        let login = web.login(&c.user_code, &c.password).await;
        assert_eq!(login.0, StatusCode::OK, "{}", login.1);
        let login_id = login.1["login_id"].as_str().unwrap().to_owned();
        // A LOGIN code one step ahead never collides with one already used in this step.
        let step = Step::at(self.clock.now_secs()).0 + 1;
        let code = device.code(CodeInput::Login(Step(step)));
        let (status, body) = web
            .post(&format!("/api/v1/login/{login_id}/code"), json!({"code": code}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        web
    }
}

/// A password the customer chooses at first access: 8 digits, not the issued one, not one digit
/// repeated.
pub fn chosen_password(issued: &str) -> String {
    let mut n: u64 = issued.parse().unwrap();
    loop {
        n = (n + 1_234_567) % 100_000_000;
        let p = format!("{n:08}");
        if p != issued && p.bytes().any(|b| b != p.as_bytes()[0]) {
            return p;
        }
    }
}

pub trait ClockExt {
    fn now_secs(&self) -> u64;
}

impl ClockExt for ManualClock {
    fn now_secs(&self) -> u64 {
        sca_server::Clock::now(self)
    }
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub user_code: String,
    pub password: String,
    pub security_code: String,
    pub phone: String,
    pub email: String,
}

/// A browser: keeps the session cookie and the CSRF token.
pub struct Web {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Web {
    pub fn new(server: &Api) -> Self {
        Self {
            base: server.base.clone(),
            http: server.http.clone(),
            cookie: None,
            csrf: None,
        }
    }

    pub async fn login(&mut self, user: &str, password: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/login", self.base))
            .json(&json!({"user": user, "password": password}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        if let Some(c) = r.headers().get("set-cookie") {
            let c = c.to_str().unwrap();
            assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"), "{c}");
            self.cookie = Some(c.split(';').next().unwrap().to_owned());
        }
        let body: Value = r.json().await.unwrap();
        if status == StatusCode::OK {
            self.csrf = Some(body["csrf_token"].as_str().unwrap().to_owned());
        }
        (status, body)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        req
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.request(Method::GET, path).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.request(Method::POST, path).json(&body).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /api/v1/password` confirmed with an SMS code.
    pub async fn change_password_by_sms(&self, current: &str, new: &str, sms_otp: &str) -> (StatusCode, Value) {
        self.post(
            "/api/v1/password",
            json!({"current_password": current, "new_password": new, "sms_otp": sms_otp}),
        )
        .await
    }

    pub async fn transfer(&self, payee_iban: &str, amount: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/transfers",
                json!({"payee_name": "Anna Bianchi", "payee_iban": payee_iban, "amount": amount,
                       "currency": "EUR", "description": "Rimborso cena"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn balance(&self) -> String {
        let (status, body) = self.get("/api/v1/accounts").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body[0]["balance"].as_str().unwrap().to_owned()
    }

    pub async fn iban(&self) -> String {
        let (_, body) = self.get("/api/v1/accounts").await;
        body[0]["iban"].as_str().unwrap().to_owned()
    }
}

/// An authenticator profile, built from the protocol alone.
pub struct Device {
    pub id: String,
    pub key: SigningKey,
    pub k_poss: PossessionKey,
    pub k_know: KnowledgeKey,
    pub bank_pub: PublicKey,
    pub base: String,
    pub http: reqwest::Client,
    pub rng: SystemRandom,
}

/// Runs the key exchange and confirmation (docs/spec/sca1.md §3) for `activation_id`.
pub async fn finish_activation(server: &Api, activation_id: &str, sms_otp: Option<String>, name: &str) -> Device {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(&rng).unwrap();
    let ed = EphemeralEcdh::generate(&rng).unwrap();
    let ed_pub = ed.public_key();
    let mut body = json!({"device_pub": key.public_key().to_b64u(), "ecdh_pub": ed_pub.to_b64u(), "name": name});
    if let Some(otp) = sms_otp {
        body["sms_otp"] = json!(otp);
    }
    let r = server
        .post_json(&format!("/api/v1/activations/{activation_id}"), &body)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let device_id = v["device_id"].as_str().unwrap().to_owned();
    let aid = ActivationId::parse(activation_id).unwrap();
    let es_pub = PublicKey::from_b64u(v["server_ecdh_pub"].as_str().unwrap()).unwrap();
    let bank_pub = PublicKey::from_b64u(v["bank_pub"].as_str().unwrap()).unwrap();
    let sig = sca_protocol::Signature::from_b64u(v["signature"].as_str().unwrap()).unwrap();
    assert!(
        bank_pub.verify(&activation_message(&aid, &ed_pub, &es_pub), &sig),
        "bank signature over the exchange"
    );
    let keys = derive_keys(&aid, &ed.agree(&es_pub).unwrap());
    let tag = confirm_tag(&keys.confirm, &aid, &key.public_key());
    let r = server
        .post_json(
            &format!("/api/v1/activations/{activation_id}/confirm"),
            &json!({"confirm": hex::encode(tag)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "active");
    Device {
        id: device_id,
        key,
        k_poss: keys.possession,
        k_know: keys.knowledge,
        bank_pub,
        base: server.base.clone(),
        http: server.http.clone(),
        rng,
    }
}

impl Device {
    /// First device: password + SMS OTP.
    pub async fn activate(server: &Api, c: &Customer) -> Device {
        let r = server
            .post_json(
                "/api/v1/activations",
                &json!({"user": c.user_code, "password": c.password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let aid = v["activation_id"].as_str().unwrap().to_owned();
        let otp = server.last_otp(&c.phone).await;
        finish_activation(server, &aid, Some(otp), "Laptop").await
    }

    pub fn code(&self, input: CodeInput<'_>) -> String {
        input.code(&self.k_poss, &self.k_know).to_string()
    }

    /// The OPERATION code for a signed payload, after checking it as the authenticator must.
    pub fn operation_code(&self, payload: &str, now: u64) -> String {
        let signed = SignedPayload::verify(payload, &self.bank_pub, now).unwrap();
        let op = signed.operation();
        self.code(CodeInput::Operation {
            op_id: &op.op_id,
            nonce: &op.nonce,
            data_sha: &op.data_sha(),
        })
    }

    pub fn op_id_code(&self, op_id: &str) -> String {
        self.code(CodeInput::OperationId(&OpId::parse(op_id).unwrap()))
    }

    pub fn authorization(&self, method: &str, path: &str, ts: u64, body: &[u8]) -> String {
        let msg = request_message(method, path, ts, body).unwrap();
        DeviceAuthorization {
            device_id: self.id.clone(),
            ts,
            sig: self.key.sign(&self.rng, &msg).unwrap(),
        }
        .to_string()
    }

    /// A device-signed request.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>, ts: u64) -> (StatusCode, Value) {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
        let auth = self.authorization(method, path, ts, &bytes);
        let mut req = self
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", self.base, path),
            )
            .header("authorization", auth);
        if !bytes.is_empty() {
            req = req.header("content-type", "application/json").body(bytes);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Approves `op_id` (its signed `payload`) at `now` with a code made then, picking `number`
    /// for a login with number matching: the bank's status and answer.
    pub async fn approve(&self, op_id: &str, payload: &str, now: u64, number: Option<i64>) -> (StatusCode, Value) {
        let body = self.approve_body(payload, now, number);
        let path = format!("/api/v1/devices/{}/operations/{op_id}/approve", self.id);
        self.send("POST", &path, Some(body), now).await
    }

    pub fn approve_body(&self, payload: &str, now: u64, number: Option<i64>) -> Value {
        let signed = SignedPayload::verify(payload, &self.bank_pub, now).unwrap();
        let op = signed.operation();
        let code = Code::parse(&self.operation_code(payload, now)).unwrap();
        let sig = self
            .key
            .sign(&self.rng, &approve_message(&op.op_id, &op.nonce, &op.data_sha(), &code))
            .unwrap();
        let mut body = json!({"code": code.to_string(), "signature": sig.to_b64u()});
        if let Some(n) = number {
            body["number"] = json!(n);
        }
        body
    }

    pub fn reject_body(&self, payload: &str, now: u64) -> Value {
        let signed = SignedPayload::verify(payload, &self.bank_pub, now).unwrap();
        let op = signed.operation();
        let sig = self.key.sign(&self.rng, &reject_message(&op.op_id, &op.nonce)).unwrap();
        json!({"signature": sig.to_b64u()})
    }

    /// Opens the push stream; returns a receiver of (event, data).
    pub async fn events(&self, ts: u64) -> tokio::sync::mpsc::Receiver<(String, Value)> {
        let path = format!("/api/v1/devices/{}/events", self.id);
        let auth = self.authorization("GET", &path, ts, b"");
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .header("authorization", auth)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        sse_events(r)
    }
}

/// Parses a server-sent event stream into (event, JSON data); comments (heartbeats) are sent as
/// ("heartbeat", null). The framing is `sca_client`'s parser (it is HTTP, not SCA1); what the
/// events mean is read here.
pub fn sse_events(r: reqwest::Response) -> tokio::sync::mpsc::Receiver<(String, Value)> {
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move {
        let mut stream = r.bytes_stream();
        let mut parser = SseParser::default();
        while let Some(Ok(chunk)) = stream.next().await {
            for item in parser.push(&chunk) {
                let item = match item {
                    SseItem::Comment => ("heartbeat".to_owned(), Value::Null),
                    SseItem::Event { event, data } => (event, serde_json::from_str(&data).unwrap_or(Value::Null)),
                };
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}
