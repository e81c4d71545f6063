//! Device signatures are accepted once (issue 11 §2): not again as the `(r, n - s)` twin of
//! an accepted signature (ECDSA signatures are malleable, and ring verifies both), and not again
//! after the server restarts.

use std::sync::Arc;

use reqwest::StatusCode;
use sca_protocol::{DeviceAuthorization, Signature, request_message};
use sca_server::{AppState, ManualClock};
use serde_json::Value;

use crate::support::*;

/// The order n of P-256, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `(r, n - s)`: the other signature that verifies for the same message and key.
fn twin(sig: &Signature) -> Signature {
    let raw = sig.as_bytes();
    let mut out = *raw;
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_N[i]) - i16::from(raw[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        out[32 + i] = (d + 256 * borrow) as u8;
    }
    Signature::from_bytes(&out).unwrap()
}

async fn send_with(device: &Device, path: &str, auth: &str) -> (StatusCode, Value) {
    let r = device
        .http
        .post(format!("{}{path}", device.base))
        .header("authorization", auth)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_twin_of_an_accepted_signature_is_refused() {
    let server = TestServer::start().await;
    let c = server.admin_create("Doppio Firma", "+393337770001").await;
    let device = Device::activate(&server, &c).await;
    let path = format!("/api/v1/devices/{}/activations", device.id);
    let ts = server.clock.now_secs();
    let msg = request_message("POST", &path, ts, b"").unwrap();
    let sig = device.key.sign(&device.rng, &msg).unwrap();
    let other = twin(&sig);
    assert_ne!(other.as_bytes(), sig.as_bytes());
    assert!(device.key.public_key().verify(&msg, &other), "the twin verifies");
    let header = |sig: Signature| {
        DeviceAuthorization {
            device_id: device.id.clone(),
            ts,
            sig,
        }
        .to_string()
    };
    let (status, body) = send_with(&device, &path, &header(sig)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = send_with(&device, &path, &header(other)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "invalid_signature");
}

#[tokio::test]
async fn a_request_is_not_accepted_again_after_a_restart() {
    let server = TestServer::start().await;
    let c = server.admin_create("Riavvio Firma", "+393337770002").await;
    let device = Device::activate(&server, &c).await;
    let path = format!("/api/v1/devices/{}/activations", device.id);
    let ts = server.clock.now_secs();
    let auth = device.authorization("POST", &path, ts, b"");
    let (status, body) = send_with(&device, &path, &auth).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(send_with(&device, &path, &auth).await.0, StatusCode::UNAUTHORIZED);

    // The same data directory, a new process state, the same second on the clock.
    let config = server.state.config().clone();
    let clock = Arc::new(ManualClock::new(ts));
    let restarted = AppState::new(config, clock.clone()).await.unwrap();
    let base = Api::serve(restarted, clock).await.base;
    let r = device
        .http
        .post(format!("{base}{path}"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "invalid_signature");
    // A request signed anew is accepted there.
    let fresh = device.authorization("POST", &path, ts + 1, b"");
    let r = device
        .http
        .post(format!("{base}{path}"))
        .header("authorization", &fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}
