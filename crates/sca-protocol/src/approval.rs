//! What a device signs (docs/spec/sca1.md §7 and §9): approvals, rejections and HTTP requests,
//! and the `authorization: SCA1-Device …` header that carries a request signature.
//!
//! Byte choices (docs/protocol.md): `op_id` and `code` enter `lp()` as their ASCII digits, the
//! nonce as its 16 raw bytes, SHA(`data`) as 32 raw bytes; `method`, `path` and `ts` as ASCII.

use std::fmt;

use crate::code::Code;
use crate::encoding::{lp_message, lp_message_bounded, sha256};
use crate::error::LengthError;
use crate::id::OpId;
use crate::keys::Signature;
use crate::payload::Nonce;

/// `"SCA1-APPROVE" || lp(op_id) || lp(nonce) || lp(SHA(data)) || lp(code)`.
pub fn approve_message(op_id: &OpId, nonce: &Nonce, data_sha: &[u8; 32], code: &Code) -> Vec<u8> {
    lp_message_bounded(
        b"SCA1-APPROVE",
        &[op_id.as_bytes(), nonce.as_bytes(), data_sha, code.as_bytes()],
    )
}

/// `"SCA1-REJECT" || lp(op_id) || lp(nonce)`.
pub fn reject_message(op_id: &OpId, nonce: &Nonce) -> Vec<u8> {
    lp_message_bounded(b"SCA1-REJECT", &[op_id.as_bytes(), nonce.as_bytes()])
}

/// `"SCA1-REQ" || lp(METHOD) || lp(path) || lp(ts) || lp(SHA(body))`. The method is upper-cased;
/// the path is taken as sent, query string included. Fails only for a path over 65 535 bytes.
pub fn request_message(method: &str, path: &str, ts: u64, body: &[u8]) -> Result<Vec<u8>, LengthError> {
    let method = method.to_ascii_uppercase();
    lp_message(
        b"SCA1-REQ",
        &[
            method.as_bytes(),
            path.as_bytes(),
            ts.to_string().as_bytes(),
            &sha256(body),
        ],
    )
}

/// The parsed value of `authorization: SCA1-Device id=<device_id>,ts=<unix_seconds>,sig=<b64u>`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeviceAuthorization {
    /// The device id the server gave at activation: 1 to 64 of `A-Z a-z 0-9 - _`.
    pub device_id: String,
    /// Unix seconds when the request was signed.
    pub ts: u64,
    /// The device key's signature over [`request_message`].
    pub sig: Signature,
}

/// Why an `authorization` header was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// Not `SCA1-Device id=…,ts=…,sig=…`.
    #[error("authorization must be `SCA1-Device id=<device_id>,ts=<unix seconds>,sig=<b64u>`")]
    Form,
    /// The device id has characters or a length outside its form.
    #[error("authorization: bad device id")]
    DeviceId,
    /// `ts` is not decimal unix seconds.
    #[error("authorization: ts is not unix seconds")]
    Timestamp,
    /// `sig` is not b64u of 64 bytes.
    #[error("authorization: sig is not a 64-byte signature in base64url")]
    Signature,
}

fn valid_device_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl DeviceAuthorization {
    /// Parses the header value. The three parameters must come in this order, once each.
    pub fn parse(header: &str) -> Result<Self, AuthorizationError> {
        let params = header.strip_prefix("SCA1-Device ").ok_or(AuthorizationError::Form)?;
        let mut parts = params.split(',');
        let mut take = |name: &str| {
            parts
                .next()
                .and_then(|p| p.trim().strip_prefix(name))
                .and_then(|p| p.strip_prefix('='))
                .ok_or(AuthorizationError::Form)
        };
        let (id, ts, sig) = (take("id")?, take("ts")?, take("sig")?);
        if parts.next().is_some() {
            return Err(AuthorizationError::Form);
        }
        if !valid_device_id(id) {
            return Err(AuthorizationError::DeviceId);
        }
        if ts.is_empty() || ts.len() > 20 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthorizationError::Timestamp);
        }
        let ts = ts.parse().map_err(|_| AuthorizationError::Timestamp)?;
        let sig = Signature::from_b64u(sig).map_err(|_| AuthorizationError::Signature)?;
        Ok(Self {
            device_id: id.to_owned(),
            ts,
            sig,
        })
    }
}

impl fmt::Display for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SCA1-Device id={},ts={},sig={}",
            self.device_id,
            self.ts,
            self.sig.to_b64u()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use ring::rand::SystemRandom;

    #[test]
    fn messages_have_the_documented_bytes() {
        let op = OpId::parse("57240000").unwrap();
        let nonce = Nonce::from_bytes([1; 16]);
        let code = Code::parse("123456").unwrap();
        let m = approve_message(&op, &nonce, &[2; 32], &code);
        assert!(m.starts_with(b"SCA1-APPROVE\x00\x0857240000\x00\x10"));
        assert!(m.ends_with(b"\x00\x06123456"));
        assert_eq!(m.len(), 12 + 10 + 18 + 34 + 8);
        assert_eq!(reject_message(&op, &nonce).len(), 11 + 10 + 18);
        let r = request_message("post", "/api/v1/x?y=1", 1_700_000_000, b"{}").unwrap();
        assert!(r.starts_with(b"SCA1-REQ\x00\x04POST\x00\x0d/api/v1/x?y=1\x00\x0a1700000000\x00\x20"));
        assert!(request_message("GET", &"x".repeat(70_000), 1, b"").is_err());
    }

    #[test]
    fn header_round_trips_and_bad_forms_are_named() {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(&rng).unwrap();
        let msg = request_message("GET", "/api/v1/devices/d1/events", 5, b"").unwrap();
        let auth = DeviceAuthorization {
            device_id: "d1".into(),
            ts: 5,
            sig: key.sign(&rng, &msg).unwrap(),
        };
        let parsed = DeviceAuthorization::parse(&auth.to_string()).unwrap();
        assert_eq!(parsed, auth);
        assert!(key.public_key().verify(&msg, &parsed.sig));
        let sig = auth.sig.to_b64u();
        for (bad, err) in [
            ("Bearer x".to_owned(), AuthorizationError::Form),
            (format!("SCA1-Device ts=5,id=d1,sig={sig}"), AuthorizationError::Form),
            (
                format!("SCA1-Device id=d1,ts=5,sig={sig},x=1"),
                AuthorizationError::Form,
            ),
            (
                format!("SCA1-Device id=d 1,ts=5,sig={sig}"),
                AuthorizationError::DeviceId,
            ),
            (
                format!("SCA1-Device id=d1,ts=-5,sig={sig}"),
                AuthorizationError::Timestamp,
            ),
            (
                format!("SCA1-Device id=d1,ts=99999999999999999999,sig={sig}"),
                AuthorizationError::Timestamp,
            ),
            (
                "SCA1-Device id=d1,ts=5,sig=AAAA".to_owned(),
                AuthorizationError::Signature,
            ),
        ] {
            assert_eq!(DeviceAuthorization::parse(&bad), Err(err), "{bad}");
        }
    }
}
