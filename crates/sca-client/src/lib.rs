//! # sca-client — talking to a Sigillo bank server (docs/api.md)
//!
//! Activation, device-signed requests, operations, the push stream and a sandbox bank's outbox:
//! the one client that the authenticator (and through it the CLI and the desktop app), the load
//! generator (`sca-server/examples/load.rs`) and the tests share. No keyring and no UI: what a
//! device keeps is its caller's business ([`NewSecrets`] is handed over once).
//!
//! Written from docs/spec/sca1.md and docs/api.md alone: every answer is checked as the protocol
//! says (the bank's signature over the activation), and every refusal arrives as
//! [`Error::Server`] with the server's stable code and attempts left. (The server's own tests keep
//! a second, deliberately independent client as an oracle: `sca-server/tests/api/support.rs`.)
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod sse;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use ring::rand::SystemRandom;
use sca_protocol::{
    ActivationId, Code, DeviceAuthorization, EphemeralEcdh, KnowledgeKey, PossessionKey, PublicKey, Signature,
    SigningKey, activation_message, confirm_tag, derive_keys, request_message,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub use crate::error::{Error, Result};
use crate::sse::{SseItem, SseParser};

/// The secrets of a new device, handed over once by [`Client::activate`]: the caller keeps them
/// (the authenticator wraps `K_know` with the PIN and stores all three in the keyring).
pub struct NewSecrets {
    /// `K_poss`.
    pub possession: PossessionKey,
    /// `K_know`, in the clear until it is wrapped.
    pub knowledge: KnowledgeKey,
    /// The device's ECDSA key.
    pub device_key: SigningKey,
}

impl std::fmt::Debug for NewSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSecrets(..)")
    }
}

/// Unix seconds, read for each signed request (the same time that steps the codes). Not the
/// server's `Clock` trait: a device only ever needs "now", as a function it can be handed.
pub type UnixClock = std::sync::Arc<dyn Fn() -> u64 + Send + Sync>;

/// An HTTP client for one bank server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    clock: UnixClock,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({})", self.base)
    }
}

/// A device's identity for signed requests.
#[derive(Debug)]
pub struct DeviceIdentity<'a> {
    /// The server's device id.
    pub device_id: &'a str,
    /// The device key.
    pub key: &'a SigningKey,
}

/// What the server sends on a device's push stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushEvent {
    /// A pending operation to show: its signed payload. (For a login, the customer types the
    /// number the page shows: the bank never sends it to the device.)
    Operation {
        /// The operation identifier.
        op_id: String,
        /// The signed payload (verify before showing).
        payload: String,
    },
    /// An operation changed state (approved elsewhere, expired, …).
    Status {
        /// The operation identifier.
        op_id: String,
        /// Its new status.
        status: String,
    },
    /// The stream is connected (again).
    Connected,
    /// The stream dropped; it reconnects by itself after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// When the next attempt is made.
        retry_in: Duration,
    },
}

#[derive(Deserialize)]
struct Problem {
    #[serde(default)]
    code: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    attempts_left: Option<u32>,
}

/// The result of the key exchange, before the PIN is set.
#[derive(Debug)]
pub struct Activated {
    /// The server's device id.
    pub device_id: String,
    /// The bank key, whose signature over the exchange was checked.
    pub bank_pub: PublicKey,
    /// The keys to store.
    pub secrets: NewSecrets,
}

/// Unix seconds from the system clock.
pub fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The one rule for a bank's address, for every shell (the CLI, the desktop app): `https://`, or
/// `http://` to this machine only (a demo bank, a test server) — a PIN-made code, a device
/// signature or an activation's key exchange never crosses a network in the clear.
pub fn check_server_url(url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url).map_err(|e| Error::input("server", format!("not a URL: {e}")))?;
    let host = parsed.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(Error::input(
            "server",
            "must start with https:// (http:// only to this machine: 127.0.0.1, ::1, localhost)",
        )),
        _ => Err(Error::input(
            "server",
            "must start with https:// (or http:// to this machine)",
        )),
    }
}

/// The certificates of a PEM bundle of certificate authorities; none is an error naming
/// `ca_file`.
pub fn parse_ca_pem(pem: &[u8]) -> Result<Vec<reqwest::Certificate>> {
    let certs =
        reqwest::Certificate::from_pem_bundle(pem).map_err(|e| Error::input("ca_file", format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::input("ca_file", "no CERTIFICATE block in the file"));
    }
    Ok(certs)
}

impl Client {
    /// A client for `server_url`: `https://`, or `http://` to loopback only ([`check_server_url`]).
    pub fn new(server_url: &str) -> Result<Self> {
        Self::with_clock(server_url, std::sync::Arc::new(system_now))
    }

    /// A client whose signed requests are dated by `clock`.
    pub fn with_clock(server_url: &str, clock: UnixClock) -> Result<Self> {
        Self::with_roots(server_url, clock, None)
    }

    /// A client that also trusts the certificate authorities of `ca_pem` (a bank's own CA, a
    /// test CA), besides the system's.
    pub fn with_roots(server_url: &str, clock: UnixClock, ca_pem: Option<&[u8]>) -> Result<Self> {
        let base = server_url.trim_end_matches('/').to_owned();
        check_server_url(&base)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("sigillo-authenticator/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_pem {
            for cert in parse_ca_pem(pem)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| Error::Offline(e.to_string()))?;
        Ok(Self { http, base, clock })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The messages a sandbox or demo bank "sent" to `to` (a phone or an e-mail address), newest
    /// first, read from its outbox (`GET /dev/outbox`; a real bank has none, 404). What the
    /// desktop app's simulated phone shows, and what tests read SMS codes from.
    pub async fn sandbox_outbox(&self, to: &str) -> Result<Vec<OutboxMessage>> {
        self.send(self.http.get(format!("{}/dev/outbox", self.base)).query(&[("to", to)]))
            .await
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let response = request.send().await.map_err(|e| Error::Offline(without_url(&e)))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| Error::Offline(without_url(&e)))?;
        if !status.is_success() {
            let problem: Problem = serde_json::from_slice(&bytes).unwrap_or(Problem {
                code: format!("http_{}", status.as_u16()),
                detail: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                attempts_left: None,
            });
            return Err(Error::Server {
                status: status.as_u16(),
                code: problem.code,
                detail: problem.detail,
                attempts_left: problem.attempts_left,
            });
        }
        let body = if bytes.is_empty() || status == StatusCode::NO_CONTENT {
            b"null".as_slice()
        } else {
            &bytes
        };
        serde_json::from_slice(body).map_err(|e| Error::BadAnswer(e.to_string()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request signed by the device key (`authorization: SCA1-Device …`, docs/spec/sca1.md §9).
    fn signed(
        &self,
        device: &DeviceIdentity<'_>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::RequestBuilder> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let ts = (self.clock)();
        let message = request_message(method.as_str(), path, ts, &bytes).map_err(|e| Error::input("path", e))?;
        let sig = device
            .key
            .sign(&SystemRandom::new(), &message)
            .map_err(|e| Error::Key(e.to_string()))?;
        let auth = DeviceAuthorization {
            device_id: device.device_id.to_owned(),
            ts,
            sig,
        };
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("authorization", auth.to_string());
        if body.is_some() {
            request = request.header("content-type", "application/json").body(bytes);
        }
        Ok(request)
    }

    /// Step 1 of a first activation: user code (or alias) and password; the bank sends an SMS OTP.
    pub async fn start_activation(&self, user: &str, password: &str) -> Result<ActivationId> {
        #[derive(Deserialize)]
        struct Started {
            activation_id: String,
        }
        let started: Started = self
            .send(
                self.http
                    .post(self.url("/api/v1/activations"))
                    .json(&json!({"user": user, "password": password})),
            )
            .await?;
        ActivationId::parse(&started.activation_id).map_err(|e| Error::BadAnswer(format!("activation_id: {e}")))
    }

    /// Steps 2–4 of docs/spec/sca1.md §3.2: key exchange, the bank's signature checked, keys derived, the
    /// device confirmed. `sms_otp` is needed for a first device, not for one activated from a
    /// DEVICE QR. `expected_bank_pub` pins the bank key when it is known already.
    pub async fn activate(
        &self,
        activation: &ActivationId,
        sms_otp: Option<&str>,
        device_name: &str,
        expected_bank_pub: Option<&PublicKey>,
    ) -> Result<Activated> {
        #[derive(Deserialize)]
        struct Answer {
            device_id: String,
            server_ecdh_pub: String,
            bank_pub: String,
            signature: String,
        }
        let rng = SystemRandom::new();
        let device_key = SigningKey::generate(&rng).map_err(|e| Error::Key(e.to_string()))?;
        let ecdh = EphemeralEcdh::generate(&rng).map_err(|e| Error::Key(e.to_string()))?;
        let ed_pub = ecdh.public_key();
        let mut body = json!({
            "device_pub": device_key.public_key().to_b64u(),
            "ecdh_pub": ed_pub.to_b64u(),
            "name": device_name,
        });
        if let Some(otp) = sms_otp {
            body["sms_otp"] = json!(otp);
        }
        let answer: Answer = self
            .send(
                self.http
                    .post(self.url(&format!("/api/v1/activations/{activation}")))
                    .json(&body),
            )
            .await?;
        let bank_pub =
            PublicKey::from_b64u(&answer.bank_pub).map_err(|e| Error::BadAnswer(format!("bank_pub: {e}")))?;
        if let Some(expected) = expected_bank_pub
            && expected != &bank_pub
        {
            return Err(Error::BadAnswer("the server presented a different bank key".into()));
        }
        let es_pub = PublicKey::from_b64u(&answer.server_ecdh_pub)
            .map_err(|e| Error::BadAnswer(format!("server_ecdh_pub: {e}")))?;
        let signature =
            Signature::from_b64u(&answer.signature).map_err(|e| Error::BadAnswer(format!("signature: {e}")))?;
        if !bank_pub.verify(&activation_message(activation, &ed_pub, &es_pub), &signature) {
            return Err(Error::BadAnswer(
                "the bank's signature over the key exchange does not verify".into(),
            ));
        }
        let z = ecdh
            .agree(&es_pub)
            .map_err(|e| Error::BadAnswer(format!("server_ecdh_pub: {e}")))?;
        let keys = derive_keys(activation, &z);
        let tag = confirm_tag(&keys.confirm, activation, &device_key.public_key());
        let _: Value = self
            .send(
                self.http
                    .post(self.url(&format!("/api/v1/activations/{activation}/confirm")))
                    .json(&json!({"confirm": hex::encode(tag)})),
            )
            .await?;
        Ok(Activated {
            device_id: answer.device_id,
            bank_pub,
            secrets: NewSecrets {
                possession: keys.possession,
                knowledge: keys.knowledge,
                device_key,
            },
        })
    }

    /// The signed payload of an operation, by its identifier (for a typed op id, online).
    pub async fn operation_payload(&self, device: &DeviceIdentity<'_>, op_id: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Payload {
            payload: String,
        }
        let path = format!("/api/v1/devices/{}/operations/{op_id}", device.device_id);
        let p: Payload = self.send(self.signed(device, Method::GET, &path, None)?).await?;
        Ok(p.payload)
    }

    /// Approves an operation (docs/spec/sca1.md §7): the OPERATION code and the device's signature.
    pub async fn approve(
        &self,
        device: &DeviceIdentity<'_>,
        op_id: &str,
        code: &Code,
        signature: &Signature,
        number: Option<u8>,
    ) -> Result<String> {
        let mut body = json!({"code": code.as_str(), "signature": signature.to_b64u()});
        if let Some(n) = number {
            body["number"] = json!(n);
        }
        let path = format!("/api/v1/devices/{}/operations/{op_id}/approve", device.device_id);
        self.status(self.signed(device, Method::POST, &path, Some(&body))?)
            .await
    }

    /// Rejects an operation ("non sono io"): no PIN, the device's signature only.
    pub async fn reject(&self, device: &DeviceIdentity<'_>, op_id: &str, signature: &Signature) -> Result<String> {
        let body = json!({"signature": signature.to_b64u()});
        let path = format!("/api/v1/devices/{}/operations/{op_id}/reject", device.device_id);
        self.status(self.signed(device, Method::POST, &path, Some(&body))?)
            .await
    }

    /// Asks the server to check a TRANSACTION code made with the current PIN (before a PIN change).
    pub async fn check_code(&self, device: &DeviceIdentity<'_>, code: &Code) -> Result<String> {
        let body = json!({"code": code.as_str()});
        let path = format!("/api/v1/devices/{}/check-code", device.device_id);
        self.status(self.signed(device, Method::POST, &path, Some(&body))?)
            .await
    }

    /// Removes this device on the server (it stops working there at once).
    pub async fn remove_device(&self, device: &DeviceIdentity<'_>) -> Result<()> {
        let path = format!("/api/v1/devices/{}", device.device_id);
        let _: Value = self.send(self.signed(device, Method::DELETE, &path, None)?).await?;
        Ok(())
    }

    /// From an active device: start activating another one. Returns the DEVICE operation's signed
    /// payload (approve it here with the PIN) and the QR text to show to the new device.
    pub async fn start_device_activation(&self, device: &DeviceIdentity<'_>) -> Result<DeviceActivation> {
        let path = format!("/api/v1/devices/{}/activations", device.device_id);
        self.send(self.signed(device, Method::POST, &path, Some(&json!({})))?)
            .await
    }

    async fn status(&self, request: reqwest::RequestBuilder) -> Result<String> {
        #[derive(Deserialize)]
        struct Status {
            status: String,
        }
        let s: Status = self.send(request).await?;
        Ok(s.status)
    }

    /// Listens to the device's push stream until `events` is closed, reconnecting with
    /// exponential backoff (1 s doubling to 60 s, reset after a good connection).
    pub async fn listen(&self, device_id: String, key: SigningKey, events: mpsc::Sender<PushEvent>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let device = DeviceIdentity {
                device_id: &device_id,
                key: &key,
            };
            let reason = match self.stream_once(&device, &events).await {
                Ok(()) => "the server closed the stream".to_owned(),
                Err(e) => e.to_string(),
            };
            if events.is_closed() {
                return;
            }
            let retry_in = backoff;
            if events.send(PushEvent::Disconnected { reason, retry_in }).await.is_err() {
                return;
            }
            tokio::time::sleep(retry_in).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }

    async fn stream_once(&self, device: &DeviceIdentity<'_>, events: &mpsc::Sender<PushEvent>) -> Result<()> {
        let path = format!("/api/v1/devices/{}/events", device.device_id);
        // No overall timeout on a stream; heartbeats keep it alive, and a silent stream is dropped.
        let response = self
            .signed(device, Method::GET, &path, None)?
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(60 * 60 * 24))
            .send()
            .await
            .map_err(|e| Error::Offline(without_url(&e)))?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let problem: Problem = response.json().await.unwrap_or(Problem {
                code: format!("http_{status}"),
                detail: String::new(),
                attempts_left: None,
            });
            return Err(Error::Server {
                status,
                code: problem.code,
                detail: problem.detail,
                attempts_left: None,
            });
        }
        if events.send(PushEvent::Connected).await.is_err() {
            return Ok(());
        }
        let mut parser = SseParser::default();
        let mut body = response.bytes_stream();
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(90), body.next())
                .await
                .map_err(|_| Error::Offline("no heartbeat for 90 s".into()))?;
            let Some(chunk) = chunk else { return Ok(()) };
            let chunk = chunk.map_err(|e| Error::Offline(without_url(&e)))?;
            for item in parser.push(&chunk) {
                if let SseItem::Event { event, data } = item
                    && let Some(e) = to_push_event(&event, &data)
                    && events.send(e).await.is_err()
                {
                    return Ok(());
                }
            }
        }
    }
}

/// A message in a sandbox bank's outbox.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct OutboxMessage {
    /// The phone or e-mail address.
    pub to: String,
    /// `sms` or `email`.
    pub channel: String,
    /// The text.
    pub body: String,
    /// Unix seconds.
    pub at: i64,
}

/// The first 6-digit code standing alone in `text` (an SMS code in a message).
pub fn six_digit_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let run = &bytes[i..i + 6];
        let bounded =
            (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
        (bounded && run.iter().all(u8::is_ascii_digit)).then(|| String::from_utf8_lossy(run).into_owned())
    })
}

/// Another device's activation, started from an active one.
#[derive(Clone, Debug, Deserialize)]
pub struct DeviceActivation {
    /// For the new device.
    pub activation_id: String,
    /// The DEVICE operation to approve here first.
    pub op_id: String,
    /// Its signed payload.
    pub payload: String,
    /// What the QR code shown to the new device says: `SCA1-ACTIVATE:<activation_id>`.
    pub qr_text: String,
    /// Unix seconds.
    pub expires: u64,
}

fn to_push_event(event: &str, data: &str) -> Option<PushEvent> {
    let value: Value = serde_json::from_str(data).ok()?;
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    match event {
        "operation" => Some(PushEvent::Operation {
            op_id: text("op_id")?,
            payload: text("payload")?,
        }),
        "status" => Some(PushEvent::Status {
            op_id: text("op_id")?,
            status: text("status")?,
        }),
        _ => None,
    }
}

/// reqwest errors print the URL; keep only the cause (the URL may hold an op id, harmless, but
/// the message is for a person).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    if e.is_connect() {
        "connection refused or no network".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_events_from_their_data() {
        // A number sent by an older bank is not kept: the customer types the page's.
        assert_eq!(
            to_push_event("operation", "{\"op_id\":\"1\",\"payload\":\"x\",\"number\":42}"),
            Some(PushEvent::Operation {
                op_id: "1".into(),
                payload: "x".into(),
            })
        );
        assert_eq!(to_push_event("operation", "not json"), None);
    }

    #[test]
    fn a_server_url_must_be_http_or_https() {
        assert!(Client::new("ftp://x").is_err());
        assert_eq!(
            Client::new("http://127.0.0.1:8080/").unwrap().base(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "https://bank.example",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:8080",
            "http://localhost:8080",
        ] {
            assert!(check_server_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://bank.example",
            "http://10.0.0.1:8080",
            "http://[2001:db8::1]",
            "http://localhost.evil.example",
            "https://",
            "bank.example",
        ] {
            let e = check_server_url(bad).unwrap_err();
            assert!(e.to_string().contains("server"), "{bad}: {e}");
        }
    }
}
