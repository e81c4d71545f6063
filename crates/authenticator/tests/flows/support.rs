#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support shared by several test binaries
//! A real `sca-server` in this process (127.0.0.1:0, a temporary SQLite file, a manual clock that
//! the authenticator shares), a web-banking client, and the sandbox outbox for SMS codes.

use std::sync::Arc;
use std::time::Duration;

use authenticator::{Authenticator, Profile, SecretStore, Vault};
use sca_protocol::Pin;
use sca_server::{AppState, Clock, Config, ManualClock};
use serde_json::{Value, json};

pub const ADMIN: &str = "authenticator-tests-admin";
pub const PIN: &str = "13579";

pub fn pin(text: &str) -> Pin {
    Pin::parse(text).unwrap()
}

pub struct Bank {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

pub struct Customer {
    pub user_code: String,
    pub password: String,
    pub phone: String,
}

impl Bank {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.sandbox = true;
        config.admin_token = Some(ADMIN.into());
        config.cookie_secure = false;
        config.argon2_memory_kib = 1024;
        config.argon2_iterations = 1;
        config.otp_resend_interval = 0;
        config.without_sms_limits();
        // Every test client is 127.0.0.1: the per-address login rate is tested on its own.
        config.login_burst = 0;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let clock = Arc::new(ManualClock::new(now));
        let state = AppState::new(config, clock.clone()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serve_state = state.clone();
        tokio::spawn(async move {
            sca_server::serve(listener, serve_state, std::future::pending())
                .await
                .unwrap()
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            base,
            clock,
            http,
            state,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The authenticator under test, on the bank's clock, with the kiosk (memory) store or another.
    pub fn authenticator(&self, secrets: Box<dyn SecretStore>, dir: &std::path::Path) -> Authenticator {
        let clock = self.clock.clone();
        Authenticator::with_clock(Vault::open(dir, secrets).unwrap(), Arc::new(move || clock.now()))
    }

    pub fn kiosk(&self) -> Authenticator {
        let clock = self.clock.clone();
        Authenticator::with_clock(Vault::in_memory(), Arc::new(move || clock.now()))
    }

    pub async fn customer(&self, name: &str) -> Customer {
        let phone = format!("+3933{:08}", rand_u32() % 100_000_000);
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
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        let mut customer = Customer {
            user_code: v["user_code"].as_str().unwrap().into(),
            password: v["password"].as_str().unwrap().into(),
            phone,
        };
        // First access: the server opens banking only once the bank-issued password is replaced.
        let chosen = chosen_password(&customer.password);
        let web = Web::login(self, &customer).await;
        let (status, v) = web
            .post(&format!("/api/v1/login/{}/sms", web.login_id), json!({}))
            .await;
        assert_eq!(status, 202, "{v}");
        let otp = self.last_sms_code(&customer.phone).await;
        let (status, v) = web
            .post(&format!("/api/v1/login/{}/code", web.login_id), json!({"sms_otp": otp}))
            .await;
        assert_eq!(status, 200, "{v}");
        let (status, v) = web.post("/api/v1/password/sms", json!({})).await;
        assert_eq!(status, 202, "{v}");
        let otp = self.last_sms_code(&customer.phone).await;
        let (status, v) = web
            .post(
                "/api/v1/password",
                json!({"current_password": customer.password, "new_password": chosen, "sms_otp": otp}),
            )
            .await;
        assert_eq!(status, 204, "{v}");
        assert_eq!(web.post("/api/v1/logout", json!({})).await.0, 204);
        customer.password = chosen;
        customer
    }

    /// The newest 6-digit code sent by SMS to `phone`.
    pub async fn last_sms_code(&self, phone: &str) -> String {
        let messages = self.messages_to(phone).await;
        let body = &messages.iter().find(|m| m.channel == "sms").expect("an SMS").body;
        authenticator::six_digit_code(body).unwrap_or_else(|| panic!("no code in {body:?}"))
    }

    /// The sandbox outbox for `to`, newest first (the authenticator crate's reader).
    pub async fn messages_to(&self, to: &str) -> Vec<authenticator::OutboxMessage> {
        authenticator::Client::new(&self.base)
            .unwrap()
            .sandbox_outbox(to)
            .await
            .unwrap()
    }

    /// Activates a first device for `customer` with PIN `PIN`.
    pub async fn activate(&self, auth: &Authenticator, customer: &Customer) -> Profile {
        let pending = auth
            .start_activation(&self.base, &customer.user_code, &customer.password)
            .await
            .unwrap();
        let otp = self.last_sms_code(&customer.phone).await;
        auth.finish_activation(&pending, &otp, &pin(PIN), "test laptop")
            .await
            .unwrap()
    }
}

pub fn six_digits(text: &str) -> Option<String> {
    authenticator::six_digit_code(text)
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

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).unwrap();
    u32::from_be_bytes(b)
}

/// A browser's view of Area Clienti: the session cookie and the CSRF token.
pub struct Web<'a> {
    pub bank: &'a Bank,
    cookie: String,
    csrf: String,
    pub login_id: String,
    pub number: u8,
    pub login_op: Value,
}

impl<'a> Web<'a> {
    /// Password step of a login; SCA pending.
    pub async fn login(bank: &'a Bank, customer: &Customer) -> Web<'a> {
        let r = bank
            .http
            .post(bank.url("/api/v1/login"))
            .json(&json!({"user": customer.user_code, "password": customer.password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let v: Value = r.json().await.unwrap();
        Web {
            bank,
            cookie,
            csrf: v["csrf_token"].as_str().unwrap().into(),
            login_id: v["login_id"].as_str().unwrap().into(),
            number: u8::try_from(v["number"].as_u64().unwrap()).unwrap(),
            login_op: v["operation"].clone(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .bank
            .http
            .post(self.bank.url(path))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .bank
            .http
            .get(self.bank.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn login_status(&self) -> String {
        let (_, v) = self.get(&format!("/api/v1/login/{}", self.login_id)).await;
        v["status"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn send_code(&self, code: &str) -> (u16, Value) {
        self.post(&format!("/api/v1/login/{}/code", self.login_id), json!({"code": code}))
            .await
    }

    pub async fn balance(&self) -> String {
        let (status, v) = self.get("/api/v1/accounts").await;
        assert_eq!(status, 200, "{v}");
        v[0]["balance"].as_str().unwrap().to_owned()
    }

    pub async fn transfer(&self, amount: &str) -> (String, String) {
        let (status, v) = self
            .post(
                "/api/v1/transfers",
                json!({"payee_name": "Mario Rossi", "payee_iban": "IT60X0542811101000000123456",
                       "amount": amount, "currency": "EUR", "description": "Affitto"}),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        (
            v["op_id"].as_str().unwrap().into(),
            v["payload"].as_str().unwrap().into(),
        )
    }

    pub async fn operation_status(&self, op_id: &str) -> String {
        let (_, v) = self.get(&format!("/api/v1/operations/{op_id}")).await;
        v["status"].as_str().unwrap_or_default().to_owned()
    }
}

/// Logs `customer` in with a LOGIN code from `auth`.
pub async fn logged_in<'a>(bank: &'a Bank, customer: &Customer, auth: &Authenticator, profile: &Profile) -> Web<'a> {
    let web = Web::login(bank, customer).await;
    let code = auth
        .time_code(profile, &pin(PIN), authenticator::TimeCodeKind::Login)
        .unwrap();
    let (status, v) = web.send_code(code.code.as_str()).await;
    assert_eq!(status, 200, "{v}");
    web
}
